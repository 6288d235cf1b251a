import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A duration such as `500ms`, `10s`, `1m`, `1h`, `1d`. */
export const durationSchema = z
  .string()
  .regex(DURATION, 'must be a duration like 500ms, 10s, 1m, 1h or 1d')
  .meta({ format: 'duration', description: 'A duration: 500ms, 10s, 1m, 1h, 1d.' });

/** Milliseconds in a duration string that {@link durationSchema} accepted. */
export function durationMs(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}
