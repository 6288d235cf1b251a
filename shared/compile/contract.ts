import type { CatalogEntry, ErrorCatalog } from '../schema/catalog.ts';
import { kinds, type AnyKindDescriptor } from '../nodes/index.ts';
import { arrivalWords, portWords, type WordsNode } from './port-words.ts';
import { FAULT_STATE } from './machine.ts';
import { runAtOnce, type Sliced } from './slices.ts';
import type { ValidGraph } from './validate.ts';

/** One step of the path to an answer: a node, and the port it leaves by. */
interface ContractStep {
  node: string;
  port: string;
}

/** One answer a workflow can give that is not the upstream's. */
export interface ContractEntry {
  /** The catalog error id; for a respond node's answer, `answer:<node>`. */
  id: string;
  status: number;
  /** The problem type (absent for a respond node's own answer). */
  type?: string;
  title: string;
  /** The node and port that raise it; absent for answers the gateway gives for any workflow (405, 413, 431, 500…). */
  node?: string;
  kind?: string;
  port?: string;
  /**
   * When it happens, in words, from the node kinds and ports ("the JWT is missing or invalid",
   * "scope orders:read is missing"); for an error or respond node, the conditions of the edges into it.
   */
  condition: string;
  /**
   * The shortest path from the start that leads to it: the nodes and the ports taken; its last
   * MAX_CONTRACT_PATH steps when it is longer (`pathSkipped` says how many came before).
   */
  path: ContractStep[];
  /** Steps of the path left out before `path` (a very deep graph); absent when none were. */
  pathSkipped?: number;
  /** Headers that come with it (besides content-type and content-length). */
  headers: Record<string, string>;
  /** An example body. */
  example: unknown;
}

export interface ContractOptions {
  /** The version is deprecated: every answer carries Deprecation (and Sunset when set). */
  deprecated?: { sunset?: string | undefined };
}

const EXAMPLE_TRACE = '0af7651916cd43dd8448eb211c80319c';

/** The detail template with its placeholders shown as `<name>` (or filled from a node's params). */
function exampleDetail(entry: CatalogEntry, params: Record<string, string> = {}): string {
  return entry.detail.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => (Object.hasOwn(params, name) ? params[name]! : `<${name}>`));
}

function problemExample(entry: CatalogEntry, instance: string, params?: Record<string, string>) {
  return { type: entry.type, title: entry.title, status: entry.status, detail: exampleDetail(entry, params), instance, traceId: EXAMPLE_TRACE };
}

/** Headers a status brings, as the gateway and the nodes set them. */
function headersFor(id: string, status: number, options: ContractOptions, route: { methods: readonly string[] }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (id === 'rate_limited' || id === 'token_budget_exceeded') Object.assign(headers, { 'retry-after': '<seconds>', 'ratelimit-limit': '<limit>', 'ratelimit-remaining': '0', 'ratelimit-reset': '<seconds>' });
  if (id === 'method_not_allowed') headers.allow = route.methods.join(', ');
  if (status === 408 || status === 413 || status === 431) headers.connection = 'close';
  if (options.deprecated) {
    headers.deprecation = '@<unix time>';
    if (options.deprecated.sunset) headers.sunset = new Date(options.deprecated.sunset).toUTCString();
  }
  return headers;
}

/**
 * The most steps of a path an entry lists: a path is as long as the graph is deep, and each of a
 * deep graph's entries listing all of its path would make the contract grow with the square of
 * the graph (16 MB for a 1,000-node chain).
 */
export const MAX_CONTRACT_PATH = 64;

/** How each node is first reached from the start (breadth first over the wired ports): the step before it. */
function stepsFromStart(graph: ValidGraph): Map<string, ContractStep | undefined> {
  const before = new Map<string, ContractStep | undefined>([[graph.start, undefined]]);
  const queue = [graph.start];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    const node = graph.nodes.get(id)!;
    for (const port of node.ports) {
      const to = node.next.get(port.name);
      if (to === undefined || before.has(to)) continue;
      before.set(to, { node: id, port: port.name });
      queue.push(to);
    }
  }
  return before;
}

