import type { StoreDownChoice } from '../../../shared/nodes/rate-limit.ts';

export type { StoreDownChoice } from '../../../shared/nodes/rate-limit.ts';

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
  /**
   * Counts one request; `onStoreDown` says what a shared store does when it cannot be reached
   * (in-memory stores never are). `scope` names the limiter the key belongs to (workflow and
   * node, the key's prefix): a full memory store evicts from the limiter holding the most keys.
   */
  hit(key: string, limit: number, windowMs: number, onStoreDown: StoreDownChoice, scope?: string): RateLimitDecision | Promise<RateLimitDecision>;
  /**
   * Whether `need` units fit in what is left of `limit` per window, counting nothing: a token
   * budget's check before the call, whose tokens are charged once the answer is complete.
   */
  check(key: string, need: number, limit: number, windowMs: number, onStoreDown: StoreDownChoice, scope?: string): RateLimitDecision | Promise<RateLimitDecision>;
  /** Counts `amount` units whether they fit or not (a token budget's charge after the answer): the next check sees them. */
  charge(key: string, amount: number, windowMs: number, onStoreDown: StoreDownChoice, scope?: string): void | Promise<void>;
  /** How the store is doing and what it decided without its backend, for status, logs and metrics. */
  health?(): RateLimitStoreHealth;
  /** The keys held in process memory and those evicted to stay within the cap (for a Redis store: its `local` fallback's). */
  occupancy?(): RateLimitOccupancy;
  close?(): void;
}

/** A shared store's state and its decisions made while its backend was unreachable, by choice, since start. */
export interface RateLimitStoreHealth {
  store: string;
  /** `up`: counting in the backend; `down`: deciding by onStoreDown; `probing`: one call is testing recovery. */
  state: 'up' | 'down' | 'probing';
  storeDownDecisions: Record<StoreDownChoice, number>;
}

/** Keys held in memory against the cap, and keys evicted since start because the cap was reached. */
export interface RateLimitOccupancy {
  keys: number;
  maxKeys: number;
  evictions: number;
}

/**
 * Sliding-window decision for one request from the counts of the current and previous windows.
 * Shared by every store so they agree to the request. (budgetDecision is the same arithmetic for
 * a need of any size, counting nothing; kept apart so that this one, on every rate-limited
 * request, stays small enough to be inlined: ~200 instructions a request, callgrind.)
 */
export function slidingWindowDecision(limit: number, windowMs: number, now: number, start: number, previous: number, current: number): RateLimitDecision {
  const elapsed = now - start;
  const weight = 1 - elapsed / windowMs;
  const estimate = previous * weight + current;
  const untilWindowEnd = windowMs - elapsed;
  if (estimate + 1 <= limit) {
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - estimate - 1)), resetSeconds: Math.ceil(untilWindowEnd / 1000), retryAfterSeconds: 0 };
  }
  // Time until the estimate drops enough for one more request: the previous window weighing off
  // while this one has room (then previous > 0: with nothing before, the estimate is `current`,
  // which had room), else the end of this window and part of the next.
  let waitMs: number;
  // Stryker disable next-line EqualityOperator: equivalent: at current + 1 = limit both ways give the time to the window's end (worked out in rate-limit-store.test.ts)
  if (current + 1 <= limit) waitMs = ((estimate + 1 - limit) * windowMs) / previous;
  else waitMs = untilWindowEnd + windowMs * (1 - (limit - 1) / Math.max(current, 1));
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(retryAfterSeconds, Math.ceil(untilWindowEnd / 1000)), retryAfterSeconds };
}

/**
 * A token budget's check: whether `need` more units fit in the sliding window, counting nothing;
 * `remaining` is what is left before this request. A need beyond the whole limit never fits: it
 * is told to retry once all of the budget is back.
 */
