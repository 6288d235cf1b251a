import { getViewportForBounds, type ReactFlowInstance, type XYPosition } from '@xyflow/react';
import { useMemo, useRef } from 'react';
import type { FlowEdge, FlowNode } from '../graph/convert.ts';

/** A node title's font size at zoom 1 (`.kind-node__name` in styles.css). */
const TITLE_FONT_PX = 13.5;
/** The smallest zoom a fit may choose: node titles stay at 12 px or more, and the canvas pans instead. */
const READABLE_ZOOM = 12 / TITLE_FONT_PX;
/** How every fit frames the workflow: the canvas prop, the zoom controls and the view's own fits. */
export const FIT_VIEW_OPTIONS = { padding: 0.2, maxZoom: 1, minZoom: READABLE_ZOOM };

/** Where the canvas looks: fitting, centring, and where a node added without a pointer goes. */
export interface CanvasView {
  /** Fits the view once React Flow has taken the new positions (it updates its store after render). */
  fitSoon(): void;
  /** Fits the whole workflow now (the F shortcut). */
  fit(): void;
  /** Fits the view to positions just given, before React Flow has taken them: after auto-layout the whole result shows. */
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
      fitPositions: (nodes, positions) => {
        let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
        for (const n of nodes) {
          const p = positions.get(n.id)!;
          left = Math.min(left, p.x);
          top = Math.min(top, p.y);
          right = Math.max(right, p.x + (n.measured?.width ?? 220));
          bottom = Math.max(bottom, p.y + (n.measured?.height ?? 120));
        }
        if (nodes.length > 0) void flow.fitBounds({ x: left, y: top, width: right - left, height: bottom - top }, { padding: 0.1, duration: 200 });
      },
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

/**
 * Fits the workflow at no less than the readable zoom. A workflow too big for that is not centred:
 * the view shows its left and top edges, where requests start, and the rest is a pan away.
 */
function readableFit(flow: ReactFlowInstance<FlowNode, FlowEdge>): void {
  const pane = window.document.querySelector('.canvas')?.getBoundingClientRect();
  const nodes = flow.getNodes();
  if (!pane || nodes.length === 0) return;
  const bounds = flow.getNodesBounds(nodes);
  const view = getViewportForBounds(bounds, pane.width, pane.height, READABLE_ZOOM, FIT_VIEW_OPTIONS.maxZoom, FIT_VIEW_OPTIONS.padding);
  const margin = 40;
  if (bounds.width * view.zoom + 2 * margin > pane.width) view.x = margin - bounds.x * view.zoom;
  if (bounds.height * view.zoom + 2 * margin > pane.height) view.y = margin - bounds.y * view.zoom;
  void flow.setViewport(view, { duration: 200 });
}