/** The shortest path to `last` (a node and the port it leaves by), at most MAX_CONTRACT_PATH steps of it. */
function pathTo(before: Map<string, ContractStep | undefined>, last: ContractStep): Pick<ContractEntry, 'path' | 'pathSkipped'> {
  const path = [last];
  let skipped = 0;
  for (let step = before.get(last.node); step !== undefined; step = before.get(step.node)) {
    if (path.length < MAX_CONTRACT_PATH) path.push(step);
    else skipped++;
  }
  return { path: path.reverse(), ...(skipped > 0 ? { pathSkipped: skipped } : {}) };
}

/**
 * The error contract of a workflow, derived from the graph, the node kinds and the catalog
 * alone: every unwired failure port's catalog error, every error node, every node that fails by
 * an expression, every respond node's answer, and the answers the gateway gives around any
 * workflow (method not allowed, body and head limits, retired, internal error).
 * @example
 * const contract = errorContract(result.graph, catalog);
 * contract.filter((e) => e.status === 401).map((e) => `${e.node}.${e.port}: ${e.condition}`);
 */
export function errorContract(graph: ValidGraph, catalog: ErrorCatalog, options: ContractOptions = {}): ContractEntry[] {
  return runAtOnce(errorContractSliced(graph, catalog, options));
}

/** errorContract cut into slices (one per node), for a server to run paced. */
export function* errorContractSliced(graph: ValidGraph, catalog: ErrorCatalog, options: ContractOptions = {}): Sliced<ContractEntry[]> {
  const route = graph.document.route;
  const instance = route.path;
  const before = stepsFromStart(graph);
  const labels = new Map(graph.document.nodes.map((n) => [n.id, n.label]));
  const wordsNode = (n: { id: string; kind: string; config: unknown }): WordsNode => ({ id: n.id, kind: n.kind, config: n.config, label: labels.get(n.id) });
  // the edges into each node, in document order: an error node says why by them
  const into = new Map<string, Array<{ from: WordsNode; port: string; description: string }>>();
  for (const n of graph.nodes.values())
    for (const port of n.ports) {
      const to = n.next.get(port.name);
      if (to !== undefined) into.set(to, [...(into.get(to) ?? []), { from: wordsNode(n), port: port.name, description: port.description }]);
    }
  const arrival = (id: string) => arrivalWords(into.get(id) ?? [], id === graph.start);
  yield;
  const entries: ContractEntry[] = [];
  const problem = (id: string, raised: { node: string; kind: string; port: string } | undefined, condition: string, params?: Record<string, string>) => {
    const entry = catalog.errors[id];
    if (!entry) return;
    entries.push({
      id,
      status: entry.status,
      type: entry.type,
      title: entry.title,
      ...raised,
      condition,
      ...(raised ? pathTo(before, { node: raised.node, port: raised.port }) : { path: [] }),
      headers: headersFor(id, entry.status, options, route),
      example: problemExample(entry, instance, params),
    });
  };

  for (const node of graph.nodes.values()) {
    yield;
    const descriptor: AnyKindDescriptor = kinds[node.kind as keyof typeof kinds];
    const portErrors = new Set<string>();
    for (const port of node.ports) {
      if (typeof port.unwired === 'object') portErrors.add(port.unwired.error);
      if (node.next.has(port.name) || typeof port.unwired !== 'object') continue;
      const params = node.kind === 'error' ? (node.config as { params?: Record<string, string> }).params : undefined;
      problem(port.unwired.error, { node: node.id, kind: node.kind, port: port.name }, node.kind === 'error' ? arrival(node.id) : portWords(wordsNode(node), port.name, port.description), params);
    }
    // Errors the kind raises by failing rather than by a port: an expression that fails or runs out of bounds.
    if (descriptor.errors.includes('expression_failed') && !portErrors.has('expression_failed') && descriptor.expressions(node.config).length > 0)
      problem('expression_failed', { node: node.id, kind: node.kind, port: FAULT_STATE }, `an expression of ${labels.get(node.id)?.trim() || node.id} fails or exceeds its time, depth or size bound`);
    if (node.kind === 'respond') {
      const config = node.config as { status?: number };
      const status = config.status ?? 200;
      entries.push({
        id: `answer:${node.id}`,
        status,
        title: `Answered by ${node.id}`,
        node: node.id,
        kind: node.kind,
        port: 'done',
        condition: arrival(node.id),
        ...pathTo(before, { node: node.id, port: 'done' }),
        headers: headersFor('', status, options, route),
        example: (node.config as { body?: unknown }).body ?? null,
      });
    }
  }

  // Around every workflow
  if (route.methods.length < 7) problem('method_not_allowed', undefined, `a method other than ${route.methods.join(', ')} on this route`);
  if ([...graph.nodes.values()].some((n) => n.descriptor.readsRequestBody?.(n.config))) {
    problem('payload_too_large', undefined, 'the request body is larger than SLUICE_MAX_BODY', { reason: 'the body is too large' });
    problem('bad_request', undefined, 'the request body is not valid JSON', { reason: 'the body is not valid JSON' });
  }
  problem('headers_too_large', undefined, 'the request head is larger than SLUICE_MAX_HEADER');
  problem('request_timeout', undefined, 'the request is not received within SLUICE_HEADERS_TIMEOUT / SLUICE_REQUEST_TIMEOUT');
  problem('workflow_retired', undefined, 'the version serving the route is retired', { version: '<version>' });
  problem('internal_error', undefined, 'the gateway itself fails (a defect): quote the traceId');
  return entries;
}

