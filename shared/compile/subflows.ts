import { subflowKind } from '../nodes/subflow.ts';
import type { FragmentDocument, FragmentResolver } from '../schema/fragment.ts';
import type { WorkflowDocument, WorkflowEdge, WorkflowNode } from '../schema/workflow.ts';

/** A problem of inlining, as validation reports it (ValidationProblem, whose module uses this one). */
interface ValidationProblem {
  code: 'unknown_fragment' | 'invalid_config' | 'port_unwired' | 'too_large';
  message: string;
  node?: string;
  field?: string;
}

/** A subflow node of a workflow and the fragment version inlined in its place. */
export interface FragmentUse {
  node: string;
  fragment: string;
  version: number;
  /** The node names this version; otherwise it follows the fragment's active version. */
  pinned: boolean;
}

/**
 * The id an inlined node gets: the subflow node's id, a slash, the fragment node's id. A slash is
 * in no id a document may hold (nor is it XState's path delimiter, the dot), so inlined ids never
 * meet the workflow's own; the editor maps one back to its subflow node by what comes before it.
 */
const inlinedId = (subflowNode: string, fragmentNode: string) => `${subflowNode}/${fragmentNode}`;

/**
 * The subflow node an inlined node id belongs to (`auth/verify` -> `auth`); the id itself for a
 * node of the workflow. The editor pins server problems and trace steps to the node it draws.
 */
export const ownerOf = (nodeId: string) => {
  const slash = nodeId.indexOf('/');
  return slash === -1 ? nodeId : nodeId.slice(0, slash);
};


/** The node a fragment starts with: its `start`, else its one node without incoming edges. */
export function fragmentStart(fragment: FragmentDocument): string | undefined {
  if (fragment.start !== undefined) return fragment.start;
  const targets = new Set(fragment.edges.map((e) => e.to));
  const roots = fragment.nodes.filter((n) => !targets.has(n.id));
  return roots.length === 1 ? roots[0]!.id : undefined;
}

/** The fragments a document's subflow nodes name, with their pins (configs not yet checked are read as far as they go). */
export function fragmentsNamed(document: { nodes?: unknown }): Array<{ fragment: string; version?: number }> {
  if (!Array.isArray(document.nodes)) return [];
  return document.nodes.flatMap((node: { kind?: unknown; config?: { fragment?: unknown; version?: unknown } } | null) =>
    node?.kind === 'subflow' && typeof node.config?.fragment === 'string'
      ? [{ fragment: node.config.fragment, ...(typeof node.config.version === 'number' ? { version: node.config.version } : {}) }]
      : [],
  );
}

/**
 * Replaces every subflow node by the nodes of its fragment (active or pinned version), so the
 * workflow validated, compiled and served is one flat graph: edges into the subflow node go to the
 * fragment's start, an edge to an exit goes where the subflow node's port of that name goes. A
 * subflow node whose fragment cannot be inlined (none published, exits that differ) stays, with
 * its problem; at most `maxNodes` nodes come out.
 */
