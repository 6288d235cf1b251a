import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouseEvidence, sqlLiteral } from '../../../engine/evidence/clickhouse-store.ts';
import type { EvidenceRecord, EvidenceStore } from '../../../engine/evidence/types.ts';
import { clickhouseAvailable, startOwnedClickHouse, type OwnedClickHouse } from '../../helpers/clickhouse.ts';
import { evidenceStoreContract } from './store-contract.ts';

/*
 * The ClickHouse store against a clickhouse-server of the test's own (Debian's 18.16 here, which
 * takes no query parameters: every value is a literal written by sqlLiteral), a fresh database per
 * store. Beyond the contract: the literal's edges, round-tripped through the server, and a prune
 * that drops whole day partitions and deletes within the day of the retention edge.
 */

const available = clickhouseAvailable();
let server: OwnedClickHouse | undefined;
let starting: Promise<OwnedClickHouse> | undefined;
const serverUrl = async () => (await (starting ??= startOwnedClickHouse().then((s) => (server = s)))).url;
const freshStore = async () => openClickHouseEvidence({ url: await serverUrl(), database: `sluice_test_${randomBytes(6).toString('hex')}`, table: 'evidence' });

afterAll(async () => {
  await server?.close();
});

evidenceStoreContract('ClickHouse', freshStore, { skip: !available });

const DAY = Date.UTC(2026, 11, 1);
const HOUR = 3_600_000;

function evidenceRecord(time: number, partner: string | null, traceId = `${time.toString(16).padStart(16, '0')}${randomBytes(8).toString('hex')}`): EvidenceRecord {
  return {
    time, traceId, replica: 'replica-a', method: 'GET', partner, product: null, workflow: 'orders', version: 1, route: '/orders/:id', subject: null, credential: null, keyId: null,
    nodes: ['verify:ok'], outcome: 'ok', status: 200, problem: null, ms: 1, upstreamStatus: null, upstreamMs: null, model: null, inputTokens: null, outputTokens: null,
  };
}

describe('sqlLiteral (ClickHouse 18 takes no parameters: values are literals)', () => {
  it('quotes strings with backslash and quote escaped, control characters as \\xHH', () => {
    expect(sqlLiteral('acme')).toBe("'acme'");
    expect(sqlLiteral("it's")).toBe("'it\\'s'");
    expect(sqlLiteral('a\\b')).toBe("'a\\\\b'");
    expect(sqlLiteral("x\\' OR 1=1 --")).toBe("'x\\\\\\' OR 1=1 --'");
    expect(sqlLiteral('a\nb\r\t\u0000\u001f\u007f')).toBe("'a\\x0ab\\x0d\\x09\\x00\\x1f\\x7f'");
    expect(sqlLiteral('é😀')).toBe("'é😀'");
    expect(sqlLiteral('')).toBe("''");
  });

  it('writes finite numbers as decimal text and refuses everything else', () => {
    expect(sqlLiteral(1_764_547_200_000)).toBe('1764547200000');
    expect(sqlLiteral(-3)).toBe('-3');
    expect(sqlLiteral(12.5)).toBe('12.5');
    expect(sqlLiteral(1e21)).toBe('1e+21');
    expect(sqlLiteral(-0)).toBe('0');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, undefined, true, 1n, {}, ['a'], { toString: () => "' OR 1=1" }]) expect(() => sqlLiteral(bad)).toThrow(TypeError);
  });
});

describe.runIf(available)('the ClickHouse evidence store, beyond the contract', () => {
  let store: EvidenceStore;
  beforeAll(async () => {
    store = await freshStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores and finds values with every escape edge exactly, and nothing else', async () => {
    const edges = ['a\\b', 'ends\\', "'", "\\'", 'x\\\' OR 1=1 --', 'line\nbreak', 'cr\rlf', 'nul\u0000byte', 'tab\tand\u001funit', 'del\u007f', '\\x41', '\\0', 'é😀', '?', '{p:String}', "'; DROP TABLE evidence; --", '`', '"'];
    const records = edges.map((partner, i) => evidenceRecord(DAY + i * 1000, partner));
    await store.insert(records);
    for (const record of records) expect(await store.find({ from: DAY, to: DAY + HOUR, partner: record.partner!, limit: 10 })).toEqual([record]);
    expect(await store.find({ from: DAY, to: DAY + HOUR, partner: 'A', limit: 10 })).toEqual([]);
    expect(await store.find({ from: DAY, to: DAY + HOUR, partner: 'nul', limit: 10 })).toEqual([]);
    const groups = await store.aggregate({ from: DAY, to: DAY + HOUR, by: ['partner'] });
    expect(groups.map((g) => g.keys.partner).sort()).toEqual([...edges].sort());
    expect((await store.size()).records).toBe(edges.length);
  });

  it('refuses a filter value that is not a string or a finite number, and a bad bucket or name', async () => {
    await expect(store.find({ from: DAY, to: DAY + HOUR, partner: { toString: () => "' OR 1=1 --" } as unknown as string, limit: 10 })).rejects.toThrow(TypeError);
    await expect(store.find({ from: Number.NaN, to: DAY + HOUR, limit: 10 })).rejects.toThrow(TypeError);
    await expect(store.aggregate({ from: DAY, to: DAY + HOUR, by: [], bucketMs: 0 })).rejects.toThrow(RangeError);
    await expect(openClickHouseEvidence({ url: await serverUrl(), table: 'evidence; DROP TABLE x' })).rejects.toThrow(TypeError);
    await expect(openClickHouseEvidence({ url: await serverUrl(), database: 'a`b' })).rejects.toThrow(TypeError);
  });
});

describe.runIf(available)('the ClickHouse evidence store over several days', () => {
  let store: EvidenceStore;
  beforeAll(async () => {
    store = await freshStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('prunes whole days and the part of the edge day older than the retention, exactly', async () => {
    // four days, a record every 2 hours: 12 a day
    const records = [0, 1, 2, 3].flatMap((day) => Array.from({ length: 12 }, (_, i) => evidenceRecord(DAY + day * 24 * HOUR + i * 2 * HOUR, 'acme')));
    await store.insert(records);
    const bytesBefore = (await store.size()).bytes;
    expect(bytesBefore).toBeGreaterThan(0);
    // retention edge: day 2, 05:00: days 0 and 1 go whole, day 2's 00:00, 02:00 and 04:00 go by a delete
    const edge = DAY + 2 * 24 * HOUR + 5 * HOUR;
    expect(await store.prune({ olderThan: edge, maxBytes: Number.MAX_SAFE_INTEGER })).toEqual({ deleted: 12 + 12 + 3 });
    const left = await store.find({ from: 0, to: DAY + 10 * 24 * HOUR, limit: 1000 });
    expect(left).toEqual(records.filter((r) => r.time >= edge).sort((a, b) => b.time - a.time));
    const after = await store.size();
    expect(after.records).toBe(48 - 27);
    expect(after.bytes).toBeLessThan(bytesBefore);
    expect(await store.prune({ olderThan: edge, maxBytes: Number.MAX_SAFE_INTEGER })).toEqual({ deleted: 0 });
  });
});
