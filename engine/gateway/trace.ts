import type { TraceContext } from '../kinds/types.ts';
import { randomHex } from '../observe/random-hex.ts';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * W3C trace context for a request: the incoming `traceparent` continued (new span, same
 * trace) when it is valid, else a new trace. `tracestate` is kept only with a valid parent.
 */
export function traceContextOf(traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): TraceContext {
  // Version 00 is exactly 55 characters. A later version may append fields after a dash; its first
  // 55 characters are read as version 00 (W3C Trace Context, "Versioning of traceparent").
  if (typeof traceparent === 'string' && (traceparent.length === 55 || (traceparent.length > 55 && traceparent.charCodeAt(55) === 45 && !traceparent.startsWith('00')))) {
    const m = TRACEPARENT.exec(traceparent.length === 55 ? traceparent : traceparent.slice(0, 55));
    if (m && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) {
      const state = typeof tracestate === 'string' && tracestate.length <= 512 ? tracestate : undefined;
      return { traceId: m[2]!, spanId: randomHex(8), parentSpanId: m[3]!, traceState: state, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
    }
  }
  // one draw for both ids: each draw is a call into C++ (~1,300 instructions), a slice a fraction of that
  const ids = randomHex(24);
  return { traceId: ids.slice(0, 32), spanId: ids.slice(32), parentSpanId: undefined, traceState: undefined, sampled: false };
}
