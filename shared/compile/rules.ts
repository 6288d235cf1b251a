import type { Rule } from '../schema/rules.ts';
import { runAtOnce, sliceCounter, type Sliced } from './slices.ts';
import type { ValidationProblem, ValidGraph } from './validate.ts';

/*
 * Organisation rules evaluated over a validated graph (its subflows inlined, so a guard inside a
 * fragment counts where the fragment is used). Paths are never enumerated: a graph of diamonds
 * has 2^n of them. For each node, one dataflow pass in topological order computes which guard
 * groups every path into it has passed (a bit set, ANDed over the edges in), so a rule costs
 * O(nodes + edges); a breaking path is then rebuilt backwards, one step per node, to show it.
 * A guard counts only when left by its first port, its success port ("ok"): a jwt-verify whose
 * "invalid" port leads on to the proxy was passed by a request, but guarded nothing.
 */

type GraphNode = ValidGraph['nodes'] extends Map<string, infer N> ? N : never;

/** How many node ids a problem's path shows before it is cut in the middle. */
const MAX_RULE_PATH = 12;

/** The edges into each node, and the nodes in topological order (the graph is acyclic). */
interface Flow {
  order: string[];
  into: Map<string, Array<{ from: string; port: string; first: boolean }>>;
}

function* flowOf(graph: ValidGraph): Sliced<Flow> {
  const into = new Map<string, Flow['into'] extends Map<string, infer E> ? E : never>();
  const waiting = new Map<string, number>();
  const due = sliceCounter();
  for (const node of graph.nodes.values())
    for (const [i, port] of node.ports.entries()) {
      const to = node.next.get(port.name);
      if (to === undefined) continue;
      if (due()) yield;
      let list = into.get(to);
      if (!list) into.set(to, (list = []));
      list.push({ from: node.id, port: port.name, first: i === 0 });
      waiting.set(to, (waiting.get(to) ?? 0) + 1);
    }
  yield;
  // Kahn's algorithm from the start: every node of a valid graph is reachable from it.
  const order: string[] = [];
  const ready = [graph.start];
  while (ready.length > 0) {
    const id = ready.pop()!;
    order.push(id);
    if (due()) yield;
    for (const to of graph.nodes.get(id)!.next.values()) {
      const left = waiting.get(to)! - 1;
      waiting.set(to, left);
      if (left === 0) ready.push(to);
    }
  }
  return { order, into };
}

/** Which guard groups (bits) every path into each node has passed, leaving each guard by its success port. */
function* passedOnEveryPath(graph: ValidGraph, flow: Flow, maskOf: (node: GraphNode) => number): Sliced<Map<string, number>> {
  const passed = new Map<string, number>([[graph.start, 0]]);
  const due = sliceCounter();
  for (const id of flow.order) {
    if (due()) yield;
    const node = graph.nodes.get(id)!;
    const before = passed.get(id)!;
    node.ports.forEach((port, i) => {
      const to = node.next.get(port.name);
      if (to === undefined) return;
      const after = before | (i === 0 ? maskOf(node) : 0);
      passed.set(to, passed.has(to) ? passed.get(to)! & after : after);
    });
  }
  return passed;
}

/** A path from the start to `target` on which no guard of group `bit` was passed: rebuilt backwards, each step an edge into the node that lacks the bit. */
function pathMissing(graph: ValidGraph, flow: Flow, passed: Map<string, number>, maskOf: (node: GraphNode) => number, target: string, bit: number): string[] {
  const steps = [target];
  for (let at = target; at !== graph.start; ) {
    const edge = flow.into.get(at)!.find((e) => ((passed.get(e.from)! | (e.first ? maskOf(graph.nodes.get(e.from)!) : 0)) & bit) === 0)!;
    steps.push(edge.first ? edge.from : `${edge.from} (${edge.port})`);
    at = edge.from;
  }
  return steps.reverse();
}

/** The shortest path from the start to each node (breadth first), each step the node before and the port it leaves by when not its first. */
function shortestPaths(graph: ValidGraph): (target: string) => string[] {
  /** node -> the step before it, as a path shows it */
  const via = new Map<string, { from: string; words: string } | undefined>([[graph.start, undefined]]);
  const queue = [graph.start];
  for (let i = 0; i < queue.length; i++) {
    const node = graph.nodes.get(queue[i]!)!;
    node.ports.forEach((port, p) => {
      const to = node.next.get(port.name);
      if (to === undefined || via.has(to)) return;
      via.set(to, { from: node.id, words: p === 0 ? node.id : `${node.id} (${port.name})` });
      queue.push(to);
    });
  }
  return (target) => {
    const steps = [target];
    for (let step = via.get(target); step !== undefined; step = via.get(step.from)) steps.push(step.words);
    return steps.reverse();
  };
}

