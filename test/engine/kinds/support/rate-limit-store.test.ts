import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { budgetDecision, createMemoryRateLimitStore, slidingWindowDecision, type RateLimitDecision } from '../../../../engine/kinds/support/rate-limit-store.ts';
import { seededRandom } from '../../../helpers/random.ts';

/* The memory rate-limit store, context in, result out: a clock the test moves, keys expiring by their own window, a cap. */

const HOUR = 3_600_000;

/** A memory store on a clock the test moves; its sweep timer never fires within a test. */
function storeAt(options: { maxKeys?: number } = {}) {
  const clock = { t: 1_700_000_000_000 };
  const store = createMemoryRateLimitStore({ now: () => clock.t, sweepEveryMs: 3_600_000, ...options });
  onTestFinished(() => store.close?.());
  const hit = (scope: string, key: string, limit: number, windowMs: number) => store.hit(`${scope}${key}`, limit, windowMs, 'deny', scope) as RateLimitDecision;
  return { clock, store, hit };
}

describe('the memory rate-limit store', () => {
  it('decides as one counter per key would, across window changes (seeded run of 5,000 hits)', () => {
    // the sliding window as a single map of {start, current, previous} per key computes it
    const reference = new Map<string, { start: number; current: number; previous: number }>();
    const referenceHit = (key: string, limit: number, windowMs: number, t: number) => {
      const start = t - (t % windowMs);
      let w = reference.get(key);
      if (w === undefined) reference.set(key, (w = { start, current: 0, previous: 0 }));
      else if (w.start !== start) {
        w.previous = start - w.start === windowMs ? w.current : 0;
        w.current = 0;
        w.start = start;
      }
      const decision = slidingWindowDecision(limit, windowMs, t, start, w.previous, w.current);
      if (decision.allowed) w.current += 1;
      return decision;
    };
    const { clock, hit } = storeAt();
    const random = seededRandom(11);
    for (let i = 0; i < 5_000; i++) {
      clock.t += Math.floor(random() * random() * 700); // mostly short steps, now and then past a window or two
      const key = `k${Math.floor(random() * 6)}`;
      const [limit, windowMs] = random() < 0.5 ? [4, 1_000] : [9, 2_500];
      expect(hit(`wf:n${windowMs}:`, key, limit, windowMs), `hit ${i}`).toEqual(referenceHit(`${windowMs}${key}`, limit, windowMs, clock.t));
    }
  });

  it('drops keys idle for two of their own windows, whatever window another node counts in', () => {
    const { clock, store, hit } = storeAt();
    hit('wf:hour:', 'one', 10, HOUR);
    for (let i = 0; i < 1_000; i++) hit('wf:burst:', `h-${i}`, 10, 200);
    expect(store.occupancy().keys).toBe(1_001);
    clock.t += 200;
    hit('wf:burst:', 'h-0', 10, 200); // one key counted again: the others are last window's
    expect(store.occupancy().keys).toBe(1_001);
    clock.t += 200;
    hit('wf:burst:', 'fresh', 10, 200);
    // two windows on: only the hour's key, h-0 (counted one window ago) and the fresh one are left
    expect(store.occupancy().keys).toBe(3);
    expect(store.occupancy().evictions).toBe(0);
  });

  it('drops the keys of a window no request comes back to, on its sweep', async () => {
    const store = createMemoryRateLimitStore({ sweepEveryMs: 20 });
    onTestFinished(() => store.close?.());
    store.hit('wf:hour:one', 10, HOUR, 'deny', 'wf:hour:');
    for (let i = 0; i < 500; i++) store.hit(`wf:burst:h-${i}`, 10, 50, 'deny', 'wf:burst:');
    expect(store.occupancy().keys).toBe(501);
    const until = Date.now() + 15_000;
    while (store.occupancy().keys > 1 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.occupancy().keys).toBe(1);
  });

  it('holds at most maxKeys: a flood evicts the flooding node\'s oldest keys and counts them', () => {
    const { store, hit } = storeAt({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) hit('wf:flood:', `v${i}`, 10, HOUR);
    expect(store.occupancy()).toEqual({ keys: 100, maxKeys: 100, evictions: 900 });
    // the newest 100 are kept (the oldest went first): v999 is counted, v0 starts over
    expect(hit('wf:flood:', 'v999', 10, HOUR).remaining).toBe(8);
    expect(hit('wf:flood:', 'v0', 10, HOUR).remaining).toBe(9);
  });

  it('never evicts the counters of a node holding fewer keys than the flooding one', () => {
    const { store, hit } = storeAt({ maxKeys: 100 });
    const partners = ['acme', 'globex', 'initech'];
    for (const partner of partners) for (let i = 0; i < 3; i++) hit('wf:per-partner:', partner, 3, HOUR);
    for (const partner of partners) expect(hit('wf:per-partner:', partner, 3, HOUR).allowed).toBe(false);
    for (let i = 0; i < 10_000; i++) hit('wf:flood:', `v${i}`, 3, HOUR);
    expect(store.occupancy().keys).toBe(100);
    expect(store.occupancy().evictions).toBe(10_000 - 97);
    // still at their limit: the flood evicted only its own node's keys
    for (const partner of partners) expect(hit('wf:per-partner:', partner, 3, HOUR).allowed).toBe(false);
  });

  it('shares the cap evenly between two flooding nodes', () => {
    const { store, hit } = storeAt({ maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) hit('wf:b:', `v${i}`, 10, HOUR);
    for (let i = 0; i < 1_000; i++) hit('wf:a:', `v${i}`, 10, HOUR);
    expect(store.occupancy()).toEqual({ keys: 100, maxKeys: 100, evictions: 1_900 });
    // each holds about half, its newest keys (asked newest first: only the first one found evicted is counted anew)
    for (const scope of ['wf:a:', 'wf:b:']) {
      let kept = 0;
      while (hit(scope, `v${999 - kept}`, 10, HOUR).remaining === 8) kept++;
      expect(kept).toBeGreaterThanOrEqual(48);
      expect(kept).toBeLessThanOrEqual(52);
    }
  });

  it('evicts the keys last counted in the previous window before those of the current one', () => {
    const { clock, store, hit } = storeAt({ maxKeys: 10 });
    for (let i = 0; i < 4; i++) hit('wf:a:', `old-${i}`, 10, 1_000);
    clock.t += 1_000 - (clock.t % 1_000); // the start of the next window: the previous one weighs fully
    for (let i = 0; i < 6; i++) hit('wf:a:', `new-${i}`, 10, 1_000);
    hit('wf:a:', 'new-6', 10, 1_000);
    hit('wf:a:', 'new-7', 10, 1_000);
    expect(store.occupancy()).toEqual({ keys: 10, maxKeys: 10, evictions: 2 });
    // new-0 is still counted (once), old-0 and old-1 are gone (counted anew), old-2 still weighs (once, from the previous window)
    expect(hit('wf:a:', 'new-0', 10, 1_000).remaining).toBe(8);
    expect(hit('wf:a:', 'old-2', 10, 1_000).remaining).toBe(8);
    expect(hit('wf:a:', 'old-0', 10, 1_000).remaining).toBe(9);
  });

  // evicting by a fresh iterator each time steps over every key deleted before it: that took over 2 minutes here, far past
  // this test's timeout; in constant time per key it is a second or so (what it costs is the bench's to measure, not this test's)
  it('evicts 400,000 keys through a cap of 100,000 without stepping over the evicted ones (within the test timeout)', () => {
    const { store, hit } = storeAt({ maxKeys: 100_000 });
    for (let i = 0; i < 500_000; i++) hit('wf:flood:', `v${i}`, 10, HOUR);
    expect(store.occupancy()).toEqual({ keys: 100_000, maxKeys: 100_000, evictions: 400_000 });
    // the oldest keys went, the newest stayed: v0 is counted anew, v499999 once more
    expect(hit('wf:flood:', 'v499999', 10, HOUR).remaining).toBe(8);
    expect(hit('wf:flood:', 'v0', 10, HOUR).remaining).toBe(9);
  }, 60_000);
});

describe('the memory store as a token budget: check counts nothing, charge counts past the limit', () => {
  it('checks a need against what is left, charges whether it fits or not, and says when the need fits again', () => {
    const { clock, store } = storeAt();
    const start = clock.t - (clock.t % HOUR);
    clock.t = start; // the window's first moment: no previous window weighs
    const check = (need: number) => store.check('wf:budget:k:t', need, 100, HOUR, 'deny', 'wf:budget:') as RateLimitDecision;
    const charge = (amount: number) => store.charge('wf:budget:k:t', amount, HOUR, 'deny', 'wf:budget:');
    // a check counts nothing, however often it is made
    expect(check(30)).toMatchObject({ allowed: true, remaining: 100 });
    expect(check(30)).toMatchObject({ allowed: true, remaining: 100 });
    charge(60);
    expect(check(40)).toMatchObject({ allowed: true, remaining: 40 });
    expect(check(41)).toMatchObject({ allowed: false, remaining: 40 });
    charge(70); // past the limit: counted all the same
    const spent = check(1);
    expect(spent).toMatchObject({ allowed: false, remaining: 0 });
    // 130 this window: in the next, 130 x (1 - e) + 1 <= 100 once e >= 31/130 of the window
    expect(spent.retryAfterSeconds).toBe(Math.ceil((HOUR + (HOUR * 31) / 130) / 1000));
    clock.t = start + HOUR + Math.ceil((HOUR * 31) / 130) + 1;
    expect(check(1)).toMatchObject({ allowed: true, remaining: 1 }); // 99 and a little less weigh now
    // a need beyond the whole limit never fits: retry once all of it is back
    expect(check(500).allowed).toBe(false);
    expect(check(500).retryAfterSeconds).toBe(Math.ceil((HOUR - (clock.t - start - HOUR)) / 1000));
  });
});

/*
 * The window arithmetic itself, exact: a 60 s window started at 0, the request at `now`, with
 * `previous` requests counted in the window before and `current` in this one. Each case names
 * which of the two ways of computing Retry-After it takes, with the number worked out by hand.
 */
describe('the sliding window arithmetic, exactly', () => {
  const W = 60_000;
  it('admits while the weighted estimate leaves room, with what remains and when the window ends', () => {
    // estimate = 8 * (1 - 15/60) + 2 = 8: this one fits in 10, and one more after it
    expect(slidingWindowDecision(10, W, 15_000, 0, 8, 2)).toEqual({ allowed: true, limit: 10, remaining: 1, resetSeconds: 45, retryAfterSeconds: 0 });
    // estimate = 10 * 0.75 + 2 = 9.5: 10.5 does not fit in 10
    expect(slidingWindowDecision(10, W, 15_000, 0, 10, 2).allowed).toBe(false);
    // estimate = 4 * 0.5 + 3 = 5: 4 left after this one; the window ends in 30 s
    expect(slidingWindowDecision(10, W, 30_000, 0, 4, 3)).toEqual({ allowed: true, limit: 10, remaining: 4, resetSeconds: 30, retryAfterSeconds: 0 });
  });

  it('refuses with the time until the previous window has weighed off enough: (estimate + 1 - limit) * window / previous', () => {
    // estimate = 10 * 0.5 + 5 = 10; (11 - 10) * 60 / 10 = 6 s; the window ends in 30 s
    expect(slidingWindowDecision(10, W, 30_000, 0, 10, 5)).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 30, retryAfterSeconds: 6 });
    // estimate = 8 * 0.75 + 7 = 13; (14 - 10) * 60 / 8 = 30 s, past the 45 s left? no: 30 < 45, so reset stays 45
    expect(slidingWindowDecision(10, W, 15_000, 0, 8, 7)).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 45, retryAfterSeconds: 30 });
  });

  it('refuses a full current window until the next one has weighed it off: until the end, then (1 - (limit - 1) / current) of a window', () => {
    // current = limit = 10, previous 4: 30 s to the end + 60 * (1 - 9/10) = 36 s (the first way would say 45 s)
    expect(slidingWindowDecision(10, W, 30_000, 0, 4, 10)).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 36, retryAfterSeconds: 36 });
    // nothing before, 12 counted (a limit lowered meanwhile): 50 s + 60 * (1 - 9/12) = 65 s
    expect(slidingWindowDecision(10, W, 10_000, 0, 0, 12)).toEqual({ allowed: false, limit: 10, remaining: 0, resetSeconds: 65, retryAfterSeconds: 65 });
  });

  it('a token budget: admits a need that fits, with what is left before it; refuses one that does not, with when it fits', () => {
    // estimate = 100 * 0.5 + 20 = 70 of 100: a need of 30 fits, 30 left before it, the window ends in 30 s
    expect(budgetDecision(100, W, 30_000, 0, 100, 20, 30)).toEqual({ allowed: true, limit: 100, remaining: 30, resetSeconds: 30, retryAfterSeconds: 0 });
    // a need of 40 does not: (70 + 40 - 100) * 60 / 100 = 6 s
    expect(budgetDecision(100, W, 30_000, 0, 100, 20, 40)).toEqual({ allowed: false, limit: 100, remaining: 30, resetSeconds: 30, retryAfterSeconds: 6 });
    // current 90 + 40 > 100: to the end (30 s) + 60 * (1 - 60/90) = 50 s (the first way would say 60 s)
    expect(budgetDecision(100, W, 30_000, 0, 20, 90, 40)).toEqual({ allowed: false, limit: 100, remaining: 0, resetSeconds: 50, retryAfterSeconds: 50 });
    // a need beyond the whole limit is told to come back once all of it is: wanted = limit, to the end + a window * (1 - 0/90)
    expect(budgetDecision(100, W, 30_000, 0, 20, 90, 500)).toEqual({ allowed: false, limit: 100, remaining: 0, resetSeconds: 90, retryAfterSeconds: 90 });
    // nothing counted at all and a need beyond the limit: never this window, all of the next (30 + 60 s)
    expect(budgetDecision(100, W, 30_000, 0, 0, 0, 500)).toEqual({ allowed: false, limit: 100, remaining: 100, resetSeconds: 90, retryAfterSeconds: 90 });
    // 15 s into the window: the reset is 45 s away, whatever is asked
    expect(budgetDecision(100, W, 15_000, 0, 0, 0, 10).resetSeconds).toBe(45);
  });
});