export function budgetDecision(limit: number, windowMs: number, now: number, start: number, previous: number, current: number, need: number): RateLimitDecision {
  const elapsed = now - start;
  const estimate = previous * (1 - elapsed / windowMs) + current;
  const untilWindowEnd = windowMs - elapsed;
  const remaining = Math.max(0, Math.floor(limit - estimate));
  if (estimate + need <= limit) return { allowed: true, limit, remaining, resetSeconds: Math.ceil(untilWindowEnd / 1000), retryAfterSeconds: 0 };
  const wanted = Math.min(need, limit);
  let waitMs: number;
  // previous > 0: a need beyond the whole limit with nothing counted fits no window and waits for the next
  if (current + wanted <= limit && previous > 0) waitMs = ((estimate + wanted - limit) * windowMs) / previous;
  else waitMs = untilWindowEnd + windowMs * (1 - (limit - wanted) / Math.max(current, 1));
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { allowed: false, limit, remaining, resetSeconds: Math.max(retryAfterSeconds, Math.ceil(untilWindowEnd / 1000)), retryAfterSeconds };
}

/** Default of SLUICE_RATE_LIMIT_MAX_KEYS: at a few hundred bytes a key, tens of MB at most. */
const DEFAULT_RATE_LIMIT_MAX_KEYS = 100_000;

/** One key's requests counted in its current window and in the window before. */
interface Counts {
  current: number;
  previous: number;
}

type Cursor = ReturnType<Map<string, Counts>['keys']>;

/**
 * The counters of one window length of one limiter, in two generations: the keys counted in
 * the current window, and the keys last counted in the window before (still weighed by the
 * sliding window). When the window moves on, the older generation is dropped whole, so a key
 * idle for two of its own windows is gone without being visited, whatever other limiters'
 * windows are, and a request costs Map lookups.
 */
interface Generations {
  windowMs: number;
  /** Start of the current window. */
  start: number;
  current: Map<string, Counts>;
  previous: Map<string, Counts>;
  /**
   * Where eviction goes on in each generation. A fresh iterator starts at the front of the
   * Map's table and steps over every entry deleted before it: O(keys) per eviction under a flood.
   */
  currentCursor: Cursor | undefined;
  previousCursor: Cursor | undefined;
}

/** The counters of one rate-limit node (its scope), by window length: plan limits may differ per partner. */
interface Limiter {
  keys: number;
  windows: Map<number, Generations>;
  /** The window length counted last: a node with a fixed limit has only this one. */
  last: Generations | undefined;
}

/** Deletes the oldest key of a generation, going on from its cursor; returns the cursor to keep. */
function deleteOldest(map: Map<string, Counts>, cursor: Cursor | undefined): Cursor {
  let next = cursor?.next();
  // Stryker disable next-line ConditionalExpression: equivalent: a new iterator starts at the oldest key left too; the cursor only spares walking past deleted ones
  if (next === undefined || next.done) {
    // a finished iterator never sees keys added after it finished
    cursor = map.keys();
    next = cursor.next();
  }
  map.delete(next.value as string);
  return cursor!;
}

/** The generations eviction takes from, in order, each with its cursor. */
const EVICTION_ORDER = [
  ['previous', 'previousCursor'],
  ['current', 'currentCursor'],
] as const;

export interface MemoryRateLimitOptions {
  now?: () => number;
  /** How often windows that saw no request are moved on, dropping their expired keys. */
  sweepEveryMs?: number;
  /** Most keys held at once (SLUICE_RATE_LIMIT_MAX_KEYS); beyond it the oldest keys of the largest limiter are evicted. */
  maxKeys?: number;
}

/**
 * In-process counters: exact for one process, per process when several run. Keys expire by
 * their own window (see Generations), and at most `maxKeys` are held: a new key beyond that
 * evicts the oldest key of the limiter holding the most keys (the one asking when it holds as
 * many), the keys last counted in the previous window first. A flood of distinct keys through
 * one node (header values, IPv6 addresses) thus evicts that node's own keys, whose counts a
 * flooder could skip anyway by sending new values, and never the counters of a node holding
 * fewer keys, such as a limit per partner.
 */