/** A path as a problem shows it: `start → route → call`, cut in the middle past MAX_RULE_PATH ids. */
export function pathWords(steps: readonly string[]): string {
  if (steps.length <= MAX_RULE_PATH) return steps.join(' → ');
  const tail = MAX_RULE_PATH - 4;
  return [...steps.slice(0, 3), `… ${steps.length - 3 - tail} more …`, ...steps.slice(-tail)].join(' → ');
}

/** Kinds in words: "jwt-verify, api-key or introspect". */
const anyOf = (kinds: readonly string[]) => (kinds.length === 1 ? kinds[0]! : `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}`);

const ruleWords = (rule: Rule) => `rule "${rule.id}" (${rule.description})`;

/** Whether a status is among a rule's: a class ("2xx") or a list. */
function statusMatches(statuses: '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | readonly number[], status: number): boolean {
  return typeof statuses === 'string' ? Math.floor(status / 100) === Number(statuses[0]) : statuses.includes(status);
}

/** An outbound URL a node names, with the config field that names it. */
interface OutboundUrl {
  field: string;
  url: string;
}

const isHttpUrl = (text: unknown): text is string => typeof text === 'string' && /^https?:\/\//i.test(text);

/**
 * Every URL a node makes the gateway send requests to, as written in its config: proxy url and
 * targets, http-call url, jwt-verify key sets and discovery issuers, introspect endpoint and
 * discovery issuer. URLs that discovery documents name are learnt at run time and checked by the
 * egress policy only.
 */
export function outboundUrls(node: { kind: string; config: unknown }): OutboundUrl[] {
  const c = (node.config ?? {}) as Record<string, unknown>;
  const urls: OutboundUrl[] = [];
  const add = (field: string, url: unknown) => typeof url === 'string' && urls.push({ field: `config.${field}`, url });
  switch (node.kind) {
    case 'proxy':
      add('url', c.url);
      (Array.isArray(c.targets) ? (c.targets as Array<{ url?: unknown }>) : []).forEach((t, i) => add(`targets.${i}.url`, t.url));
      break;
    case 'http-call':
      add('url', c.url);
      break;
    case 'jwt-verify': {
      add('jwksUri', c.jwksUri);
      const keyed = [c.jwksUri, c.jwks, c.jwksFile, c.secretEnv].some((s) => s !== undefined);
      if (!keyed && isHttpUrl(c.issuer)) add('issuer', c.issuer);
      (Array.isArray(c.issuers) ? (c.issuers as Array<{ issuer?: unknown; jwksUri?: unknown }>) : []).forEach((entry, i) => {
        if (entry.jwksUri !== undefined) add(`issuers.${i}.jwksUri`, entry.jwksUri);
        else add(`issuers.${i}.issuer`, entry.issuer);
      });
      break;
    }
    case 'introspect':
      if (c.endpoint !== undefined) add('endpoint', c.endpoint);
      else add('issuer', c.issuer);
      break;
  }
  return urls;
}