export function inlineSubflows(document: WorkflowDocument, fragments: FragmentResolver, maxNodes: number): { document: WorkflowDocument; uses: FragmentUse[]; problems: ValidationProblem[] } {
  if (!document.nodes.some((n) => n.kind === 'subflow')) return { document, uses: [], problems: [] };
  const problems: ValidationProblem[] = [];
  const uses: FragmentUse[] = [];
  /** subflow node id -> its fragment, for the nodes that are inlined */
  const inlined = new Map<string, FragmentDocument>();
  const starts = new Map<string, string>();
  for (const node of document.nodes) {
    if (node.kind !== 'subflow') continue;
    const config = subflowKind.config.safeParse(node.config);
    if (!config.success) continue; // validation names its config's problems
    const { fragment: id, version, exits } = config.data;
    const found = fragments(id, version);
    if (!found) {
      problems.push(
        version === undefined
          ? { code: 'unknown_fragment', message: `no published fragment "${id}"`, node: node.id, field: 'config.fragment' }
          : { code: 'unknown_fragment', message: `fragment "${id}" has no version ${version}`, node: node.id, field: 'config.version' },
      );
      continue;
    }
    const declared = found.document.exits.map((e) => e.name);
    if (declared.length !== exits.length || declared.some((name) => !exits.includes(name))) {
      problems.push({ code: 'invalid_config', message: `fragment "${id}" version ${found.version} leaves by [${declared.join(', ')}], this node by [${exits.join(', ')}]: set its exits to the fragment's`, node: node.id, field: 'config.exits' });
      continue;
    }
    const start = fragmentStart(found.document);
    if (start === undefined) {
      problems.push({ code: 'invalid_config', message: `fragment "${id}" version ${found.version} has no single start node`, node: node.id, field: 'config.fragment' });
      continue;
    }
    inlined.set(node.id, found.document);
    starts.set(node.id, start);
    uses.push({ node: node.id, fragment: id, version: found.version, pinned: version !== undefined });
  }
  if (inlined.size === 0) return { document, uses, problems };

  const nodes: WorkflowNode[] = [];
  for (const node of document.nodes) {
    const fragment = inlined.get(node.id);
    if (!fragment) {
      nodes.push(node);
      continue;
    }
    const owner = node.label ?? node.id;
    for (const inner of fragment.nodes) nodes.push({ ...inner, id: inlinedId(node.id, inner.id), label: `${owner} › ${inner.label ?? inner.id}` });
  }
  if (nodes.length > maxNodes) {
    problems.push({ code: 'too_large', message: `with its fragments inlined the workflow has ${nodes.length} nodes; at most ${maxNodes} are allowed`, field: 'nodes' });
    return { document, uses, problems };
  }

  /** port -> target of each inlined subflow node's outgoing edges */
  const exitsOf = new Map<string, Map<string, string>>();
  const edges: WorkflowEdge[] = [];
  const into = (to: string) => (inlined.has(to) ? inlinedId(to, starts.get(to)!) : to);
  for (const edge of document.edges) {
    if (inlined.has(edge.from)) {
      let ports = exitsOf.get(edge.from);
      if (!ports) exitsOf.set(edge.from, (ports = new Map()));
      ports.set(edge.port, into(edge.to));
    } else edges.push({ ...edge, to: into(edge.to) });
  }
  for (const [id, fragment] of inlined) {
    const ports = exitsOf.get(id) ?? new Map<string, string>();
    for (const exit of fragment.exits)
      if (!ports.has(exit.name)) problems.push({ code: 'port_unwired', message: `port "${exit.name}" must be wired (the fragment "${fragment.id}" leaves by it)`, node: id, field: `ports.${exit.name}` });
    const exitNames = new Set(fragment.exits.map((e) => e.name));
    for (const edge of fragment.edges) {
      const to = exitNames.has(edge.to) ? ports.get(edge.to) : inlinedId(id, edge.to);
      if (to !== undefined) edges.push({ from: inlinedId(id, edge.from), port: edge.port, to });
    }
  }
  const start = document.start === undefined ? undefined : into(document.start);
  return { document: { ...document, ...(start === undefined ? {} : { start }), nodes, edges }, uses, problems };
}

/** The node standing for an exit in the workflow a fragment is checked in. */
export const exitNodeOf = (exit: string) => `exit-${exit}`;

/** The node standing for the fragment in the workflow a fragment is checked in (fragmentHost). */
export const HOST_NODE = 'fragment';

/**
 * The workflow a fragment is checked in: one subflow node using it, each exit answering 204. A
 * fragment passes when this workflow does, so a fragment is held to every check a workflow is.
 */
export function fragmentHost(fragment: FragmentDocument): WorkflowDocument {
  const exitNode = exitNodeOf;
  return {
    id: fragment.id,
    name: fragment.name,
    route: { methods: ['GET'], path: '/' },
    start: HOST_NODE,
    nodes: [
      { id: HOST_NODE, kind: 'subflow', config: { fragment: fragment.id, exits: fragment.exits.map((e) => e.name) } },
      ...fragment.exits.map((e) => ({ id: exitNode(e.name), kind: 'respond', config: { status: 204 } })),
    ],
    edges: fragment.exits.map((e) => ({ from: HOST_NODE, port: e.name, to: exitNode(e.name) })),
    layout: {},
    tests: [],
    samples: [],
  };
}
