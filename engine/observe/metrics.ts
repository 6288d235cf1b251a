import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Histogram } from './histogram.ts';
import { LlmTokens } from './llm-tokens.ts';
import { PartnerLabels } from './partner-labels.ts';
import { WorkflowMetrics, type NodeMetrics, type RequestSeries } from './workflow-metrics.ts';

type Labels = Record<string, string | number>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/** A metric whose samples are read from the engine's own counters when scraped. */
class Collected {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly #samples: () => Sample[];

  constructor(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: () => Sample[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#samples = samples;
  }

  get() {
    return { name: this.name, help: this.help, type: this.type, values: this.#samples(), aggregator: 'sum' as const };
  }
}

function histogramSamples(name: string, histogram: Histogram, labels: Labels): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < histogram.bounds.length; i++) {
    cumulative += histogram.bucket(i);
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: histogram.bounds[i]! }, value: cumulative });
  }
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  samples.push({ metricName: `${name}_sum`, labels, value: histogram.sum });
  samples.push({ metricName: `${name}_count`, labels, value: histogram.count });
  return samples;
}

/** The counts by result a node of `kind` keeps itself, labelled workflow, node and result. */
function resultSamples(workflow: WorkflowMetrics, node: NodeMetrics, kind: string): Sample[] {
  const results = node.results;
  if (node.kind !== kind || results === undefined) return [];
  return Object.keys(results).map((result) => ({ labels: { workflow: workflow.id, node: node.id, result }, value: results[result]! }));
}

/** Proxy ports that mean the upstream failed, as the `cause` label of sluice_upstream_errors_total. */
const UPSTREAM_CAUSES: Record<string, string> = { error: 'unreachable', timeout: 'timeout' };

export interface MetricsOptions {
  /** Partners always given their own label. */
  partners?: Iterable<string>;
  /** How many further partner ids get their own label before the rest are `other`. */
  partnerLimit?: number;
  /** Process metrics (CPU, memory, event loop lag) from prom-client's defaults, prefixed sluice_. */
  processMetrics?: boolean;
}

