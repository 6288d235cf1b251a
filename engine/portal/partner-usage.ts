import type { EvidenceStore } from '../evidence/types.ts';
import type { Metrics } from '../observe/metrics.ts';
import { MAX_WINDOW_MS } from '../observe/windowed-counts.ts';
import { partnerStats } from '../observe/workflow-stats.ts';

/** A partner's requests over one window, by workflow: all of them, and those refused by a limit. */
export interface WindowUsage {
  source: 'metrics' | 'evidence' | 'none';
  byWorkflow: Map<string, { requests: number; limited: number }>;
}

/**
 * Where a partner's usage is counted from: evidence when it is shared by every replica
 * (ClickHouse) or the window is longer than the counters keep (an hour); else this process's
 * request counters (exact up to now, one process); nothing when both are off.
 */
export function createPartnerUsage(options: { metrics: Metrics | undefined; evidence: EvidenceStore | undefined }) {
  const { metrics, evidence } = options;
  return async function usageOf(partner: string, windowMs: number, now = Date.now()): Promise<WindowUsage> {
    const byWorkflow = new Map<string, { requests: number; limited: number }>();
    const fromEvidence = evidence !== undefined && (evidence.name === 'clickhouse' || metrics === undefined || windowMs > MAX_WINDOW_MS);
    if (fromEvidence) {
      const groups = await evidence.aggregate({ from: now - windowMs, to: now + 1, partner, by: ['workflow', 'outcome'] });
      for (const group of groups) {
        const workflow = group.keys.workflow;
        if (workflow === undefined || workflow === null) continue;
        const counted = byWorkflow.get(workflow) ?? { requests: 0, limited: 0 };
        counted.requests += group.count;
        if (group.keys.outcome === 'limited') counted.limited += group.count;
        byWorkflow.set(workflow, counted);
      }
      return { source: 'evidence', byWorkflow };
    }
    if (metrics === undefined) return { source: 'none', byWorkflow };
    const stats = partnerStats(metrics, partner, Math.min(windowMs, MAX_WINDOW_MS), now);
    for (const w of stats.workflows) byWorkflow.set(w.workflow, { requests: w.requests, limited: w.limited });
    return { source: 'metrics', byWorkflow };
  };
}

export type PartnerUsage = ReturnType<typeof createPartnerUsage>;