/* What the memory store's bookkeeping must keep true, whatever order nodes, windows and sweeps come in. */
describe('the memory store\'s bookkeeping', () => {
  const MINUTE = 60_000;
  /** A store on a clock the test moves, whose sweep runs when the test says (its interval timer faked). */
  function sweptAt() {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    onTestFinished(() => void vi.useRealTimers());
    const clock = { t: 1_700_000_000_000 - (1_700_000_000_000 % HOUR) };
    const store = createMemoryRateLimitStore({ now: () => clock.t, sweepEveryMs: 5 });
    onTestFinished(() => store.close?.());
    const hit = (scope: string, key: string, limit: number, windowMs: number) => store.hit(`${scope}${key}`, limit, windowMs, 'deny', scope) as RateLimitDecision;
    const sweepDone = () => void vi.advanceTimersByTime(5);
    return { clock, store, hit, sweepDone };
  }

  it('is named "memory" (status and metrics say which store decided)', () => {
    expect(storeAt().store.name).toBe('memory');
  });

  it('a sweep keeps the counts of a window still in use: a key at its limit stays refused', async () => {
    const { hit, sweepDone } = sweptAt();
    for (let i = 0; i < 3; i++) expect(hit('wf:a:', 'k', 3, MINUTE).allowed).toBe(true);
    sweepDone();
    expect(hit('wf:a:', 'k', 3, MINUTE).allowed).toBe(false);
  });

  it('a node swept away and counted again is swept again later: no key outlives its windows', async () => {
    const { clock, store, hit, sweepDone } = sweptAt();
    hit('wf:a:', 'k', 3, MINUTE);
    clock.t += 3 * MINUTE;
    sweepDone(); // the node's only window is empty: the window and the node go
    expect(store.occupancy().keys).toBe(0);
    hit('wf:a:', 'k2', 3, MINUTE); // the same node, counted again: found anew
    expect(store.occupancy().keys).toBe(1);
    clock.t += 3 * MINUTE;
    sweepDone();
    expect(store.occupancy().keys).toBe(0);
  });

  it('a window emptied by the sweep is not counted in afterwards by a node that still has another', async () => {
    const { clock, store, hit, sweepDone } = sweptAt();
    hit('wf:a:', 'hourly', 3, HOUR);
    hit('wf:a:', 'minutely', 3, MINUTE);
    clock.t += 3 * MINUTE;
    sweepDone(); // the minute window is empty and goes; the hour's stays
    expect(store.occupancy().keys).toBe(1);
    hit('wf:a:', 'again', 3, MINUTE);
    expect(store.occupancy().keys).toBe(2);
    clock.t += 3 * MINUTE;
    sweepDone();
    expect(store.occupancy().keys).toBe(1); // the minute's key went with its window
  });

  it('keeps one node\'s windows apart: counts per window, each rotating on its own', () => {
    const { clock, hit } = sweptAt();
    for (let i = 0; i < 2; i++) {
      hit('wf:a:', 'k', 2, MINUTE);
      hit('wf:a:', 'k', 100, HOUR);
    }
    expect(hit('wf:a:', 'k', 2, MINUTE).allowed).toBe(false); // 2 in the minute
    expect(hit('wf:a:', 'k', 100, HOUR)).toMatchObject({ allowed: true, remaining: 97 }); // 3 in the hour
    clock.t += 2 * MINUTE; // two minutes on: the minute window has nothing left, the hour keeps its 3
    expect(hit('wf:a:', 'k', 2, MINUTE)).toMatchObject({ allowed: true, remaining: 1 });
    expect(hit('wf:a:', 'k', 100, HOUR)).toMatchObject({ allowed: true, remaining: 96 });
  });

  it('keeps nodes apart when they alternate: each keeps its own counts', () => {
    const { hit } = sweptAt();
    for (let i = 0; i < 3; i++) {
      expect(hit('wf:a:', 'k', 3, MINUTE).allowed).toBe(true);
      expect(hit('wf:b:', 'k', 3, MINUTE).allowed).toBe(true);
    }
    expect(hit('wf:a:', 'k', 3, MINUTE).allowed).toBe(false);
    expect(hit('wf:b:', 'k', 3, MINUTE).allowed).toBe(false);
  });

  it('a budget\'s check and charge keep one node\'s windows and other nodes apart', () => {
    const { store } = sweptAt();
    const charge = (scope: string, amount: number, windowMs: number) => store.charge(`${scope}k`, amount, windowMs, 'deny', scope);
    const check = (scope: string, windowMs: number) => store.check(`${scope}k`, 1, 100, windowMs, 'deny', scope) as RateLimitDecision;
    charge('wf:a:', 60, MINUTE);
    charge('wf:a:', 10, HOUR);
    charge('wf:b:', 5, MINUTE);
    expect(check('wf:a:', MINUTE).remaining).toBe(40);
    expect(check('wf:a:', HOUR).remaining).toBe(90);
    expect(check('wf:b:', MINUTE).remaining).toBe(95);
    expect(check('wf:a:', MINUTE).remaining).toBe(40);
  });

  it('after windows with no request at all, forgets the keys of both generations', () => {
    const { clock, store, hit } = sweptAt();
    for (let i = 0; i < 3; i++) hit('wf:a:', `k${i}`, 3, HOUR);
    clock.t += HOUR;
    hit('wf:a:', 'k0', 3, HOUR); // k0 counted again; k1, k2 are the previous window's
    expect(store.occupancy().keys).toBe(3);
    clock.t += 5 * HOUR; // windows later: nothing of either generation is adjacent
    hit('wf:a:', 'fresh', 3, HOUR);
    expect(store.occupancy().keys).toBe(1);
  });
});
