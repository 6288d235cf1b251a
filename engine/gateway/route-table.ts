import { DOT_SEGMENT, hasBackslashAmbiguity } from '../kinds/support/paths.ts';
import type { CompiledWorkflow } from '../compile/types.ts';

interface RouteEntry {
  workflow: CompiledWorkflow;
  /** Names of the :param segments, in order. */
  paramNames: string[];
  /** The route's own pattern, for logs and metrics. */
  pattern: string;
  /** Exact hosts and wildcard suffixes (`.example.com`) the route is for; undefined: any host. */
  hosts: { exact: ReadonlySet<string>; suffixes: readonly string[] } | undefined;
  /** Headers the request must carry with these values; undefined: none. */
  headers: ReadonlyArray<readonly [name: string, value: string]> | undefined;
  /** A HEAD answered by a GET route: an explicit HEAD route of equal conditions wins. */
  implied: boolean;
}

/**
 * The routes of one method at one place in the trie. `only` is set when there is one route and
 * it has no host or header conditions: the common case, found without looking at the request.
 */
interface Candidates {
  only: RouteEntry | undefined;
  all: RouteEntry[];
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  param: TrieNode | undefined;
  /** Routes ending here, by method. */
  methods: Map<string, Candidates>;
  /** Routes ending in /* here, by method. */
  rest: Map<string, Candidates>;
}

/** What route conditions read of a request: its headers (Host among them). */
type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;
const NO_HEADERS: RequestHeaders = {};

