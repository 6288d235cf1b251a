import jsonata from 'jsonata';
import { z } from 'zod';
import { faultsOf, kinds, isKindName, type AnyKindDescriptor, type PortSpec } from '../nodes/index.ts';
import type { ErrorCatalog } from '../schema/catalog.ts';
import { DEFAULT_DOCUMENT_LIMITS, DOCUMENT_LIMIT_SETTINGS, formatBytes, tooDeep, utf8Length, type DocumentLimits, type JsonTextMeasure } from '../schema/limits.ts';
import { fragmentDocumentSchema, type FragmentDocument, type FragmentResolver } from '../schema/fragment.ts';
import { MAX_EDGES, MAX_NODES, workflowDocumentSchema, workflowEdgeSchema, workflowNodeSchema, type Route, type WorkflowDocument, type WorkflowNode } from '../schema/workflow.ts';
import { storedCredentialProblems } from './credentials.ts';
import { article, issueProblems } from './messages.ts';
import { clashingMethods, reservedPrefixOf } from './route.ts';
import { exitNodeOf, fragmentHost, fragmentStart, HOST_NODE, inlineSubflows, type FragmentUse } from './subflows.ts';
import { runAtOnce, sliceCounter, type Sliced } from './slices.ts';

/** The closed list of reasons a workflow is refused. */
export const PROBLEM_CODES = [
  'invalid_document',
  'duplicate_node',
  'unknown_kind',
  'invalid_config',
  'expression_syntax',
  'dangling_edge',
  'unknown_port',
  'duplicate_edge',
  'edge_from_terminal',
  'edge_into_start',
  'no_start',
  'multiple_starts',
  'unreachable',
  'cycle',
  'port_unwired',
  'unknown_error',
  'response_missing',
  'route_clash',
  'too_large',
  'unknown_fragment',
] as const;
/** Validation's codes, `test_failed` (a publish refused because a workflow test failed) and `rule_broken` (an organisation rule, shared/compile/rules.ts). */
export type ProblemCode = (typeof PROBLEM_CODES)[number] | 'test_failed' | 'rule_broken';

/** One reason a workflow is refused, pinned to a node and a field where it has one. */
export interface ValidationProblem {
  code: ProblemCode;
  message: string;
  node?: string;
  field?: string;
}

/** A node whose config passed its kind's schema, with its ports and outgoing edges. */
export interface GraphNode {
  id: string;
  kind: string;
  descriptor: AnyKindDescriptor;
  config: unknown;
  ports: PortSpec[];
  /** port name -> target node id, for wired ports */
  next: Map<string, string>;
}

/** A workflow that passed every check: what the compiler and the engine build on. */
export interface ValidGraph {
  /** The document as served: its subflow nodes replaced by their fragments' nodes (inlineSubflows). */
  document: WorkflowDocument;
  /** The fragment versions inlined, one per subflow node. */
  fragments: FragmentUse[];
  start: string;
  /** in document order */
  nodes: Map<string, GraphNode>;
}

export type ValidationResult = { ok: true; graph: ValidGraph; problems: [] } | { ok: false; problems: ValidationProblem[] };

export interface ValidateOptions {
  /** Catalog the workflow's errors must exist in; unchecked when absent. */
  catalog?: ErrorCatalog;
  /** Routes of the other workflows served beside this one. */
  otherRoutes?: ReadonlyArray<{ workflow: string; route: Route }>;
  /** Size bounds of the document; DEFAULT_DOCUMENT_LIMITS when absent. */
  limits?: DocumentLimits;
  /**
   * Whether credentials typed into tests and samples pass (storedCredentialProblems): only for a
   * version already published, so a gateway keeps serving it; every new document is refused.
   */
  allowStoredCredentials?: boolean;
  /**
   * The published fragments: each subflow node is replaced by its fragment's nodes before the
   * graph is checked. Without them (the editor, checking as it draws) a subflow node is checked as
   * one node whose ports are its exits, and a workflow that has one cannot be compiled.
   */
  fragments?: FragmentResolver;
  /**
   * The document's size as JSON, measured on the text it was parsed from (measureJsonText):
   * within the limits, the document is not walked again to measure it. The text must be the
   * compact JSON of the document (the store's canonical JSON is), or the measure is not its own.
   */
  measured?: JsonTextMeasure;
}

