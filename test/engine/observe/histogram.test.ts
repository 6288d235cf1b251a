import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../engine/observe/histogram.ts';

const BOUNDS = [0.001, 0.01, 0.1];

describe('Histogram', () => {
  it('holds no buckets until something is counted, and reads as all zero', () => {
    const h = new Histogram(BOUNDS);
    expect(h.counts).toBeUndefined();
    expect([0, 1, 2, 3].map((i) => h.bucket(i))).toEqual([0, 0, 0, 0]);
    expect(h.quantile(0.5)).toBeUndefined();
    h.reset();
    expect(h.counts).toBeUndefined();
    h.add(new Histogram(BOUNDS));
    expect(h.counts).toBeUndefined();
    expect(h.count).toBe(0);
  });

  it('counts each observation in the first bucket whose bound it does not exceed, the last being +Inf', () => {
    const h = new Histogram(BOUNDS);
    for (const seconds of [0.0005, 0.001, 0.002, 0.05, 0.1, 7]) h.observe(seconds);
    expect([0, 1, 2, 3].map((i) => h.bucket(i))).toEqual([2, 1, 2, 1]);
    expect(h.count).toBe(6);
    expect(h.sum).toBeCloseTo(7.1535, 10);
  });

  it('adds another histogram into an empty one, and the quantile interpolates within its bucket', () => {
    const from = new Histogram(BOUNDS);
    for (let i = 0; i < 4; i++) from.observe(0.005);
    const into = new Histogram(BOUNDS);
    into.add(from);
    expect([0, 1, 2, 3].map((i) => into.bucket(i))).toEqual([0, 4, 0, 0]);
    expect(into.count).toBe(4);
    // rank 2 of 4 in the (0.001, 0.01] bucket: halfway
    expect(into.quantile(0.5)).toBeCloseTo(0.0055, 12);
    expect(into.counts).not.toBe(from.counts); // its own buffer, not the other's
  });

  it('reset zeroes the counts it made', () => {
    const h = new Histogram(BOUNDS);
    h.observe(0.05);
    h.reset();
    expect([0, 1, 2, 3].map((i) => h.bucket(i))).toEqual([0, 0, 0, 0]);
    expect(h.count).toBe(0);
    expect(h.sum).toBe(0);
    expect(h.quantile(0.99)).toBeUndefined();
  });
});
