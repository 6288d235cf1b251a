import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDbEvidence } from '../../../engine/evidence/duckdb-store.ts';
import { csvLineOf } from '../../../engine/evidence/sql.ts';
import type { EvidenceRecord } from '../../../engine/evidence/types.ts';

const base: EvidenceRecord = {
  time: 1_796_484_284_825, traceId: '0af7651916cd43dd8448eb211c80319c', replica: 'replica-a', method: 'GET', partner: 'acme', product: 'orders-api',
  workflow: 'orders', version: 3, route: '/orders/:id', subject: 'a1b2c3d4e5f60718', credential: 'jwt-verify', keyId: null, nodes: ['verify:ok', 'scopes:ok', 'call:ok'],
  outcome: 'ok', status: 200, problem: null, ms: 12.345678, upstreamStatus: 200, upstreamMs: 9.25, model: null, inputTokens: null, outputTokens: null,
};

describe("the evidence spool's line (csvLineOf)", () => {
  const records: EvidenceRecord[] = [
    base,
    { ...base, traceId: '1'.repeat(32), partner: null, product: null, workflow: null, version: null, route: null, subject: null, credential: null, nodes: [], problem: null, upstreamStatus: null, upstreamMs: null },
    { ...base, traceId: '2'.repeat(32), partner: 'a "quoted"\\ partner\n', subject: 'tab\there \u2028 ünïcode 😀', route: '/a/{id}?x=1&y=<2>,z', method: 'PURGE', problem: 'https://sluice.dev/problems/partner-suspended', status: 403, keyId: 'k7Hq2Zx9' },
    { ...base, traceId: '3'.repeat(32), model: 'gpt-4o "mini"', inputTokens: 1_234, outputTokens: 0, ms: 0, upstreamMs: 1e-7, credential: 'api-key', nodes: ['only:fault'] },
    { ...base, traceId: '4'.repeat(32), partner: '', product: ' lead', workflow: 'trail ', subject: '\\N', model: 'NULL', problem: '"', route: '\r\n', nodes: Object.freeze(['a:ok', 'b:done']) as string[] },
    { ...base, traceId: '5'.repeat(32), ms: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY, time: base.time + 1 },
  ];

  it('is read back by the DuckDB store as it was written: plain, quoted, escaped, empty and absent values', async () => {
    const store = await openDuckDbEvidence(join(mkdtempSync(join(tmpdir(), 'sluice-evidence-csv-')), 'evidence.duckdb'));
    try {
      await store.insert(records);
      const found = await store.find({ from: 0, to: base.time + 10, limit: 100 });
      const expected = records.map((r) => ({ ...r, nodes: [...r.nodes], ms: Number.isFinite(r.ms) ? r.ms : null, upstreamMs: r.upstreamMs !== null && Number.isFinite(r.upstreamMs) ? r.upstreamMs : null }));
      expect(found).toEqual(expected.sort((a, b) => b.time - a.time || (a.traceId < b.traceId ? 1 : -1)));
    } finally {
      await store.close();
    }
  });

  it('reads back every character below U+0110 in a text, unquoted only letters, digits and _ . : / @ + -', async () => {
    const store = await openDuckDbEvidence(join(mkdtempSync(join(tmpdir(), 'sluice-evidence-chars-')), 'evidence.duckdb'));
    try {
      const texts = Array.from({ length: 0x110 }, (_, c) => `a${String.fromCharCode(c)}b`);
      const charRecords = texts.map((partner, i) => ({ ...base, traceId: i.toString(16).padStart(32, '0'), partner, time: base.time + i }));
      for (const [i, record] of charRecords.entries()) {
        const field = csvLineOf(record).split(',')[4]!;
        expect(field === texts[i], `U+${i.toString(16)}`).toBe(/^[\w.:/@+-]$/.test(String.fromCharCode(i)));
      }
      await store.insert(charRecords);
      const found = await store.find({ from: 0, to: base.time + 0x110, limit: 1000 });
      expect(new Map(found.map((r) => [r.traceId, r.partner]))).toEqual(new Map(charRecords.map((r) => [r.traceId, r.partner])));
    } finally {
      await store.close();
    }
  });

  it('is one line, a field per column, the same for a shared node path as for one made once', () => {
    for (const record of records) {
      const line = csvLineOf(record);
      expect(line.endsWith('\n')).toBe(true);
      // a line break inside a value is quoted: outside quotes, the line has its one at the end
      expect(line.slice(0, -1).replace(/"(?:[^"]|"")*"/g, '').includes('\n')).toBe(false);
      expect(line.replace(/"(?:[^"]|"")*"/g, '').split(',')).toHaveLength(22);
    }
    expect(csvLineOf(records[4]!)).toBe(csvLineOf({ ...records[4]!, nodes: ['a:ok', 'b:done'] }));
  });
});