const path = (segments: ReadonlyArray<PropertyKey>) => segments.map(String).join('.');

/**
 * Checks a workflow document as a graph and reports every problem at once.
 * @example
 * const result = validateWorkflow(JSON.parse(text), { catalog });
 * if (!result.ok) for (const p of result.problems) console.log(p.node, p.field, p.message);
 */
export function validateWorkflow(input: unknown, options: ValidateOptions = {}): ValidationResult {
  return runAtOnce(validateWorkflowSliced(input, options));
}

/**
 * validateWorkflow cut into slices (one per node, one per edge) for a server to run paced, so a
 * large document never holds its event loop: `runPaced(validateWorkflowSliced(doc), pace)`.
 */
export function* validateWorkflowSliced(input: unknown, options: ValidateOptions = {}): Sliced<ValidationResult> {
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS;
  const oversized = yield* documentSizeProblemsSliced(input, limits, options.measured);
  if (oversized.length > 0) return { ok: false, problems: oversized };
  const problems: ValidationProblem[] = [];
  const report = (code: ProblemCode, message: string, node?: string, field?: string) =>
    problems.push({ code, message, ...(node === undefined ? {} : { node }), ...(field === undefined ? {} : { field }) });
  /** Parses an expression unless it is longer than the limit (parsing costs time in proportion to its length). */
  const checkExpression = (source: string, node: string | undefined, field: string) => {
    if (source.length > limits.expressionLength)
      return report('too_large', `the expression has ${source.length} characters; at most ${limits.expressionLength} are allowed (${DOCUMENT_LIMIT_SETTINGS.expressionLength})`, node, field);
    const error = expressionSyntaxError(source);
    if (error) report('expression_syntax', error, node, field);
  };
  const parsed = yield* parseDocumentSliced(input);
  if (!parsed.success) {
    // All problems at once: the document's own do not hide those of each node that parsed.
    problems.push(...documentProblems(input, parsed.issues));
    yield* checkNodes(parsed.nodes, report, checkExpression);
    return { ok: false, problems };
  }
  yield;
  let document = parsed.data;
  let fragments: FragmentUse[] = [];
  if (options.fragments) {
    const inlined = inlineSubflows(document, options.fragments, limits.nodes);
    problems.push(...inlined.problems);
    ({ document, uses: fragments } = inlined);
  }
  const { nodes, known } = yield* checkNodes(document.nodes, report, checkExpression);

  for (const [name, source] of Object.entries(document.log?.fields ?? {})) checkExpression(source, undefined, `log.fields.${name}`);
  if (!options.allowStoredCredentials) problems.push(...storedCredentialProblems(document));

  /** The nodes an edge leads into. */
  const incoming = new Set<string>();
  const edgeDue = sliceCounter();
  for (const [i, edge] of document.edges.entries()) {
    if (edgeDue()) yield;
    if (!known.has(edge.from)) {
      report('dangling_edge', `edge from unknown node "${edge.from}"`, undefined, `edges.${i}.from`);
      continue;
    }
    if (!known.has(edge.to)) {
      report('dangling_edge', `edge to unknown node "${edge.to}"`, edge.from, `edges.${i}.to`);
      continue;
    }
    incoming.add(edge.to);
    const from = nodes.get(edge.from);
    if (!from) continue; // its own problem is reported already
    if (from.descriptor.terminal) report('edge_from_terminal', `${article(from.kind)} ${from.kind} node ends the request and has no outgoing edges`, edge.from, `edges.${i}`);
    else if (!from.ports.some((p) => p.name === edge.port))
      report('unknown_port', `${from.kind} has no port "${edge.port}" (ports: ${from.ports.map((p) => p.name).join(', ')})`, edge.from, `edges.${i}.port`);
    else if (from.next.has(edge.port)) report('duplicate_edge', `port "${edge.port}" is wired twice`, edge.from, `ports.${edge.port}`);
    else from.next.set(edge.port, edge.to);
  }
  yield;

  const start = yield* findStart(document, known, incoming, report);
  if (start !== undefined) {
    if (incoming.has(start)) report('edge_into_start', `the start node "${start}" cannot have incoming edges`, start, 'id');
    if (nodes.size === known.size) {
      const reached = yield* reachable(start, nodes);
      const due = sliceCounter();
      for (const id of known) {
        if (due()) yield;
        if (!reached.has(id)) report('unreachable', `node "${id}" cannot be reached from the start "${start}"`, id);
      }
      const cycle = yield* findCycle(start, nodes);
      if (cycle) report('cycle', `port "${cycle.port}" leads back to "${cycle.to}", closing a cycle; workflows must be acyclic`, cycle.from, `ports.${cycle.port}`);
      else {
        yield* checkResponses(start, nodes, report);
        yield* checkCorsBeforeCredentials(start, nodes, report);
      }
    }
  }
  if ([...nodes.values()].some((n) => n.kind === 'cors') && !document.route.methods.includes('OPTIONS'))
    report('invalid_document', 'a cors node answers browsers\' preflight requests, which use OPTIONS: add OPTIONS to the route\'s methods', undefined, 'route.methods');
  yield;

  const nodeDue = sliceCounter();
  for (const node of nodes.values()) {
    if (nodeDue()) yield;
    for (const port of node.ports) {
      if (node.next.has(port.name)) continue;
      if (port.unwired === 'required') report('port_unwired', `port "${port.name}" must be wired`, node.id, `ports.${port.name}`);
      else if (port.unwired !== 'finish' && options.catalog && !Object.hasOwn(options.catalog.errors, port.unwired.error))
        report('unknown_error', `error "${port.unwired.error}" is not in the error catalog`, node.id, node.kind === 'error' ? 'config.error' : `ports.${port.name}`);
    }
    // Port defaults were checked above (only for unwired ports); these are the errors raised whatever the wiring.
    if (options.catalog)
      for (const id of faultsOf(node.descriptor, node.ports))
        if (!Object.hasOwn(options.catalog.errors, id)) report('unknown_error', `error "${id}" raised by ${node.kind} is not in the error catalog`, node.id);
  }

  const reserved = reservedPrefixOf(document.route.path);
  if (reserved) report('route_clash', `paths under ${reserved} are reserved for the gateway itself`, undefined, 'route.path');
  for (const other of options.otherRoutes ?? []) {
    if (other.workflow === document.id) continue;
    const methods = clashingMethods(document.route, other.route);
    if (methods.length > 0)
      report('route_clash', `${methods.join(', ')} ${document.route.path} is already served by workflow "${other.workflow}" (${other.route.path})`, undefined, 'route.path');
  }

  if (problems.length > 0) return { ok: false, problems };
  // Stryker disable next-line all: findStart reported why there is no start: the line above returned
  if (start === undefined) return { ok: false, problems };
  return { ok: true, graph: { document, fragments, start, nodes }, problems: [] };
}

