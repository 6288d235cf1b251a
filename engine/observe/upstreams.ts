import type { UpstreamNodeStatus } from '../../shared/admin/index.ts';
import type { CompiledWorkflow } from '../compile/types.ts';
import { BREAKER_GAUGE } from '../kinds/support/upstream-targets.ts';
import type { Metrics } from './metrics.ts';

/** The resilient proxy nodes of the served versions: each target's breaker and health, the node's retries (GET /admin/api/status). */
export function upstreamsOf(workflows: Iterable<CompiledWorkflow>): UpstreamNodeStatus[] {
  const nodes: UpstreamNodeStatus[] = [];
  for (const workflow of workflows)
    for (const [node, prepared] of workflow.prepared) {
      const state = prepared.upstreams?.();
      if (state) nodes.push({ workflow: workflow.id, version: workflow.version, node, retries: state.retries, retriesRefused: state.retriesRefused, targets: state.targets });
    }
  return nodes;
}

/** The breaker state of every target (0 closed, 1 half-open, 2 open) and the retries of every resilient proxy node, read when scraped. */
export function observeUpstreams(metrics: Metrics, workflows: () => Iterable<CompiledWorkflow>): void {
  metrics.gauge('sluice_upstream_breaker_state', 'Circuit breaker state of each proxy target: 0 closed, 1 half-open (probing), 2 open (the target is ejected).', () =>
    upstreamsOf(workflows()).flatMap((n) => n.targets.map((t) => ({ labels: { workflow: n.workflow, node: n.node, target: t.target }, value: BREAKER_GAUGE[t.state] }))),
  );
  metrics.counter('sluice_upstream_retries_total', 'Upstream calls retried by proxy nodes (result="retried"), and retries the retry budget refused (result="refused").', () =>
    upstreamsOf(workflows()).flatMap((n) => [
      { labels: { workflow: n.workflow, node: n.node, result: 'retried' }, value: n.retries },
      { labels: { workflow: n.workflow, node: n.node, result: 'refused' }, value: n.retriesRefused },
    ]),
  );
}
