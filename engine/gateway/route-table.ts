import { DOT_SEGMENT, hasBackslashAmbiguity } from '../kinds/support/paths.ts';
import type { CompiledWorkflow } from '../compile/types.ts';

interface RouteEntry {
  workflow: CompiledWorkflow;
  /** Names of the :param segments, in order. */
  paramNames: string[];
  /** The route's own pattern, for logs and metrics. */
  pattern: string;
}

interface TrieNode {
  literal: Map<string, TrieNode>;
  param: TrieNode | undefined;
  /** Routes ending here, by method. */
  methods: Map<string, RouteEntry>;
  /** Routes ending in /* here, by method. */
  rest: Map<string, RouteEntry>;
}

export type RouteMatch =
  | { kind: 'found'; workflow: CompiledWorkflow; params: Record<string, string>; pattern: string }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' }
  | { kind: 'bad_path' };

/** An immutable route table, built once per activation and swapped in one assignment. */
export interface RouteTable {
  match(method: string, path: string): RouteMatch;
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
  const exact = new Map<string, Map<string, RouteEntry>>();
  for (const workflow of workflows) {
    const route = workflow.graph.document.route;
    let node = root;
    const paramNames: string[] = [];
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
    const entry: RouteEntry = { workflow, paramNames, pattern: route.path };
    if (!rest && paramNames.length === 0) exact.set(route.path, node.methods);
    const target = rest ? node.rest : node.methods;
    for (const method of route.methods) target.set(method, entry);
    if (route.methods.includes('GET') && !target.has('HEAD')) target.set('HEAD', entry);
  }

  function found(entry: RouteEntry, values: string[]): RouteMatch {
    const params: Record<string, string> = {};
    for (let i = 0; i < entry.paramNames.length; i++) params[entry.paramNames[i]!] = values[i]!;
    return { kind: 'found', workflow: entry.workflow, params, pattern: entry.pattern };
  }

  function search(node: TrieNode, segments: string[], index: number, values: string[], method: string, allowed: Set<string>): RouteMatch | undefined {
    if (index === segments.length) {
      const entry = node.methods.get(method);
      if (entry) return found(entry, values);
      for (const m of node.methods.keys()) allowed.add(m);
    } else {
      const segment = segments[index]!;
      const literal = node.literal.get(segment);
      if (literal) {
        const hit = search(literal, segments, index + 1, values, method, allowed);
        if (hit) return hit;
      }
      if (node.param && segment !== '') {
        let value: string;
        try {
          value = segment.includes('%') ? decodeURIComponent(segment) : segment;
        } catch {
          return BAD_PATH;
        }
        values.push(value);
        const hit = search(node.param, segments, index + 1, values, method, allowed);
        if (hit) return hit;
        values.pop();
      }
    }
    if (node.rest.size > 0) {
      const entry = node.rest.get(method);
      if (entry) return found(entry, values);
      for (const m of node.rest.keys()) allowed.add(m);
    }
    return undefined;
  }

  return {
    workflows,
    match(method, path) {
      // A route without params answers its own path with one lookup (what a literal segment would win anyway).
      const literal = exact.get(path)?.get(method);
      if (literal) return { kind: 'found', workflow: literal.workflow, params: {}, pattern: literal.pattern };
      // origin-form only: `*` (OPTIONS *) and absolute-form targets would otherwise lose their first segment and match something else
      if (path.charCodeAt(0) !== 47 /* / */) return BAD_PATH;
      const segments = path.split('/');
      segments.shift();
      if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop(); // trailing slash
      for (const s of segments) if (s.length <= 6 && DOT_SEGMENT.test(s)) return BAD_PATH;
      if (hasBackslashAmbiguity(path)) return BAD_PATH;
      const allowed = new Set<string>();
      const hit = search(root, segments.length === 1 && segments[0] === '' ? [] : segments, 0, [], method, allowed);
      if (hit) return hit;
      return allowed.size > 0 ? { kind: 'method_not_allowed', allowed: [...allowed].sort() } : NOT_FOUND;
    },
  };
}
