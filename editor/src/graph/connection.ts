/**
 * The one rule for wiring: used by the canvas while a connection is dragged, by the inspector's
 * port menus and when pasting. Mirrors the validator's graph rules (shared/compile/validate.ts)
 * that an edge can break at the moment it is drawn.
 */
import { article } from '../../../shared/compile/index.ts';

export interface GraphLike {
  nodes: ReadonlyArray<{ id: string; data: { kind: string } }>;
  edges: ReadonlyArray<{ source: string; sourceHandle?: string | null; target: string }>;
  /** The document's explicit start, if it names one. */
  start?: string | undefined;
}

export interface Candidate {
  source: string | null;
  sourceHandle?: string | null;
  target: string | null;
}

/**
 * The node requests enter by: the document's `start`, else the only node without incoming
 * edges. With several such nodes the start is still open, so no node is protected as one.
 */
export function effectiveStart(graph: GraphLike): string | undefined {
  if (graph.start !== undefined && graph.nodes.some((n) => n.id === graph.start)) return graph.start;
  const entered = new Set(graph.edges.map((e) => e.target));
  let root: string | undefined;
  for (const node of graph.nodes) {
    if (entered.has(node.id)) continue;
    if (root !== undefined) return undefined;
    root = node.id;
  }
  return root;
}

/** Outgoing neighbours by node, built once per edges array (the inspector asks for many targets at once). */
const adjacency = new WeakMap<object, Map<string, string[]>>();
function nextOf(edges: GraphLike['edges']): Map<string, string[]> {
  let next = adjacency.get(edges);
  if (!next) {
    next = new Map();
    for (const e of edges) {
      const list = next.get(e.source);
      if (list) list.push(e.target);
      else next.set(e.source, [e.target]);
    }
    adjacency.set(edges, next);
  }
  return next;
}

/** True when `to` can reach `from` by the edges, so an edge from -> to would close a cycle. */
function reaches(graph: GraphLike, to: string, from: string): boolean {
  const next = nextOf(graph.edges);
  const seen = new Set<string>([to]);
  const stack = [to];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === from) return true;
    for (const n of next.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return false;
}

/**
 * Why an edge may not be drawn, or undefined when it may: one edge per port, no cycles, nothing
 * into the start node, nothing out of a terminal node (respond, error).
 * @example
 * connectionProblem({ source: 'verify', sourceHandle: 'ok', target: 'verify' }, graph, isTerminal); // 'a node cannot lead to itself'
 */
export function connectionProblem(candidate: Candidate, graph: GraphLike, isTerminal: (kind: string) => boolean): string | undefined {
  const { source, target } = candidate;
  const port = candidate.sourceHandle ?? null;
  if (!source || !target || !port) return 'an edge goes from a port to a node';
  const from = graph.nodes.find((n) => n.id === source);
  if (!from || !graph.nodes.some((n) => n.id === target)) return 'both ends must be nodes of this workflow';
  if (isTerminal(from.data.kind)) return `${article(from.data.kind)} ${from.data.kind} node ends the request; nothing follows it`;
  if (graph.edges.some((e) => e.source === source && e.sourceHandle === port)) return `port "${port}" of ${source} is wired already; delete its edge first`;
  if (source === target) return 'a node cannot lead to itself';
  if (target === effectiveStart(graph)) return `${target} is the start node; requests enter there, nothing leads into it`;
  if (reaches(graph, target, source)) return `${target} already leads to ${source}; this edge would close a cycle`;
  return undefined;
}

/** The boolean form React Flow's isValidConnection wants. */
export function isValidConnection(candidate: Candidate, graph: GraphLike, isTerminal: (kind: string) => boolean): boolean {
  return connectionProblem(candidate, graph, isTerminal) === undefined;
}