export function createMemoryRateLimitStore(options: MemoryRateLimitOptions = {}): RateLimitStore & { occupancy(): RateLimitOccupancy } {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? DEFAULT_RATE_LIMIT_MAX_KEYS;
  const limiters = new Map<string, Limiter>();
  let keys = 0;
  let evictions = 0;
  /** The limiter holding the most keys as far as known (within the few evicted since); unset when that may be stale. */
  let largest: Limiter | undefined;

  const forget = (limiter: Limiter, count: number) => {
    keys -= count;
    limiter.keys -= count;
  };

  /** Moves a window length's generations on to the window starting at `start`. */
  const rotate = (limiter: Limiter, g: Generations, start: number) => {
    const adjacent = start - g.start === g.windowMs;
    forget(limiter, g.previous.size + (adjacent ? 0 : g.current.size));
    g.previous = adjacent ? g.current : new Map();
    g.current = new Map();
    g.start = start;
    g.currentCursor = g.previousCursor = undefined;
    // Stryker disable next-line all: `largest` is a hint (evict finds the largest again when it is unset or empty, and takes the asking node when that holds as many)
    if (limiter === largest) largest = undefined;
  };

  const findLargest = (): Limiter | undefined => {
    let found: Limiter | undefined;
    // Stryker disable next-line all: masked: evict takes the asking node when it holds as many as the node found (a three-node order would tell them apart; not worth a test of its own)
    for (const limiter of limiters.values()) if (found === undefined || limiter.keys > found.keys) found = limiter;
    return (largest = found);
  };

  /** Makes room for one more key: the victim's oldest key last counted in a previous window, else in a current one. */
  const evict = (asking: Limiter) => {
    // Stryker disable next-line all: `largest` is a hint, see rotate
    let victim = largest === undefined || largest.keys === 0 ? findLargest()! : largest;
    // Stryker disable next-line all: equivalent: the asking node holding the most keys is the hint already (addCounts), and of two holding as many either is right
    if (asking.keys >= victim.keys) victim = asking;
    for (const [generation, cursor] of EVICTION_ORDER) {
      for (const g of victim.windows.values()) {
        if (g[generation].size === 0) continue;
        g[cursor] = deleteOldest(g[generation], g[cursor]);
        forget(victim, 1);
        evictions += 1;
        return;
      }
    }
  };

  /** The limiter counted last: a burst of requests on one route looks it up once. */
  let lastScope: string | undefined;
  let lastLimiter: Limiter | undefined;
  const limiterOf = (scope: string): Limiter => {
    let limiter = limiters.get(scope);
    if (limiter === undefined) {
      limiter = { keys: 0, windows: new Map(), last: undefined };
      limiters.set(scope, limiter);
    }
    lastScope = scope;
    return (lastLimiter = limiter);
  };
  const generationsOf = (limiter: Limiter, windowMs: number, start: number): Generations => {
    let g = limiter.windows.get(windowMs);
    if (g === undefined) {
      g = { windowMs, start, current: new Map(), previous: new Map(), currentCursor: undefined, previousCursor: undefined };
      limiter.windows.set(windowMs, g);
    } else if (g.start !== start) rotate(limiter, g, start);
    return (limiter.last = g);
  };

  /** The counts of a key not yet counted in the current window: moved on from the previous one, or made (evicting when full). */
  const addCounts = (limiter: Limiter, g: Generations, key: string): Counts => {
    let counts = g.previous.get(key);
    if (counts !== undefined) {
      g.previous.delete(key);
      counts.previous = counts.current;
      counts.current = 0;
    } else {
      if (keys >= maxKeys) evict(limiter);
      counts = { current: 0, previous: 0 };
      keys += 1;
      limiter.keys += 1;
      // Stryker disable next-line all: `largest` is a hint, see rotate
      if (largest !== undefined && limiter.keys > largest.keys) largest = limiter;
    }
    g.current.set(key, counts);
    return counts;
  };

  /** A key's counts in the window starting at `start` (a token budget's check and charge). */
  const countsOf = (key: string, windowMs: number, scope: string, start: number): Counts => {
    // Stryker disable next-line ConditionalExpression: equivalent: lastLimiter only spares a lookup of the same node
    const limiter = scope === lastScope ? lastLimiter! : limiterOf(scope);
    let g = limiter.last;
    // Stryker disable next-line ConditionalExpression: equivalent when always taken: generationsOf finds the same window, moved on
    if (g === undefined || g.windowMs !== windowMs) g = generationsOf(limiter, windowMs, start);
    else if (g.start !== start) rotate(limiter, g, start);
    return g.current.get(key) ?? addCounts(limiter, g, key);
  };

  const sweep = setInterval(() => {
    const t = now();
    for (const [scope, limiter] of limiters) {
      for (const [windowMs, g] of limiter.windows) {
        const start = t - (t % windowMs);
        if (g.start !== start) rotate(limiter, g, start);
        // Stryker disable next-line all: equivalent to what is counted: an empty window held on costs a few bytes, never a key
        if (g.current.size === 0 && g.previous.size === 0) {
          limiter.windows.delete(windowMs);
          // Stryker disable next-line ConditionalExpression: equivalent when always taken: `last` only spares a lookup
          if (limiter.last === g) limiter.last = undefined;
        }
      }
      // Stryker disable next-line all: equivalent to what is counted: an empty node held on costs a few bytes, never a key
      if (limiter.windows.size === 0) {
        limiters.delete(scope);
        // Stryker disable next-line all: `largest` is a hint, see rotate (a node without keys is never evicted from: evict looks again)
        if (limiter === largest) largest = undefined;
        // Stryker disable next-line ConditionalExpression: equivalent when always taken: lastLimiter only spares a lookup
        if (limiter === lastLimiter) lastScope = lastLimiter = undefined;
      }
    }
  // Stryker disable next-line LogicalOperator: only how often the sweep runs
  }, options.sweepEveryMs ?? 1_000);
  sweep.unref();

  return {
    name: 'memory',
    // countsOf written out: calling it cost ~170 instructions a hit (callgrind, 600k hits, least of 7 runs)
    // Stryker disable next-line StringLiteral: equivalent: any one name serves the calls that name no scope
    hit(key, limit, windowMs, _onStoreDown, scope = '') {
      const t = now();
      const start = t - (t % windowMs);
      // Stryker disable next-line ConditionalExpression: equivalent: lastLimiter only spares a lookup of the same node
      const limiter = scope === lastScope ? lastLimiter! : limiterOf(scope);
      let g = limiter.last;
      // Stryker disable next-line ConditionalExpression: equivalent when always taken: generationsOf finds the same window, moved on
      if (g === undefined || g.windowMs !== windowMs) g = generationsOf(limiter, windowMs, start);
      else if (g.start !== start) rotate(limiter, g, start);
      let counts = g.current.get(key);
      if (counts === undefined) counts = addCounts(limiter, g, key);
      const decision = slidingWindowDecision(limit, windowMs, t, start, counts.previous, counts.current);
      if (decision.allowed) counts.current += 1;
      return decision;
    },
    // Stryker disable next-line StringLiteral: equivalent: any one name serves the calls that name no scope
    check(key, need, limit, windowMs, _onStoreDown, scope = '') {
      const t = now();
      const start = t - (t % windowMs);
      const counts = countsOf(key, windowMs, scope, start);
      return budgetDecision(limit, windowMs, t, start, counts.previous, counts.current, need);
    },
    // Stryker disable next-line StringLiteral: equivalent: any one name serves the calls that name no scope
    charge(key, amount, windowMs, _onStoreDown, scope = '') {
      const t = now();
      countsOf(key, windowMs, scope, t - (t % windowMs)).current += amount;
    },
    occupancy() {
      return { keys, maxKeys, evictions };
    },
    close() {
      clearInterval(sweep);
    },
  };
}
