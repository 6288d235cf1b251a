import type { ReactFlowInstance, XYPosition } from '@xyflow/react';
import { useMemo, useRef } from 'react';
import type { FlowEdge, FlowNode } from '../graph/convert.ts';

/** Where the canvas looks: fitting, centring, and where a node added without a pointer goes. */
export interface CanvasView {
  /** Fits the view once React Flow has taken the new positions (it updates its store after render). */
  fitSoon(): void;
  /** Fits the whole workflow now (the F shortcut). */
  fit(): void;
  /** Fits the view to positions just given, before React Flow has taken them. */
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
      fitSoon: () => void setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 }), 120),
      fit: () => void flow.fitView({ padding: 0.2, duration: 200 }),
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