/** `${NAME}` at the start of a URL: the base an operator sets in the environment. */
const ENV_BASE = /^\$\{([A-Z_][A-Z0-9_]*)\}(?:[/?#]|$)/;

const defaultPort = (protocol: string) => (protocol === 'https:' ? '443' : protocol === 'http:' ? '80' : '');
const portOf = (url: URL) => url.port || defaultPort(url.protocol);
/** A host name as compared: lower case (URL does it), without a trailing dot (the same name to DNS). */
const hostOf = (url: URL) => url.hostname.replace(/\.$/, '');

function parsed(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` (as a config writes it) is inside an allow entry: a URL prefix (same scheme, host
 * and port, and its path under the prefix's, segment by segment), a host (`api.example.com`, with
 * `:port` to pin one), `*.domain` (any name under domain, never domain itself nor a name that
 * merely ends with its text), or `${NAME}` (a URL whose base is that operator variable). URLs are
 * compared parsed (WHATWG), so case, default ports, dot segments and `user@` tricks do not count.
 */
export function urlAllowed(url: string, entry: string): boolean {
  const env = ENV_BASE.exec(url);
  if (env) return entry === `\${${env[1]}}`;
  if (entry.startsWith('${')) return false;
  const target = parsed(url);
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:')) return false;
  if (!/^https?:\/\//i.test(entry)) {
    const [pattern, port] = entry.toLowerCase().split(':') as [string, string | undefined];
    if (port !== undefined && port !== portOf(target)) return false;
    const host = hostOf(target);
    // a wildcard names subdomains: never an IPv4 address whose last labels happen to be the same digits
    if (pattern.startsWith('*.')) return !/^[0-9.]+$/.test(host) && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
    return host === pattern;
  }
  const prefix = parsed(entry);
  if (!prefix) return false;
  if (prefix.protocol !== target.protocol || hostOf(prefix) !== hostOf(target) || portOf(prefix) !== portOf(target)) return false;
  const base = prefix.pathname;
  if (base === '/') return true;
  return target.pathname === base || target.pathname.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** A URL as a problem quotes it: a user and password replaced, at most 200 characters. */
function quoted(url: string): string {
  const at = parsed(url);
  let text = url;
  if (at && (at.username !== '' || at.password !== '')) {
    at.username = '***';
    at.password = '';
    text = at.href;
  }
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/**
 * The problems of a validated graph under organisation rules, one per node a rule is broken at:
 * the node reached without the guard, the respond node answering unguarded, the node and field
 * naming a URL off the allow list. Each names the rule, says what it is for and shows a path.
 * @example
 * const result = validateWorkflow(document, { fragments });
 * if (result.ok) problems.push(...ruleProblems(result.graph, ruleSet.rules));
 */
export function ruleProblems(graph: ValidGraph, rules: readonly Rule[]): ValidationProblem[] {
  return runAtOnce(ruleProblemsSliced(graph, rules));
}

/** ruleProblems cut into slices (a few hundred nodes at a time, rule by rule), for a server to run paced. */
export function* ruleProblemsSliced(graph: ValidGraph, rules: readonly Rule[]): Sliced<ValidationProblem[]> {
  const problems: ValidationProblem[] = [];
  if (rules.length === 0) return problems;
  const flow = yield* flowOf(graph);
  let shortest: ((target: string) => string[]) | undefined;
  for (const rule of rules) {
    yield;
    if (rule.form === 'url-allow-list') {
      for (const id of flow.order)
        for (const { field, url } of outboundUrls(graph.nodes.get(id)!)) {
          if (rule.allow.some((entry) => urlAllowed(url, entry))) continue;
          shortest ??= shortestPaths(graph);
          const node = graph.nodes.get(id)!;
          const env = ENV_BASE.exec(url);
          const why = env ? `, whose base the operator variable \${${env[1]}} sets: the allow list does not name \${${env[1]}}` : ', which the allow list does not include';
          problems.push({ code: 'rule_broken', message: `${ruleWords(rule)}: ${node.kind} "${id}" sends requests to ${quoted(url)}${why} (path ${pathWords(shortest(id))})`, node: id, field });
        }
      continue;
    }
    const groups = rule.form === 'every-path' ? rule.passes : [rule.passes];
    const masks = new Map<string, number>();
    const maskOf = (node: GraphNode) => {
      let mask = masks.get(node.kind);
      if (mask === undefined) masks.set(node.kind, (mask = groups.reduce((m, kinds, g) => (kinds.includes(node.kind) ? m | (1 << g) : m), 0)));
      return mask;
    };
    const passed = yield* passedOnEveryPath(graph, flow, maskOf);
    for (const id of flow.order) {
      const node = graph.nodes.get(id)!;
      const held = rule.form === 'every-path' ? rule.to.includes(node.kind) : node.kind === 'respond' && statusMatches(rule.statuses, (node.config as { status: number }).status);
      if (!held) continue;
      const missing = groups.flatMap((kinds, g) => ((passed.get(id)! & (1 << g)) === 0 ? [{ kinds, bit: 1 << g }] : []));
      if (missing.length === 0) continue;
      const path = pathWords(pathMissing(graph, flow, passed, maskOf, id, missing[0]!.bit));
      const lacking = missing.map((m) => anyOf(m.kinds)).join(', nor ');
      const reached = rule.form === 'every-path' ? `reaches ${node.kind} "${id}"` : `answers ${(node.config as { status: number }).status} at respond "${id}"`;
      problems.push({ code: 'rule_broken', message: `${ruleWords(rule)}: the path ${path} ${reached} without first passing ${lacking} (left by its success port)`, node: id });
    }
  }
  return problems;
}
