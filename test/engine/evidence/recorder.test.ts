import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openDuckDbEvidence } from '../../../engine/evidence/duckdb-store.ts';
import { createEvidenceRecorder } from '../../../engine/evidence/recorder.ts';
import type { EvidenceCapture } from '../../../engine/evidence/capture.ts';
import type { EvidenceStore } from '../../../engine/evidence/types.ts';
import type { PartnerDirectory } from '../../../engine/kinds/support/partner-directory.ts';
import type { RequestRecord } from '../../../engine/observe/request-log.ts';
import { until } from '../admin/support.ts';

/* The recorder between the gateway and the store: batches, a bounded queue that drops and counts, retention and the size cap on a timer. */

const EMPTY = { partners: new Map(), guarded: new Map() } as unknown as PartnerDirectory;
const logger = pino({ level: 'silent' });

function capture(i: number, time = Date.now()): EvidenceCapture {
  const record: RequestRecord = {
    traceId: i.toString(16).padStart(32, '0'), spanId: '0'.repeat(16), method: 'GET', client: '127.0.0.1', workflowFields: '', partner: `p${i % 3}`, subject: undefined, fields: undefined,
    outcome: 'ok', status: 200, problem: undefined, ms: 1, upstreamMs: undefined, path: [], rateLimitStoreDown: undefined,
  };
  return { time, record, workflow: undefined, final: undefined, keyId: undefined, upstreamStatus: undefined, llm: undefined };
}

const fileStore = () => openDuckDbEvidence(join(mkdtempSync(join(tmpdir(), 'sluice-recorder-')), 'evidence.duckdb'));

describe('the evidence recorder', () => {
  it('writes captures in batches and counts them', async () => {
    const store = await fileStore();
    const counted: Record<string, number> = {};
    const recorder = createEvidenceRecorder({ store, replica: 'r1', directory: () => EMPTY, batch: 100, retentionMs: 86_400_000, maxBytes: 2 ** 40, logger, count: (result, n) => void (counted[result] = (counted[result] ?? 0) + n) });
    for (let i = 0; i < 1_050; i++) recorder.add(capture(i));
    await recorder.flush();
    expect(recorder.stats()).toEqual({ written: 1_050, dropped: 0, queued: 0 });
    expect(counted).toEqual({ written: 1_050 });
    expect((await store.size()).records).toBe(1_050);
    const [one] = await store.find({ from: 0, to: Date.now() + 1, traceId: (7).toString(16).padStart(32, '0'), limit: 1 });
    expect(one).toMatchObject({ replica: 'r1', partner: 'p1', workflow: null, nodes: [] });
    await recorder.close();
    await store.close();
  });

  it('drops what finds the queue full while the store is slow, and counts it; nothing waits', async () => {
    const store = await fileStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: EvidenceStore = { ...store, insert: async (records) => (await gate, store.insert(records)) };
    const recorder = createEvidenceRecorder({ store: slow, replica: 'r1', directory: () => EMPTY, batch: 10, maxQueue: 50, retentionMs: 86_400_000, maxBytes: 2 ** 40, logger });
    for (let i = 0; i < 10; i++) recorder.add(capture(i)); // a full batch: its write starts and waits at the gate
    for (let i = 10; i < 100; i++) recorder.add(capture(i)); // 50 wait in the queue, 40 find it full
    expect(recorder.stats()).toEqual({ written: 0, dropped: 40, queued: 50 });
    release();
    await recorder.close();
    expect(recorder.stats()).toEqual({ written: 60, dropped: 40, queued: 0 });
    recorder.add(capture(1_000)); // closed: dropped
    expect(recorder.stats().dropped).toBe(41);
    await store.close();
  });

  it('writes what came during a write when a batch is full or after flushMs, not as soon as the write ends', async () => {
    const inserts: Array<{ at: number; n: number }> = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store: EvidenceStore = { ...(await fileStore()), insert: async (records) => void (await gate, inserts.push({ at: performance.now(), n: records.length })) };
    const recorder = createEvidenceRecorder({ store, replica: 'r1', directory: () => EMPTY, batch: 10, flushMs: 300, retentionMs: 86_400_000, maxBytes: 2 ** 40, logger });
    for (let i = 0; i < 10; i++) recorder.add(capture(i)); // a full batch: written at once, held at the gate
    for (let i = 10; i < 33; i++) recorder.add(capture(i)); // two full batches and 3 more arrive meanwhile
    const released = performance.now();
    release();
    await until('the three full batches written', async () => (inserts.length >= 3 ? true : undefined));
    expect(inserts.map((i) => i.n)).toEqual([10, 10, 10]);
    expect(recorder.stats().queued).toBe(3);
    await until('the rest written', async () => (inserts.length === 4 ? true : undefined));
    expect(inserts[3]!.n).toBe(3);
    expect(inserts[3]!.at - released).toBeGreaterThanOrEqual(290); // waited for flushMs, not written right after the batches
    await recorder.close();
    await store.close();
  });

  it('a store that fails loses the batch, counted, and takes the next one', async () => {
    const store = await fileStore();
    let fail = true;
    const flaky: EvidenceStore = { ...store, insert: async (records) => (fail ? Promise.reject(new Error('disk full')) : store.insert(records)) };
    const recorder = createEvidenceRecorder({ store: flaky, replica: 'r1', directory: () => EMPTY, batch: 5, retentionMs: 86_400_000, maxBytes: 2 ** 40, logger });
    for (let i = 0; i < 5; i++) recorder.add(capture(i));
    await recorder.flush();
    fail = false;
    for (let i = 5; i < 8; i++) recorder.add(capture(i));
    await recorder.flush();
    expect(recorder.stats()).toEqual({ written: 3, dropped: 5, queued: 0 });
    await recorder.close();
    await store.close();
  });

  it('enforces retention and the size cap on its timer', async () => {
    const store = await fileStore();
    const now = Date.now();
    const day = 86_400_000;
    const old = createEvidenceRecorder({ store, replica: 'r1', directory: () => EMPTY, retentionMs: 1_000 * day, maxBytes: 2 ** 40, logger, pruneEveryMs: 3_600_000 });
    for (let i = 0; i < 300; i++) old.add(capture(i, now - (i % 3) * 10 * day)); // today, 10 and 20 days ago
    await old.close();
    expect((await store.size()).records).toBe(300);
    // 15 days of retention: the 20-day-old records go at the first prune, the start
    const recorder = createEvidenceRecorder({ store, replica: 'r1', directory: () => EMPTY, retentionMs: 15 * day, maxBytes: 2 ** 40, logger, pruneEveryMs: 50 });
    await until('the records past retention to be pruned', async () => ((await store.size()).records === 200 ? true : undefined));
    const left = await store.find({ from: 0, to: now + 1, limit: 1_000 });
    expect(Math.min(...left.map((r) => r.time))).toBe(now - 10 * day);
    await recorder.close();
    // a cap below what is kept: the oldest go first, until under it
    const capped = createEvidenceRecorder({ store, replica: 'r1', directory: () => EMPTY, retentionMs: 15 * day, maxBytes: 1, logger, pruneEveryMs: 50 });
    await until('the size cap to be enforced', async () => ((await store.size()).records === 0 ? true : undefined));
    await capped.close();
    await store.close();
  });
});
