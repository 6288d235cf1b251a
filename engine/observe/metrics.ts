import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Outcome } from '../gateway/gateway.ts';

/** Request duration buckets (seconds): a gateway answers in well under a millisecond to seconds. */
export const REQUEST_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Node duration buckets (seconds): most nodes take microseconds, a proxy node as long as its upstream. */
export const NODE_BUCKETS: readonly number[] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const OUTCOMES: readonly Outcome[] = ['ok', 'invalid_credentials', 'denied', 'limited', 'rejected', 'upstream_error', 'error'];
const OUTCOME_INDEX = new Map(OUTCOMES.map((o, i) => [o, i]));

/** The partner label of a request with no identified partner. */
export const NO_PARTNER = 'none';
/** The partner label of every partner beyond the bound. */
export const OTHER_PARTNER = 'other';
/** The port counted when a node fails (its runtime threw): the machine's onError. */
export const FAULT_PORT = '$fault';

/** A fixed-bucket histogram, observed on the request path without allocating. */
export class Histogram {
  readonly bounds: readonly number[];
  /** Per bucket, not cumulative; the last is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Adds another histogram's observations (same bounds) to this one. */
  add(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sum += other.sum;
    this.count += other.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** The q-quantile, interpolated within its bucket (as Prometheus' histogram_quantile does). */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!;
      if (seen + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : this.bounds[i - 1]!;
        const upper = i < this.bounds.length ? this.bounds[i]! : lower;
        return lower + (upper - lower) * ((rank - seen) / inBucket);
      }
      seen += inBucket;
    }
    return this.bounds[this.bounds.length - 1];
  }
}

/**
 * Bounds the partner label: partners named by credentials (api-key nodes, SLUICE_METRICS_PARTNERS)
 * always get their own; the first `limit` others seen get theirs too, every later one is `other`.
 * So 10,000 distinct partner ids make at most known + limit + 2 label values.
 */
export class PartnerLabels {
  readonly known = new Set<string>();
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number, known: Iterable<string> = []) {
    this.#limit = limit;
    for (const partner of known) this.known.add(partner);
  }

  label(partner: string | undefined): string {
    if (partner === undefined) return NO_PARTNER;
    if (this.known.has(partner) || this.#seen.has(partner)) return partner;
    if (this.#seen.size < this.#limit && partner !== NO_PARTNER && partner !== OTHER_PARTNER) {
      this.#seen.add(partner);
      return partner;
    }
    return OTHER_PARTNER;
  }

  get size(): number {
    return this.known.size + this.#seen.size;
  }
}

/** How often each port of a node was taken, by partner label. */
export type PortCounts = Record<string, number>;

/** One node of a workflow: its duration (since start and recently) and the ports it exited by. */
export class NodeMetrics {
  readonly id: string;
  readonly kind: string;
  readonly duration = new Histogram(NODE_BUCKETS);
  /** Durations of the current and the previous window, for the live view's p50/p99. */
  recent = new Histogram(NODE_BUCKETS);
  previous = new Histogram(NODE_BUCKETS);
  /** Port counts by partner label (the label is looked up once per raw partner id). */
  readonly byPartner = new Map<string, PortCounts>();
  readonly #partners: PartnerLabels;
  readonly #anonymous: PortCounts = Object.create(null) as PortCounts;

  constructor(id: string, kind: string, partners: PartnerLabels) {
    this.id = id;
    this.kind = kind;
    this.#partners = partners;
    this.byPartner.set(NO_PARTNER, this.#anonymous);
  }

  /** Records one run of the node: how long it took and the port it left by. */
  ran(seconds: number, port: string, partner: string | undefined): void {
    this.duration.observe(seconds);
    this.recent.observe(seconds);
    const counts = partner === undefined ? this.#anonymous : (this.byPartner.get(partner) ?? this.#countsOf(partner));
    counts[port] = (counts[port] ?? 0) + 1;
  }

  #countsOf(partner: string): PortCounts {
    const label = this.#partners.label(partner);
    let counts = this.byPartner.get(label);
    if (counts === undefined) {
      counts = Object.create(null) as PortCounts;
      this.byPartner.set(label, counts);
    }
    return counts;
  }

