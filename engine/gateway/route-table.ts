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
  /** The workflow's place in the table's order: between routes whose conditions fit a request equally, the earlier wins. */
  order: number;
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
  // Stryker disable next-line ArithmeticOperator,StringLiteral: whatever is kept of an IP literal starts with "[", which no route host (a DNS name) does
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  // Stryker disable next-line EqualityOperator: a Host that starts with ":" names no host either way ("" and ":port" match no route host)
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
  // Stryker disable next-line ConditionalExpression: a shortcut: the loop below picks a lone candidate without conditions too
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
  // in the table's order, whenever the entry came: a replaced workflow keeps its place among equals
  let at = candidates.all.length;
  // Stryker disable next-line EqualityOperator: ">=" is the same: orders are unique within a method's list (one per workflow; its implied HEAD is in another list)
  while (at > 0 && candidates.all[at - 1]!.order > entry.order) at--;
  candidates.all.splice(at, 0, entry);
  // Stryker disable next-line ConditionalExpression: never a shortcut is the same: pick's loop finds the same entry (a shortcut where there is none is tested)
  candidates.only = candidates.all.length === 1 && entry.hosts === undefined && entry.headers === undefined ? entry : undefined;
  map.set(method, candidates);
}

export type RouteMatch =
  | { kind: 'found'; workflow: CompiledWorkflow; params: Record<string, string>; pattern: string }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' }
  | { kind: 'bad_path' };

/**
 * A route table, built once and then changed by `update` only: each update answers a new table
 * at once, in one synchronous step, so a request is matched against the routes before it or
 * after it, never a mix; a request keeps the workflow it matched.
 */
export interface RouteTable {
  /** The workflow for a request; `headers` (Host among them) decide between routes with host or header conditions. */
  match(method: string, path: string, headers?: RequestHeaders): RouteMatch;
  /** The workflows routed, in the order they came (a workflow replaced keeps its place). */
  readonly workflows: ReadonlyArray<CompiledWorkflow>;
  /**
   * The table with the workflows of `set` routed (each replacing the one of its id) and those of
   * `removed` gone: work in proportion to the routes changed, not to the table (the trie is
   * changed in place, so the table this is called on answers the same as the new one after).
   */
  update(changes: RouteChanges): RouteTable;
}

/** Workflows to route (new, or replacing the one of their id) and ids of workflows to route no more. */
export interface RouteChanges {
  set: ReadonlyArray<CompiledWorkflow>;
  removed: ReadonlyArray<string>;
}

/**
 * The map of a trie node's field nothing was added to: one empty map shared by every node, read
 * like any other and never written (literalsOf and candidatesOf put a map of its own in its place
 * first). A trie of 10,000 routes held four empty maps per route.
 */
const NONE = new Map<string, never>();
const newNode = (): TrieNode => ({ literal: NONE, param: undefined, methods: NONE, rest: NONE });
const literalsOf = (node: TrieNode): Map<string, TrieNode> => (node.literal === NONE ? (node.literal = new Map()) : node.literal);
function candidatesOf(node: TrieNode, rest: boolean): Map<string, Candidates> {
  if (rest) return node.rest === NONE ? (node.rest = new Map()) : node.rest;
  return node.methods === NONE ? (node.methods = new Map()) : node.methods;
}

const NOT_FOUND: RouteMatch = { kind: 'not_found' };
const BAD_PATH: RouteMatch = { kind: 'bad_path' };

/** Where a workflow's route went in the trie, so that it can be taken out again. */
interface Placed {
  workflow: CompiledWorkflow;
  order: number;
  /** The trie nodes from the root to the route's node. */
  trail: TrieNode[];
  /** The segment leading to each node of the trail after the root (":" for a param). */
  steps: string[];
  target: Map<string, Candidates>;
  entries: RouteEntry[];
  /** The path under which `exact` finds it (routes without params or rest). */
  exactPath: string | undefined;
}

function removeCandidate(map: Map<string, Candidates>, entry: RouteEntry): void {
  for (const [method, candidates] of map) {
    const at = candidates.all.indexOf(entry);
    if (at < 0) continue;
    candidates.all.splice(at, 1);
    // Stryker disable next-line ConditionalExpression: the same for every lookup: an empty list picks nothing (match and allow skip it); only the memory it holds differs
    if (candidates.all.length === 0) map.delete(method);
    else candidates.only = candidates.all.length === 1 && candidates.all[0]!.hosts === undefined && candidates.all[0]!.headers === undefined ? candidates.all[0] : undefined;
  }
}