/** A fragment that passed every check, with the workflow it was checked in (fragmentHost). */
export type FragmentValidation = { ok: true; fragment: FragmentDocument; problems: [] } | { ok: false; problems: ValidationProblem[] };

/**
 * Checks a fragment as validateWorkflowSliced checks a workflow: its own format, then every
 * check of a workflow that uses it (fragmentHost), each problem pinned to the fragment's node.
 */
export function* validateFragmentSliced(input: unknown, options: Omit<ValidateOptions, 'fragments' | 'otherRoutes'> = {}): Sliced<FragmentValidation> {
  const oversized = yield* documentSizeProblemsSliced(input, options.limits ?? DEFAULT_DOCUMENT_LIMITS);
  if (oversized.length > 0) return { ok: false, problems: oversized };
  const parsed = fragmentDocumentSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: documentProblems(input, parsed.error.issues) };
  yield;
  const fragment = parsed.data;
  if (fragmentStart(fragment) === undefined)
    return { ok: false, problems: [{ code: 'no_start', message: 'the fragment needs one start: name it in "start", or leave exactly one node without incoming edges', field: 'start' }] };
  // Stryker disable next-line ConditionalExpression: a fragment holds no subflow node (its schema refuses one), so only its own id is asked for
  const result = yield* validateWorkflowSliced(fragmentHost(fragment), { ...options, fragments: (id) => (id === fragment.id ? { version: 0, document: fragment } : undefined) });
  if (result.ok) return { ok: true, fragment, problems: [] };
  const prefix = `${HOST_NODE}/`;
  return {
    ok: false,
    problems: result.problems.map(({ node, ...problem }) => {
      // the fragment's own node ids, in the node and in the words (the host's prefix is no one's to read)
      const rest = { ...problem, message: problem.message.replaceAll(`"${prefix}`, '"') };
      if (node?.startsWith(prefix)) return { ...rest, node: node.slice(prefix.length) };
      // the host's exit nodes: an exit no edge leads to
      const exit = fragment.exits.findIndex((e) => node === exitNodeOf(e.name));
      if (exit !== -1) return { code: rest.code, message: `no edge leads to exit "${fragment.exits[exit]!.name}"`, field: `exits.${exit}` };
      return rest;
    }),
  };
}

