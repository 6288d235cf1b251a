import { OUTCOMES, outcomeWords } from './traffic-model.ts';

/** One group of GET /evidence/aggregate?by=outcome&bucket=…: a bucket's count of one outcome. */
export interface OutcomeGroup {
  bucket: number | null;
  outcome: string;
  count: number;
}

const W = 760;
const H = 180;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;

/** The outcomes present, stacked in the gateway's order (ok at the bottom), others after it. */
export function outcomeOrder(groups: readonly OutcomeGroup[]): string[] {
  const present = new Set(groups.map((g) => g.outcome));
  return [...OUTCOMES.filter((o) => present.has(o)), ...[...present].filter((o) => !(OUTCOMES as readonly string[]).includes(o)).sort()];
}

/** The class that colours an outcome (styles in traffic.css; unknown outcomes are grey). */
export const outcomeClass = (outcome: string) => `outcome outcome--${(OUTCOMES as readonly string[]).includes(outcome) ? outcome : 'other'}`;

const clock = (ms: number, long: boolean) => new Date(ms).toLocaleString(undefined, long ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } : { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * Requests over time, one bar per bucket, stacked by outcome; drawn as SVG (no chart library).
 * Each bar says its time and counts in a tooltip; the picture as a whole says its total.
 */
export function Histogram({ groups, from, to, bucketMs, bucket }: { groups: readonly OutcomeGroup[]; from: number; to: number; bucketMs: number; bucket: string }) {
  const start = Math.floor(from / bucketMs) * bucketMs;
  const bars = Math.max(1, Math.ceil((to - start) / bucketMs));
  const order = outcomeOrder(groups);
  const byBar = Array.from({ length: bars }, () => new Map<string, number>());
  for (const g of groups) {
    if (g.bucket === null) continue;
    const i = Math.round((g.bucket - start) / bucketMs);
    const bar = byBar[i];
    if (bar) bar.set(g.outcome, (bar.get(g.outcome) ?? 0) + g.count);
  }
  const totals = byBar.map((bar) => [...bar.values()].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const total = totals.reduce((a, b) => a + b, 0);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const barW = plotW / bars;
  const gap = barW > 4 ? 1 : 0;
  const long = to - from > 86_400_000;
  const y = (n: number) => TOP + plotH - (n / max) * plotH;
  return (
    <svg className="histogram" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Requests over time by outcome: ${total} in ${bars} bars of ${bucket}`}>
      <line className="histogram__axis" x1={LEFT} x2={W - RIGHT} y1={TOP + plotH} y2={TOP + plotH} />
      {[max, Math.round(max / 2)].filter((n, i) => i === 0 || (n > 0 && n < max)).map((n) => (
        <g key={n}>
          <line className="histogram__grid" x1={LEFT} x2={W - RIGHT} y1={y(n)} y2={y(n)} />
          <text className="histogram__label" x={LEFT - 6} y={y(n) + 4} textAnchor="end">
            {n}
          </text>
        </g>
      ))}
      <text className="histogram__label" x={LEFT - 6} y={TOP + plotH + 4} textAnchor="end">
        0
      </text>
      {byBar.map((bar, i) => {
        if (totals[i] === 0) return null;
        let base = 0;
        const at = start + i * bucketMs;
        return (
          <g key={at} className="histogram__bar" data-bucket={at}>
            <title>{`${clock(at, long)} (${bucket}): ${totals[i]} request${totals[i] === 1 ? '' : 's'} — ${order.filter((o) => bar.has(o)).map((o) => `${bar.get(o)} ${outcomeWords(o)}`).join(', ')}`}</title>
            {order.map((outcome) => {
              const n = bar.get(outcome);
              if (!n) return null;
              const top = y(base + n);
              const height = y(base) - top;
              base += n;
              return <rect key={outcome} className={outcomeClass(outcome)} x={LEFT + i * barW + gap / 2} y={top} width={Math.max(1, barW - gap)} height={Math.max(1, height)} />;
            })}
          </g>
        );
      })}
      <text className="histogram__label" x={LEFT} y={H - 6} textAnchor="start">
        {clock(from, long)}
      </text>
      <text className="histogram__label" x={LEFT + plotW / 2} y={H - 6} textAnchor="middle">
        {clock(from + (to - from) / 2, long)}
      </text>
      <text className="histogram__label" x={W - RIGHT} y={H - 6} textAnchor="end">
        {clock(to, long)}
      </text>
    </svg>
  );
}
