import { applyNodeChanges, type NodeChange } from '@xyflow/react';
import { changeWords } from '../../../shared/compile/index.ts';
import { useCallback, useState } from 'react';
import { describeError, type Api } from '../api/client.ts';
import type { VersionRef, WorkflowDiff } from '../api/types.ts';
import type { DraftDocument, FlowEdge, FlowNode } from '../graph/convert.ts';
import { laidOut, modelOf } from '../graph/layout.ts';
import type { DiffMark } from '../graph/marks.ts';
import type { Busy } from './useBusy.ts';
import type { Say } from './useStatusLine.ts';

/** Two versions drawn as one canvas: the newer one, the removed nodes and edges of the older as ghosts. */
export interface Comparison {
  from: VersionRef;
  to: VersionRef;
  diff: WorkflowDiff;
  nodes: FlowNode[];
  edges: FlowEdge[];
  marks: Map<string, { mark: DiffMark; fields: string[] }>;
}

export interface VersionCompareOptions {
  api: Api;
  workflowId: string;
  /** The version that serves now, which 'active' stands for. */
  active: number | null;
  whileBusy: Busy['whileBusy'];
  say: Say;
  fitSoon(): void;
  /** A comparison is shown: its details go in the inspector tab. */
  onShown(): void;
}

export interface VersionCompare {
  /** The comparison on the canvas, if one is shown; the canvas is read-only meanwhile. */
  comparison: Comparison | undefined;
  compare(from: VersionRef, to: VersionRef): Promise<void>;
  /** Closes the comparison and fits the view to the workflow again. */
  close(): void;
  /** Drops the comparison without moving the view (a problem was picked). */
  dismiss(): void;
  /** The canvas's changes while comparing: the sizes React Flow measured (the minimap draws only measured nodes). */
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
}

/** A version, a draft or the active version as a text label. */
export const refLabel = (ref: VersionRef) => (typeof ref === 'number' ? `version ${ref}` : ref);
const edgeKey = (e: { from: string; port: string; to: string }) => `${e.from}\u0000${e.port}\u0000${e.to}`;

/** Comparing two versions of the workflow on the canvas. */
export function useVersionCompare({ api, workflowId: id, active, whileBusy, say, fitSoon, onShown }: VersionCompareOptions): VersionCompare {
  const [comparison, setComparison] = useState<Comparison | undefined>();

  const documentAt = useCallback(
    async (ref: VersionRef): Promise<DraftDocument> => {
      if (ref === 'draft') return ((await api.workflow(id)).draft?.document ?? { id }) as DraftDocument;
      const n = ref === 'active' ? active : ref;
      if (n === null) throw new Error('nothing is active');
      return (await api.version(id, n)).document as DraftDocument;
    },
    [api, id, active],
  );

  const compare = useCallback(
    (from: VersionRef, to: VersionRef) =>
      whileBusy(async () => {
        try {
          const [result, before, after] = await Promise.all([api.diff(id, from, to), documentAt(from), documentAt(to)]);
          const shown = modelOf(await laidOut(after));
          const ghosts = modelOf(await laidOut(before));
          const removed = new Set(result.nodes.removed.map((n) => n.id));
          const marksById = new Map<string, { mark: DiffMark; fields: string[] }>();
          for (const n of result.nodes.added) marksById.set(n.id, { mark: 'added', fields: [] });
          // a changed node says what changed from what to what (its tooltip): "limit": 100 → 50
          for (const c of result.nodes.changed) marksById.set(c.id, { mark: 'changed', fields: c.changes.length > 0 ? c.changes.map((f) => changeWords(f, '→')) : c.fields });
          for (const n of result.nodes.removed) marksById.set(n.id, { mark: 'removed', fields: [] });
          const added = new Set(result.edges.added.map(edgeKey));
          const gone = new Set(result.edges.removed.map(edgeKey));
          const keyOf = (e: FlowEdge) => edgeKey({ from: e.source, port: e.sourceHandle ?? '', to: e.target });
          const nodes = [...shown.nodes, ...ghosts.nodes.filter((n) => removed.has(n.id))].map((n) => ({ ...n, selected: false }));
          const edges = [
            ...shown.edges.map((e) => (added.has(keyOf(e)) ? { ...e, className: 'edge--added' } : e)),
            ...ghosts.edges.filter((e) => gone.has(keyOf(e))).map((e) => ({ ...e, id: `removed:${e.id}`, className: 'edge--removed' })),
          ];
          setComparison({ from, to, diff: result, nodes, edges, marks: marksById });
          onShown();
          fitSoon();
        } catch (error) {
          say(`Cannot compare. ${describeError(error)}`, 'bad');
        }
      }),
    [api, id, documentAt, fitSoon, say, whileBusy, onShown],
  );

  const close = useCallback(() => {
    setComparison(undefined);
    fitSoon();
  }, [fitSoon]);

  const dismiss = useCallback(() => setComparison(undefined), []);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const sizes = changes.filter((c) => c.type === 'dimensions');
    if (sizes.length > 0) setComparison((c) => c && { ...c, nodes: applyNodeChanges(sizes, c.nodes) });
  }, []);

  return { comparison, compare, close, dismiss, onNodesChange };
}
