import type { Logger } from 'pino';
import type { LlmRecord } from '../kinds/types.ts';
import { randomHex } from './random-hex.ts';

/** One finished request as the exporter sees it: times are performance.now() milliseconds. */
interface RequestSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  method: string;
  route: string | undefined;
  path: string;
  workflow: string | undefined;
  version: number | undefined;
  partner: string | undefined;
  outcome: string;
  status: number;
  problem: string | undefined;
  started: number;
  ended: number;
  /** The nodes entered, in order, with their kinds… */
  nodes: readonly string[];
  kinds: readonly string[];
  /** …and their start and end times, two numbers per node. */
  timings: readonly number[];
  /** The request's LLM call (its provider API, model and tokens become OpenTelemetry's gen_ai attributes when the batch is sent). */
  llm?: LlmRecord | undefined;
  /** The MCP tool the request calls. */
  tool?: string | undefined;
}

export interface SpanExporter {
  add(span: RequestSpan): void;
  /** Sends what is queued; resolves when the collector answered (or failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Spans sent, dropped (queue full) and failed (collector errors), for metrics. */
  readonly counts: { exported: number; dropped: number; failed: number };
}

type Attribute = { key: string; value: { stringValue: string } | { intValue: string } | { boolValue: boolean } };
const text = (key: string, value: string): Attribute => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): Attribute => ({ key, value: { intValue: String(value) } });
const bool = (key: string, value: boolean): Attribute => ({ key, value: { boolValue: value } });

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_SERVER = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

/** OpenTelemetry's GenAI semantic conventions for an LLM call: provider, model, tokens (and whether the gateway estimated them). */
function llmAttributes(llm: LlmRecord): Attribute[] {
  const usage = llm.usage;
  return [
    text('gen_ai.system', llm.api),
    ...(llm.model === undefined ? [] : [text('gen_ai.request.model', llm.model.slice(0, 200))]),
    ...(usage === undefined ? [] : [int('gen_ai.usage.input_tokens', usage.input), int('gen_ai.usage.output_tokens', usage.output), bool('sluice.llm.estimated', usage.estimated)]),
  ];
}

/** performance.now() milliseconds as Unix nanoseconds, the decimal string OTLP/JSON carries. */
const unixNano = (ms: number) => (BigInt(Math.round((performance.timeOrigin + ms) * 1000)) * 1000n).toString();

/** Spans are sent in batches of at most this many… */
const BATCH = 512;
/** …at least this often… */
const INTERVAL_MS = 1_000;
/** …and beyond this many waiting, new ones are dropped (a collector that is down must not grow the heap). */
const MAX_QUEUED = 8_192;

/**
 * Exports one server span per request with a child span per node over OTLP/HTTP with JSON
 * encoding (`POST <endpoint>/v1/traces`). Spans are built when a batch is sent, not on the
 * request path; a failed export is logged once per failure streak and the batch dropped.
 */
export function createOtlpExporter(options: { endpoint: string; headers: Record<string, string>; serviceName: string; logger: Logger }): SpanExporter {
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  let queue: RequestSpan[] = [];
  const counts = { exported: 0, dropped: 0, failed: 0 };
  let failing = false;
  let sending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void flush(), INTERVAL_MS);
  timer.unref();

  function toOtlp(spans: RequestSpan[]) {
    const out = [];
    for (const s of spans) {
      const failed = s.status >= 500;
      out.push({
        traceId: s.traceId,
        spanId: s.spanId,
        ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
        name: s.route ? `${s.method} ${s.route}` : s.method,
        kind: SPAN_KIND_SERVER,
        startTimeUnixNano: unixNano(s.started),
        endTimeUnixNano: unixNano(s.ended),
        attributes: [
          text('http.request.method', s.method),
          text('url.path', s.path),
          ...(s.route ? [text('http.route', s.route)] : []),
          int('http.response.status_code', s.status),
          ...(s.workflow ? [text('sluice.workflow', s.workflow), int('sluice.version', s.version ?? 0)] : []),
          ...(s.partner ? [text('sluice.partner', s.partner)] : []),
          text('sluice.outcome', s.outcome),
          ...(s.problem ? [text('sluice.problem', s.problem)] : []),
          ...(s.llm ? llmAttributes(s.llm) : []),
          ...(s.tool ? [text('gen_ai.tool.name', s.tool)] : []),
        ],
        status: { code: failed ? STATUS_ERROR : STATUS_UNSET },
      });
      for (let i = 0; i < s.nodes.length; i++) {
        const started = s.timings[2 * i];
        const ended = s.timings[2 * i + 1];
        if (started === undefined || ended === undefined) break;
        out.push({
          traceId: s.traceId,
          spanId: randomHex(8),
          parentSpanId: s.spanId,
          name: s.nodes[i]!,
          kind: SPAN_KIND_INTERNAL,
          startTimeUnixNano: unixNano(started),
          endTimeUnixNano: unixNano(ended),
          attributes: [text('sluice.node', s.nodes[i]!), text('sluice.node.kind', s.kinds[i] ?? '')],
          status: { code: STATUS_UNSET },
        });
      }
    }
    return {
      resourceSpans: [
        {
          resource: { attributes: [text('service.name', options.serviceName)] },
          scopeSpans: [{ scope: { name: 'sluice' }, spans: out }],
        },
      ],
    };
  }

  async function send(batch: RequestSpan[]): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body: JSON.stringify(toOtlp(batch)),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`collector answered ${response.status}`);
      counts.exported += batch.length;
      if (failing) options.logger.info({ endpoint: options.endpoint }, 'OTLP export recovered');
      failing = false;
    } catch (error) {
      counts.failed += batch.length;
      if (!failing) options.logger.warn({ endpoint: options.endpoint, error: (error as Error).message }, 'OTLP export failed; spans dropped until the collector answers');
      failing = true;
    }
  }

  function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.length <= BATCH ? queue : queue.slice(0, BATCH);
      queue = queue.length <= BATCH ? [] : queue.slice(BATCH);
      sending = sending.then(() => send(batch));
    }
    return sending;
  }

  return {
    counts,
    add(span) {
      if (queue.length >= MAX_QUEUED) {
        counts.dropped++;
        return;
      }
      queue.push(span);
      if (queue.length >= BATCH) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
