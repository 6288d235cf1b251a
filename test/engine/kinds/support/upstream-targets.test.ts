import { describe, expect, it } from 'vitest';
import { Breaker, pickTarget, RetryBudget, shownState, type Weighted } from '../../../../engine/kinds/support/upstream-targets.ts';

const targets = (...weights: number[]): Weighted[] => weights.map((weight, seed) => ({ weight, seed, breaker: new Breaker({ failures: 3, cooldownMs: 1_000 }) }));

/** A deterministic random sequence (a linear congruential generator). */
function seeded(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe('the breaker of a target', () => {
  it('opens after the configured failures in a row, and a success in between resets the count', () => {
    const b = new Breaker({ failures: 3, cooldownMs: 1_000 });
    b.failure(0);
    b.failure(0);
    b.success();
    b.failure(0);
    b.failure(0);
    expect(b.state).toBe('closed');
    b.failure(10);
    expect(b.state).toBe('open');
    expect(b.openUntil).toBe(1_010);
    expect(b.available(500)).toBe(false);
    expect(shownState(b, 500)).toBe('open');
  });

  it('is half-open after the cool-down: one probe at a time; its success closes, its failure opens again', () => {
    const b = new Breaker({ failures: 1, cooldownMs: 1_000 });
    b.failure(0);
    expect(shownState(b, 1_000)).toBe('half-open');
    expect(b.available(1_000)).toBe(true);
    b.take(1_000);
    expect(b.state).toBe('half-open');
    expect(b.available(1_001)).toBe(false); // the probe is under way
    b.failure(1_200);
    expect(b.state).toBe('open');
    expect(b.openUntil).toBe(2_200);
    b.take(2_200);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.available(2_201)).toBe(true);
  });

  it('opens on a failure ratio over the last 10 s, once it holds 10 calls', () => {
    const b = new Breaker({ failures: 100, cooldownMs: 1_000, failureRatio: 0.5 });
    for (let i = 0; i < 4; i++) {
      b.success(i);
      b.failure(i);
    }
    expect(b.state).toBe('closed'); // 8 calls: too few to judge
    b.success(5);
    b.failure(5);
    expect(b.state).toBe('open'); // 10 calls, 5 failed
    const old = new Breaker({ failures: 100, cooldownMs: 1_000, failureRatio: 0.5 });
    for (let i = 0; i < 9; i++) old.failure(0);
    for (let i = 0; i < 10; i++) old.success(20_000); // the failures left the window
    old.failure(20_000);
    expect(old.state).toBe('closed');
  });

  it('lets another probe through when a probe ends without a verdict (the client went away)', () => {
    const b = new Breaker({ failures: 1, cooldownMs: 100 });
    b.failure(0);
    b.take(100);
    expect(b.available(100)).toBe(false);
    b.release();
    expect(b.available(100)).toBe(true);
  });
});

describe('choosing a target', () => {
  it('spreads by weight', () => {
    const set = targets(1, 3);
    const random = seeded();
    const counts = [0, 0];
    for (let i = 0; i < 4_000; i++) counts[pickTarget(set, 0, 0, undefined, random)]! += 1;
    expect(counts[0]).toBeGreaterThan(800);
    expect(counts[0]).toBeLessThan(1_200);
  });

  it('skips targets whose breaker is open, and answers -1 when all are', () => {
    const set = targets(1, 1);
    for (let i = 0; i < 3; i++) set[0]!.breaker.failure(0);
    for (let i = 0; i < 50; i++) expect(pickTarget(set, 10, 0, undefined, Math.random)).toBe(1);
    for (let i = 0; i < 3; i++) set[1]!.breaker.failure(0);
    expect(pickTarget(set, 10, 0, undefined)).toBe(-1);
    expect(pickTarget(set, 1_000, 0, undefined)).toBeGreaterThanOrEqual(0); // the cool-down passed: a probe may go
  });

  it('prefers a target not tried yet, and falls back to a tried one when no other is available', () => {
    const set = targets(1, 1, 1);
    for (let i = 0; i < 30; i++) expect(pickTarget(set, 0, 0b011, undefined, Math.random)).toBe(2);
    expect(pickTarget(targets(1), 0, 0b1, undefined)).toBe(0);
  });

  it('keeps a sticky key on one target while it is healthy; only the keys of an ejected target move', () => {
    const set = targets(1, 1, 1);
    const keys = Array.from({ length: 300 }, (_, i) => `partner-${i}`);
    const before = keys.map((k) => pickTarget(set, 0, 0, k));
    expect(keys.map((k) => pickTarget(set, 0, 0, k))).toEqual(before);
    expect(new Set(before).size).toBe(3);
    for (let i = 0; i < 3; i++) set[1]!.breaker.failure(0);
    const after = keys.map((k) => pickTarget(set, 1, 0, k));
    for (let i = 0; i < keys.length; i++) {
      if (before[i] !== 1) expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe(1);
    }
  });

  it('gives sticky keys to targets in proportion to their weights', () => {
    const set = targets(1, 4);
    const counts = [0, 0];
    for (let i = 0; i < 2_000; i++) counts[pickTarget(set, 0, 0, `subject-${i}`)]! += 1;
    expect(counts[0]).toBeGreaterThan(250);
    expect(counts[0]).toBeLessThan(550);
  });
});

describe('the retry budget', () => {
  it('allows the minimum, then a share of the requests over the window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minimum: 3, windowMs: 10_000, slots: 10 });
    budget.request(0);
    expect([budget.tryRetry(0), budget.tryRetry(0), budget.tryRetry(0), budget.tryRetry(0)]).toEqual([true, true, true, false]);
    for (let i = 0; i < 10; i++) budget.request(0);
    expect(budget.tryRetry(0)).toBe(true); // 11 requests: 0.2 x 11 + 3 = 5.2
    expect(budget.tryRetry(0)).toBe(true);
    expect(budget.tryRetry(0)).toBe(false);
    expect(budget.retriesTotal).toBe(5);
    expect(budget.refusedTotal).toBe(2);
  });

  it('keeps retries at most ratio x requests plus the minimum however many are asked for', () => {
    const budget = new RetryBudget({ ratio: 0.2, minimum: 3, windowMs: 10_000, slots: 10 });
    let retries = 0;
    for (let i = 0; i < 1_000; i++) {
      budget.request(i * 5);
      for (let r = 0; r < 5; r++) if (budget.tryRetry(i * 5)) retries += 1;
    }
    expect(retries).toBeLessThanOrEqual(0.2 * 1_000 + 3);
    expect(retries).toBeGreaterThan(150);
  });

  it('forgets what left the window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minimum: 1, windowMs: 10_000, slots: 10 });
    budget.request(0);
    expect(budget.tryRetry(0)).toBe(true);
    expect(budget.tryRetry(5_000)).toBe(false);
    expect(budget.tryRetry(10_500)).toBe(true); // the slot of the first retry is gone
    expect(budget.tryRetry(60_000)).toBe(true);
  });
});
