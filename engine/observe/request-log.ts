import { createHmac } from 'node:crypto';
import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { jsonString, millisText } from './json-text.ts';

/** The fields of the one line logged per request. Values are the gateway's own: no header, token or body. */
export interface RequestRecord {
  traceId: string;
  spanId: string;
  method: string;
  /** The client's address, as the one client-address function says (SLUICE_TRUST_PROXY). */
  client: string;
  /** `,"route":…,"workflow":…,"version":…` of the workflow version that served the request, made once per version by workflowLogFields. */
  workflowFields: string;
  partner: string | undefined;
  /** The subject as logged (hashed unless configured otherwise); absent when not logged. */
  subject: string | undefined;
  /** The JSON object of the fields the workflow opts in to log (its `log.fields`). */
  fields: string | undefined;
  outcome: string;
  status: number;
  problem: string | undefined;
  ms: number;
  upstreamMs: number | undefined;
  path: string[];
  /** A rate limit decided by its onStoreDown choice because Redis was unreachable. */
  rateLimitStoreDown: string | undefined;
  /** An LLM call's model and tokens (llm proxies); absent for other requests. */
  llm?: LoggedLlm | undefined;
  /** The MCP tool the request called (an mcp-tool node, or the /mcp/ endpoint); absent for other traffic. */
  mcpTool?: string | undefined;
}

/** What the request log says of an LLM call. */
export interface LoggedLlm {
  model: string | undefined;
  input: number | undefined;
  output: number | undefined;
  estimated: boolean | undefined;
}

/** The `llm` member: the model (a caller's text, so escaped) and the tokens when known. */
function llmFields(llm: LoggedLlm): string {
  return (
    `,"llm":{${llm.model === undefined ? '' : `"model":${jsonString(llm.model.slice(0, 200))}`}` +
    (llm.input === undefined ? '' : `${llm.model === undefined ? '' : ','}"input":${llm.input},"output":${llm.output ?? 0},"estimated":${llm.estimated === true}`) +
    '}'
  );
}

/**
 * Logs a finished request; `now` is the time (ms since the epoch) the line carries. With
 * `othersInFlight`, the gateway is busy and the line may wait up to BUSY_FLUSH_MS for more lines.
 * The record is kept, not copied, until its line is made: it must not change once logged.
 */
export type RequestLog = (record: RequestRecord, now: number, othersInFlight?: boolean) => void;

/** The members that name the workflow version serving a request: built once per version, not per request. */
export function workflowLogFields(route: string, workflow: string, version: number): string {
  return `,"route":${jsonString(route)},"workflow":${jsonString(workflow)},"version":${version}`;
}

/** The `path` member: node ids are validated identifiers, so they need no escaping (joined by hand: Array#join costs ~800 instructions for three ids). */
function pathMember(path: string[]): string {
  if (path.length === 0) return ',"path":[]';
  let text = `,"path":["${path[0]}`;
  for (let i = 1; i < path.length; i++) text += `","${path[i]}`;
  return `${text}"]`;
}

/**
 * The record as JSON members, in a fixed order.
 */
function fieldsOf(r: RequestRecord): string {
  return (
    `"traceId":"${r.traceId}","spanId":"${r.spanId}","method":${jsonString(r.method)},"client":${jsonString(r.client)}${r.workflowFields}` +
    (r.partner === undefined ? '' : `,"partner":${jsonString(r.partner)}`) +
    (r.subject === undefined ? '' : `,"subject":${jsonString(r.subject)}`) +
    `,"outcome":"${r.outcome}","status":${r.status}` +
    (r.problem === undefined ? '' : `,"problem":${jsonString(r.problem)}`) +
    `,"ms":${millisText(r.ms)}` +
    (r.upstreamMs === undefined ? '' : `,"upstreamMs":${millisText(r.upstreamMs)}`) +
    (r.rateLimitStoreDown === undefined ? '' : `,"rateLimitStoreDown":"${r.rateLimitStoreDown}"`) +
    (r.mcpTool === undefined ? '' : `,"mcpTool":${jsonString(r.mcpTool)}`) +
    pathMember(r.path) +
    (r.llm === undefined ? '' : llmFields(r.llm)) +
    (r.fields === undefined ? '' : `,"fields":${r.fields}`)
  );
}

/** How the request log names a token's subject. */
export type SubjectLogging = { mode: 'off' } | { mode: 'plain' } | { mode: 'hash'; key?: string };

/** Subjects hashed recently: a partner's repeated calls hash once. Cleared when full. */
const HASHED_SUBJECTS_MAX = 10_000;

/**
 * The subject as the log line carries it: `plain` as sent, `hash` as the first 16 hex digits of
 * HMAC-SHA256 (with SLUICE_LOG_SUBJECT_KEY, so replicas agree and a dictionary needs the key),
 * `off` not at all.
 */
