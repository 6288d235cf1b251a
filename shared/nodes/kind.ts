import type { z } from 'zod';

/** Palette groups, in the order the editor shows them. */
export const CATEGORIES = ['Identity', 'Access', 'Flow', 'Traffic', 'Transform', 'Upstream', 'Answer'] as const;
type Category = (typeof CATEGORIES)[number];

/**
 * An output port of a node.
 * - `required`: the workflow is refused while it is not wired.
 * - `finish`: unwired, the request ends and the current response is answered.
 * - `{ error }`: unwired, the request ends with this catalog error.
 */
export interface PortSpec {
  name: string;
  description: string;
  unwired: 'required' | 'finish' | { error: string };
}

/**
 * The ports of identifying nodes (api-key, jwt-verify) for partner access, checked per request
 * right after the partner is known: suspension and product subscription.
 */
export const PARTNER_PORTS: PortSpec[] = [
  { name: 'suspended', description: 'The partner is suspended.', unwired: { error: 'partner_suspended' } },
  { name: 'unsubscribed', description: 'The workflow belongs to API products and the partner subscribes to none of them.', unwired: { error: 'product_not_subscribed' } },
];
export const PARTNER_ERRORS = ['partner_suspended', 'product_not_subscribed'] as const;

/** A JSONata expression inside a node's config, located by its field path. */
export interface ExpressionRef {
  field: string;
  source: string;
}

/** What a node kind is: everything the editor, validator, compiler and contract need. */
export interface KindDescriptor<Config = unknown> {
  kind: string;
  title: string;
  category: Category;
  description: string;
  /** The only definition of this kind's config: types, validation and the editor's form. */
  config: z.ZodType<Config>;
  /** Output ports for a given (valid) config. */
  ports(config: Config): PortSpec[];
  /**
   * Every catalog error this kind can raise: its ports' defaults and its faults (errors raised
   * whatever the wiring, such as a failing expression). The error kind's error comes from its config.
   */
  errors: readonly string[];
  /** Every JSONata expression in the config, so it is parsed once at publish time. */
  expressions(config: Config): ExpressionRef[];
  /** A terminal node ends the request: its ports are internal and cannot be wired. */
  terminal?: boolean;
  /** The node leaves a response in the context (proxy, respond). */
  producesResponse?: boolean;
  /** Ports by which the node leaves an answer of its own in the context (cors: `preflight`, a 204). */
  answersOn?: readonly string[];
  /** The node reads a credential from the request (api-key, jwt-verify): a cors node must come before it. */
  readsCredentials?: boolean;
  /** The node needs a response produced earlier on every path (transform-response). */
  requiresResponse?: boolean;
  /** The node reads the request body, so the gateway buffers it instead of streaming. */
  readsRequestBody?: (config: Config) => boolean;
}

/**
 * A descriptor of any kind, for code that handles all kinds alike (configs are checked by the
 * descriptor's own schema). `any`, not `unknown`: `readsRequestBody` takes the config, so a
 * descriptor of one kind is not a descriptor of `unknown` configs.
 */
export type AnyKindDescriptor = KindDescriptor<any>;

/**
 * Declares a node kind, keeping its config type. Ports that do not depend on the config (a
 * `ports` that takes no argument) are made once, frozen, and shared by every node of the kind:
 * a gateway of 10,000 workflows held thirteen port lists per workflow.
 */
export function defineKind<Config>(descriptor: KindDescriptor<Config>): KindDescriptor<Config> {
  if (descriptor.ports.length > 0) return descriptor;
  const ports = frozenPorts(descriptor.ports(undefined as Config));
  return { ...descriptor, ports: () => ports };
}

/** A port list frozen, its ports and their errors too: for a list every node of a kind shares. */
export function frozenPorts(ports: PortSpec[]): PortSpec[] {
  return Object.freeze(ports.map((port) => Object.freeze({ ...port, unwired: typeof port.unwired === 'object' ? Object.freeze({ ...port.unwired }) : port.unwired }))) as PortSpec[];
}

/**
 * Reaches the request body without naming it: `body` itself, `**`, `%` (parent), `$` or `$$`
 * (the whole context), or `request` not followed by one of its other fields (`request.*`,
 * `request.$string()`, `$r := request`).
 */
const MAY_READ_BODY = /body|\*\*|%|\$(?![A-Za-z_$])|request(?!\s*\.\s*(?:method|path|params|query|headers)\b)/;

/** True when an expression may read the request body. Conservative: over-buffering only costs speed. */
export function mentionsBody(expressions: ExpressionRef[]): boolean {
  return expressions.some((e) => MAY_READ_BODY.test(e.source));
}