/**
 * The engine's metrics: counters the request path updates directly (no label hashing per
 * request), exposed through a prom-client registry that reads them when scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly partners: PartnerLabels;
  readonly workflows = new Map<string, WorkflowMetrics>();
  readonly reloads: Counter<'result'>;
  readonly revision: Gauge;
  /** Requests no workflow served (unknown route, method not allowed, malformed path), by status. */
  readonly unrouted = new Map<number, number>();
  /** Tokens of LLM calls (llm proxies) by partner, product and model. */
  readonly llmTokens: LlmTokens;

  constructor(options: MetricsOptions = {}) {
    this.partners = new PartnerLabels(options.partnerLimit ?? 50, options.partners);
    this.llmTokens = new LlmTokens(this.partners);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    const register = (metric: Collected) => this.registry.registerMetric(metric as never);

    register(new Collected('sluice_requests_total', 'Gateway requests by workflow, version, partner, outcome and status class.', 'counter', () =>
      this.#eachSeries((workflow, s) => [{ labels: { workflow: workflow.id, version: s.version, partner: s.partner, outcome: s.outcome, status_class: s.statusClass }, value: s.duration.count }]),
    ));
    register(new Collected('sluice_request_duration_seconds', 'Gateway request duration (from the request head to the answer handed to the socket).', 'histogram', () =>
      this.#eachSeries((workflow, s) => histogramSamples('sluice_request_duration_seconds', s.duration, { workflow: workflow.id, version: s.version, partner: s.partner, outcome: s.outcome, status_class: s.statusClass })),
    ));
    register(new Collected('sluice_node_duration_seconds', 'Time spent in each node of a workflow.', 'histogram', () =>
      this.#eachNode((workflow, node) => histogramSamples('sluice_node_duration_seconds', node.duration, { workflow: workflow.id, node: node.id, kind: node.kind })),
    ));
    register(new Collected('sluice_edge_transitions_total', 'Times each node left by each port (the edges of the canvas).', 'counter', () =>
      this.#eachNode((workflow, node) => Object.entries(node.ports()).map(([port, value]) => ({ labels: { workflow: workflow.id, node: node.id, port }, value }))),
    ));
    register(new Collected('sluice_rate_limit_decisions_total', 'Rate-limit decisions by workflow and node: allowed or limited.', 'counter', () =>
      this.#eachNode((workflow, node) => {
        if (node.kind !== 'rate-limit') return [];
        const ports = node.ports();
        return [
          { labels: { workflow: workflow.id, node: node.id, decision: 'allowed' }, value: ports.ok ?? 0 },
          { labels: { workflow: workflow.id, node: node.id, decision: 'limited' }, value: ports.limited ?? 0 },
        ];
      }),
    ));
    register(new Collected('sluice_upstream_errors_total', 'Upstream calls that failed, by workflow, proxy node and cause (unreachable, timeout).', 'counter', () =>
      this.#eachNode((workflow, node) => {
        if (node.kind !== 'proxy') return [];
        const ports = node.ports();
        return Object.entries(UPSTREAM_CAUSES).map(([port, cause]) => ({ labels: { workflow: workflow.id, node: node.id, cause }, value: ports[port] ?? 0 }));
      }),
    ));
    register(new Collected('sluice_cache_lookups_total', 'Cache lookups by workflow, cache-lookup node and result: hit (a fresh answer), stale (a stale answer, while another request refreshes it), miss (the request goes on to the upstream).', 'counter', () =>
      this.#eachNode((workflow, node) => resultSamples(workflow, node, 'cache-lookup')),
    ));
    register(new Collected('sluice_cache_stores_total', 'Answers reaching a cache-store node, by workflow, node and result: stored; uncacheable (status, Set-Cookie, Cache-Control, Vary: * or a streamed body); too_large (over maxBytes); no_key (the request was not cacheable: its lookup made no key); failed (the shared store could not be reached).', 'counter', () =>
      this.#eachNode((workflow, node) => resultSamples(workflow, node, 'cache-store')),
    ));
    register(new Collected('sluice_token_budget_charges_total', 'Costs charged by rate-limit nodes with a cost (token budgets) once a request is done, by workflow, node and result: charged; nothing (the cost was not a positive number: no LLM call was made); failed (the cost expression failed, or the shared counters could not be reached and onStoreDown is not local).', 'counter', () =>
      this.#eachNode((workflow, node) => resultSamples(workflow, node, 'rate-limit')),
    ));
    register(new Collected('sluice_upstream_duration_seconds', 'Duration of upstream calls (to the upstream answer head) by workflow.', 'histogram', () =>
      [...this.workflows.values()].flatMap((workflow) => histogramSamples('sluice_upstream_duration_seconds', workflow.upstream, { workflow: workflow.id })),
    ));
    register(new Collected('sluice_llm_tokens_total', 'Tokens of LLM calls (proxy nodes with llm) by partner, API product, model (the first 50 named, the rest "other") and direction (input: the prompt, output: the answer); read from the upstream\'s usage, or estimated by the tokenizer.', 'counter', () =>
      [...this.llmTokens.series.values()].flatMap((s) => [
        { labels: { partner: s.partner, product: s.product, model: s.model, direction: 'input' }, value: s.input },
        { labels: { partner: s.partner, product: s.product, model: s.model, direction: 'output' }, value: s.output },
      ]),
    ));
    register(new Collected('sluice_partner_labels', 'Partner label values in use (bounded: known partners, then the first SLUICE_METRICS_PARTNER_LIMIT seen, the rest as "other").', 'gauge', () => [{ labels: {}, value: this.partners.size }]));
    register(new Collected('sluice_unrouted_requests_total', 'Requests no workflow served (unknown route, method not allowed, malformed path), by status.', 'counter', () =>
      [...this.unrouted].map(([status, value]) => ({ labels: { status }, value })),
    ));
    this.reloads = new Counter({ name: 'sluice_reloads_total', help: 'Syncs of the served workflows with the store, by result (applied, failed).', labelNames: ['result'], registers: [this.registry] });
    this.revision = new Gauge({ name: 'sluice_store_revision', help: 'The store revision this process serves.', registers: [this.registry] });
  }

  workflow(id: string): WorkflowMetrics {
    let workflow = this.workflows.get(id);
    if (workflow === undefined) {
      workflow = new WorkflowMetrics(id, this.partners);
      this.workflows.set(id, workflow);
    }
    return workflow;
  }

  /** Adds a gauge read when scraped, for parts of the engine that own a value (Redis health, say). */
  gauge(name: string, help: string, read: () => Array<{ labels: Labels; value: number }>): void {
    this.#collect(name, help, 'gauge', read);
  }

  /** Adds a counter read when scraped. */
  counter(name: string, help: string, read: () => Array<{ labels: Labels; value: number }>): void {
    this.#collect(name, help, 'counter', read);
  }

  /** Registers a metric read when scraped, once per name. */
  #collect(name: string, help: string, type: 'gauge' | 'counter', read: () => Sample[]): void {
    if (this.registry.getSingleMetric(name) === undefined) this.registry.registerMetric(new Collected(name, help, type, read) as never);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  #eachSeries(samples: (workflow: WorkflowMetrics, series: RequestSeries) => Sample[]): Sample[] {
    const all: Sample[] = [];
    for (const workflow of this.workflows.values()) for (const series of workflow.requests.values()) all.push(...samples(workflow, series));
    return all;
  }

  #eachNode(samples: (workflow: WorkflowMetrics, node: NodeMetrics) => Sample[]): Sample[] {
    const all: Sample[] = [];
    for (const workflow of this.workflows.values()) for (const node of workflow.nodes.values()) all.push(...samples(workflow, node));
    return all;
  }
}
