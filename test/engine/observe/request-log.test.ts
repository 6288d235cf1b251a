import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../engine/observe/logger.ts';
import { createRequestLog, type RequestRecord } from '../../../engine/observe/request-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function record(n: number, partner: string): RequestRecord {
  return {
    traceId: n.toString(16).padStart(32, '0'), spanId: '00f067aa0ba902b7', method: 'GET', client: '127.0.0.1', workflowFields: ',"route":"/orders","workflow":"orders","version":3',
    partner, subject: undefined, fields: undefined, outcome: 'ok', status: 200, problem: undefined, ms: 1.5, upstreamMs: 1.25, path: ['verify', 'proxy'], rateLimitStoreDown: undefined,
  };
}

/** The process logger writing to a file (a synchronous sonic-boom), as `LOG_FILE` makes it. */
function fileLogger() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-request-log-'));
  dirs.push(dir);
  const file = join(dir, 'gateway.log');
  const logger = createLogger({ destination: file });
  return { logger, file, lines: () => readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The line as JSON.stringify writes the same members in the same order: what every written line must equal, byte for byte. */
function expectedLine(r: RequestRecord, time: number): string {
  const workflow = JSON.parse(`{${r.workflowFields.slice(1)}}`) as Record<string, unknown>;
  const members: Record<string, unknown> = { level: 'info', time: new Date(time).toISOString(), pid: process.pid, msg: 'request', traceId: r.traceId, spanId: r.spanId, method: r.method, client: r.client, ...workflow };
  if (r.partner !== undefined) members.partner = r.partner;
  if (r.subject !== undefined) members.subject = r.subject;
  Object.assign(members, { outcome: r.outcome, status: r.status });
  if (r.problem !== undefined) members.problem = r.problem;
  members.ms = r.ms;
  if (r.upstreamMs !== undefined) members.upstreamMs = r.upstreamMs;
  if (r.rateLimitStoreDown !== undefined) members.rateLimitStoreDown = r.rateLimitStoreDown;
  if (r.mcpTool !== undefined) members.mcpTool = r.mcpTool;
  members.path = r.path;
  if (r.fields !== undefined) members.fields = JSON.parse(r.fields);
  return JSON.stringify(members);
}

describe('request log, written to the process logger\'s file', () => {
  it('writes each line byte for byte as JSON.stringify would: escapes, non-ASCII, lone surrogates, durations, a line longer than the batch', async () => {
    const { logger, file } = fileLogger();
    const log = createRequestLog(logger)!;
    const durations = [0, 0.001, 0.05, 0.5, 1.25, 33.677, 1234.5, 99999.999, 86_400_000.001, 0.1 + 0.2, 1e-7, 5e12 + 0.001, 123456789012.5];
    const texts = ['plain', 'quote " and \\ back', 'C:\\dir', 'tab\there', 'line\nbreak', '\u0000\u001f\u007f', 'Société', '東京', '🚀', 'lone \ud800 high', 'lone \udc00 low', ''];
    const records: RequestRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const text = texts[i % texts.length]!;
      records.push({
        ...record(i, text), method: i % 7 === 0 ? text : 'GET', client: i % 5 === 0 ? text : '203.0.113.9', subject: i % 2 === 0 ? text : undefined,
        status: [200, 0, 7, 10, 99, 404, 503, 1000][i % 8]!, problem: i % 3 === 0 ? `https://sluice.dev/problems/${text}` : undefined,
        ms: durations[i % durations.length]!, upstreamMs: i % 4 === 0 ? undefined : durations[(i + 5) % durations.length]!,
        rateLimitStoreDown: i % 9 === 0 ? 'allowed' : undefined, mcpTool: i % 6 === 0 ? text : undefined, path: i % 10 === 0 ? [] : ['verify', 'proxy'],
        fields: i === 30 ? JSON.stringify({ big: 'x'.repeat(100_000), nested: { text } }) : i % 4 === 1 ? JSON.stringify({ text }) : undefined,
        workflowFields: i % 2 === 0 ? ',"route":"/orders","workflow":"orders","version":3' : ',"route":"/café/東京","workflow":"orders","version":12',
      });
    }
    const time = Date.UTC(2026, 11, 7, 8, 0, 0, 5);
    for (const r of records) log(r, time, true);
    await sleep(40);
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(written).toEqual(records.map((r) => expectedLine(r, time)));
  });

  it('writes every line of a batch whole and once, non-ASCII values included, at the end of the turn', async () => {
    const { logger, lines } = fileLogger();
    const log = createRequestLog(logger)!;
    const partners = ['acme', 'Société Générale', '東京 partner', 'emoji 🚀 co', 'quote " and \\ back'];
    for (let i = 0; i < 2000; i++) log(record(i, partners[i % partners.length]!), Date.UTC(2026, 10, 29, 12, 0, 0, i));
    await nextTurn();
    const written = lines();
    expect(written).toHaveLength(2000);
    written.forEach((line, i) => {
      expect(line).toMatchObject({ level: 'info', msg: 'request', traceId: i.toString(16).padStart(32, '0'), partner: partners[i % partners.length], status: 200, path: ['verify', 'proxy'] });
      expect(line.time).toBe(new Date(Date.UTC(2026, 10, 29, 12, 0, 0, i)).toISOString());
    });
  });

  it('stamps each line with its time as toISOString gives it, across seconds, years and a clock set back', async () => {
    const { logger, lines } = fileLogger();
    const log = createRequestLog(logger)!;
    const times = [Date.UTC(2026, 11, 31, 23, 59, 59, 998), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), Date.UTC(2027, 0, 1, 0, 0, 0, 7), Date.UTC(2027, 0, 1, 0, 0, 0, 42),
      Date.UTC(2027, 0, 1, 0, 0, 1, 100), Date.UTC(2026, 11, 31, 23, 59, 59, 500), Date.UTC(2026, 11, 31, 23, 59, 59, 500) + 0.75, 0, 253402300800000];
    for (const [i, time] of times.entries()) log(record(i, 'acme'), time);
    await nextTurn();
    expect(lines().map((line) => line.time)).toEqual(times.map((time) => new Date(time).toISOString()));
  });

  it('keeps the order of request lines and the logger\'s own lines', async () => {
    const { logger, lines } = fileLogger();
    const log = createRequestLog(logger)!;
    log(record(1, 'acme'), Date.now());
    logger.warn('between'); // the logger writes at once; the batch waits for the end of the turn
    await nextTurn();
    log(record(2, 'acme'), Date.now());
    await nextTurn();
    logger.warn('after');
    expect(lines().map((line) => line.msg === 'request' ? line.traceId : line.msg)).toEqual(['between', (1).toString(16).padStart(32, '0'), (2).toString(16).padStart(32, '0'), 'after']);
  });

  it('while other requests are in flight, batches lines across turns until the gateway is idle, the batch is full or 25 ms passed', async () => {
    const { logger, lines } = fileLogger();
    const log = createRequestLog(logger)!;
    const traceIds = () => { try { return lines().map((line) => line.traceId); } catch { return []; } };
    log(record(1, 'acme'), Date.now(), true);
    await nextTurn();
    log(record(2, 'acme'), Date.now(), true);
    await nextTurn();
    expect(traceIds()).toEqual([]); // busy: two turns, no write
    log(record(3, 'acme'), Date.now(), false); // the last one in flight: written at the end of its turn
    await nextTurn();
    expect(traceIds()).toHaveLength(3);

    log(record(4, 'acme'), Date.now(), true);
    await sleep(5);
    expect(traceIds()).toHaveLength(3);
    await sleep(40); // the busy wait is bounded
    expect(traceIds()).toHaveLength(4);

    for (let i = 5; i < 200; i++) log(record(i, 'acme'), Date.now(), true); // several batches of 48 lines: written at once, no timer needed
    expect(traceIds().length).toBeGreaterThan(4);
    await sleep(40);
    expect(traceIds()).toEqual(Array.from({ length: 199 }, (_, i) => (i + 1).toString(16).padStart(32, '0')));
  });
});
