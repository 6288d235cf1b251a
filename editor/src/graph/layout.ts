import type { ELK as Elk, ElkNode, ElkPort } from 'elkjs/lib/elk.bundled.js';
import type { XYPosition } from '@xyflow/react';
import { toFlow, type DraftDocument, type FlowModel, type KindNodeData } from './convert.ts';
import { applyLayout } from './operations.ts';
import { portsOf } from './ports.ts';

/** Which way requests flow on the canvas: from the start on the left to the right, or from the top down. */
export type LayoutDirection = 'LR' | 'TB';

/** What a node looks like before React Flow has measured it: 220 px wide (styles.css), taller with each port. */
function estimatedSize(data: KindNodeData, direction: LayoutDirection): { width: number; height: number } {
  const ports = portsOf(data.kind, data.config).length;
  const head = 60 + (data.label ? 16 : 0);
  if (direction === 'TB') return { width: downWidth(ports), height: head + (ports > 0 ? 44 : 0) };
  return { width: 220, height: head + (ports > 0 ? 10 + 25 * ports : 0) };
}

/** A node drawn top to bottom puts its ports side by side: 66 px each, at least the usual 220 px (KindNode). */
export const downWidth = (ports: number) => Math.max(220, 66 * ports);

type LaidNode = { id: string; data: KindNodeData; measured?: { width?: number; height?: number } };
type LaidEdge = { source: string; sourceHandle?: string | null; target: string };

/**
 * The ELK node of a workflow node: its input on the side requests come from, its output ports on
 * the other side in the order the node draws them (ELK counts clockwise from the top left, so the
 * bottom side counts right to left).
 */
function elkNode(node: LaidNode, direction: LayoutDirection): ElkNode {
  const size = estimatedSize(node.data, direction);
  const width = node.measured?.width ?? size.width;
  const height = node.measured?.height ?? size.height;
  const names = portsOf(node.data.kind, node.data.config).map((p) => p.name);
  const n = names.length;
  const out = names.map<ElkPort>((name, i) => ({
    id: portId(node.id, name),
    width: 1,
    height: 1,
    layoutOptions: direction === 'LR' ? { 'elk.port.side': 'EAST', 'elk.port.index': String(1 + i) } : { 'elk.port.side': 'SOUTH', 'elk.port.index': String(1 + (n - 1 - i)) },
  }));
  const input: ElkPort = { id: portId(node.id, ''), width: 1, height: 1, layoutOptions: direction === 'LR' ? { 'elk.port.side': 'WEST', 'elk.port.index': String(n + 1) } : { 'elk.port.side': 'NORTH', 'elk.port.index': '0' } };
  return { id: node.id, width, height, ports: [input, ...out], layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' } };
}

const portId = (node: string, port: string) => `${node}\u0000${port}`;

/** ELK (1.5 MB) is loaded the first time a workflow is laid out, so the editor's first page stays small. */
let elk: Promise<Elk> | undefined;
export const loadElk = () =>
  (elk ??= import('elkjs/lib/elk.bundled.js').then(
    ({ default: ELK }) => new ELK(),
    (error: unknown) => {
      elk = undefined; // a failed fetch is tried again next time
      throw error;
    },
  ));

/**
 * Layered layout by ELK, port-aware: each edge leaves its node by its port, ports keep the order
 * the node draws them in, so wires do not cross at the node. Requests flow from the start on the
 * left to the answers on the right (LR) or from the top down (TB). Returns top-left positions, as
 * React Flow wants them.
 * @example
 * const positions = await layoutPositions(model.nodes, model.edges, 'TB');
 */
export async function layoutPositions(nodes: readonly LaidNode[], edges: readonly LaidEdge[], direction: LayoutDirection = 'LR'): Promise<Map<string, XYPosition>> {
  const ids = new Set(nodes.map((n) => n.id));
  const ports = new Set(nodes.flatMap((n) => portsOf(n.data.kind, n.data.config).map((p) => portId(n.id, p.name))));
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction === 'LR' ? 'RIGHT' : 'DOWN',
      'elk.spacing.nodeNode': '40',
      'elk.layered.spacing.nodeNodeBetweenLayers': direction === 'LR' ? '90' : '70',
      'elk.spacing.componentComponent': '60',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: nodes.map((n) => elkNode(n, direction)),
    edges: edges
      .filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target)
      .map((e, i) => {
        const from = portId(e.source, e.sourceHandle ?? '');
        return { id: `e${i}`, sources: [ports.has(from) ? from : e.source], targets: [portId(e.target, '')] };
      }),
  };
  const laid = await (await loadElk()).layout(graph);
  const positions = new Map<string, XYPosition>();
  for (const child of laid.children ?? []) positions.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  return positions;
}

/** A workflow document opened on the canvas; nodes without positions are placed on a grid (see `laidOut`). */
export function modelOf(document: DraftDocument): FlowModel {
  return toFlow(document).model;
}

/**
 * The document with a position for every node: when some have none (a document written by hand
 * or published from files), the whole workflow is laid out.
 * @example
 * const model = modelOf(await laidOut(document, 'LR'));
 */
export async function laidOut(document: DraftDocument, direction: LayoutDirection = storedDirection(document.id) ?? 'LR'): Promise<DraftDocument> {
  const { model, unplaced } = toFlow(document);
  if (unplaced.length === 0) return document;
  // Without the layout engine (its chunk failed to load) the nodes stay on toFlow's grid: the workflow still opens.
  const positions = await layoutPositions(model.nodes, model.edges, direction).catch(() => undefined);
  if (!positions) return document;
  const placed = applyLayout(model, positions);
  return { ...document, layout: Object.fromEntries(placed.nodes.map((n) => [n.id, n.position])) };
}

/** The direction the canvas of a workflow was last laid out in, remembered in this browser. */
function storedDirection(workflowId: string): LayoutDirection | undefined {
  try {
    const stored = window.localStorage.getItem(`sluice.layout-direction.${workflowId}`);
    return stored === 'LR' || stored === 'TB' ? stored : undefined;
  } catch {
    return undefined;
  }
}

export function storeDirection(workflowId: string, direction: LayoutDirection): void {
  try {
    window.localStorage.setItem(`sluice.layout-direction.${workflowId}`, direction);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/**
 * The direction a workflow is drawn in: as chosen in this browser, else as its positions show
 * (most wires running down rather than across means top to bottom), else left to right.
 */
export function directionOf(workflowId: string, document: DraftDocument): LayoutDirection {
  const chosen = storedDirection(workflowId);
  if (chosen) return chosen;
  const layout = document.layout ?? {};
  let down = 0;
  let across = 0;
  for (const e of document.edges ?? []) {
    const a = layout[e.from];
    const b = layout[e.to];
    if (!a || !b) continue;
    if (Math.abs(b.y - a.y) > Math.abs(b.x - a.x)) down++;
    else across++;
  }
  return down > across ? 'TB' : 'LR';
}
