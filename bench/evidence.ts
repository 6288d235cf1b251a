// `npm run bench -- evidence`: the evidence store with a million records (issue 23). Ingest rate
// (records per second through the recorder's batches, to hold against the compare mode's peak
// request rate), then the questions an auditor asks over a day of them: one partner's requests,
// counts by hour and outcome, one trace. DuckDB (the embedded default) always; ClickHouse too
// when BENCH_CLICKHOUSE_URL names a server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouseEvidence } from '../engine/evidence/clickhouse-store.ts';
import { openDuckDbEvidence } from '../engine/evidence/duckdb-store.ts';
import type { EvidenceRecord, EvidenceStore } from '../engine/evidence/types.ts';
import { check, fmt, printChecks, printTable, type Check } from './report.ts';

const RECORDS = Number(process.env.BENCH_EVIDENCE_RECORDS ?? 1_000_000);
/** As the recorder writes (engine/evidence/recorder.ts). */
const BATCH = 500;
const DAY = Date.UTC(2026, 11, 1);
const PARTNERS = 50;
const OUTCOMES = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'denied', 'limited', 'invalid_credentials'] as const;

/** The i-th of RECORDS records, spread evenly over three days (the middle one is queried). */
function record(i: number): EvidenceRecord {
  const time = DAY - 86_400_000 + Math.floor((i * 3 * 86_400_000) / RECORDS);
  const outcome = OUTCOMES[i % OUTCOMES.length]!;
  const status = outcome === 'ok' ? 200 : outcome === 'denied' ? 403 : outcome === 'limited' ? 429 : 401;
  return {
    time, traceId: i.toString(16).padStart(32, '0'), replica: `replica-${i % 4}`, method: 'GET', partner: `partner-${i % PARTNERS}`, product: 'orders-api', workflow: `workflow-${i % 20}`, version: 1 + (i % 3),
    route: '/orders/:id', subject: (i % 9973).toString(16).padStart(16, '0'), credential: 'jwt-verify', keyId: null, nodes: outcome === 'ok' ? ['verify:ok', 'scopes:ok', 'limit:ok', 'call:ok'] : ['verify:ok', 'scopes:missing'],
    outcome, status, problem: outcome === 'ok' ? null : `https://sluice.dev/problems/${outcome}`, ms: 1 + (i % 50) / 10, upstreamStatus: outcome === 'ok' ? 200 : null, upstreamMs: outcome === 'ok' ? 0.8 : null, model: null, inputTokens: null, outputTokens: null,
  };
}

/** The median of `runs` timings of `work`, in ms. */
async function timed(runs: number, work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function measure(name: string, store: EvidenceStore): Promise<{ rows: string[][]; checks: Check[] }> {
  const started = performance.now();
  const batch: EvidenceRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    batch.push(record(i));
    if (batch.length === BATCH) await store.insert(batch.splice(0));
  }
  if (batch.length > 0) await store.insert(batch.splice(0));
  await store.size(); // every record in the table (the embedded store copies its spool in)
  const ingestRate = RECORDS / ((performance.now() - started) / 1000);
  const day = { from: DAY, to: DAY + 86_400_000 };
  const partnerDay = await timed(5, () => store.find({ ...day, partner: 'partner-7', limit: 1_000 }));
  const partnerHour = await timed(5, () => store.find({ from: DAY + 10 * 3_600_000, to: DAY + 11 * 3_600_000, partner: 'partner-7', status: 403, limit: 1_000 }));
  const hourly = await timed(5, () => store.aggregate({ ...day, by: ['outcome'], bucketMs: 3_600_000 }));
  const byPartner = await timed(5, () => store.aggregate({ ...day, by: ['partner', 'outcome'] }));
  const trace = await timed(5, () => store.find({ from: 0, to: Number.MAX_SAFE_INTEGER, traceId: (RECORDS / 2).toString(16).padStart(32, '0'), limit: 10 }));
  const { bytes } = await store.size();
  const rows = [
    [name, 'ingest', `${fmt(ingestRate, 0)} records/s`],
    [name, 'one partner, a day, 1,000 newest', `${fmt(partnerDay, 1)} ms`],
    [name, 'one partner, an hour, status 403', `${fmt(partnerHour, 1)} ms`],
    [name, 'a day by hour and outcome', `${fmt(hourly, 1)} ms`],
    [name, 'a day by partner and outcome', `${fmt(byPartner, 1)} ms`],
    [name, 'one trace (any time)', `${fmt(trace, 1)} ms`],
    [name, 'size on disk', `${fmt(bytes / 1024 / 1024, 0)} MB`],
  ];
  const slowest = Math.max(partnerDay, partnerHour, hourly, byPartner);
  return { rows, checks: [check(`${name}: a filtered query over a day of ${fmt(RECORDS, 0)} records < 1000 ms`, slowest, '<=', 1_000, `${fmt(slowest, 1)} ms (slowest of the four)`)] };
}

export async function runEvidence(): Promise<void> {
  console.log(`${fmt(RECORDS, 0)} evidence records over three days, ${PARTNERS} partners, written in batches of ${BATCH}; queries over the middle day, median of 5`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-evidence-'));
  const rows: string[][] = [];
  const checks: Check[] = [];
  try {
    const duck = await openDuckDbEvidence(join(dir, 'evidence.duckdb'));
    const measured = await measure('duckdb', duck);
    await duck.close();
    rows.push(...measured.rows);
    checks.push(...measured.checks);
    const clickhouse = process.env.BENCH_CLICKHOUSE_URL;
    if (clickhouse) {
      const store = await openClickHouseEvidence({ url: clickhouse, database: `sluice_bench_${process.pid}` });
      const ch = await measure('clickhouse', store);
      await store.close();
      rows.push(...ch.rows);
      checks.push(...ch.checks);
    } else console.log('(ClickHouse not measured: set BENCH_CLICKHOUSE_URL to a server to add it)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['store', 'what', 'result'], rows);
  printChecks(checks);
  console.log('Hold the ingest rate against the compare mode\'s highest req/s: evidence keeps up when it is higher (a replica writes its own requests).');
}
