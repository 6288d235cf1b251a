import { describe, expect, it } from 'vitest';
import { boundedDurationSchema, durationMs, durationSchema, MAX_TIMER_MS } from '../../shared/schema/index.ts';

describe('durationMs', () => {
  it.each([
    ['0ms', 0],
    ['1ms', 1],
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['2.5m', 150_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['0.5ms', 1], // rounded to whole milliseconds
    ['0.4ms', 0],
    ['007s', 7000],
  ])('%s is %i ms', (text, ms) => {
    expect(durationSchema.safeParse(text).success).toBe(true);
    expect(durationMs(text)).toBe(ms);
  });

  it.each(['', '1', 's', '1 s', ' 1s', '1S', '1sec', '1.s', '.5s', '-1s', '1e3ms', '1w', '1h30m', '1,5s'])('%j is no duration', (text) => {
    expect(durationSchema.safeParse(text).success).toBe(false);
    expect(() => durationMs(text)).toThrow();
  });
});

describe('boundedDurationSchema', () => {
  const timeout = boundedDurationSchema(1, MAX_TIMER_MS);
  it.each([
    ['1ms', true],
    ['10s', true],
    ['24d', true],
    [`${MAX_TIMER_MS}ms`, true],
    ['0s', false],
    ['0.4ms', false],
    ['25d', false],
    [`${MAX_TIMER_MS + 1}ms`, false],
    ['soon', false],
  ])('between 1ms and the timer maximum: %s -> %s', (text, ok) => {
    expect(timeout.safeParse(text).success).toBe(ok);
  });

  it('reports a malformed duration once, by its format', () => {
    const result = timeout.safeParse('soon');
    expect(result.error?.issues.map((i) => i.code)).toEqual(['invalid_format']);
  });
});