export function subjectLogger(config: SubjectLogging): (subject: string) => string | undefined {
  if (config.mode === 'off') return () => undefined;
  if (config.mode === 'plain') return (subject) => subject;
  const key = config.key ?? '';
  const hashed = new Map<string, string>();
  return (subject) => {
    let hash = hashed.get(subject);
    if (hash === undefined) {
      if (hashed.size >= HASHED_SUBJECTS_MAX) hashed.clear();
      hash = createHmac('sha256', key).update(subject).digest('hex').slice(0, 16);
      hashed.set(subject, hash);
    }
    return hash;
  };
}

/** Every request log's flush, run once when the process exits (one listener, however many gateways a process holds). */
const flushOnExit = new Set<() => void>();
process.once('exit', () => {
  for (const flush of flushOnExit) flush();
});

/** A pino destination; the process logger's is a synchronous sonic-boom (see logger.ts). */
interface Destination {
  write(lines: string): unknown;
  readonly fd?: number;
  readonly sync?: boolean;
  /** sonic-boom's bytes queued and whether a write is under way: lines pino wrote and could not yet hand over. */
  readonly _len?: number;
  readonly _writing?: boolean;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * How a batch of lines reaches the destination. A synchronous sonic-boom with nothing queued gets
 * the batch encoded once and written from here: through its write() the batch was measured twice,
 * encoded to be written and, once written, encoded again into a Buffer only to count the bytes
 * written. Anything queued there is written first by handing the batch to it, so lines
 * stay in order; so is any other destination (tests, transports).
 */
function batchWriter(stream: Destination): (lines: string) => void {
  if (stream.sync !== true || typeof stream.fd !== 'number' || typeof stream._len !== 'number') return (lines) => void stream.write(lines);
  return (lines) => {
    const fd = stream.fd!;
    if (stream._len !== 0 || stream._writing || fd < 0) {
      stream.write(lines);
      return;
    }
    const bytes = Buffer.from(lines);
    let written = 0;
    try {
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written);
        } catch (error) {
          // a full non-blocking pipe (stdout read by a slow consumer): wait as sonic-boom does in sync mode
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          Atomics.wait(pause, 0, 0, 10);
        }
      }
    } catch {
      // the destination reports it (its 'error' event), unless part of the batch is out already
      if (written === 0) stream.write(lines);
    }
  };
}

/** Lines are handed to the destination in batches of at most this many. */
const BATCH_LINES = 48;

/** The longest a line waits while other requests are in flight (a busy gateway's lines wait for a full batch). */
const BUSY_FLUSH_MS = 25;

/**
 * Writes the request line in the logger's own format (level, time, pid, msg), straight to the
 * logger's destination. The record holds only values the gateway produced, so pino's generic
 * serialisation and redaction are not needed. Records are batched, and their lines made when the
 * batch is written: a write costs a system call (~2 µs here), and making 48 lines in one loop
 * runs warm code where a line made at the end of each request ran cold. The batch is written at
 * the end of the turn in which the gateway fell idle (the last request in flight logged), when it
 * is full, or BUSY_FLUSH_MS after its first record: under load ~48 lines share a write, and a
 * quiet gateway's line is written before its next turn.
 */
export function createRequestLog(logger: Logger): RequestLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  const write = batchWriter((logger as unknown as Record<symbol, Destination>)[pino.symbols.streamSym]!);
  const prefix = `{"level":"info","time":"`;
  const middle = `","pid":${process.pid},"msg":"request",`;
  const records: RequestRecord[] = [];
  const times: number[] = [];
  let endOfTurn = false;
  let busyTimer: NodeJS.Timeout | undefined;
  // Formatting a date (toISOString: ~7,000 instructions) costs more than building the rest of a
  // line: it is done once a second, for the part up to the seconds, and lines of one millisecond
  // share their stamp.
  let stampedAt = 0;
  let stamp = '';
  let second = Number.NaN;
  let secondStamp = '';
  const flush = () => {
    endOfTurn = false;
    if (busyTimer !== undefined) {
      clearTimeout(busyTimer);
      busyTimer = undefined;
    }
    if (records.length === 0) return;
    let lines = '';
    for (let i = 0; i < records.length; i++) {
      const now = times[i]!;
      if (now !== stampedAt) {
        stampedAt = now;
        const at = Math.floor(now / 1000);
        if (at !== second) {
          second = at;
          secondStamp = new Date(at * 1000).toISOString().slice(0, -4); // up to the seconds' dot: "2026-12-06T19:21:04."
        }
        const ms = Math.floor(now - at * 1000);
        stamp = `${secondStamp}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
      }
      lines += `${prefix}${stamp}${middle}${fieldsOf(records[i]!)}}\n`;
    }
    records.length = 0;
    times.length = 0;
    write(lines);
  };
  flushOnExit.add(flush); // the last lines
  return function logRequest(record, now, othersInFlight = false) {
    records.push(record);
    times.push(now);
    if (records.length >= BATCH_LINES) flush();
    else if (!othersInFlight) {
      if (!endOfTurn) {
        endOfTurn = true;
        setImmediate(flush);
      }
    } else if (busyTimer === undefined && !endOfTurn) busyTimer = setTimeout(flush, BUSY_FLUSH_MS).unref();
  };
}
