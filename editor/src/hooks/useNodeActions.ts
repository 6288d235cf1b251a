import type { XYPosition } from '@xyflow/react';
import { useCallback } from 'react';
import type { KindIndex } from '../editor-context.ts';
import { parseFragment } from '../graph/clipboard.ts';
import { toFragment, type FlowModel } from '../graph/convert.ts';
import { freshId } from '../graph/ids.ts';
import { layoutPositions } from '../graph/layout.ts';
import { addNode, applyLayout, insertFragment, nodeIds, remove, selectedEdgeIds, selectedNodeIds } from '../graph/operations.ts';
import type { CanvasView } from './useCanvasView.ts';
import { useClipboard } from './useClipboard.ts';
import type { EditorModel } from './useEditorModel.ts';
import type { Say } from './useStatusLine.ts';

export interface NodeActionsOptions {
  model: EditorModel;
  /** The canvas as it is now: what is selected when an action runs. */
  latest: { readonly current: FlowModel };
  readOnly: boolean;
  kinds: KindIndex;
  view: CanvasView;
  say: Say;
  /** A node was added: the inspector shows it. */
  onAdded(): void;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the palette, the toolbar, the keyboard and the clipboard do to nodes; each change is one undo step. */
export function useNodeActions({ model, latest, readOnly, kinds, view, say, onAdded }: NodeActionsOptions) {
  const addKind = useCallback(
    (kind: string, position?: XYPosition) => {
      if (readOnly) return;
      const at = position ?? view.viewCentre();
      const id = freshId(kind, nodeIds(latest.current));
      model.commit((m) => addNode(m, kind, at, id).model);
      onAdded();
      say(`Added ${kinds.get(kind)?.title ?? kind} as ${id}`);
    },
    [model, readOnly, view, kinds, say, latest, onAdded],
  );

  const deleteSelection = useCallback(() => {
    if (readOnly) return;
    const nodes = selectedNodeIds(latest.current);
    const edges = selectedEdgeIds(latest.current);
    if (nodes.size + edges.size === 0) return;
    model.commit((m) => remove(m, nodes, edges));
    say(`Deleted ${plural(nodes.size, 'node')}${edges.size > 0 ? ` and ${plural(edges.size, 'edge')}` : ''}`);
  }, [model, readOnly, say, latest]);

  const duplicate = useCallback(() => {
    if (readOnly) return;
    const ids = selectedNodeIds(latest.current);
    if (ids.size === 0) return;
    model.commit((m) => insertFragment(m, toFragment(m, ids), { x: 40, y: 40 }).model);
    say(`Duplicated ${plural(ids.size, 'node')}`);
  }, [model, readOnly, say, latest]);

  const pasteText = useCallback(
    (text: string) => {
      if (readOnly) return false;
      const fragment = parseFragment(text);
      if (!fragment || fragment.nodes.length === 0) return false;
      // The pasted part lands around the middle of the view, keeping its own arrangement.
      const xs = fragment.nodes.map((n) => fragment.layout[n.id]?.x ?? 0);
      const ys = fragment.nodes.map((n) => fragment.layout[n.id]?.y ?? 0);
      const centre = view.viewCentre();
      const offset = { x: centre.x - Math.min(...xs), y: centre.y - Math.min(...ys) };
      model.commit((m) => insertFragment(m, fragment, offset).model);
      say(`Pasted ${plural(fragment.nodes.length, 'node')}`);
      return true;
    },
    [model, readOnly, view, say],
  );

  const clipboard = useClipboard({
    editable: !readOnly,
    copyText: () => {
      const ids = selectedNodeIds(latest.current);
      return ids.size === 0 ? undefined : JSON.stringify(toFragment(latest.current, ids), null, 2);
    },
    cut: deleteSelection,
    paste: pasteText,
  });

  const autoLayout = useCallback(() => {
    if (readOnly) return;
    const nodes = latest.current.nodes;
    const positions = layoutPositions(nodes, latest.current.edges);
    model.commit((m) => applyLayout(m, positions));
    // Fit to the new positions directly: React Flow's own bounds still hold the old ones until it re-renders.
    view.fitPositions(nodes, positions);
    say('Laid out left to right');
  }, [model, readOnly, view, say, latest]);

  return { addKind, deleteSelection, duplicate, autoLayout, clipboard };
}

export type NodeActions = ReturnType<typeof useNodeActions>;