  /** Port counts summed over partners, or of one partner label. */
  ports(partner?: string): PortCounts {
    const total: PortCounts = Object.create(null) as PortCounts;
    for (const [label, counts] of this.byPartner) {
      if (partner !== undefined && label !== partner) continue;
      for (const port in counts) total[port] = (total[port] ?? 0) + counts[port]!;
    }
    return total;
  }

  rotate(): void {
    const emptied = this.previous;
    emptied.reset();
    this.previous = this.recent;
    this.recent = emptied;
  }
}

/** Requests of one workflow version by partner label, outcome and status class. */
export interface RequestSeries {
  version: number;
  partner: string;
  outcome: string;
  statusClass: string;
  duration: Histogram;
}

/** Width of one slot of the windowed counts. */
export const SLOT_MS = 10_000;
/** Slots kept: the longest stats window is one hour. */
const SLOTS = 360;
export const MAX_WINDOW_MS = SLOT_MS * SLOTS;

interface Slot {
  /** The slot's number (time / SLOT_MS); a slot with another number is stale. */
  at: number;
  /** Outcome counts by partner label. */
  byPartner: Map<string, Float64Array>;
}

/**
 * Outcome and partner counts of recent time windows (10 s slots over the last hour). A slot is
 * made when a request first lands in it: an idle workflow holds none (a thousand loaded
 * workflows would otherwise hold 360 maps each).
 */
export class WindowedCounts {
  readonly #slots: Array<Slot | undefined> = new Array<Slot | undefined>(SLOTS).fill(undefined);

  add(now: number, partner: string, outcome: number): void {
    const at = Math.floor(now / SLOT_MS);
    let slot = this.#slots[at % SLOTS];
    if (slot === undefined) {
      slot = { at, byPartner: new Map() };
      this.#slots[at % SLOTS] = slot;
    } else if (slot.at !== at) {
      slot.at = at;
      slot.byPartner.clear();
    }
    let counts = slot.byPartner.get(partner);
    if (counts === undefined) {
      counts = new Float64Array(OUTCOMES.length);
      slot.byPartner.set(partner, counts);
    }
    counts[outcome]!++;
  }

  /** Outcome counts by partner label over the last `windowMs` (whole slots). */
  sum(now: number, windowMs: number): Map<string, Float64Array> {
    const last = Math.floor(now / SLOT_MS);
    const first = last - Math.max(1, Math.ceil(windowMs / SLOT_MS)) + 1;
    const total = new Map<string, Float64Array>();
    for (const slot of this.#slots) {
      if (slot === undefined || slot.at < first || slot.at > last) continue;
      for (const [partner, counts] of slot.byPartner) {
        let into = total.get(partner);
        if (into === undefined) total.set(partner, (into = new Float64Array(OUTCOMES.length)));
        for (let i = 0; i < counts.length; i++) into[i]! += counts[i]!;
      }
    }
    return total;
  }
}

/** Everything counted for one workflow id, kept across its versions so no counter restarts on publish. */
export class WorkflowMetrics {
  readonly id: string;
  readonly nodes = new Map<string, NodeMetrics>();
  /** `${version}\0${partner}\0${outcome}\0${statusClass}` -> series; bounded by versions x labels. */
  readonly requests = new Map<string, RequestSeries>();
  readonly upstream = new Histogram(REQUEST_BUCKETS);
  readonly windows = new WindowedCounts();
  /** Raw partner id -> label, per version and outcome: see VersionMetrics. */
  readonly #partners: PartnerLabels;
  #rotateAt = 0;

  constructor(id: string, partners: PartnerLabels) {
    this.id = id;
    this.#partners = partners;
  }

