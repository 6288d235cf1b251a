import { randomFillSync } from 'node:crypto';
import type { TraceContext } from '../runtime/types.ts';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Random hex from a pooled buffer: one system call per few hundred ids instead of one per id. */
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * W3C trace context for a request: the incoming `traceparent` continued (new span, same
 * trace) when it is valid, else a new trace. `tracestate` is kept only with a valid parent.
 */
export function traceContextOf(traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): TraceContext {
  if (typeof traceparent === 'string' && traceparent.length === 55) {
    const m = TRACEPARENT.exec(traceparent);
    if (m && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) {
      const state = typeof tracestate === 'string' && tracestate.length <= 512 ? tracestate : undefined;
      return { traceId: m[2]!, spanId: randomHex(8), traceState: state, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
    }
  }
  return { traceId: randomHex(16), spanId: randomHex(8), traceState: undefined, sampled: false };
}
