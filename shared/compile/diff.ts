import type { WorkflowDocument, WorkflowEdge, WorkflowNode } from '../schema/workflow.ts';
import type { Sliced } from './slices.ts';

/** One field that changed, with its old and new values as short text (absent: the field was not set). */
export interface FieldChange {
  /** The field's path: `kind`, `label`, `config.limit`, `route.path`… */
  field: string;
  before?: string;
  after?: string;
}

interface NodeChange {
  id: string;
  /** Which parts changed: kind, label and/or config field paths. */
  fields: string[];
  /** The same fields with their old and new values (at most MAX_FIELD_CHANGES of them). */
  changes: FieldChange[];
  before: WorkflowNode;
  after: WorkflowNode;
}

/** What changed between two workflow documents; editor layout is ignored. */
export interface WorkflowDiff {
  nodes: { added: WorkflowNode[]; removed: WorkflowNode[]; changed: NodeChange[] };
  edges: { added: WorkflowEdge[]; removed: WorkflowEdge[] };
  /** Top-level fields that changed (route, name, description, start, tests, samples, log). */
  fields: string[];
  /** The workflow's own settings that changed, with old and new values (route.path, route.methods, name…). */
  settings: FieldChange[];
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

/** The longest a value's text gets in a diff; longer ones end in an ellipsis. */
export const MAX_VALUE_TEXT = 80;
/** The most field changes listed per node or for the settings; `fields` still names them all. */
const MAX_FIELD_CHANGES = 20;
/** How deep nested objects are followed to name the leaf that changed (`config.key.name`). */
const MAX_DEPTH = 3;

/** A value as short text: JSON, cut to MAX_VALUE_TEXT characters with an ellipsis. */
function valueText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? JSON.stringify(value) : stable(value);
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT - 1)}…` : text;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The leaves that differ between two values, with their old and new values; objects are followed MAX_DEPTH levels deep. */
function fieldChanges(before: unknown, after: unknown, path: string, out: FieldChange[], depth = 0): FieldChange[] {
  if (out.length >= MAX_FIELD_CHANGES || stable(before) === stable(after)) return out;
  if (isPlainObject(before) && isPlainObject(after) && depth < MAX_DEPTH) {
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) fieldChanges(before[k], after[k], path === '' ? k : `${path}.${k}`, out, depth + 1);
    return out;
  }
  const b = valueText(before);
  const a = valueText(after);
  out.push({ field: path, ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) });
  return out;
}

/**
 * A field change in words, as the editor and the publish dialog show it.
 * @example changeWords({ field: 'config.limit', before: '100', after: '50' }) // '"limit": 100 -> 50'
 */
export function changeWords(change: FieldChange, arrow = '->'): string {
  const name = change.field.startsWith('config.') ? change.field.slice('config.'.length) : change.field;
  if (change.before === undefined) return `"${name}" set to ${change.after ?? 'nothing'}`;
  if (change.after === undefined) return `"${name}" removed (was ${change.before})`;
  return `"${name}": ${change.before} ${arrow} ${change.after}`;
}

/**
 * Diffs two workflows by node id and edge (from, port, to), in slices (one per node), for a
 * server to run paced. Layout-only moves are not changes.
 * @example
 * const d = runAtOnce(diffWorkflowsSliced(v1, v2));
 * d.nodes.changed.map((c) => `${c.id}: ${c.fields.join(', ')}`); // ["limit: config.limit"]
 * d.nodes.changed[0].changes.map((f) => changeWords(f)); // ['"limit": 100 -> 50']
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
    if (fields.length === 0) continue;
    const changes: FieldChange[] = [];
    for (const k of ['kind', 'label'] as const) fieldChanges(old[k], node[k], k, changes, MAX_DEPTH);
    fieldChanges(old.config ?? {}, node.config ?? {}, 'config', changes, 0);
    changed.push({ id: node.id, fields, changes, before: old, after: node });
  }
  const beforeEdges = new Set(before.edges.map(edgeKey));
  const afterEdges = new Set(after.edges.map(edgeKey));
  const edges = { added: after.edges.filter((e) => !beforeEdges.has(edgeKey(e))), removed: before.edges.filter((e) => !afterEdges.has(edgeKey(e))) };
  yield;
  const fields = (['name', 'description', 'route', 'start', 'tests', 'samples', 'log'] as const).filter((k) => stable(before[k]) !== stable(after[k]));
  const settings: FieldChange[] = [];
  for (const k of fields) {
    // tests and samples are lists of requests: their count says more than their first 80 characters
    if (k === 'tests' || k === 'samples') {
      const [was, now] = [(before[k] ?? []).length, (after[k] ?? []).length];
      const count = (n: number) => `${n} ${n === 1 ? k.slice(0, -1) : k}`;
      settings.push({ field: k, before: count(was), after: `${count(now)}${was === now ? ', changed' : ''}` });
    } else fieldChanges(before[k], after[k], k, settings, k === 'route' ? 0 : MAX_DEPTH - 1);
  }
  const same = added.length + removed.length + changed.length + edges.added.length + edges.removed.length + fields.length === 0;
  return { nodes: { added, removed, changed }, edges, fields, settings, same };
}
