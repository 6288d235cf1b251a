/** Request duration buckets (seconds): a gateway answers in well under a millisecond to seconds. */
export const REQUEST_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Node duration buckets (seconds): most nodes take microseconds, a proxy node as long as its upstream. */
export const NODE_BUCKETS: readonly number[] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A fixed-bucket histogram, observed on the request path without allocating. Its buckets are made
 * at the first observation: a gateway holds about thirteen per workflow (a workflow's upstream
 * times, three per node), and an idle workflow's should cost no buffer (10,000 workflows held
 * 130,000 typed arrays, each an ArrayBuffer with memory outside the heap).
 */
export class Histogram {
  readonly bounds: readonly number[];
  /** Per bucket, not cumulative; the last is +Inf. Undefined until something is counted. */
  counts: Float64Array | undefined = undefined;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    (this.counts ??= new Float64Array(bounds.length + 1))[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Observations in bucket `i` (not cumulative). */
  bucket(i: number): number {
    return this.counts?.[i] ?? 0;
  }

  /** Adds another histogram's observations (same bounds) to this one. */
  add(other: Histogram): void {
    const theirs = other.counts;
    if (theirs !== undefined) {
      const counts = (this.counts ??= new Float64Array(this.bounds.length + 1));
      for (let i = 0; i < counts.length; i++) counts[i]! += theirs[i]!;
    }
    this.sum += other.sum;
    this.count += other.count;
  }

  reset(): void {
    this.counts?.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** The q-quantile, interpolated within its bucket (as Prometheus' histogram_quantile does). */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      const inBucket = this.bucket(i);
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

