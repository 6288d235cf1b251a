// How the bench judges a target against its baseline on a noisy machine (bench/measure.ts): each
// run against the baseline runs beside it in time, not a median against a median minutes away.
import { describe, expect, it } from 'vitest';
import { bracketedRatios, orderOfRound, pairedRatios } from '../../bench/measure.ts';
import type { LoadResult } from '../../bench/loadgen.ts';

const run = (startedAtMs: number, rps: number): LoadResult => ({ startedAtMs, rps, p50Ms: 1, p99Ms: 2, requests: rps, failures: 0, failureDetail: '' });

describe('orderOfRound', () => {
  it('puts the baseline before every n others', () => {
    expect(orderOfRound(['bare', 'a', 'b', 'c', 'd', 'e'], 2)).toEqual(['bare', 'a', 'b', 'bare', 'c', 'd', 'bare', 'e']);
    expect(orderOfRound(['bare', 'a', 'b'], 4)).toEqual(['bare', 'a', 'b']);
  });
  it('is the targets in turn without a baseline setting', () => {
    expect(orderOfRound(['bare', 'a', 'b'])).toEqual(['bare', 'a', 'b']);
    expect(orderOfRound([], 3)).toEqual([]);
  });
});

describe('bracketedRatios', () => {
  it('divides each run by the mean of the baseline runs just before and after it', () => {
    // the machine halves its speed between t=20 and t=40: a ratio of medians would say 0.5 or 2
    const baseline = [run(0, 10_000), run(20, 10_000), run(40, 5_000), run(60, 5_000)];
    const target = [run(10, 9_000), run(50, 4_500)];
    expect(bracketedRatios(target, baseline, (r) => r.rps)).toEqual([0.9, 0.9]);
    // across the step: the mean of both sides
    expect(bracketedRatios([run(30, 6_000)], baseline, (r) => r.rps)).toEqual([6_000 / 7_500]);
  });
  it('uses the one baseline run there is at either end', () => {
    const baseline = [run(10, 8_000), run(30, 4_000)];
    expect(bracketedRatios([run(0, 4_000), run(40, 2_000)], baseline, (r) => r.rps)).toEqual([0.5, 0.5]);
  });
});

describe('pairedRatios', () => {
  it('divides round by round', () => {
    expect(pairedRatios([9, 4, 6], [10, 8, 6])).toEqual([0.9, 0.5, 1]);
  });
  it('refuses rounds that do not pair up', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(/2 and 1 rounds/);
  });
});
