/**
 * The Traffic page's state as its URL carries it (`#/traffic?partner=globex&range=24h`), the time
 * window and histogram buckets it stands for, and a record's node path as the canvas lights it.
 */
import type { PathHighlight } from '../editor-context.ts';
import { ownerTrace } from '../graph/subflow.ts';

/** The filters the page sends as they are (the API checks them). */
const TEXT_FILTERS = ['partner', 'product', 'workflow', 'version', 'outcome', 'status', 'problem'] as const;
export type TextFilter = (typeof TEXT_FILTERS)[number];

/** The time presets, most recent first; `custom` is a from/to pair. */
export const RANGES = [
  { id: '15m', label: 'Last 15 min', ms: 15 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 h', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
] as const;
export type RangeId = (typeof RANGES)[number]['id'] | 'custom';

/** What the page shows, as its hash query says. */
export interface TrafficQuery {
  range: RangeId;
  /** A custom window's ends (ms since the epoch); only with `range: 'custom'`. */
  from?: number | undefined;
  to?: number | undefined;
  filters: Partial<Record<TextFilter, string>>;
  /** The trace whose record is open, if any. */
  open?: string | undefined;
}

const DEFAULT_RANGE: RangeId = '1h';

/** A time in a query: ms since the epoch or an ISO date-time. */
function instant(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The page's state from the hash's query (after `?`). Unknown keys are ignored; a from/to pair makes the range custom. */
export function parseTrafficQuery(query: string): TrafficQuery {
  const params = new URLSearchParams(query);
  const filters: TrafficQuery['filters'] = {};
  for (const name of TEXT_FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  const from = instant(params.get('from'));
  const to = instant(params.get('to'));
  const preset = RANGES.find((r) => r.id === params.get('range'))?.id;
  const open = params.get('open') ?? undefined;
  const range: RangeId = from !== undefined && preset === undefined ? 'custom' : (preset ?? DEFAULT_RANGE);
  return { range, ...(range === 'custom' ? { from, to } : {}), filters, ...(open && /^[0-9a-f]{32}$/.test(open) ? { open } : {}) };
}

/** The hash of a Traffic page state: a link that carries its filters. */
export function trafficHref(query: Partial<TrafficQuery> = {}): string {
  const params = new URLSearchParams();
  if (query.range === 'custom') {
    if (query.from !== undefined) params.set('from', new Date(query.from).toISOString());
    if (query.to !== undefined) params.set('to', new Date(query.to).toISOString());
  } else if (query.range !== undefined && query.range !== DEFAULT_RANGE) params.set('range', query.range);
  for (const name of TEXT_FILTERS) {
    const value = query.filters?.[name];
    if (value) params.set(name, value);
  }
  if (query.open) params.set('open', query.open);
  const text = params.toString();
  return text === '' ? '#/traffic' : `#/traffic?${text}`;
}

/** The window a query stands for: a preset ends now; a custom window without an end ends now too. */
export function windowOf(query: TrafficQuery, now: number): { from: number; to: number } {
  if (query.range === 'custom') {
    const to = query.to ?? now;
    return { from: query.from ?? to - 3_600_000, to };
  }
  const span = RANGES.find((r) => r.id === query.range)?.ms ?? 3_600_000;
  return { from: now - span, to: now };
}

/** Bucket widths the histogram may use, as the API takes them, narrowest first. */
const BUCKETS = ['1s', '5s', '10s', '30s', '1m', '5m', '10m', '15m', '30m', '1h', '2h', '3h', '6h', '12h', '1d', '7d', '30d'] as const;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const bucketMs = (bucket: string) => Number(bucket.slice(0, -1)) * UNIT_MS[bucket.slice(-1)]!;
/** Most bars the histogram draws. */
const MAX_BARS = 120;

/** The narrowest bucket that draws the window in at most MAX_BARS bars. */
export function bucketFor(from: number, to: number): { bucket: string; ms: number } {
  for (const bucket of BUCKETS) {
    const ms = bucketMs(bucket);
    if (Math.ceil((to - Math.floor(from / ms) * ms) / ms) <= MAX_BARS) return { bucket, ms };
  }
  const last = BUCKETS.at(-1)!;
  return { bucket: last, ms: bucketMs(last) };
}

/** The query string of the API's evidence endpoints for a window and filters. */
export function apiQuery(window: { from: number; to: number }, filters: TrafficQuery['filters'], extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ from: String(window.from), to: String(window.to) });
  for (const name of TEXT_FILTERS) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

/** The outcomes the gateway records, in the order the histogram stacks them (engine/observe/outcome.ts). */
export const OUTCOMES = ['ok', 'invalid_credentials', 'denied', 'limited', 'rejected', 'upstream_error', 'error'] as const;

/** An outcome in words: "invalid credentials". */
export const outcomeWords = (outcome: string) => outcome.replace(/_/g, ' ');

/** A step of a record's path: "verify:ok" is the node verify left by its port ok (a node that did not leave by a port has none). */
export function stepsOf(nodes: readonly string[]): Array<{ node: string; port: string }> {
  return nodes.map((step) => {
    const at = step.indexOf(':');
    return at < 0 ? { node: step, port: '' } : { node: step.slice(0, at), port: step.slice(at + 1) };
  });
}

/** A record's node path as the canvas lights it: the nodes it ran and the edges it took (a fragment's inlined steps on their subflow node). */
export function recordPath(nodes: readonly string[], edges: ReadonlyArray<{ from: string; port: string; to: string }>, label: string): PathHighlight {
  const steps = ownerTrace(stepsOf(nodes).map((s) => ({ ...s, ms: 0 })), edges);
  return {
    label,
    nodes: new Map(steps.map((s) => [s.node, {}])),
    edges: new Set(steps.filter((s) => s.port !== '').map((s) => `${s.node}\u0000${s.port}`)),
  };
}

/** A time as people read it here: date and time to the second, in the browser's zone. */
export const timeText = (ms: number) => new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The value of a datetime-local input for a time (local, to the minute). */
export function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
