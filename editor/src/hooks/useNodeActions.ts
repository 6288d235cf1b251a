import type { XYPosition } from '@xyflow/react';
import { useCallback } from 'react';
import type { KindIndex } from '../editor-context.ts';
import { parseFragment } from '../graph/clipboard.ts';
import { toFragment, type FlowModel } from '../graph/convert.ts';
import { freshId } from '../graph/ids.ts';
import { layoutPositions, type LayoutDirection } from '../graph/layout.ts';
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
  /** The way auto-layout arranges the workflow. */
  direction: LayoutDirection;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the palette, the toolbar, the keyboard and the clipboard do to nodes; each change is one undo step. */
export function useNodeActions({ model, latest, readOnly, kinds, view, say, onAdded, direction: chosen }: NodeActionsOptions) {
  const addKind = useCallback(
    (kind: string, position?: XYPosition) => {
      if (readOnly) return;
      // From the keyboard, a node goes after the selected one (right of it, or below it top to bottom), ready to wire.
      const after = latest.current.nodes.filter((n) => n.selected);
      const prev = after.length === 1 ? after[0]! : undefined;
      const at = position ?? (prev ? (chosen === 'LR' ? { x: prev.position.x + (prev.measured?.width ?? 220) + 80, y: prev.position.y } : { x: prev.position.x, y: prev.position.y + (prev.measured?.height ?? 120) + 60 }) : view.viewCentre());
      const id = freshId(kind, nodeIds(latest.current));
      model.commit((m) => addNode(m, kind, at, id).model);
      onAdded();
      say(`Added ${kinds.get(kind)?.title ?? kind} as ${id}`);
      if (prev && !position) view.centreOn({ ...prev, position: at });
    },
    [model, readOnly, view, kinds, say, latest, onAdded, chosen],
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

  /** Lays the workflow out (in `direction`, else the chosen one); ELK answers asynchronously. */
  const autoLayout = useCallback(
    (direction: LayoutDirection = chosen) => {
      if (readOnly) return;
      // Nodes change shape with the direction (ports at the side or along the bottom): sizes measured in the other one do not count.
      const nodes = direction === chosen ? latest.current.nodes : latest.current.nodes.map(({ measured: _m, ...n }) => n);
      void layoutPositions(nodes, latest.current.edges, direction).then(
        (positions) => {
          model.commit((m) => applyLayout(m, positions));
          // Fit to the new positions directly: React Flow's own bounds still hold the old ones until it re-renders.
          view.fitPositions(nodes, positions);
          say(direction === 'LR' ? 'Laid out left to right' : 'Laid out top to bottom');
        },
        (e: unknown) => say(`Auto-layout failed: ${e instanceof Error ? e.message : String(e)}`, 'bad'),
      );
    },
    [model, readOnly, view, say, latest, chosen],
  );

  return { addKind, deleteSelection, duplicate, autoLayout, clipboard };
}

export type NodeActions = ReturnType<typeof useNodeActions>;