// Stryker disable next-line ConditionalExpression,ArrowFunction: the memory a removal frees, never a lookup: a lookup passes through empty nodes finding nothing
const isEmpty = (node: TrieNode) => node.literal.size === 0 && node.param === undefined && node.methods.size === 0 && node.rest.size === 0;

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
  /** Each routed workflow by id, in the order it came. */
  const placed = new Map<string, Placed>();
  let nextOrder = 0;

  function add(workflow: CompiledWorkflow, order = nextOrder++) {
    const route = workflow.graph.document.route;
    let node = root;
    const trail = [root];
    const steps: string[] = [];
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
        // Stryker disable next-line StringLiteral: the memory a removal frees, never a lookup: a param step by another name deletes no literal (none is empty)
        steps.push(':');
      } else {
        let child = node.literal.get(segment);
        if (!child) literalsOf(node).set(segment, (child = newNode()));
        node = child;
        steps.push(segment);
      }
      trail.push(node);
    }
    // Stryker disable next-line MethodExpression: a Host spelled "*.example.com" matches the wildcard route through its suffix anyway
    const hosts = route.hosts === undefined ? undefined : { exact: new Set(route.hosts.filter((h) => !h.startsWith('*.'))), suffixes: route.hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1)) };
    const headers = route.headers === undefined ? undefined : Object.entries(route.headers);
    const entry: RouteEntry = { workflow, paramNames, pattern: route.path, hosts, headers, implied: false, order };
    // Stryker disable next-line ConditionalExpression: the exact map is a shortcut: a path missing from it is found in the trie the same
    const exactPath = !rest && paramNames.length === 0 ? route.path : undefined;
    const target = candidatesOf(node, rest);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the exact map is a shortcut: a path missing from it is found in the trie the same
    if (exactPath !== undefined) exact.set(exactPath, target);
    const entries = [entry];
    for (const method of route.methods) addCandidate(target, method, entry);
    // Stryker disable next-line StringLiteral: an explicit HEAD outranks the one a GET implies (implied ranks lower), so a second, implied one changes no answer
    if (route.methods.includes('GET') && !route.methods.includes('HEAD')) {
      const implied = { ...entry, implied: true };
      entries.push(implied);
      addCandidate(target, 'HEAD', implied);
    }
    placed.set(workflow.id, { workflow, order, trail, steps, target, entries, exactPath });
  }

  /** Takes a workflow's route out of the trie (its place in `placed` stays, for a replacement to take). */
  function unplace(at: Placed) {
    for (const entry of at.entries) removeCandidate(at.target, entry);
    const node = at.trail[at.trail.length - 1]!;
    // another route of the same path (other methods or conditions) may still be found by it
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: the memory a removal frees, never a lookup: a stale entry holds no candidate, and the trie is searched after it
    if (at.exactPath !== undefined && node.methods.size === 0 && exact.get(at.exactPath) === node.methods) exact.delete(at.exactPath);
    // nodes left with nothing below them go, from the route's node up
    // Stryker disable next-line ConditionalExpression,BlockStatement: the memory a removal frees, never a lookup: a lookup passes through empty nodes finding nothing
    for (let i = at.trail.length - 1; i > 0 && isEmpty(at.trail[i]!); i--) {
      const parent = at.trail[i - 1]!;
      // Stryker disable next-line ConditionalExpression,ArithmeticOperator,StringLiteral: the memory a removal frees: an empty param node left finds nothing (a wrong literal deleted is tested)
      if (at.steps[i - 1] === ':') parent.param = undefined;
      // Stryker disable next-line ArithmeticOperator: steps[i + 1] is past the node being freed: it names no child of this parent, so nothing is deleted (memory only)
      else parent.literal.delete(at.steps[i - 1]!);
    }
  }

  function remove(id: string) {
    const at = placed.get(id);
    if (at === undefined) return;
    unplace(at);
    placed.delete(id);
  }

  for (const workflow of workflows) {
    remove(workflow.id); // a list naming an id twice routes the last
    add(workflow);
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
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a shortcut: with no rest route, pick and allow find nothing
    if (node.rest.size > 0) {
      const entry = pick(node.rest.get(method), headers);
      if (entry) return found(entry, values);
      allow(node.rest, headers, allowed);
    }
    return undefined;
  }

  function match(method: string, path: string, headers: RequestHeaders = NO_HEADERS): RouteMatch {
    // A route without params answers its own path with one lookup (what a literal segment would win anyway).
    const literal = pick(exact.get(path)?.get(method), headers);
    // Stryker disable next-line ConditionalExpression: a shortcut: the trie finds the same route for a path without params
    if (literal) return { kind: 'found', workflow: literal.workflow, params: {}, pattern: literal.pattern };
    // origin-form only: `*` (OPTIONS *) and absolute-form targets would otherwise lose their first segment and match something else
    if (path.charCodeAt(0) !== 47 /* / */) return BAD_PATH;
    const segments = path.split('/');
    segments.shift();
    // Stryker disable next-line ConditionalExpression,EqualityOperator: "/" is searched as no segment either way (popped, or by the check below)
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop(); // trailing slash
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the length is a shortcut (a dot segment is at most 6 characters), and hasBackslashAmbiguity next refuses every encoded one too
    for (const s of segments) if (s.length <= 6 && DOT_SEGMENT.test(s)) return BAD_PATH;
    if (hasBackslashAmbiguity(path)) return BAD_PATH;
    const allowed = new Set<string>();
    const hit = search(root, segments.length === 1 && segments[0] === '' ? [] : segments, 0, [], method, headers, allowed);
    if (hit) return hit;
    return allowed.size > 0 ? { kind: 'method_not_allowed', allowed: [...allowed].sort() } : NOT_FOUND;
  }

  /** A table object over the trie as it is now; its workflow list is made when first asked for. */
  function table(): RouteTable {
    let list: CompiledWorkflow[] | undefined;
    return {
      match,
      get workflows() {
        return (list ??= Array.from(placed.values(), (p) => p.workflow));
      },
      update({ set, removed }) {
        for (const id of removed) remove(id);
        for (const workflow of set) {
          const before = placed.get(workflow.id);
          // Stryker disable next-line ConditionalExpression: the same workflow taken out and put in again at its own place gives the same trie (work saved)
          if (before?.workflow === workflow) continue;
          // replaced: out of the trie and in again, keeping its place in the order
          if (before !== undefined) unplace(before);
          add(workflow, before?.order);
        }
        return table();
      },
    };
  }

  return table();
}
