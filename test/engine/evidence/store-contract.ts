import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceRecord, EvidenceStore } from '../../../engine/evidence/types.ts';

/*
 * What every evidence store does, the same for DuckDB and ClickHouse: records kept whole and
 * found by time range and exact values, newest first, paged without gaps; counts by bucket and
 * dimension; retention and the size cap; filter values that are never SQL.
 */

/** Tuesday 2026-12-01 00:00 UTC: the day the records are about. */
const DAY = Date.UTC(2026, 11, 1);
const HOUR = 3_600_000;

/** A record of the test day, `minute` minutes after `hour`:00. */
function evidenceRecord(hour: number, minute: number, fields: Partial<EvidenceRecord> = {}): EvidenceRecord {
  const time = DAY + hour * HOUR + minute * 60_000;
  return {
    time,
    traceId: `${time.toString(16).padStart(16, '0')}${(fields.partner ?? 'none').padEnd(16, '0').slice(0, 16)}`.replace(/[^0-9a-f]/g, 'a'),
    replica: 'replica-a',
    method: 'GET',
    partner: 'acme',
    product: 'orders-api',
    workflow: 'orders',
    version: 1,
    route: '/orders/:id',
    subject: 'a1b2c3d4e5f60718',
    credential: 'jwt-verify',
    keyId: null,
    nodes: ['verify:ok', 'scopes:ok', 'call:ok'],
    outcome: 'ok',
    status: 200,
    problem: null,
    ms: 12.5,
    upstreamStatus: 200,
    upstreamMs: 9.25,
    model: null,
    inputTokens: null,
    outputTokens: null,
    ...fields,
  };
}

