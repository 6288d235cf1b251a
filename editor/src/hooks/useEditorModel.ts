import { useMemo, useReducer } from 'react';
import type { FlowModel } from '../graph/convert.ts';
import { canRedo, canUndo, commit, createHistory, redo, seal, undo, type History } from '../history/history.ts';

/**
 * `history` holds the steps; `live` is what the canvas shows: the present step plus what is not
 * a step of its own (selection, React Flow's measurements, a drag in progress).
 */
interface State {
  history: History<FlowModel>;
  live: FlowModel;
}

type Action =
  | { type: 'commit'; change: (live: FlowModel) => FlowModel; group: string | undefined }
  | { type: 'transient'; change: (live: FlowModel) => FlowModel }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'seal' }
  | { type: 'reset'; model: FlowModel };

/**
 * A step restored by undo/redo, shown with the current selection and the sizes React Flow
 * measured: selection is not history, and dropping sizes would make every node flicker.
 */
function carryView(step: FlowModel, live: FlowModel): FlowModel {
  const liveNodes = new Map(live.nodes.map((n) => [n.id, n]));
  const nodes = step.nodes.map((n) => {
    const l = liveNodes.get(n.id);
    const selected = l?.selected ?? false;
    const measured = l?.measured && (l.measured.width !== n.measured?.width || l.measured.height !== n.measured?.height) ? l.measured : n.measured;
    return (n.selected ?? false) === selected && measured === n.measured ? n : { ...n, selected, measured };
  });
  const liveEdges = new Map(live.edges.map((e) => [e.id, e.selected ?? false]));
  const edges = step.edges.map((e) => ((e.selected ?? false) === (liveEdges.get(e.id) ?? false) ? e : { ...e, selected: liveEdges.get(e.id) ?? false }));
  return { meta: step.meta, nodes, edges };
}

function reducer(state: State, action: Action): State {
  switch (action.type) {
    case 'commit': {
      const next = action.change(state.live);
      if (next === state.live) return state;
      return { history: commit(state.history, next, action.group), live: next };
    }
    case 'transient': {
      const next = action.change(state.live);
      return next === state.live ? state : { ...state, live: next };
    }
    case 'undo': {
      const history = undo(state.history);
      return history === state.history ? state : { history, live: carryView(history.present, state.live) };
    }
    case 'redo': {
      const history = redo(state.history);
      return history === state.history ? state : { history, live: carryView(history.present, state.live) };
    }
    case 'seal': {
      const history = seal(state.history);
      return history === state.history ? state : { ...state, history };
    }
    case 'reset':
      return { history: createHistory(action.model), live: action.model };
  }
}

export interface EditorModel {
  /** What the canvas shows. */
  live: FlowModel;
  /** The present step: what is saved, validated and exported. */
  present: FlowModel;
  canUndo: boolean;
  canRedo: boolean;
  /** A change that is one undo step; changes with the same `group` in a row merge (typing in one field). */
  commit(change: (live: FlowModel) => FlowModel, group?: string): void;
  /** A change that is not a step: selection, measuring, a drag in progress. */
  transient(change: (live: FlowModel) => FlowModel): void;
  undo(): void;
  redo(): void;
  /** Closes the open typing group (a field lost focus). */
  seal(): void;
  /** Starts over from a model (a workflow is opened), with empty history. */
  reset(model: FlowModel): void;
}

/** The workflow being drawn, with undo/redo of every change. */
export function useEditorModel(initial: FlowModel): EditorModel {
  const [state, dispatch] = useReducer(reducer, initial, (model) => ({ history: createHistory(model), live: model }));
  const actions = useMemo(
    () => ({
      commit: (change: (live: FlowModel) => FlowModel, group?: string) => dispatch({ type: 'commit', change, group }),
      transient: (change: (live: FlowModel) => FlowModel) => dispatch({ type: 'transient', change }),
      undo: () => dispatch({ type: 'undo' }),
      redo: () => dispatch({ type: 'redo' }),
      seal: () => dispatch({ type: 'seal' }),
      reset: (model: FlowModel) => dispatch({ type: 'reset', model }),
    }),
    [],
  );
  return { live: state.live, present: state.history.present, canUndo: canUndo(state.history), canRedo: canRedo(state.history), ...actions };
}
