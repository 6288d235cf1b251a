import { Histogram, NODE_BUCKETS, REQUEST_BUCKETS } from './histogram.ts';
import { OUTCOMES, type Outcome } from './outcome.ts';
import { NO_PARTNER, OTHER_PARTNER, type PartnerLabels } from './partner-labels.ts';
import { SLOT_MS, WindowedCounts } from './windowed-counts.ts';

const OUTCOME_INDEX = new Map(OUTCOMES.map((o, i) => [o, i]));

/** How often each port of a node was taken, by partner label. */
export type PortCounts = Record<string, number>;

/**
 * One node of a workflow: its duration (since start and recently) and the ports it exited by.
 * What only a run fills (the recent windows, the port counts) is made at the node's first run:
 * a gateway of 10,000 idle workflows held 40,000 of each.
 */
export class NodeMetrics {
  readonly id: string;
  readonly kind: string;
  readonly duration = new Histogram(NODE_BUCKETS);
  /** Durations of the current and the previous window, for the live view's p50/p99 (undefined until a run lands in one). */
  recent: Histogram | undefined = undefined;
  previous: Histogram | undefined = undefined;
  /** Counts by result the node's runtime keeps itself (cache lookups and stores: PrepareContext.counts), when it keeps any. */
  results: Record<string, number> | undefined = undefined;
  readonly #partners: PartnerLabels;
  /** Port counts of runs without a partner (or labelled as none), and by every other partner label (the label is looked up once per raw partner id). */
  #anonymous: PortCounts | undefined = undefined;
  #byPartner: Map<string, PortCounts> | undefined = undefined;

  constructor(id: string, kind: string, partners: PartnerLabels) {
    this.id = id;
    this.kind = kind;
    this.#partners = partners;
  }

  /** Records one run of the node: how long it took and the port it left by. */
  ran(seconds: number, port: string, partner: string | undefined): void {
    this.duration.observe(seconds);
    (this.recent ??= new Histogram(NODE_BUCKETS)).observe(seconds);
    const counts = partner === undefined ? (this.#anonymous ??= Object.create(null) as PortCounts) : (this.#byPartner?.get(partner) ?? this.#countsOf(partner));
    counts[port] = (counts[port] ?? 0) + 1;
  }

  #countsOf(partner: string): PortCounts {
    const label = this.#partners.label(partner);
    if (label === NO_PARTNER) return (this.#anonymous ??= Object.create(null) as PortCounts);
    const byPartner = (this.#byPartner ??= new Map());
    let counts = byPartner.get(label);
    if (counts === undefined) {
      counts = Object.create(null) as PortCounts;
      byPartner.set(label, counts);
    }
    return counts;
  }

  /** Port counts summed over partners, or of one partner label. */
  ports(partner?: string): PortCounts {
    const total: PortCounts = Object.create(null) as PortCounts;
    const add = (counts: PortCounts | undefined) => {
      for (const port in counts) total[port] = (total[port] ?? 0) + counts[port]!;
    };
    if (partner === undefined || partner === NO_PARTNER) add(this.#anonymous);
    if (this.#byPartner !== undefined)
      for (const [label, counts] of this.#byPartner) if (partner === undefined || label === partner) add(counts);
    return total;
  }

  /** Partner labels with port counts of their own (runs without a partner not included): bounded by the partner labels. */
  get partnerLabels(): number {
    return this.#byPartner?.size ?? 0;
  }

  rotate(): void {
    const emptied = this.previous;
    emptied?.reset();
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

/** Everything counted for one workflow id, kept across its versions so no counter restarts on publish. */
export class WorkflowMetrics {
  readonly id: string;
  readonly nodes = new Map<string, NodeMetrics>();
  /** `${version}\0${partner}\0${outcome}\0${statusClass}` -> series; bounded by versions x labels. */
  readonly requests = new Map<string, RequestSeries>();
  readonly upstream = new Histogram(REQUEST_BUCKETS);
  readonly windows = new WindowedCounts();
  /** Tokens of the workflow's LLM calls since the process started (`estimated`: of those, the ones counted by the tokenizer). */
  readonly tokens = { input: 0, output: 0, estimated: 0 };
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

