import type { ApiKeyConfig } from '../../shared/nodes/api-key.ts';
import type { CompiledWorkflow } from '../compile/types.ts';
import type { RateLimitStore } from '../kinds/support/rate-limit-store.ts';
import type { RedisStore } from '../store/redis-store.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from './metrics.ts';

/** What the engine's parts own and /metrics reads when scraped. */
export interface ObservedParts {
  store: Store;
  rateLimits: RateLimitStore;
  /** Spans sent to the OTLP collector, by result; absent with OTLP export off. */
  spans: { readonly counts: Readonly<Record<string, number>> } | undefined;
  /** Connections closed for not reading their answers, by reason. */
  slowReaders: { readonly closed: Readonly<Record<string, number>> };
  /** Evidence records written and dropped; absent with evidence off. */
  evidence?: { stats(): { written: number; dropped: number } } | undefined;
}

const byLabel = (label: string, counts: Readonly<Record<string, number>>) => Object.entries(counts).map(([value, count]) => ({ labels: { [label]: value }, value: count }));

/** Redis health, the rate-limit decisions made while it was down, the counters held in memory, span export and slow readers, read when scraped. */
export function observeEngine(metrics: Metrics, parts: ObservedParts): void {
  const { store, rateLimits, spans, slowReaders, evidence } = parts;
  if (evidence) {
    const stats = evidence.stats.bind(evidence);
    metrics.counter('sluice_evidence_records_total', 'Evidence records, by result (written; dropped: the queue was full or the store failed).', () => [
      { labels: { result: 'written' }, value: stats().written },
      { labels: { result: 'dropped' }, value: stats().dropped },
    ]);
  }
  if (spans) metrics.counter('sluice_spans_exported_total', 'Spans sent to the OTLP collector, by result (exported, dropped: queue full, failed: collector error).', () => byLabel('result', spans.counts));
  metrics.counter('sluice_slow_readers_closed_total', 'Connections closed for not reading their answers: no byte taken for SLUICE_SEND_TIMEOUT (send_timeout), or unread answers over SLUICE_MAX_BUFFERED_ANSWER (buffer_limit).', () =>
    byLabel('reason', slowReaders.closed),
  );
  if (rateLimits.health) {
    const health = rateLimits.health.bind(rateLimits);
    metrics.gauge('sluice_rate_limit_store_up', 'Whether the shared rate-limit store answers (1), or its circuit breaker is open or probing (0).', () => {
      const h = health();
      return [{ labels: { store: h.store, state: h.state }, value: h.state === 'up' ? 1 : 0 }];
    });
    metrics.counter('sluice_rate_limit_store_down_decisions_total', 'Rate-limit checks decided by the node\'s onStoreDown (allow, deny, local) while the shared store was unreachable.', () =>
      byLabel('choice', health().storeDownDecisions),
    );
  }
  if (rateLimits.occupancy) {
    const occupancy = rateLimits.occupancy.bind(rateLimits);
    metrics.gauge('sluice_rate_limit_keys', 'Rate-limit counters held in process memory (in-memory limits, or the `local` fallback while Redis is down), at most SLUICE_RATE_LIMIT_MAX_KEYS.', () => [{ labels: {}, value: occupancy().keys }]);
    metrics.counter('sluice_rate_limit_evictions_total', 'Rate-limit counters evicted from process memory to stay within SLUICE_RATE_LIMIT_MAX_KEYS (each resets one key\'s count).', () => [{ labels: {}, value: occupancy().evictions }]);
  }
  if (store.kind === 'redis') {
    const client = (store as RedisStore).client;
    metrics.gauge('sluice_redis_connected', 'Whether the store\'s Redis connection is ready (1) or not (0).', () => [{ labels: { connection: 'store' }, value: client.status === 'ready' ? 1 : 0 }]);
  }
}

/**
 * Gives every partner a served workflow's api-key credentials name, and every registered
 * partner, its own metric label whatever the bound. A compiled version is read once.
 */
export function createPartnerLabelling(metrics: Metrics): (workflows: Iterable<CompiledWorkflow>, registered: Iterable<string>) => void {
  const labelled = new WeakSet<CompiledWorkflow>();
  return (workflows, registered) => {
    for (const workflow of workflows) {
      if (labelled.has(workflow)) continue; // a version served before named the same partners
      labelled.add(workflow);
      for (const node of workflow.graph.nodes.values())
        if (node.kind === 'api-key') for (const key of (node.config as ApiKeyConfig).keys) metrics.partners.known.add(key.partner);
    }
    for (const partner of registered) metrics.partners.known.add(partner);
  };
}