/** The contract, run against a store `open` makes empty. */
export function evidenceStoreContract(name: string, open: () => Promise<EvidenceStore>, options: { skip?: boolean } = {}) {
  describe.skipIf(options.skip === true)(`the ${name} evidence store`, () => {
    let store: EvidenceStore;
    const records: EvidenceRecord[] = [];
    beforeAll(async () => {
      store = await open();
      // acme every 10 minutes 09:00-11:50; globex every 15 minutes, refused 10:00-10:59; a LLM call with tokens
      for (let hour = 9; hour < 12; hour++) {
        for (let minute = 0; minute < 60; minute += 10) records.push(evidenceRecord(hour, minute, { version: hour < 10 ? 1 : 2 }));
        for (let minute = 0; minute < 60; minute += 15) {
          const refused = hour === 10;
          records.push(
            evidenceRecord(hour, minute + 1, {
              partner: 'globex', product: 'partner-api', credential: 'api-key', keyId: 'k7Hq2Zx9', subject: null, version: hour < 10 ? 1 : 2,
              ...(refused ? { nodes: ['key:suspended'], outcome: 'rejected', status: 403, problem: 'https://sluice.dev/problems/partner-suspended', upstreamStatus: null, upstreamMs: null } : {}),
            }),
          );
        }
      }
      records.push(evidenceRecord(11, 59, { partner: null, product: null, workflow: 'chat', route: '/v1/chat', nodes: ['limit:ok', 'llm:ok'], model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 345, credential: null, subject: null }));
      // inserted out of order, in two batches
      await store.insert(records.slice(20).reverse());
      await store.insert(records.slice(0, 20));
    });
    afterAll(async () => {
      await store?.close();
    });

    it('keeps each record whole, nulls and node paths included', async () => {
      const all = await store.find({ from: DAY, to: DAY + 24 * HOUR, limit: 10_000 });
      expect(all).toHaveLength(records.length);
      const expected = [...records].sort((a, b) => b.time - a.time || (a.traceId < b.traceId ? 1 : -1));
      expect(all).toEqual(expected);
      expect((await store.size()).records).toBe(records.length);
    });

    it('finds by time range (from inclusive, to exclusive) and exact values', async () => {
      const globexTen = await store.find({ from: DAY + 10 * HOUR, to: DAY + 11 * HOUR, partner: 'globex', limit: 100 });
      expect(globexTen.map((r) => r.time)).toEqual([46, 31, 16, 1].map((m) => DAY + 10 * HOUR + m * 60_000));
      expect(globexTen.every((r) => r.status === 403 && r.nodes.join() === 'key:suspended')).toBe(true);
      const acmeAtTen = await store.find({ from: DAY + 10 * HOUR, to: DAY + 10 * HOUR + 1, partner: 'acme', limit: 100 });
      expect(acmeAtTen).toHaveLength(1);
      expect(await store.find({ from: DAY + 10 * HOUR + 1, to: DAY + 10 * HOUR + 10 * 60_000, partner: 'acme', limit: 100 })).toEqual([]);
      expect((await store.find({ from: DAY, to: DAY + 24 * HOUR, version: 1, workflow: 'orders', partner: 'acme', limit: 100 })).length).toBe(6);
      expect((await store.find({ from: DAY, to: DAY + 24 * HOUR, problem: 'https://sluice.dev/problems/partner-suspended', limit: 100 })).length).toBe(4);
      expect((await store.find({ from: DAY, to: DAY + 24 * HOUR, status: 403, outcome: 'rejected', credential: 'api-key', limit: 100 })).length).toBe(4);
      const one = records[7]!;
      expect(await store.find({ from: DAY, to: DAY + 24 * HOUR, traceId: one.traceId, limit: 10 })).toEqual([one]);
      const chat = await store.find({ from: DAY, to: DAY + 24 * HOUR, workflow: 'chat', limit: 10 });
      expect(chat).toEqual([expect.objectContaining({ model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 345, partner: null })]);
    });

    it('pages newest first without gaps or repeats', async () => {
      const seen: EvidenceRecord[] = [];
      let before: { time: number; traceId: string } | undefined;
      for (;;) {
        const page = await store.find({ from: DAY, to: DAY + 24 * HOUR, limit: 7, before });
        seen.push(...page);
        if (page.length < 7) break;
        before = { time: page.at(-1)!.time, traceId: page.at(-1)!.traceId };
      }
      expect(seen.map((r) => r.traceId)).toEqual((await store.find({ from: DAY, to: DAY + 24 * HOUR, limit: 10_000 })).map((r) => r.traceId));
      expect(new Set(seen.map((r) => r.traceId)).size).toBe(records.length);
    });

    it('counts by time bucket and dimension', async () => {
      const hourly = await store.aggregate({ from: DAY, to: DAY + 24 * HOUR, by: ['partner', 'outcome'], bucketMs: HOUR });
      const at = (hour: number, partner: string | null, outcome: string) => hourly.find((g) => g.bucket === DAY + hour * HOUR && g.keys.partner === partner && g.keys.outcome === outcome)?.count;
      expect(at(9, 'acme', 'ok')).toBe(6);
      expect(at(10, 'globex', 'rejected')).toBe(4);
      expect(at(10, 'globex', 'ok')).toBeUndefined();
      expect(at(11, 'globex', 'ok')).toBe(4);
      expect(at(11, null, 'ok')).toBe(1);
      expect(hourly.reduce((sum, g) => sum + g.count, 0)).toBe(records.length);
      expect(hourly.map((g) => g.bucket)).toEqual(hourly.map((g) => g.bucket).sort((a, b) => a! - b!));
      const byVersion = await store.aggregate({ from: DAY, to: DAY + 24 * HOUR, workflow: 'orders', by: ['version'] });
      expect(byVersion.map((g) => ({ bucket: g.bucket, version: g.keys.version, count: g.count }))).toEqual([
        { bucket: null, version: '1', count: 6 + 4 },
        { bucket: null, version: '2', count: 12 + 8 },
      ]);
      expect(byVersion[0]).toMatchObject({ meanMs: 12.5, maxMs: 12.5 });
    });

    it('takes filter values as values, never as SQL', async () => {
      for (const partner of ["acme' OR '1'='1", 'acme\' OR 1=1 --', 'x\\\' OR 1=1 --', "'; DROP TABLE evidence; --"]) expect(await store.find({ from: DAY, to: DAY + 24 * HOUR, partner, limit: 10 })).toEqual([]);
      expect((await store.size()).records).toBe(records.length);
    });

    it('prunes what is older than the retention, then the oldest until under the size cap', async () => {
      expect(await store.prune({ olderThan: DAY + 9 * HOUR + 30 * 60_000, maxBytes: Number.MAX_SAFE_INTEGER })).toEqual({ deleted: 3 + 2 });
      const left = await store.find({ from: 0, to: DAY + 48 * HOUR, limit: 10_000 });
      expect(left).toHaveLength(records.length - 5);
      expect(Math.min(...left.map((r) => r.time))).toBe(DAY + 9 * HOUR + 30 * 60_000);
      const { deleted } = await store.prune({ olderThan: 0, maxBytes: 1 });
      expect(deleted).toBe(records.length - 5);
      expect((await store.size()).records).toBe(0);
    });
  });
}
