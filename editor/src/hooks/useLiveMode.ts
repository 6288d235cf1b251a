import { applyNodeChanges, type NodeChange } from '@xyflow/react';
import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../api/client.ts';
import type { DraftDocument, FlowModel, FlowNode } from '../graph/convert.ts';
import { laidOut, modelOf } from '../graph/layout.ts';
import { useLiveCounts, type LiveCounts } from './useLiveCounts.ts';

/**
 * The served version's own model, which live counts are drawn on (the draft may differ from it):
 * its graph for the canvas, its settings and node configs for the side panel, read-only.
 */
export interface ServedGraph extends FlowModel {
  version: number;
}

export interface LiveMode {
  on: boolean;
  toggle(): void;
  /** The partner whose traffic is counted; undefined for all. */
  partner: string | undefined;
  setPartner(partner: string | undefined): void;
  counts: LiveCounts | undefined;
  /** The graph of the version the counts are of, once read; the canvas shows it while live. */
  graph: ServedGraph | undefined;
  /** The canvas's changes while live: the sizes React Flow measured (the minimap draws only measured nodes) and the selection (the inspector shows the served node). */
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  error: string | undefined;
}

/**
 * Live mode: the gateway's counts drawn over the canvas while it is on and a version serves.
 * The counts are of the served version, so they are drawn on that version's graph, not the draft's.
 */
export function useLiveMode(api: Api, workflowId: string, served: boolean): LiveMode {
  const [on, setOn] = useState(false);
  const [partner, setPartner] = useState<string | undefined>();
  const { counts, error } = useLiveCounts(api, workflowId, on && served, partner);
  const [graph, setGraph] = useState<ServedGraph | undefined>();
  const [graphError, setGraphError] = useState<string | undefined>();
  const version = counts?.version;
  useEffect(() => {
    if (version === undefined) {
      setGraph(undefined);
      return;
    }
    let stopped = false;
    api.version(workflowId, version).then((detail) => laidOut(detail.document as DraftDocument)).then(
      (document) => {
        if (stopped) return;
        const { meta, nodes, edges } = modelOf(document);
        setGraph({ version, meta, nodes: nodes.map((n) => ({ ...n, selected: false })), edges });
        setGraphError(undefined);
      },
      (e: unknown) => !stopped && setGraphError(`version ${version} cannot be read: ${e instanceof Error ? e.message : String(e)}`),
    );
    return () => {
      stopped = true;
    };
  }, [api, workflowId, version]);
  const toggle = useCallback(() => setOn((was) => !was), []);
  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const kept = changes.filter((c) => c.type === 'dimensions' || c.type === 'select');
    if (kept.length > 0) setGraph((g) => g && { ...g, nodes: applyNodeChanges(kept, g.nodes) });
  }, []);
  const shown = on && served ? graph : undefined;
  return { on, toggle, partner, setPartner, counts, graph: shown, onNodesChange, error: error ?? graphError };
}
