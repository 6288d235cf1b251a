/**
 * Changes to the editor's model, as pure functions: each returns a new model sharing every
 * node and edge it did not touch, so history snapshots are cheap and memoised nodes do not redraw.
 */
import type { XYPosition } from '@xyflow/react';
import { flowEdge, flowNode, fragmentToFlow, withData, withId, type FlowEdge, type FlowModel, type FlowNode, type Fragment, type KindNodeData, type WorkflowMeta } from './convert.ts';
import { freshId } from './ids.ts';

/** Node ids in use. */
export const nodeIds = (model: FlowModel) => new Set(model.nodes.map((n) => n.id));

/** Sets `selected` to exactly the given ids, reallocating only nodes and edges whose flag changes. */
export function select(model: FlowModel, nodes: ReadonlySet<string>, edges: ReadonlySet<string> = new Set()): FlowModel {
  const mark = <T extends { id: string; selected?: boolean }>(items: T[], ids: ReadonlySet<string>) => {
    let changed = false;
    const next = items.map((item) => {
      const want = ids.has(item.id);
      if ((item.selected ?? false) === want) return item;
      changed = true;
      return { ...item, selected: want };
    });
    return changed ? next : items;
  };
  const n = mark(model.nodes, nodes);
  const e = mark(model.edges, edges);
  return n === model.nodes && e === model.edges ? model : { ...model, nodes: n, edges: e };
}

export const selectedNodeIds = (model: FlowModel) => new Set(model.nodes.filter((n) => n.selected).map((n) => n.id));
export const selectedEdgeIds = (model: FlowModel) => new Set(model.edges.filter((e) => e.selected).map((e) => e.id));

/** Adds a node of `kind` at `position`, selected alone; `preferredId` when it is free. */
export function addNode(model: FlowModel, kind: string, position: XYPosition, preferredId?: string): { model: FlowModel; id: string } {
  const taken = nodeIds(model);
  const id = preferredId !== undefined && !taken.has(preferredId) ? preferredId : freshId(kind, taken);
  const node = { ...flowNode(id, { kind, config: {} }, roundPosition(position)), selected: true };
  return { model: select({ ...model, nodes: [...model.nodes, node] }, new Set([id])), id };
}

/** Removes nodes (with every edge touching them) and edges; a removed start is no longer named. */
export function remove(model: FlowModel, nodes: ReadonlySet<string>, edges: ReadonlySet<string>): FlowModel {
  if (nodes.size === 0 && edges.size === 0) return model;
  const meta = model.meta.start !== undefined && nodes.has(model.meta.start) ? withoutStart(model.meta) : model.meta;
  return {
    meta,
    nodes: model.nodes.filter((n) => !nodes.has(n.id)),
    edges: model.edges.filter((e) => !edges.has(e.id) && !nodes.has(e.source) && !nodes.has(e.target)),
  };
}

function withoutStart(meta: WorkflowMeta): WorkflowMeta {
  const { start: _start, ...rest } = meta;
  return rest;
}

/** Wires a port to a node (the caller checked the connection rule). */
export function connect(model: FlowModel, from: string, port: string, to: string): FlowModel {
  const taken = new Set(model.edges.map((e) => e.id));
  return { ...model, edges: [...model.edges, flowEdge(from, port, to, taken)] };
}

/** Removes the edge leaving a port, if any. */
export function disconnect(model: FlowModel, from: string, port: string): FlowModel {
  const edges = model.edges.filter((e) => !(e.source === from && e.sourceHandle === port));
  return edges.length === model.edges.length ? model : { ...model, edges };
}

/** Replaces a node's data (kind, label, config). */
export function updateData(model: FlowModel, id: string, update: (data: KindNodeData) => KindNodeData): FlowModel {
  return { ...model, nodes: model.nodes.map((n) => (n.id === id ? withData(n, update(n.data)) : n)) };
}

/** Renames a node, following its edges and the start. The caller checks that `to` is free and valid. */
export function rename(model: FlowModel, from: string, to: string): FlowModel {
  if (from === to) return model;
  const taken = new Set(model.edges.map((e) => e.id));
  const edges = model.edges.map((e) => {
    if (e.source !== from && e.target !== from) return e;
    const renamed = flowEdge(e.source === from ? to : e.source, e.sourceHandle ?? '', e.target === from ? to : e.target, taken);
    return e.selected ? { ...renamed, selected: true } : renamed;
  });
  return {
    meta: model.meta.start === from ? { ...model.meta, start: to } : model.meta,
    nodes: model.nodes.map((n) => (n.id === from ? withId(n, to) : n)),
    edges,
  };
}

const roundPosition = (p: XYPosition): XYPosition => ({ x: Math.round(p.x), y: Math.round(p.y) });

/** Moves nodes to new positions (rounded: the document keeps tidy numbers). */
export function move(model: FlowModel, positions: ReadonlyMap<string, XYPosition>): FlowModel {
  return { ...model, nodes: model.nodes.map((n) => (positions.has(n.id) ? { ...n, position: roundPosition(positions.get(n.id)!) } : n)) };
}

/**
 * Adds a fragment (pasted or duplicated), renaming ids that are taken and shifting it by
 * `offset`; the new nodes end up selected alone.
 */
export function insertFragment(model: FlowModel, fragment: Fragment, offset: XYPosition): { model: FlowModel; ids: string[] } {
  const taken = nodeIds(model);
  const renamed = new Map<string, string>();
  for (const node of fragment.nodes) {
    const id = freshId(node.id, taken);
    taken.add(id);
    renamed.set(node.id, id);
  }
  const part = fragmentToFlow(fragment);
  const edgeIds = new Set(model.edges.map((e) => e.id));
  const nodes: FlowNode[] = part.nodes.map((n) => ({ ...withId(n, renamed.get(n.id)!), position: roundPosition({ x: n.position.x + offset.x, y: n.position.y + offset.y }) }));
  const edges: FlowEdge[] = part.edges
    .filter((e) => renamed.has(e.source) && renamed.has(e.target))
    .map((e) => flowEdge(renamed.get(e.source)!, e.sourceHandle ?? '', renamed.get(e.target)!, edgeIds));
  const ids = nodes.map((n) => n.id);
  return { model: select({ ...model, nodes: [...model.nodes, ...nodes], edges: [...model.edges, ...edges] }, new Set(ids)), ids };
}

/** Applies new positions from auto-layout. */
export function applyLayout(model: FlowModel, positions: ReadonlyMap<string, XYPosition>): FlowModel {
  return move(model, positions);
}

/** Replaces the workflow settings (name, route, description, start, tests). */
export function updateMeta(model: FlowModel, update: (meta: WorkflowMeta) => WorkflowMeta): FlowModel {
  return { ...model, meta: update(model.meta) };
}
