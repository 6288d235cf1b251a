import type { DraftDocument, Fragment } from './convert.ts';

/**
 * Reads clipboard or file text as something the canvas can take: a fragment copied from a
 * Sluice editor (any tab), or a whole workflow document (its nodes are pasted).
 */
export function parseFragment(text: string): Fragment | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Fragment> & Partial<DraftDocument>;
  if (!Array.isArray(v.nodes) || !v.nodes.every(isNodeLike)) return undefined;
  const edges = Array.isArray(v.edges) ? v.edges.filter(isEdgeLike) : [];
  const layout = typeof v.layout === 'object' && v.layout !== null ? v.layout : {};
  return { sluice: 'fragment', nodes: v.nodes, edges, layout };
}

const isNodeLike = (n: unknown): n is NonNullable<DraftDocument['nodes']>[number] =>
  typeof n === 'object' && n !== null && typeof (n as { id?: unknown }).id === 'string' && typeof (n as { kind?: unknown }).kind === 'string';

const isEdgeLike = (e: unknown): e is NonNullable<DraftDocument['edges']>[number] =>
  typeof e === 'object' && e !== null && ['from', 'port', 'to'].every((k) => typeof (e as Record<string, unknown>)[k] === 'string');

/**
 * Checks that imported text is a workflow document the editor can open (the validator then
 * says what else is wrong); returns a reason when it is not.
 */
export function parseWorkflowText(text: string): { document: DraftDocument } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'a workflow document is a JSON object' };
  const doc = value as Record<string, unknown>;
  if (typeof doc.id !== 'string') return { error: 'the document has no "id"' };
  if (doc.nodes !== undefined && (!Array.isArray(doc.nodes) || !doc.nodes.every(isNodeLike))) return { error: '"nodes" must be a list of { id, kind, config }' };
  if (doc.edges !== undefined && (!Array.isArray(doc.edges) || !doc.edges.every(isEdgeLike))) return { error: '"edges" must be a list of { from, port, to }' };
  return { document: value as DraftDocument };
}
