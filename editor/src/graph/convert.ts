/**
 * The one place where the workflow document meets React Flow: document -> nodes/edges for the
 * canvas, and nodes/edges -> document for saving, validating, exporting and the clipboard.
 * Layout positions round-trip through `layout`; everything else the document holds lives in
 * `meta` untouched, so a document survives the canvas unchanged.
 */
import type { Edge, Node, XYPosition } from '@xyflow/react';
import type { Route, WorkflowTest } from '../../../shared/schema/index.ts';

/** What a canvas node carries: exactly the workflow node's own fields (its id is the React Flow id). */
export type KindNodeData = {
  kind: string;
  label?: string;
  config: Record<string, unknown>;
};

/** A node of the document (`kind`), or one of a fragment's exits (`exit`: a target only, see fragments/fragment-model.ts). */
export type FlowNode = Node<KindNodeData, 'kind' | 'exit'>;
/** An edge leaves a node by a named port: the port is the source handle. */
export type FlowEdge = Edge;

/**
 * A workflow document as the editor holds it: like WorkflowDocument, but any field may be
 * missing or wrong while it is being drawn (the validator says what is wrong).
 */
export interface DraftDocument {
  $schema?: string;
  id: string;
  name?: string;
  description?: string;
  route?: Partial<Route>;
  start?: string;
  nodes?: Array<{ id: string; kind: string; label?: string; config?: Record<string, unknown> }>;
  edges?: Array<{ from: string; port: string; to: string }>;
  layout?: Record<string, XYPosition>;
  tests?: WorkflowTest[];
  /** A fragment's exits (fragment documents only): where its edges may leave it. */
  exits?: Array<{ name: string; description?: string }>;
}

/** Everything in a document except its graph: the editor edits it in the workflow settings form. */
export type WorkflowMeta = Omit<DraftDocument, 'nodes' | 'edges' | 'layout'>;

/** The editor's model of a workflow: React Flow's nodes and edges plus the rest of the document. */
export interface FlowModel {
  meta: WorkflowMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** Space between nodes placed without a layout position (auto-layout tidies them afterwards). */
const GRID = { x: 280, y: 160 };

const nodeAriaLabel = (id: string, data: KindNodeData) => `${data.label ? `${data.label} — ` : ''}${id} (${data.kind})`;

/** A canvas node for a workflow node at a position. */
export function flowNode(id: string, data: KindNodeData, position: XYPosition): FlowNode {
  return { id, type: 'kind', position, data, ariaLabel: nodeAriaLabel(id, data) };
}

/** The same canvas node with new data (its accessible name follows the label). */
export function withData(node: FlowNode, data: KindNodeData): FlowNode {
  return { ...node, data, ariaLabel: nodeAriaLabel(node.id, data) };
}

/** The same canvas node under a new id. */
export function withId(node: FlowNode, id: string): FlowNode {
  return { ...node, id, ariaLabel: nodeAriaLabel(id, node.data) };
}

/** Edge ids are unique even for a repeated (from, port, to), which the validator reports. */
export function flowEdge(from: string, port: string, to: string, taken?: Set<string>): FlowEdge {
  let id = `${from}:${port}->${to}`;
  if (taken) {
    for (let n = 2; taken.has(id); n++) id = `${from}:${port}->${to}#${n}`;
    taken.add(id);
  }
  return { id, source: from, sourceHandle: port, target: to };
}

/**
 * Document -> canvas. Nodes without a layout position are placed on a grid and listed in
 * `unplaced`, so the caller can lay them out.
 * @example
 * const { model, unplaced } = toFlow(document);
 */
export function toFlow(document: DraftDocument): { model: FlowModel; unplaced: string[] } {
  const { nodes = [], edges = [], layout = {}, ...meta } = document;
  const unplaced: string[] = [];
  const flowNodes = nodes.map((node, i) => {
    const data: KindNodeData = { kind: node.kind, config: node.config ?? {}, ...(node.label === undefined ? {} : { label: node.label }) };
    const position = Object.hasOwn(layout, node.id) ? layout[node.id]! : undefined;
    if (!position) unplaced.push(node.id);
    return flowNode(node.id, data, position ?? { x: (i % 4) * GRID.x, y: Math.floor(i / 4) * GRID.y });
  });
  const taken = new Set<string>();
  const flowEdges = edges.map((e) => flowEdge(e.from, e.port, e.to, taken));
  return { model: { meta, nodes: flowNodes, edges: flowEdges }, unplaced };
}

/**
 * Canvas -> document: nodes and edges in canvas order, positions into `layout`. Layout entries
 * of nodes that no longer exist are dropped.
 */
export function toDocument(model: FlowModel): DraftDocument {
  const { tests, ...meta } = model.meta;
  const layout: Record<string, XYPosition> = {};
  const nodes = model.nodes.map((n) => {
    layout[n.id] = { x: n.position.x, y: n.position.y };
    return { id: n.id, kind: n.data.kind, ...(n.data.label === undefined ? {} : { label: n.data.label }), config: n.data.config };
  });
  const edges = model.edges.map((e) => ({ from: e.source, port: e.sourceHandle ?? '', to: e.target }));
  return { ...meta, nodes, edges, layout, ...(tests === undefined ? {} : { tests }) };
}

/**
 * A part of a workflow as the clipboard carries it: workflow nodes, the edges between them and
 * their positions, marked so a paste can tell it from other text.
 */
export interface Fragment {
  sluice: 'fragment';
  nodes: NonNullable<DraftDocument['nodes']>;
  edges: NonNullable<DraftDocument['edges']>;
  layout: Record<string, XYPosition>;
}

/** The selected part of the canvas as a fragment (edges only when both ends are included). */
export function toFragment(model: FlowModel, ids: ReadonlySet<string>): Fragment {
  const part = toDocument({ meta: model.meta, nodes: model.nodes.filter((n) => ids.has(n.id)), edges: model.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) });
  return { sluice: 'fragment', nodes: part.nodes ?? [], edges: part.edges ?? [], layout: part.layout ?? {} };
}

/** A fragment's nodes and edges on the canvas (ids as they are: the caller renames clashes first). */
export function fragmentToFlow(fragment: Fragment): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const { model } = toFlow({ id: 'fragment', nodes: fragment.nodes, edges: fragment.edges, layout: fragment.layout });
  return { nodes: model.nodes, edges: model.edges };
}
