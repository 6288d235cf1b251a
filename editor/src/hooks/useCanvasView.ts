import { getViewportForBounds, type ReactFlowInstance, type Rect, type XYPosition } from '@xyflow/react';
import { useMemo, useRef } from 'react';
import { effectiveStart } from '../graph/connection.ts';
import type { FlowEdge, FlowNode } from '../graph/convert.ts';

/** A node title's font size at zoom 1 (`.kind-node__name` in styles.css). */
const TITLE_FONT_PX = 13.5;
/** The smallest zoom a fit may choose: node titles stay at 12 px or more, and the canvas pans instead. */
const READABLE_ZOOM = 12 / TITLE_FONT_PX;
/** How every fit frames the workflow: the zoom controls and the view's own fits. */
const FIT_VIEW_OPTIONS = { padding: 0.2, maxZoom: 1, minZoom: READABLE_ZOOM };

/** Where the canvas looks: fitting, centring, and where a node added without a pointer goes. */
export interface CanvasView {
  /** Fits the view once React Flow has taken the new positions (it updates its store after render). */
  fitSoon(): void;
  /** Fits the whole workflow now (the F shortcut). */
  fit(): void;
  /** Fits the view to positions just given, before React Flow has taken them: after auto-layout the whole result shows, or its start at a readable zoom. */
  fitPositions(nodes: readonly FlowNode[], positions: ReadonlyMap<string, XYPosition>): void;
  /** Centres the view on a node, zooming in if the view is far out. */
  centreOn(node: FlowNode): void;
  /** The middle of the view, staggered so nodes added in a row do not stack. */
  viewCentre(): XYPosition;
}

/** The view of the canvas, for actions that move it. */
export function useCanvasView(flow: ReactFlowInstance<FlowNode, FlowEdge>): CanvasView {
  const placed = useRef(0);
  return useMemo(
    () => ({
      fitSoon: () => void setTimeout(() => readableFit(flow), 120),
      fit: () => readableFit(flow),
      fitPositions: (nodes, positions) => readableFit(flow, 200, nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position }))),
      centreOn: (node) => {
        const w = node.measured?.width ?? 240;
        const h = node.measured?.height ?? 120;
        void flow.setCenter(node.position.x + w / 2, node.position.y + h / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
      },
      viewCentre: () => {
        const pane = window.document.querySelector('.canvas')?.getBoundingClientRect();
        const centre = pane ? flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 }) : { x: 0, y: 0 };
        const n = placed.current++ % 6;
        return { x: centre.x - 120 + n * 30, y: centre.y - 60 + n * 30 };
      },
    }),
    [flow],
  );
}

/** The start node as the canvas marks it (its Start chip), else the one node nothing leads into. */
function startOf(flow: ReactFlowInstance<FlowNode, FlowEdge>, nodes: readonly FlowNode[]): FlowNode | undefined {
  const marked = window.document.querySelector('.canvas .chip--start')?.closest('.react-flow__node')?.getAttribute('data-id');
  const id = marked ?? effectiveStart({ nodes, edges: flow.getEdges() });
  return nodes.find((n) => n.id === id);
}

const MARGIN = 40;

/**
 * Where the view starts on one axis: the workflow centred when it fits; else the start node in the
 * middle, but no empty space before the workflow's first edge or after its last.
 */
function offset(pane: number, lo: number, size: number, startMid: number | undefined, zoom: number, centred: number): number {
  if (size * zoom + 2 * MARGIN <= pane) return centred;
  const at = pane / 2 - (startMid ?? lo) * zoom;
  return Math.max(Math.min(at, MARGIN - lo * zoom), pane - MARGIN - (lo + size) * zoom);
}

/**
 * Fits the workflow at no less than the readable zoom. A workflow too big for that is not shrunk
 * further: the view pans to its start node, where requests enter, and the rest is a pan away.
 * `nodes` are the ones to frame (positions just laid out); React Flow's own by default.
 */
export function readableFit(flow: ReactFlowInstance<FlowNode, FlowEdge>, duration = 200, nodes: readonly FlowNode[] = flow.getNodes()): void {
  const pane = window.document.querySelector('.canvas')?.getBoundingClientRect();
  if (!pane || nodes.length === 0) return;
  const bounds: Rect = boundsOf(nodes);
  const view = getViewportForBounds(bounds, pane.width, pane.height, READABLE_ZOOM, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding);
  const start = startOf(flow, nodes);
  const size = start && sizeOf(start);
  view.x = offset(pane.width, bounds.x, bounds.width, start && start.position.x + size!.width / 2, view.zoom, view.x);
  view.y = offset(pane.height, bounds.y, bounds.height, start && start.position.y + size!.height / 2, view.zoom, view.y);
  void flow.setViewport(view, { duration });
}

const sizeOf = (n: FlowNode) => ({ width: n.measured?.width ?? 220, height: n.measured?.height ?? 120 });

function boundsOf(nodes: readonly FlowNode[]): Rect {
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    const { width, height } = sizeOf(n);
    left = Math.min(left, n.position.x);
    top = Math.min(top, n.position.y);
    right = Math.max(right, n.position.x + width);
    bottom = Math.max(bottom, n.position.y + height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}
