import type { WorkflowDocument, WorkflowEdge, WorkflowNode } from '../schema/workflow.ts';
import type { Sliced } from './slices.ts';

interface NodeChange {
  id: string;
  /** Which parts changed: kind, label and/or config field paths. */
  fields: string[];
  before: WorkflowNode;
  after: WorkflowNode;
}

/** What changed between two workflow documents; editor layout is ignored. */
export interface WorkflowDiff {
  nodes: { added: WorkflowNode[]; removed: WorkflowNode[]; changed: NodeChange[] };
  edges: { added: WorkflowEdge[]; removed: WorkflowEdge[] };
  /** Top-level fields that changed (route, name, description, start, tests). */
  fields: string[];
  /** True when nothing but layout changed. */
  same: boolean;
}

const edgeKey = (e: WorkflowEdge) => `${e.from}\u0000${e.port}\u0000${e.to}`;

function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  return `{${Object.keys(value as object)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/** Paths of the fields that differ between two config objects (one level of nesting is named). */
function changedFields(before: Record<string, unknown>, after: Record<string, unknown>, prefix: string): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => stable(before[k]) !== stable(after[k])).map((k) => `${prefix}${k}`);
}

/**
 * Diffs two workflows by node id and edge (from, port, to), in slices (one per node), for a
 * server to run paced. Layout-only moves are not changes.
 * @example
 * const d = runAtOnce(diffWorkflowsSliced(v1, v2));
 * d.nodes.changed.map((c) => `${c.id}: ${c.fields.join(', ')}`); // ["limit: config.limit"]
 */
export function* diffWorkflowsSliced(before: WorkflowDocument, after: WorkflowDocument): Sliced<WorkflowDiff> {
  const beforeNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const afterNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const added = after.nodes.filter((n) => !beforeNodes.has(n.id));
  const removed = before.nodes.filter((n) => !afterNodes.has(n.id));
  const changed: NodeChange[] = [];
  for (const node of after.nodes) {
    yield;
    const old = beforeNodes.get(node.id);
    if (!old) continue;
    const fields = [
      ...(old.kind !== node.kind ? ['kind'] : []),
      ...(old.label !== node.label ? ['label'] : []),
      ...changedFields(old.config ?? {}, node.config ?? {}, 'config.'),
    ];
    if (fields.length > 0) changed.push({ id: node.id, fields, before: old, after: node });
  }
  const beforeEdges = new Set(before.edges.map(edgeKey));
  const afterEdges = new Set(after.edges.map(edgeKey));
  const edges = { added: after.edges.filter((e) => !beforeEdges.has(edgeKey(e))), removed: before.edges.filter((e) => !afterEdges.has(edgeKey(e))) };
  yield;
  const fields = (['name', 'description', 'route', 'start', 'tests'] as const).filter((k) => stable(before[k]) !== stable(after[k]));
  const same = added.length + removed.length + changed.length + edges.added.length + edges.removed.length + fields.length === 0;
  return { nodes: { added, removed, changed }, edges, fields, same };
}
