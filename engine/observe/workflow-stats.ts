import type { CompiledWorkflow } from '../compile/types.ts';
import { Histogram, NODE_BUCKETS } from './histogram.ts';
import type { Metrics } from './metrics.ts';
import { OUTCOMES } from './outcome.ts';

type OutcomeCounts = Record<string, number>;

const outcomeCounts = (counts: Float64Array | undefined): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o, i) => [o, counts?.[i] ?? 0]));
const total = (counts: OutcomeCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
const ms = (seconds: number | undefined) => (seconds === undefined ? null : Math.round(seconds * 1e6) / 1e3);

/** Outcome totals and the partner breakdown of one workflow over the last `windowMs`, from this process's counters. */
export function workflowStats(metrics: Metrics, id: string, windowMs: number, now = Date.now()) {
  const byPartner = metrics.workflows.get(id)?.windows.sum(now, windowMs) ?? new Map<string, Float64Array>();
  const all = new Float64Array(OUTCOMES.length);
  for (const counts of byPartner.values()) for (let i = 0; i < counts.length; i++) all[i]! += counts[i]!;
  const outcomes = outcomeCounts(all);
  return {
    workflow: id,
    windowSeconds: windowMs / 1000,
    to: new Date(now).toISOString(),
    requests: total(outcomes),
    outcomes,
    partners: [...byPartner]
      .map(([partner, counts]) => {
        const o = outcomeCounts(counts);
        return { partner, requests: total(o), limited: o.limited ?? 0, outcomes: o };
      })
      .sort((a, b) => b.requests - a.requests || a.partner.localeCompare(b.partner)),
  };
}

/**
 * What the editor's live mode draws over a served version: per edge, how often it was taken
 * (optionally by one partner label); per node, runs and recent p50/p99; the workflow's outcome
 * totals over the last minute. Counts are cumulative: the editor turns two reads into rates.
 */
export function liveView(metrics: Metrics, workflow: CompiledWorkflow, partner: string | undefined, now = Date.now()) {
  const counted = metrics.workflows.get(workflow.id);
  const document = workflow.graph.document;
  const nodes = document.nodes.map((node) => {
    const m = counted?.nodes.get(node.id);
    const ports = m?.ports(partner) ?? {};
    const recent = new Histogram(NODE_BUCKETS);
    if (m && m.kind === node.kind) {
      if (m.recent) recent.add(m.recent);
      if (m.previous) recent.add(m.previous);
    }
    return { id: node.id, kind: node.kind, runs: total(ports), ports, p50Ms: ms(recent.quantile(0.5)), p99Ms: ms(recent.quantile(0.99)) };
  });
  const portsOf = new Map(nodes.map((n) => [n.id, n.ports]));
  const edges = document.edges.map((edge) => ({ from: edge.from, port: edge.port, to: edge.to, count: portsOf.get(edge.from)?.[edge.port] ?? 0 }));
  const minute = workflowStats(metrics, workflow.id, 60_000, now);
  const outcomes = partner === undefined ? minute.outcomes : (minute.partners.find((p) => p.partner === partner)?.outcomes ?? outcomeCounts(undefined));
  return {
    workflow: workflow.id,
    version: workflow.version,
    at: now,
    partner: partner ?? null,
    partners: minute.partners.map((p) => p.partner),
    nodes,
    edges,
    lastMinute: { requests: total(outcomes), outcomes },
    ...(counted !== undefined && counted.tokens.input + counted.tokens.output > 0 ? { tokens: { ...counted.tokens } } : {}),
  };
}

/**
 * One partner's requests over the last `windowMs`, by workflow: outcomes and limit hits (the
 * `limited` outcome), from this process's counters. Registered partners have their own label.
 */
export function partnerStats(metrics: Metrics, partner: string, windowMs: number, now = Date.now()) {
  const all = new Float64Array(OUTCOMES.length);
  const workflows = [];
  for (const [id, counted] of metrics.workflows) {
    const counts = counted.windows.sum(now, windowMs).get(partner);
    if (counts === undefined) continue;
    for (let i = 0; i < counts.length; i++) all[i]! += counts[i]!;
    const o = outcomeCounts(counts);
    workflows.push({ workflow: id, requests: total(o), limited: o.limited ?? 0, outcomes: o });
  }
  const outcomes = outcomeCounts(all);
  return {
    partner,
    windowSeconds: windowMs / 1000,
    to: new Date(now).toISOString(),
    requests: total(outcomes),
    limited: outcomes.limited ?? 0,
    outcomes,
    workflows: workflows.sort((a, b) => b.requests - a.requests || a.workflow.localeCompare(b.workflow)),
  };
}
