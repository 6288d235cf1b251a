import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDbEvidence } from '../../../engine/evidence/duckdb-store.ts';
import { csvLineOf, rowOf } from '../../../engine/evidence/sql.ts';
import { evidenceStoreContract } from './store-contract.ts';

evidenceStoreContract('DuckDB', () => openDuckDbEvidence(join(mkdtempSync(join(tmpdir(), 'sluice-evidence-')), 'evidence.duckdb')));

describe('the DuckDB evidence spool', () => {
  it('copies in a spool a stopped process left beside its database, at the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-evidence-spool-'));
    const first = await openDuckDbEvidence(join(dir, 'first.duckdb'));
    const record = (i: number) => ({ time: 1_000 + i, traceId: i.toString(16).padStart(32, '0'), replica: 'r', method: 'GET', partner: i === 0 ? '' : i === 3 ? '\\N' : `p${i}`, product: null, workflow: 'w', version: 1, route: '/w', subject: null, credential: null, keyId: null, nodes: ['a:ok', 'b:done'], outcome: 'ok', status: 200, problem: 'say "hi", then\nleave', ms: 1.5, upstreamStatus: null, upstreamMs: null, model: null, inputTokens: null, outputTokens: null });
    await first.insert([record(0), record(1), record(2), record(3)]);
    // the spool as a process that stopped before copying it in leaves it, beside another database
    const spool = readdirSync(dir).find((f) => f.startsWith('first.duckdb.spool-'))!;
    expect(spool).toMatch(/\.csv$/);
    copyFileSync(join(dir, spool), join(dir, 'second.duckdb.spool-7.csv'));
    // and a spool of JSON lines, as a version before Dec 2026 left one
    writeFileSync(join(dir, 'second.duckdb.spool-3.ndjson'), `${[record(4), record(5)].map((r) => JSON.stringify(rowOf(r))).join('\n')}\n`);
    await first.close();
    const second = await openDuckDbEvidence(join(dir, 'second.duckdb'));
    expect(readdirSync(dir).filter((f) => f.includes('.spool-'))).toEqual([]);
    const found = await second.find({ from: 0, to: 10_000, limit: 10 });
    expect(found.map((r) => r.partner)).toEqual(['p5', 'p4', '\\N', 'p2', 'p1', '']); // an empty text, or one that reads \N, stays text, not null
    expect(found[3]).toEqual(record(2));
    expect(found[0]).toEqual(record(5));
    await second.close();
  });
  it('reads in a spool a crash cut short, without its cut line, and opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-evidence-cut-'));
    const record = (i: number) => ({ time: 5_000 + i, traceId: i.toString(16).padStart(32, '0'), replica: 'r', method: 'GET', partner: `p${i}`, product: null, workflow: 'w', version: 1, route: '/w', subject: null, credential: null, keyId: null, nodes: ['a:ok'], outcome: 'ok', status: 200, problem: 'cut "here"', ms: 2.5, upstreamStatus: 200, upstreamMs: 1.25, model: null, inputTokens: null, outputTokens: null });
    const csv = [record(0), record(1), record(2)].map(csvLineOf).join('');
    const json = [record(3), record(4)].map((r) => `${JSON.stringify(rowOf(r))}\n`).join('');
    // the last line of each written only in part, as a process killed in the middle of a write leaves it
    writeFileSync(join(dir, 'evidence.duckdb.spool-1.csv'), csv.slice(0, csv.lastIndexOf('"cut') + 6));
    writeFileSync(join(dir, 'evidence.duckdb.spool-2.ndjson'), json.slice(0, -40));
    const store = await openDuckDbEvidence(join(dir, 'evidence.duckdb'));
    try {
      expect(readdirSync(dir).filter((f) => f.includes('.spool-'))).toEqual([]);
      const found = await store.find({ from: 0, to: 10_000, limit: 10 });
      expect(found.map((r) => r.partner)).toEqual(['p3', 'p1', 'p0']);
      expect(found[2]).toEqual(record(0));
      await store.insert([record(5)]);
      expect((await store.size()).records).toBe(4);
    } finally {
      await store.close();
    }
  });
});
