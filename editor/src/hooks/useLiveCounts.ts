import { useEffect, useState } from 'react';
import type { Api } from '../api/client.ts';
import type { LiveView } from '../api/types.ts';

/** How often live mode reads the gateway's counters. */
const LIVE_REFRESH_MS = 2_000;

/** Live counts of one node as the canvas draws them. */
export interface LiveNode {
  runs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Times each port was taken, and per second since the previous read (undefined on the first). */
  ports: Record<string, { count: number; perSecond: number | undefined }>;
}

/** What live mode draws over the canvas: per node and port, and the workflow's last minute. */
export interface LiveCounts {
  version: number;
  at: number;
  partner: string | null;
  partners: string[];
  nodes: Map<string, LiveNode>;
  lastMinute: LiveView['lastMinute'];
  /** LLM tokens since the gateway started, when the workflow made LLM calls. */
  tokens: LiveView['tokens'];
}

function countsOf(view: LiveView, previous: LiveView | undefined): LiveCounts {
  const seconds = previous ? (view.at - previous.at) / 1000 : 0;
  const before = new Map(previous?.partner === view.partner ? previous.nodes.map((n) => [n.id, n.ports]) : []);
  const nodes = new Map<string, LiveNode>();
  for (const node of view.nodes) {
    const ports: LiveNode['ports'] = {};
    for (const [port, count] of Object.entries(node.ports)) {
      const was = before.get(node.id)?.[port];
      ports[port] = { count, perSecond: seconds > 0 && was !== undefined ? Math.max(0, count - was) / seconds : seconds > 0 ? count / seconds : undefined };
    }
    nodes.set(node.id, { runs: node.runs, p50Ms: node.p50Ms, p99Ms: node.p99Ms, ports });
  }
  return { version: view.version, at: view.at, partner: view.partner, partners: view.partners, nodes, lastMinute: view.lastMinute, tokens: view.tokens };
}

/**
 * Reads GET /workflows/:id/live every LIVE_REFRESH_MS while `on`, turning two reads into
 * rates. Undefined while off or before the first read; the error of the last read, if it failed.
 */
export function useLiveCounts(api: Api, id: string, on: boolean, partner: string | undefined): { counts: LiveCounts | undefined; error: string | undefined } {
  const [counts, setCounts] = useState<LiveCounts | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setCounts(undefined);
    setError(undefined);
    if (!on) return;
    let stopped = false;
    let previous: LiveView | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const view = await api.live(id, partner);
        if (stopped) return;
        setCounts(countsOf(view, previous));
        setError(undefined);
        previous = view;
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
      if (!stopped) timer = setTimeout(() => void read(), LIVE_REFRESH_MS);
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, id, on, partner]);
  return { counts, error };
}