  node(id: string, kind: string): NodeMetrics {
    let node = this.nodes.get(id);
    if (node === undefined || node.kind !== kind) {
      node = new NodeMetrics(id, kind, this.#partners);
      this.nodes.set(id, node);
    }
    return node;
  }

  version(version: number): VersionMetrics {
    return new VersionMetrics(this, version, this.#partners);
  }

  /** Moves the nodes' recent durations along every SLOT_MS (checked once per request, not per node). */
  tick(now: number): void {
    if (now < this.#rotateAt) return;
    this.#rotateAt = now + SLOT_MS;
    for (const node of this.nodes.values()) node.rotate();
  }
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * The request counters of one served version: the series of a (partner, outcome, status class)
 * is found by two map lookups keyed by the raw partner id, so the request path builds no label
 * strings; a partner beyond the bound shares the `other` series.
 */
export class VersionMetrics {
  readonly workflow: WorkflowMetrics;
  readonly version: number;
  readonly #partners: PartnerLabels;
  /** raw partner (or '' for none) -> label and its series by outcome x status class */
  readonly #byPartner = new Map<string, { label: string; series: Array<RequestSeries | undefined> }>();

  constructor(workflow: WorkflowMetrics, version: number, partners: PartnerLabels) {
    this.workflow = workflow;
    this.version = version;
    this.#partners = partners;
  }

  request(partner: string | undefined, outcome: string, status: number, seconds: number, upstreamSeconds: number | undefined, now: number): void {
    const key = partner ?? '';
    let entry = this.#byPartner.get(key);
    if (entry === undefined) {
      const label = this.#partners.label(partner);
      // an unbounded id is not kept as a key: every one beyond the bound shares `other`'s entry
      entry = this.#byPartner.get(label === OTHER_PARTNER ? `\0${OTHER_PARTNER}` : key);
      if (entry === undefined) {
        entry = { label, series: [] };
        this.#byPartner.set(label === OTHER_PARTNER ? `\0${OTHER_PARTNER}` : key, entry);
      }
    }
    const outcomeIndex = OUTCOME_INDEX.get(outcome as Outcome) ?? OUTCOMES.length - 1;
    const classIndex = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    const slot = outcomeIndex * 5 + classIndex;
    let series = entry.series[slot];
    if (series === undefined) {
      // a version served again (a rollback) continues its counters
      const statusClass = STATUS_CLASSES[classIndex]!;
      const key = `${this.version}\0${entry.label}\0${outcome}\0${statusClass}`;
      series = this.workflow.requests.get(key);
      if (series === undefined) {
        series = { version: this.version, partner: entry.label, outcome, statusClass, duration: new Histogram(REQUEST_BUCKETS) };
        this.workflow.requests.set(key, series);
      }
      entry.series[slot] = series;
    }
    series.duration.observe(seconds);
    if (upstreamSeconds !== undefined) this.workflow.upstream.observe(upstreamSeconds);
    const workflow = this.workflow;
    workflow.windows.add(now, entry.label, outcomeIndex);
    workflow.tick(now);
  }
}

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
    cumulative += histogram.counts[i]!;
    samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: histogram.bounds[i]! }, value: cumulative });
  }
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
  samples.push({ metricName: `${name}_sum`, labels, value: histogram.sum });
  samples.push({ metricName: `${name}_count`, labels, value: histogram.count });
  return samples;
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

  constructor(options: MetricsOptions = {}) {
    this.partners = new PartnerLabels(options.partnerLimit ?? 50, options.partners);
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
    register(new Collected('sluice_upstream_duration_seconds', 'Duration of upstream calls (to the upstream answer head) by workflow.', 'histogram', () =>
      [...this.workflows.values()].flatMap((workflow) => histogramSamples('sluice_upstream_duration_seconds', workflow.upstream, { workflow: workflow.id })),
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
