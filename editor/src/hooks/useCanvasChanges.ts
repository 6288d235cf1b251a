import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import { useCallback, useRef } from 'react';
import type { KindIndex } from '../editor-context.ts';
import { connectionProblem } from '../graph/connection.ts';
import type { FlowEdge, FlowModel, FlowNode } from '../graph/convert.ts';
import { connect, move } from '../graph/operations.ts';
import type { EditorModel } from './useEditorModel.ts';
import type { Say } from './useStatusLine.ts';

export interface CanvasChangesOptions {
  model: EditorModel;
  /** The canvas as it is now, read by handlers React Flow calls between renders. */
  latest: { readonly current: FlowModel };
  readOnly: boolean;
  kinds: KindIndex;
  say: Say;
}

/** The model as the wiring rule reads it. */
const graphOf = (m: FlowModel) => ({ nodes: m.nodes, edges: m.edges, start: m.meta.start });

/**
 * What React Flow reports, turned into model changes: selection and measuring are not steps,
 * a finished drag or a run of arrow-key nudges is one step, a wire is one step when the wiring rule allows it.
 */
export function useCanvasChanges({ model, latest, readOnly, kinds, say }: CanvasChangesOptions) {
  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const view = changes.filter((c) => c.type === 'select' || c.type === 'dimensions');
      const moves = changes.filter((c): c is Extract<NodeChange<FlowNode>, { type: 'position' }> => c.type === 'position');
      if (view.length > 0) model.transient((m) => ({ ...m, nodes: applyNodeChanges(view, m.nodes) }));
      if (moves.length === 0 || readOnly) return;
      if (moves.some((c) => c.dragging)) {
        dragging.current = true;
        model.transient((m) => ({ ...m, nodes: applyNodeChanges(moves, m.nodes) }));
        return;
      }
      // The end of a drag is one step; arrow-key nudges of the same nodes in a row are one step too.
      const moved = applyNodeChanges(moves, latest.current.nodes);
      const positions = new Map(moved.filter((n) => moves.some((c) => c.id === n.id)).map((n) => [n.id, n.position]));
      const group = dragging.current ? undefined : `nudge:${[...positions.keys()].join(',')}`;
      dragging.current = false;
      model.commit((m) => move(m, positions), group);
    },
    [model, readOnly, latest],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      const view = changes.filter((c) => c.type === 'select');
      if (view.length > 0) model.transient((m) => ({ ...m, edges: applyEdgeChanges(view, m.edges) }));
    },
    [model],
  );
  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => !readOnly && connectionProblem({ source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target }, graphOf(latest.current), kinds.isTerminal) === undefined,
    [readOnly, kinds, latest],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.sourceHandle) return;
      if (connectionProblem(c, graphOf(latest.current), kinds.isTerminal) !== undefined) return;
      model.commit((m) => connect(m, c.source, c.sourceHandle!, c.target));
      say(`Wired ${c.source}.${c.sourceHandle} to ${c.target}`);
    },
    [model, readOnly, kinds, say, latest],
  );
  const onRefusedConnection = useCallback(
    (source: string, port: string, target: string) => {
      const reason = connectionProblem({ source, sourceHandle: port, target }, graphOf(latest.current), kinds.isTerminal);
      if (reason) say(`Not wired: ${reason}`, 'bad');
    },
    [kinds, say, latest],
  );
  return { onNodesChange, onEdgesChange, isValidConnection, onConnect, onRefusedConnection };
}