/** validateFragmentSliced at once (the CLI, tests). */
export function validateFragment(input: unknown, options: Omit<ValidateOptions, 'fragments' | 'otherRoutes'> = {}): FragmentValidation {
  return runAtOnce(validateFragmentSliced(input, options));
}

/** The JSONata syntax error of an expression, or undefined when it parses. */
export function expressionSyntaxError(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (error) {
    const e = error as { message?: string; position?: number };
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: every syntax error jsonata 2 throws has a position (17 malformed expressions tried); kept for one that would not
    const at = e.position === undefined ? '' : ` (at ${e.position})`;
    return `JSONata: ${e.message ?? String(error)}${at}`;
  }
}

/**
 * What makes a document too large to check at all: nested past the depth limit, more bytes,
 * nodes or edges than allowed. Read before the schema, so an oversized document costs a walk,
 * not a full check; each problem names the setting that bounds it. Drafts are held to these
 * too, whatever else they lack. In slices: the nodes and edges are measured a few hundred at a time.
 */
export function* documentSizeProblemsSliced(input: unknown, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS, measured?: JsonTextMeasure): Sliced<ValidationProblem[]> {
  const tooLarge = (message: string, field: string): ValidationProblem[] => [{ code: 'too_large', message, field }];
  const { nodes, edges } = (typeof input === 'object' && input !== null ? input : {}) as { nodes?: unknown; edges?: unknown };
  // Counted before anything is walked: a document with a million nodes costs no walk of them.
  const counts: ValidationProblem[] = [];
  if (Array.isArray(nodes) && nodes.length > limits.nodes)
    counts.push(...tooLarge(`the document has ${nodes.length} nodes; at most ${limits.nodes} are allowed (${DOCUMENT_LIMIT_SETTINGS.nodes})`, 'nodes'));
  if (Array.isArray(edges) && edges.length > limits.edges)
    counts.push(...tooLarge(`the document has ${edges.length} edges; at most ${limits.edges} are allowed (${DOCUMENT_LIMIT_SETTINGS.edges})`, 'edges'));
  if (counts.length > 0) return counts;
  // Measured on its text and within bounds: no walk. Past them, the walk below names where.
  if (measured !== undefined && measured.bytes <= limits.bytes && measured.depth <= limits.depth) return [];

  // Depth and bytes, element by element for the two long arrays, the rest at once.
  const deepAt = (value: unknown, prefix: Array<string | number>) => {
    const deep = tooDeep(value, limits.depth - prefix.length);
    return deep === undefined ? undefined : tooLarge(`the document nests objects and arrays deeper than ${limits.depth} levels (${DOCUMENT_LIMIT_SETTINGS.depth})`, path([...prefix, ...deep]) || '(document)');
  };
  const lists = { nodes: Array.isArray(nodes) ? nodes : [], edges: Array.isArray(edges) ? edges : [] };
  const rest = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input, ...(Array.isArray(nodes) ? { nodes: [] } : {}), ...(Array.isArray(edges) ? { edges: [] } : {}) } : input;
  const restDeep = deepAt(rest, []);
  if (restDeep) return restDeep;
  let bytes = jsonBytes(rest);
  // Stryker disable next-line ConditionalExpression: not JSON (a BigInt, a cycle): the schema refuses it whether or not its elements are measured
  if (bytes === undefined) return []; // not JSON (a BigInt, a cycle): the schema says what is wrong with it
  const due = sliceCounter();
  for (const [name, list] of Object.entries(lists)) {
    bytes += Math.max(0, list.length - 1); // the commas between elements
    for (const [i, element] of list.entries()) {
      if (due()) yield;
      const deep = deepAt(element, [name, i]);
      if (deep) return deep;
      bytes += jsonBytes(element) ?? 0;
    }
  }
  if (bytes > limits.bytes) return tooLarge(`the document is ${formatBytes(bytes)} as JSON; at most ${formatBytes(limits.bytes)} is allowed (${DOCUMENT_LIMIT_SETTINGS.bytes})`, '(document)');
  return [];
}

