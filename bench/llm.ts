// The LLM run of `npm run bench` (target sluice-l): a gateway of its own with a proxy that has
// `llm` (the model allow-list, usage read from the answer) and the bare proxy, both POSTing the
// same chat completion to the upstream's OpenAI-compatible endpoint, taking turns round after
// round; then the time to the first chunk of a streamed answer, through the gateway and from the
// upstream directly, one request at a time.
import { request } from 'undici';
import { cpuMicros } from './children.ts';
import { LLM_REQUEST, llmWorkflow, plainStreamWorkflow } from './fixture.ts';
import { runLoad, type LoadGenName, type LoadResult } from './loadgen.ts';
import { WARMUP_SECONDS } from './measure.ts';
import { check, fmt, median, printTable, type Check } from './report.ts';
import { startBareProxy, startGateway } from './servers.ts';

/** Streamed requests per side for the time to the first chunk (after as many to warm up). */
const TTFC_REQUESTS = 400;

interface LlmRow {
  target: 'bare' | 'sluice-l';
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | undefined;
  rounds: number[];
}

export interface LlmResults {
  rows: LlmRow[];
  /** Time to the first chunk of a streamed answer, p50 and p99 in ms: from the upstream directly, through the gateway's llm proxy, and through a plain proxy of the same gateway. */
  firstChunk: { direct: { p50Ms: number; p99Ms: number }; sluice: { p50Ms: number; p99Ms: number }; plain: { p50Ms: number; p99Ms: number }; requests: number };
  checks: Check[];
}

/** One POST of `body`: ms until the first byte of the answer's body, after reading it whole. */
async function firstChunkMs(url: string, body: string): Promise<number> {
  const started = performance.now();
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  let first: number | undefined;
  for await (const _chunk of res.body) first ??= performance.now() - started;
  if (res.statusCode !== 200 || first === undefined) throw new Error(`${url} answered ${res.statusCode} to a streamed chat completion`);
  return first;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Sequential streamed requests to each URL in turn; p50 and p99 of the time to the first chunk. */
async function measureFirstChunk(direct: string, sluice: string, plain: string) {
  const body = JSON.stringify({ ...LLM_REQUEST, stream: true });
  const times = { direct: [] as number[], sluice: [] as number[], plain: [] as number[] };
  for (let i = 0; i < TTFC_REQUESTS * 2; i++) {
    // alternate, so every side sees the same machine; the first half warms up
    const d = await firstChunkMs(direct, body);
    const s = await firstChunkMs(sluice, body);
    const p = await firstChunkMs(plain, body);
    if (i >= TTFC_REQUESTS) {
      times.direct.push(d);
      times.sluice.push(s);
      times.plain.push(p);
    }
  }
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
  };
  return { direct: stats(times.direct), sluice: stats(times.sluice), plain: stats(times.plain), requests: TTFC_REQUESTS };
}

export async function measureLlm(gen: LoadGenName, upstream: string, { seconds, rounds }: { seconds: number; rounds: number }): Promise<LlmResults> {
  const bare = await startBareProxy(upstream);
  const gateway = await startGateway({ workflows: [llmWorkflow(upstream), plainStreamWorkflow(upstream)] });
  const urls = { bare: `http://127.0.0.1:${bare.port}/v1/chat/completions`, 'sluice-l': `${gateway.url}/l/v1/chat/completions` } as const;
  const pids = { bare: bare.pid, 'sluice-l': gateway.pid };
  const post = JSON.stringify(LLM_REQUEST);
  for (const url of Object.values(urls)) {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: post });
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes('"usage"')) throw new Error(`${url} answered ${res.statusCode} to the chat completion:\n${text.slice(0, 500)}`);
  }
  const runs = { bare: [] as Array<LoadResult & { cpu: number | undefined }>, 'sluice-l': [] as Array<LoadResult & { cpu: number | undefined }> };
  for (let round = 1; round <= rounds; round++) {
    for (const target of ['bare', 'sluice-l'] as const) {
      if (round === 1) await runLoad(gen, urls[target], WARMUP_SECONDS, 'bench', post);
      const before = cpuMicros(pids[target]!);
      const result = await runLoad(gen, urls[target], seconds, 'bench', post);
      const after = cpuMicros(pids[target]!);
      if (result.failures > 0) throw new Error(`${target} (llm): ${result.failureDetail}`);
      const cpu = before !== undefined && after !== undefined && result.requests > 0 ? (after - before) / result.requests : undefined;
      runs[target].push({ ...result, cpu });
      console.log(`round ${round}/${rounds}  ${target === 'bare' ? 'bare (POST)' : 'sluice-l   '} ${fmt(result.rps, 0).padStart(8)} req/s  p50 ${fmt(result.p50Ms, 2)} ms  p99 ${fmt(result.p99Ms, 2)} ms  CPU ${fmt(cpu, 1)} µs/req`);
    }
  }
  const rows = (['bare', 'sluice-l'] as const).map((target): LlmRow => {
    const rs = runs[target];
    const cpus = rs.map((r) => r.cpu);
    return { target, rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), cpuUsPerRequest: cpus.every((c) => c !== undefined) ? median(cpus as number[]) : undefined, rounds: rs.map((r) => r.rps) };
  });
  const firstChunk = await measureFirstChunk(`${upstream}/v1/chat/completions`, urls['sluice-l'], `${gateway.url}/p/v1/chat/completions`);
  const [b, l] = rows as [LlmRow, LlmRow];
  const added = firstChunk.sluice.p50Ms - firstChunk.direct.p50Ms;
  return {
    rows,
    firstChunk,
    checks: [
      check('(l) llm proxy / bare, POST chat completion >= 0.8', l.rps / b.rps, '>=', 0.8, `${fmt(l.rps, 0)} / ${fmt(b.rps, 0)} req/s`),
      check('(l) streamed: first chunk p50 through sluice - direct <= 1 ms', added, '<=', 1, `${fmt(firstChunk.sluice.p50Ms, 3)} - ${fmt(firstChunk.direct.p50Ms, 3)} ms`),
    ],
  };
}

export function printLlm(results: LlmResults): void {
  console.log('\nsluice-l: proxy with llm (model allow-list, usage read as the answer passes), POST /v1/chat/completions');
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req'],
    results.rows.map((r) => [r.target === 'bare' ? 'bare (POST)' : r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpuUsPerRequest, 1)]),
  );
  const f = results.firstChunk;
  console.log(`streamed, time to the first chunk over ${f.requests} requests each: direct p50 ${fmt(f.direct.p50Ms, 3)} ms (p99 ${fmt(f.direct.p99Ms, 3)}), through sluice's llm proxy p50 ${fmt(f.sluice.p50Ms, 3)} ms (p99 ${fmt(f.sluice.p99Ms, 3)}), through a plain proxy of the same gateway p50 ${fmt(f.plain.p50Ms, 3)} ms (p99 ${fmt(f.plain.p99Ms, 3)})`);
}
