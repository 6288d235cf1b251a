import type { z } from 'zod';
import type { Identity, Permission } from '../../../shared/admin/index.ts';
import { AdminError } from '../errors.ts';
import { inputProblems } from './problems.ts';

/** What a handler is given for an input the endpoint declares no schema for: nothing. */
type Input<S extends z.ZodType | undefined> = S extends z.ZodType ? z.output<S> : undefined;

/** Where an input comes from, as a refusal names it. */
const INPUTS = {
  params: { what: 'the path', whole: '(path)' },
  query: { what: 'the query', whole: '(query)' },
  body: { what: 'the request body', whole: '(body)' },
} as const;

/** The description an endpoint is routed and documented by: the same for every endpoint, whatever its types. */
interface EndpointDescription {
  method: 'get' | 'post' | 'put' | 'delete';
  /** The Express path under /admin/api, with `:name` parameters. */
  path: string;
  permission: Permission;
  summary: string;
  /** The status of a success: 200 unless the endpoint creates something. */
  status?: 201;
  /** Whether an answer is a request taken but not done yet (a publish waiting for approval): answered 202, not `status`. */
  accepted?(answer: unknown): boolean;
  /** The answer carries a secret (a new API key): never cached by a browser or proxy. */
  secret?: true;
  /** The answer is written as it is made (an export), in one of these content types: the handler answers a StreamedAnswer. Not an MCP tool. */
  streamed?: readonly string[];
}

/** An answer written as it is made: its content type, a file name to save it as, and its text in chunks. */
export class StreamedAnswer {
  readonly contentType: string;
  readonly filename: string;
  readonly chunks: AsyncIterable<string>;
  constructor(contentType: string, filename: string, chunks: AsyncIterable<string>) {
    this.contentType = contentType;
    this.filename = filename;
    this.chunks = chunks;
  }
}

/** One endpoint's definition: its schemas type what the handler receives and what it answers. */
interface EndpointDefinition<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined, R extends z.ZodType> extends EndpointDescription {
  params?: P;
  query?: Q;
  body?: B;
  /** The answer of a success (shared/admin/ holds the schemas the editor reads). */
  response: R;
  handler(call: { actor: Identity; params: Input<P>; query: Input<Q>; body: Input<B> }): Promise<z.input<R>>;
}

/** The raw inputs of a request, before the endpoint's schemas have read them. */
export interface RawInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

/** An endpoint as the router and the OpenAPI document use it: its schemas, and a run that validates the inputs and calls the handler. */
export interface Endpoint extends EndpointDescription {
  params: z.ZodType | undefined;
  query: z.ZodType | undefined;
  body: z.ZodType | undefined;
  response: z.ZodType;
  run(actor: Identity, input: RawInput): Promise<unknown>;
}

/** An input read by its schema; a refusal names every field that is wrong. Inputs without a schema are not read. */
function read<S extends z.ZodType | undefined>(schema: S | undefined, value: unknown, input: keyof typeof INPUTS): Input<S> {
  if (schema === undefined) return undefined as Input<S>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AdminError('bad_request', `${INPUTS[input].what} is not valid`, { problems: inputProblems(parsed.error, INPUTS[input].whole) });
  return parsed.data as Input<S>;
}

/**
 * An admin endpoint: the Express route and the OpenAPI operation come from this one definition,
 * and its handler receives the params, query and body its schemas produce.
 * @example
 * defineEndpoint({ method: 'post', path: '/workflows/:id/rollback', permission: 'publish', summary: 'Make an earlier version active again',
 *   params: workflowParams, body: versionBody, response: rolledBackSchema,
 *   handler: ({ actor, params, body }) => lifecycle.rollback(actor, params.id, body.version) });
 */
export function defineEndpoint<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined, R extends z.ZodType = z.ZodType>(
  definition: EndpointDefinition<P, Q, B, R>,
): Endpoint {
  const { handler, params, query, body, response, ...description } = definition;
  return {
    ...description,
    params,
    query,
    body,
    response,
    // the body is read before the path and the query: a call wrong in both is refused naming the body's fields
    run: async (actor, input) => {
      const checkedBody = read(body, input.body ?? {}, 'body');
      return handler({ actor, params: read(params, input.params, 'params'), query: read(query, input.query, 'query'), body: checkedBody });
    },
  };
}

/** An endpoint as the audit log names an operation: method and route pattern, whatever the URL. */
export const operationOf = (endpoint: Endpoint) => `${endpoint.method.toUpperCase()} /admin/api${endpoint.path}`;