/** Bytes of a value as JSON (UTF-8); undefined when it is not JSON. An array element that is not JSON (undefined) is written `null`. */
function jsonBytes(value: unknown): number | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 4 : utf8Length(text);
  } catch {
    // not JSON (a BigInt, a cycle)
  }
  return undefined;
}

type Report = (code: ProblemCode, message: string, node?: string, field?: string) => void;

/** Checks each node on its own (id used once, known kind, config, expressions); the nodes that passed, by id, and every id seen. */
function* checkNodes(list: WorkflowNode[], report: Report, checkExpression: (source: string, node: string | undefined, field: string) => void): Sliced<{ nodes: Map<string, GraphNode>; known: Set<string> }> {
  const nodes = new Map<string, GraphNode>();
  const known = new Set<string>();
  for (const node of list) {
    yield;
    if (known.has(node.id)) {
      report('duplicate_node', `node id "${node.id}" is used twice`, node.id, 'id');
      continue;
    }
    known.add(node.id);
    if (!isKindName(node.kind)) {
      report('unknown_kind', `unknown node kind "${node.kind}"`, node.id, 'kind');
      continue;
    }
    const descriptor: AnyKindDescriptor = kinds[node.kind];
    const config = descriptor.config.safeParse(node.config);
    if (!config.success) {
      for (const issue of config.error.issues)
        for (const { path: field, message } of issueProblems(issue)) report('invalid_config', message, node.id, path(['config', ...field]));
      continue;
    }
    for (const expression of descriptor.expressions(config.data)) checkExpression(expression.source, node.id, `config.${expression.field}`);
    nodes.set(node.id, { id: node.id, kind: node.kind, descriptor, config: config.data, ports: descriptor.ports(config.data), next: new Map() });
  }
  return { nodes, known };
}

/** The document's members, the node and edge lists left unread: each element is parsed on its own, in slices. */
const documentEnvelopeSchema = workflowDocumentSchema.extend({ nodes: z.array(z.unknown()).min(1).max(MAX_NODES), edges: z.array(z.unknown()).max(MAX_EDGES).default([]) });

/**
 * workflowDocumentSchema.safeParse in slices: the document without its nodes and edges, then
 * each node and edge. The same issues as one parse of the whole, at the same paths.
 */
function* parseDocumentSliced(input: unknown): Sliced<{ success: true; data: WorkflowDocument } | { success: false; issues: z.core.$ZodIssue[]; nodes: WorkflowNode[] }> {
  const envelope = documentEnvelopeSchema.safeParse(input);
  const issues: z.core.$ZodIssue[] = envelope.success ? [] : [...envelope.error.issues];
  const parseEach = function* <T>(list: unknown[], schema: z.ZodType<T>, name: string): Sliced<T[]> {
    const parsed: T[] = [];
    const due = sliceCounter();
    for (const [i, element] of list.entries()) {
      if (due()) yield;
      const result = schema.safeParse(element);
      if (result.success) parsed.push(result.data);
      else issues.push(...result.error.issues.map((issue) => ({ ...issue, path: [name, i, ...issue.path] })));
    }
    return parsed;
  };
  // A failed envelope still has its nodes read, so their own problems are reported with its.
  const raw = (envelope.success ? envelope.data : input) as { nodes?: unknown; edges?: unknown } | null;
  const nodes = yield* parseEach(Array.isArray(raw?.nodes) ? raw.nodes : [], workflowNodeSchema, 'nodes');
  const edges = yield* parseEach(Array.isArray(raw?.edges) ? raw.edges : [], workflowEdgeSchema, 'edges');
  if (!envelope.success || issues.length > 0) return { success: false, issues, nodes };
  return { success: true, data: { ...(envelope.data as object), nodes, edges } as WorkflowDocument };
}

