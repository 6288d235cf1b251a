import dagre from '@dagrejs/dagre';
import type { XYPosition } from '@xyflow/react';
import { toFlow, type DraftDocument, type FlowModel } from './convert.ts';
import { applyLayout } from './operations.ts';

/** What a node looks like before React Flow has measured it. */
const DEFAULT_SIZE = { width: 240, height: 120 };

/**
 * Left-to-right layered layout (dagre): requests flow from the start on the left to the answers
 * on the right. Returns top-left positions, as React Flow wants them.
 * @example
 * const positions = layoutPositions(model.nodes, model.edges);
 */
export function layoutPositions(
  nodes: ReadonlyArray<{ id: string; measured?: { width?: number; height?: number } }>,
  edges: ReadonlyArray<{ source: string; target: string }>,
): Map<string, XYPosition> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 90, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const node of nodes) {
    ids.add(node.id);
    graph.setNode(node.id, { width: node.measured?.width ?? DEFAULT_SIZE.width, height: node.measured?.height ?? DEFAULT_SIZE.height });
  }
  for (const edge of edges) if (ids.has(edge.source) && ids.has(edge.target)) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  const positions = new Map<string, XYPosition>();
  for (const node of nodes) {
    const laid = graph.node(node.id) as { x: number; y: number; width: number; height: number };
    positions.set(node.id, { x: Math.round(laid.x - laid.width / 2), y: Math.round(laid.y - laid.height / 2) });
  }
  return positions;
}

/** A workflow document opened on the canvas; nodes without positions are laid out. */
export function modelOf(document: DraftDocument): FlowModel {
  const { model, unplaced } = toFlow(document);
  if (unplaced.length === 0) return model;
  return applyLayout(model, layoutPositions(model.nodes, model.edges));
}