/** What changed between two contracts, by (node, port, id): answers added, removed, or changed in status or type. */
export function diffContracts(before: ContractEntry[], after: ContractEntry[]) {
  const key = (e: ContractEntry) => `${e.node ?? 'gateway'}\u0000${e.port ?? ''}\u0000${e.node ? '' : e.id}`;
  const was = new Map(before.map((e) => [key(e), e]));
  const now = new Map(after.map((e) => [key(e), e]));
  const summary = (e: ContractEntry) => ({ id: e.id, status: e.status, type: e.type, node: e.node, port: e.port });
  const added = after.filter((e) => !was.has(key(e))).map(summary);
  const removed = before.filter((e) => !now.has(key(e))).map(summary);
  const changed = after
    .filter((e) => was.has(key(e)) && (was.get(key(e))!.status !== e.status || was.get(key(e))!.type !== e.type))
    .map((e) => ({ node: e.node, port: e.port, before: summary(was.get(key(e))!), after: summary(e) }));
  // an added or removed answer is said with its title and why: "adds 429 Too many requests at limit.limited (when the caller sends more than 100 requests per 1m per partner)"
  const said = (e: ContractEntry) => `${e.status} ${e.title}${e.node ? ` at ${e.node}.${e.port}` : ''} (when ${e.condition})`;
  const words = [
    ...after.filter((e) => !was.has(key(e))).map((e) => `adds ${said(e)}`),
    ...before.filter((e) => !now.has(key(e))).map((e) => `removes ${said(e)}`),
    ...changed.map((c) => `changes the ${c.before.status}${c.node ? ` at ${c.node}.${c.port}` : ''}${c.before.status !== c.after.status ? ` to ${c.after.status}` : ''}${c.before.type !== c.after.type ? `'s type to ${c.after.type}` : ''}`),
  ];
  return { added, removed, changed, summary: words.length === 0 ? 'the contract is unchanged' : `this change ${words.join(', ')}` };
}
