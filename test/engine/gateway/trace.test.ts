import { describe, expect, it } from 'vitest';
import { traceContextOf } from '../../../engine/gateway/trace.ts';

describe('traceContextOf', () => {
  it('starts a new trace with a 32-digit trace id and a 16-digit span id, none repeated over 20,000 requests', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const trace = traceContextOf(undefined, 'ignored=1');
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(trace).toMatchObject({ parentSpanId: undefined, traceState: undefined, sampled: false });
      traces.add(trace.traceId);
      spans.add(trace.spanId);
    }
    expect(traces.size).toBe(20_000);
    expect(spans.size).toBe(20_000);
  });

  it('continues a valid traceparent with a span of its own, and starts a new trace for an invalid one', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const continued = traceContextOf(parent, 'vendor=1');
    expect(continued).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7', traceState: 'vendor=1', sampled: true });
    expect(continued.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(continued.spanId).not.toBe('00f067aa0ba902b7');
    for (const bad of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', 'garbage']) {
      const fresh = traceContextOf(bad, 'vendor=1');
      expect(fresh.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(fresh).toMatchObject({ parentSpanId: undefined, traceState: undefined });
    }
  });
});