function documentProblems(input: unknown, issues: z.core.$ZodIssue[]): ValidationProblem[] {
  const nodes = (input as { nodes?: unknown } | null)?.nodes;
  return issues.flatMap((issue) =>
    issueProblems(issue).map(({ path: field, message }): ValidationProblem => {
      const [head, index, ...rest] = field;
      // an issue at `nodes` itself has no index, and nodes[undefined] is no element: it names no node
      if (head === 'nodes' && Array.isArray(nodes)) {
        const id = (nodes[index as number] as { id?: unknown } | undefined)?.id;
        // Stryker disable next-line StringLiteral: zod pins no issue to a node object itself (an unknown key is named by its own path), so `rest` is never empty
        if (typeof id === 'string') return { code: 'invalid_document', message, node: id, field: path(rest) || 'node' };
      }
      return { code: 'invalid_document', message, field: path(field) || '(document)' };
    }),
  );
}

function* findStart(document: WorkflowDocument, known: Set<string>, incoming: Set<string>, report: Report): Sliced<string | undefined> {
  if (document.start !== undefined) {
    if (known.has(document.start)) return document.start;
    report('no_start', `start node "${document.start}" does not exist`, undefined, 'start');
    return undefined;
  }
  const roots: string[] = [];
  const due = sliceCounter();
  for (const id of known) {
    if (due()) yield;
    if (!incoming.has(id)) roots.push(id);
  }
  if (roots.length === 1) return roots[0];
  if (roots.length === 0) report('no_start', 'every node has an incoming edge, so there is no start node', undefined, 'start');
  else report('multiple_starts', `nodes ${roots.map((r) => `"${r}"`).join(', ')} have no incoming edge; set "start" or wire them`, roots[1], 'start');
  return undefined;
}

function* reachable(start: string, nodes: Map<string, GraphNode>): Sliced<Set<string>> {
  const seen = new Set<string>([start]);
  const stack = [start];
  const due = sliceCounter();
  while (stack.length > 0) {
    if (due()) yield;
    for (const to of nodes.get(stack.pop()!)!.next.values()) {
      if (!seen.has(to)) {
        seen.add(to);
        stack.push(to);
      }
    }
  }
  return seen;
}

/**
 * The edge that closes a cycle reachable from start, if any: removing it is the fix the editor
 * can point at (iterative DFS, safe for 10,000 nodes).
 */
function* findCycle(start: string, nodes: Map<string, GraphNode>): Sliced<{ from: string; port: string; to: string } | undefined> {
  const state = new Map<string, 'open' | 'done'>();
  const stack: Array<{ id: string; edges: Iterator<[string, string]> }> = [{ id: start, edges: nodes.get(start)!.next.entries() }];
  state.set(start, 'open');
  const due = sliceCounter();
  while (stack.length > 0) {
    if (due()) yield;
    const top = stack[stack.length - 1]!;
    const step = top.edges.next();
    if (step.done) {
      // Stryker disable next-line StringLiteral: any mark but 'open' and none keeps a finished node from being entered again
      state.set(top.id, 'done');
      stack.pop();
      continue;
    }
    const [port, to] = step.value;
    if (state.get(to) === 'open') return { from: top.id, port, to };
    if (state.get(to) === undefined) {
      state.set(to, 'open');
      stack.push({ id: to, edges: nodes.get(to)!.next.entries() });
    }
  }
  return undefined;
}