/** The Host header's name part, lower case, without a port (`API.example.com:8443` -> `api.example.com`). */
function hostOf(headers: RequestHeaders): string {
  const raw = headers.host;
  // Stryker disable next-line StringLiteral: without a Host any placeholder is equivalent to '': it is no lower-case DNS name, so it matches no route host
  const host = (Array.isArray(raw) ? raw[0] : raw)?.toLowerCase() ?? '';
  // Stryker disable next-line ArithmeticOperator: whatever is kept of an IP literal starts with "[", which no route host (a DNS name) does
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/**
 * How well a route's conditions fit a request: -1 when they do not hold; else more header
 * conditions first, then an exact host over a wildcard over none, then an explicit method over a
 * GET route's implied HEAD.
 */
function rank(entry: RouteEntry, headers: RequestHeaders): number {
  let hostKind = 0;
  if (entry.hosts !== undefined) {
    const host = hostOf(headers);
    if (entry.hosts.exact.has(host)) hostKind = 2;
    else if (entry.hosts.suffixes.some((suffix) => host.length > suffix.length && host.endsWith(suffix))) hostKind = 1;
    else return -1;
  }
  for (const [name, value] of entry.headers ?? []) {
    const actual = headers[name];
    if ((Array.isArray(actual) ? actual[0] : actual) !== value) return -1;
  }
  return (entry.headers?.length ?? 0) * 8 + hostKind * 2 + (entry.implied ? 0 : 1);
}

/** The route among `candidates` whose conditions fit the request best, if any holds. */
function pick(candidates: Candidates | undefined, headers: RequestHeaders): RouteEntry | undefined {
  if (candidates === undefined) return undefined;
  if (candidates.only !== undefined) return candidates.only;
  let best: RouteEntry | undefined;
  let bestRank = -1;
  for (const entry of candidates.all) {
    const r = rank(entry, headers);
    if (r > bestRank) [best, bestRank] = [entry, r];
  }
  return best;
}

function addCandidate(map: Map<string, Candidates>, method: string, entry: RouteEntry): void {
  const candidates = map.get(method) ?? { only: undefined, all: [] };
  candidates.all.push(entry);
  candidates.only = candidates.all.length === 1 && entry.hosts === undefined && entry.headers === undefined ? entry : undefined;
  map.set(method, candidates);
}

export type RouteMatch =
  | { kind: 'found'; workflow: CompiledWorkflow; params: Record<string, string>; pattern: string }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' }
  | { kind: 'bad_path' };

/** An immutable route table, built once per activation and swapped in one assignment. */
export interface RouteTable {
  /** The workflow for a request; `headers` (Host among them) decide between routes with host or header conditions. */
  match(method: string, path: string, headers?: RequestHeaders): RouteMatch;
  readonly workflows: ReadonlyArray<CompiledWorkflow>;
}

const newNode = (): TrieNode => ({ literal: new Map(), param: undefined, methods: new Map(), rest: new Map() });

const NOT_FOUND: RouteMatch = { kind: 'not_found' };
const BAD_PATH: RouteMatch = { kind: 'bad_path' };

/**
 * Builds a segment trie of the workflows' routes: lookup cost grows with the path's segments,
 * not the number of routes. Literal segments win over :params; /* matches what is left.
 * Segments are matched as received, so an encoded "/" (%2F) never splits a segment; "." and
 * ".." segments are refused rather than resolved, and so are raw backslashes and dot segments
 * beside an encoded one (%5C), which upstreams may read as "/".
 */
export function createRouteTable(workflows: ReadonlyArray<CompiledWorkflow>): RouteTable {
  const root = newNode();
  /** Paths of routes without params or a rest, to their trie node's methods. */
  const exact = new Map<string, Map<string, Candidates>>();
  for (const workflow of workflows) {
    const route = workflow.graph.document.route;
    let node = root;
    const paramNames: string[] = [];
    // Stryker disable next-line MethodExpression: the empty segment before the first "/" is skipped below anyway
    const segments = route.path.split('/').slice(1);
    const rest = segments[segments.length - 1] === '*';
    if (rest) segments.pop();
    for (const segment of segments) {
      if (segment === '') continue;
      if (segment.startsWith(':')) {
        paramNames.push(segment.slice(1));
        node = node.param ??= newNode();
      } else {
        let child = node.literal.get(segment);
        if (!child) node.literal.set(segment, (child = newNode()));
        node = child;
      }
    }
    const hosts = route.hosts === undefined ? undefined : { exact: new Set(route.hosts.filter((h) => !h.startsWith('*.'))), suffixes: route.hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1)) };
    const headers = route.headers === undefined ? undefined : Object.entries(route.headers);
    const entry: RouteEntry = { workflow, paramNames, pattern: route.path, hosts, headers, implied: false };
    if (!rest && paramNames.length === 0) exact.set(route.path, node.methods);
    const target = rest ? node.rest : node.methods;
    for (const method of route.methods) addCandidate(target, method, entry);
    if (route.methods.includes('GET') && !route.methods.includes('HEAD')) addCandidate(target, 'HEAD', { ...entry, implied: true });
  }

  function found(entry: RouteEntry, values: string[]): RouteMatch {
    const params: Record<string, string> = {};
    for (let i = 0; i < entry.paramNames.length; i++) params[entry.paramNames[i]!] = values[i]!;
    return { kind: 'found', workflow: entry.workflow, params, pattern: entry.pattern };
  }

  /** Adds the methods of `map` whose conditions the request meets (a 405 names only what this request could call). */
  function allow(map: Map<string, Candidates>, headers: RequestHeaders, allowed: Set<string>) {
    for (const [m, candidates] of map) if (pick(candidates, headers) !== undefined) allowed.add(m);
  }

  function search(node: TrieNode, segments: string[], index: number, values: string[], method: string, headers: RequestHeaders, allowed: Set<string>): RouteMatch | undefined {
    if (index === segments.length) {
      const entry = pick(node.methods.get(method), headers);
      if (entry) return found(entry, values);
      allow(node.methods, headers, allowed);
    } else {
      const segment = segments[index]!;
      const literal = node.literal.get(segment);
      if (literal) {
        const hit = search(literal, segments, index + 1, values, method, headers, allowed);
        if (hit) return hit;
      }
      if (node.param && segment !== '') {
        let value: string;
        try {
          // Stryker disable next-line StringLiteral: decoding a segment without "%" gives it back unchanged
          value = segment.includes('%') ? decodeURIComponent(segment) : segment;
        } catch {
          return BAD_PATH;
        }
        values.push(value);
        const hit = search(node.param, segments, index + 1, values, method, headers, allowed);
        if (hit) return hit;
        values.pop();
      }
    }
    if (node.rest.size > 0) {
      const entry = pick(node.rest.get(method), headers);
      if (entry) return found(entry, values);
      allow(node.rest, headers, allowed);
    }
    return undefined;
  }

  return {
    workflows,
    match(method, path, headers = NO_HEADERS) {
      // A route without params answers its own path with one lookup (what a literal segment would win anyway).
      const literal = pick(exact.get(path)?.get(method), headers);
      if (literal) return { kind: 'found', workflow: literal.workflow, params: {}, pattern: literal.pattern };
      // origin-form only: `*` (OPTIONS *) and absolute-form targets would otherwise lose their first segment and match something else
      if (path.charCodeAt(0) !== 47 /* / */) return BAD_PATH;
      const segments = path.split('/');
      segments.shift();
      if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop(); // trailing slash
      for (const s of segments) if (s.length <= 6 && DOT_SEGMENT.test(s)) return BAD_PATH;
      if (hasBackslashAmbiguity(path)) return BAD_PATH;
      const allowed = new Set<string>();
      const hit = search(root, segments.length === 1 && segments[0] === '' ? [] : segments, 0, [], method, headers, allowed);
      if (hit) return hit;
      return allowed.size > 0 ? { kind: 'method_not_allowed', allowed: [...allowed].sort() } : NOT_FOUND;
    },
  };
}
