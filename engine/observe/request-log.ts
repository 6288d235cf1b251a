import pino, { type Logger } from 'pino';

/** The fields of the one line logged per request. Values are the gateway's own: no header, token or body. */
export interface RequestRecord {
  traceId: string;
  spanId: string;
  method: string;
  route: string | undefined;
  workflow: string | undefined;
  version: number | undefined;
  partner: string | undefined;
  outcome: string;
  status: number;
  problem: string | undefined;
  ms: number;
  upstreamMs: number | undefined;
  path: string[];
}

export type RequestLog = (record: RequestRecord) => void;

const str = (value: string) => JSON.stringify(value);
const opt = (name: string, value: string | number | undefined) => (value === undefined ? '' : `,"${name}":${typeof value === 'number' ? value : str(value)}`);

/** The record as JSON members, in a fixed order; faster than JSON.stringify of the whole object. */
function fieldsOf(r: RequestRecord): string {
  let path = '';
  for (let i = 0; i < r.path.length; i++) path += (i === 0 ? '' : ',') + str(r.path[i]!);
  return (
    `"traceId":"${r.traceId}","spanId":"${r.spanId}","method":${str(r.method)}` +
    opt('route', r.route) + opt('workflow', r.workflow) + opt('version', r.version) + opt('partner', r.partner) +
    `,"outcome":"${r.outcome}","status":${r.status}` + opt('problem', r.problem) + `,"ms":${r.ms}` + opt('upstreamMs', r.upstreamMs) + `,"path":[${path}]`
  );
}

/** Lines are handed to the destination in batches of about this many characters. */
const BATCH_CHARS = 16 * 1024;

/**
 * Writes the request line in the logger's own format (level, time, pid, msg), straight to the
 * logger's destination. The record holds only values the gateway produced, so pino's generic
 * serialisation and redaction are not needed. Lines are batched and handed over once per turn
 * of the event loop: the destination measures its buffer on every write, so one write per
 * line would cost more than building the line.
 */
export function createRequestLog(logger: Logger): RequestLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym]!;
  const prefix = `{"level":"info","time":"`;
  const middle = `","pid":${process.pid},"msg":"request",`;
  let batch = '';
  let scheduled = false;
  // Formatting a date costs about half of building a line; many lines share a millisecond.
  let stampedAt = 0;
  let stamp = '';
  const flush = () => {
    scheduled = false;
    if (batch === '') return;
    const lines = batch;
    batch = '';
    stream.write(lines);
  };
  return function logRequest(record) {
    const now = Date.now();
    if (now !== stampedAt) {
      stampedAt = now;
      stamp = new Date(now).toISOString();
    }
    batch += `${prefix}${stamp}${middle}${fieldsOf(record)}}\n`;
    if (batch.length >= BATCH_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
