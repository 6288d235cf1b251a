import type { StoreDownChoice } from '../../shared/nodes/rate-limit.ts';

export type { StoreDownChoice } from '../../shared/nodes/rate-limit.ts';

/** The outcome of counting one request against a limit. */
export interface RateLimitDecision {
  allowed: boolean;
  /**
   * Set when the shared store could not be asked and the node's onStoreDown choice decided:
   * `allow` (let through, not counted), `deny` (refused as unavailable), `local` (counted here).
   */
  storeDown?: StoreDownChoice;
  limit: number;
  remaining: number;
  /** Seconds until the window's budget is fully back. */
  resetSeconds: number;
  /** Seconds until a refused request may succeed; 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * Where rate-limit counters live. The memory store answers synchronously; a shared store
 * (Redis) answers with a promise. Each counts with a sliding window: the previous window's
 * count weighted by how much of it still overlaps, plus the current window's count.
 */
export interface RateLimitStore {
  readonly name: string;
  /** Counts one request; `onStoreDown` says what a shared store does when it cannot be reached (in-memory stores never are). */
  hit(key: string, limit: number, windowMs: number, onStoreDown: StoreDownChoice): RateLimitDecision | Promise<RateLimitDecision>;
  /** How the store is doing and what it decided without its backend, for status, logs and metrics. */
  health?(): RateLimitStoreHealth;
  close?(): void;
}

/** A shared store's state and its decisions made while its backend was unreachable, by choice, since start. */
export interface RateLimitStoreHealth {
  store: string;
  /** `up`: counting in the backend; `down`: deciding by onStoreDown; `probing`: one call is testing recovery. */
  state: 'up' | 'down' | 'probing';
  storeDownDecisions: Record<StoreDownChoice, number>;
}

interface WindowCount {
  start: number;
  current: number;
  previous: number;
}

/**
 * Sliding-window decision from the counts of the current and previous windows.
 * Shared by every store so they agree to the request.
 */
export function slidingWindowDecision(limit: number, windowMs: number, now: number, start: number, previous: number, current: number): RateLimitDecision {
  const elapsed = now - start;
  const weight = 1 - elapsed / windowMs;
  const estimate = previous * weight + current;
  const untilWindowEnd = windowMs - elapsed;
  if (estimate + 1 <= limit) {
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - estimate - 1)), resetSeconds: Math.ceil(untilWindowEnd / 1000), retryAfterSeconds: 0 };
  }
  // Time until the estimate drops enough for one more request.
  let waitMs: number;
  if (current + 1 <= limit && previous > 0) waitMs = ((estimate + 1 - limit) * windowMs) / previous;
  else waitMs = untilWindowEnd + windowMs * (1 - (limit - 1) / Math.max(current, 1));
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(retryAfterSeconds, Math.ceil(untilWindowEnd / 1000)), retryAfterSeconds };
}

/**
 * In-process counters: exact for one process, per process when several run.
 * Keys idle for two windows are swept so memory stays bounded by live keys.
 */
export function createMemoryRateLimitStore(options: { now?: () => number; sweepEveryMs?: number } = {}): RateLimitStore {
  const now = options.now ?? Date.now;
  const windows = new Map<string, WindowCount>();
  const sweepEveryMs = options.sweepEveryMs ?? 60_000;
  let longestWindow = 0;
  const sweep = setInterval(() => {
    const horizon = now() - 2 * longestWindow;
    for (const [key, w] of windows) if (w.start < horizon) windows.delete(key);
  }, sweepEveryMs);
  sweep.unref();

  return {
    name: 'memory',
    hit(key, limit, windowMs) {
      const t = now();
      if (windowMs > longestWindow) longestWindow = windowMs;
      const start = t - (t % windowMs);
      let w = windows.get(key);
      if (w === undefined) {
        w = { start, current: 0, previous: 0 };
        windows.set(key, w);
      } else if (w.start !== start) {
        w.previous = start - w.start === windowMs ? w.current : 0;
        w.current = 0;
        w.start = start;
      }
      const decision = slidingWindowDecision(limit, windowMs, t, start, w.previous, w.current);
      if (decision.allowed) w.current += 1;
      return decision;
    },
    close() {
      clearInterval(sweep);
    },
  };
}
