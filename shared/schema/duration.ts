import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** The longest delay a Node.js timer honours (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration such as `500ms`, `10s`, `1m`, `1h`, `1d`. */
export const durationSchema = z
  .string()
  .regex(DURATION, 'must be a duration like 500ms, 10s, 1m, 1h or 1d')
  .meta({ format: 'duration', description: 'A duration: 500ms, 10s, 1m, 1h, 1d.' });

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  return match ? Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]) : undefined;
}

/** Milliseconds in a duration string that {@link durationSchema} accepted. */
export function durationMs(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`);
  return ms;
}

/**
 * A duration of at least `minMs` and at most `maxMs` milliseconds (after rounding to whole ms),
 * for fields where 0 or a huge value would silently mean something else (no timeout, a timer
 * that fires at once, a division by zero).
 */
export function boundedDurationSchema(minMs: number, maxMs: number) {
  return durationSchema.refine((text) => {
    const ms = parseDurationMs(text);
    return ms === undefined || (ms >= minMs && ms <= maxMs); // a malformed text is reported by the regex already
  }, `must be between ${minMs}ms and ${maxMs}ms`);
}