/** Topological order of the nodes reachable from start (the graph is acyclic). */
function* topologicalOrderSliced(start: string, nodes: ReadonlyMap<string, GraphNode>): Sliced<string[]> {
  const order: string[] = [];
  const done = new Set<string>();
  const stack: Array<{ id: string; targets: Iterator<string> }> = [{ id: start, targets: nodes.get(start)!.next.values() }];
  const due = sliceCounter();
  while (stack.length > 0) {
    if (due()) yield;
    const top = stack[stack.length - 1]!;
    const step = top.targets.next();
    if (step.done) {
      stack.pop();
      done.add(top.id);
      order.push(top.id);
    } else if (!done.has(step.value)) stack.push({ id: step.value, targets: nodes.get(step.value)!.next.values() });
  }
  return order.reverse();
}

/**
 * A cors node after a node that reads credentials (api-key, jwt-verify) on some path never sees a
 * preflight: browsers send preflights without credentials, so the identity node refuses them first.
 */
function* checkCorsBeforeCredentials(start: string, nodes: Map<string, GraphNode>, report: Report): Sliced<void> {
  const after = new Set<string>();
  const stack: string[] = [];
  const due = sliceCounter();
  for (const id of yield* reachable(start, nodes)) {
    if (due()) yield;
    if (nodes.get(id)!.descriptor.readsCredentials === true) stack.push(id);
  }
  while (stack.length > 0) {
    if (due()) yield;
    for (const to of nodes.get(stack.pop()!)!.next.values()) {
      if (after.has(to)) continue;
      after.add(to);
      stack.push(to);
    }
  }
  for (const id of after) {
    if (due()) yield;
    if (nodes.get(id)!.kind === 'cors')
      report('invalid_config', 'this cors node comes after a node that checks credentials: browsers send preflights without credentials, so they would be refused before reaching it; put the cors node first', id);
  }
  // A cache-lookup before the identity node would answer its hits to anyone, keyed by no partner.
  for (const [id, node] of nodes) {
    if (node.kind !== 'cache-lookup' || after.has(id) || (node.config as { acrossPartners?: boolean }).acrossPartners === true) continue;
    const downstream = yield* reachable(id, nodes);
    if ([...downstream].some((d) => nodes.get(d)!.descriptor.readsCredentials === true))
      report('invalid_config', 'this cache-lookup comes before a node that checks credentials: its hits would be answered to callers who were never identified, keyed by no partner; put it after the identity node (or set acrossPartners for answers meant for everyone)', id);
  }
}

/** A response must exist on every path into a node that needs one and every port that finishes. */
function* checkResponses(start: string, nodes: Map<string, GraphNode>, report: (code: ProblemCode, message: string, node?: string, field?: string) => void): Sliced<void> {
  // hasResponse[id]: a response exists on every path that reaches the node (before it runs).
  const hasResponse = new Map<string, boolean>();
  const order = yield* topologicalOrderSliced(start, nodes);
  hasResponse.set(start, false);
  const due = sliceCounter();
  for (const id of order) {
    if (due()) yield;
    const node = nodes.get(id)!;
    const before = hasResponse.get(id)!; // the start's is set above, every other node's by the nodes before it in the order
    const missing = node.descriptor.requiresResponse === true && !before;
    if (missing) report('response_missing', `${node.kind} needs a response, but some path reaches it before any proxy or respond node`, id);
    node.ports.forEach((port, i) => {
      // A node that produces a response does so on its first (success) port only. A node already
      // reported as missing one counts as having it, so one cause gives one problem, not one per
      // finishing port and node downstream.
      const after = before || missing || (node.descriptor.producesResponse === true && i === 0) || node.descriptor.answersOn?.includes(port.name) === true;
      const to = node.next.get(port.name);
      // Stryker disable next-line ConditionalExpression: the check below is for kinds to come (see there)
      if (to !== undefined) {
        hasResponse.set(to, (hasResponse.get(to) ?? true) && after);
        return;
      }
      // Stryker disable next-line all: no kind has a finishing port without a response of its own (proxy, respond and answersOn ports make one, transform-response and cache-store require one)
      if (port.unwired === 'finish' && !after) report('response_missing', `port "${port.name}" ends the request, but there is no response to answer with yet`, id, `ports.${port.name}`);
    });
  }
}
