// The POST runs of `npm run bench` (targets sluice-l, sluice-pg, sluice-mcp): a gateway of its own
// with a proxy that has `llm` (the model allow-list, usage read from the answer), prompt-guard in
// front of the same, and mcp-tool in front of a plain proxy to an MCP server; and the bare proxy,
// POSTing the same chat completion (or MCP tools/call) to the upstream, all taking turns round
// after round; then the time to the first chunk of a streamed answer, through the gateway and
// from the upstream directly, one request at a time.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { cpuMicros } from './children.ts';
import { LLM_REQUEST, llmWorkflow, MCP_REQUEST, mcpWorkflow, plainStreamWorkflow, promptGuardWorkflow } from './fixture.ts';
import { runLoad, type LoadGenName, type LoadResult } from './loadgen.ts';
import { WARMUP_SECONDS } from './measure.ts';
import { check, fmt, median, printTable, type Check } from './report.ts';
import { startBareProxy, startGateway } from './servers.ts';

/** Streamed requests per side for the time to the first chunk (after as many to warm up). */
const TTFC_REQUESTS = 400;

/** The POST targets: the bare proxy and Sluice with a chat completion, and both with an MCP tools/call. */
const POST_TARGETS = ['bare', 'sluice-l', 'sluice-pg', 'bare-mcp', 'sluice-mcp'] as const;
type PostTarget = (typeof POST_TARGETS)[number];

interface LlmRow {
  target: PostTarget;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | undefined;
  rounds: number[];
}

export interface LlmResults {
  rows: LlmRow[];
  /** Time to the first chunk of a streamed answer, p50 and p99 in ms: from the upstream directly, through the gateway's llm proxy, and through a plain proxy of the same gateway (with sluice-l). */
  firstChunk: { direct: { p50Ms: number; p99Ms: number }; sluice: { p50Ms: number; p99Ms: number }; plain: { p50Ms: number; p99Ms: number }; requests: number } | null;
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

/**
 * What the gateway answered other than 2xx for `workflow`, from its request log: `503 expressions-busy
 * × 180, 403 prompt-blocked × 37`, so that a failed row says which refusal it was.
 */
function refusals(logPath: string, workflow: string): string {
  const counts = new Map<string, number>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes(`"workflow":"${workflow}"`)) continue;
    try {
      const { status, problem } = JSON.parse(line) as { status?: number; problem?: string };
      if (status === undefined || (status >= 200 && status < 300)) continue;
      const key = `${status}${problem === undefined ? '' : ` ${problem}`}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // not a request line
    }
  }
  return counts.size === 0 ? 'no refusals logged' : [...counts].map(([key, n]) => `${key} × ${n}`).join(', ');
}

/** Which of the POST rows to measure (sluice-l, sluice-pg, sluice-mcp); each brings its bare baseline. */
export interface PostSelection {
  llm: boolean;
  promptGuard: boolean;
  mcp: boolean;
}

export async function measureLlm(gen: LoadGenName, upstream: string, { seconds, rounds }: { seconds: number; rounds: number }, selection: PostSelection): Promise<LlmResults> {
  const bare = await startBareProxy(upstream);
  const gateway = await startGateway({ workflows: [llmWorkflow(upstream), plainStreamWorkflow(upstream), promptGuardWorkflow(upstream), mcpWorkflow(upstream)] });
  const chat = JSON.stringify(LLM_REQUEST);
  const mcp = JSON.stringify(MCP_REQUEST);
  const all: Record<PostTarget, { url: string; pid: number | undefined; body: string; answer: string }> = {
    bare: { url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, pid: bare.pid, body: chat, answer: '"usage"' },
    'sluice-l': { url: `${gateway.url}/l/v1/chat/completions`, pid: gateway.pid, body: chat, answer: '"usage"' },
    'sluice-pg': { url: `${gateway.url}/pg/v1/chat/completions`, pid: gateway.pid, body: chat, answer: '"usage"' },
    'bare-mcp': { url: `http://127.0.0.1:${bare.port}/mcp`, pid: bare.pid, body: mcp, answer: '"result"' },
    'sluice-mcp': { url: `${gateway.url}/tools`, pid: gateway.pid, body: mcp, answer: '"result"' },
  };
  const chosen = POST_TARGETS.filter((t) =>
    t === 'bare' ? selection.llm || selection.promptGuard : t === 'bare-mcp' ? selection.mcp : t === 'sluice-l' ? selection.llm : t === 'sluice-pg' ? selection.promptGuard : selection.mcp,
  );
  for (const target of chosen) {
    const { url, body, answer } = all[target];
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes(answer)) throw new Error(`${target}: ${url} answered ${res.statusCode} to the POST:\n${text.slice(0, 500)}`);
  }
  const runs = new Map<PostTarget, Array<LoadResult & { cpu: number | undefined }>>(chosen.map((t) => [t, []]));
  /** prompt-guard refusing under load (its checks queue for the expression workers: 503 when the queue is full) is a result, not a broken run. */
  const failed = new Map<PostTarget, string>();
  for (let round = 1; round <= rounds; round++) {
    for (const target of chosen) {
      if (failed.has(target)) continue;
      const { url, pid, body } = all[target];
      const warm = round === 1 ? await runLoad(gen, url, WARMUP_SECONDS, 'bench', body) : undefined;
      const before = cpuMicros(pid!);
      const result = await runLoad(gen, url, seconds, 'bench', body);
      const after = cpuMicros(pid!);
      const failures = result.failures + (target === 'sluice-pg' ? (warm?.failures ?? 0) : 0);
      if (failures > 0 && target === 'sluice-pg') {
        failed.set(target, `${failures} requests failed under load (${warm?.failures ? `warm-up: ${warm.failureDetail}; ` : ''}${result.failureDetail}; the gateway's log: ${refusals(gateway.logPath, 'bench-pg')}): see SLUICE_EXPRESSION_QUEUE`);
        console.log(`${target}: ${failed.get(target)}`);
        continue;
      }
      if (failures > 0) throw new Error(`${target} (POST): ${result.failureDetail}`);
      const cpu = before !== undefined && after !== undefined && result.requests > 0 ? (after - before) / result.requests : undefined;
      runs.get(target)!.push({ ...result, cpu });
      console.log(`round ${round}/${rounds}  ${target.padEnd(11)} ${fmt(result.rps, 0).padStart(8)} req/s  p50 ${fmt(result.p50Ms, 2)} ms  p99 ${fmt(result.p99Ms, 2)} ms  CPU ${fmt(cpu, 1)} µs/req`);
    }
  }
  const rows = chosen.filter((t) => !failed.has(t)).map((target): LlmRow => {
    const rs = runs.get(target)!;
    const cpus = rs.map((r) => r.cpu);
    return { target, rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), cpuUsPerRequest: cpus.every((c) => c !== undefined) ? median(cpus as number[]) : undefined, rounds: rs.map((r) => r.rps) };
  });
  const row = (t: PostTarget) => rows.find((r) => r.target === t);
  const ratio = (label: string, t: PostTarget, base: PostTarget, min: number): Check[] => {
    const r = row(t);
    const b = row(base);
    return r && b ? [check(`${label} / ${base} (POST) >= ${min}`, r.rps / b.rps, '>=', min, `${fmt(r.rps, 0)} / ${fmt(b.rps, 0)} req/s`)] : [];
  };
  const checks = [
    ...ratio('(l) llm proxy', 'sluice-l', 'bare', 0.8),
    ...(failed.has('sluice-pg') ? [{ name: '(pg) prompt-guard + llm proxy / bare (POST) >= 0.5', result: 'FAIL' as const, detail: failed.get('sluice-pg')! }] : ratio('(pg) prompt-guard + llm proxy', 'sluice-pg', 'bare', 0.5)),
    ...ratio('(mcp) mcp-tool + proxy', 'sluice-mcp', 'bare-mcp', 0.8),
  ];
  let firstChunk: LlmResults['firstChunk'] = null;
  if (selection.llm) {
    firstChunk = await measureFirstChunk(`${upstream}/v1/chat/completions`, all['sluice-l'].url, `${gateway.url}/p/v1/chat/completions`);
    const added = firstChunk.sluice.p50Ms - firstChunk.direct.p50Ms;
    checks.push(check('(l) streamed: first chunk p50 through sluice - direct <= 1 ms', added, '<=', 1, `${fmt(firstChunk.sluice.p50Ms, 3)} - ${fmt(firstChunk.direct.p50Ms, 3)} ms`));
  }
  return { rows, firstChunk, checks };
}

export function printLlm(results: LlmResults): void {
  console.log('\nPOST: bare and sluice-l (proxy with llm: model allow-list, usage read as the answer passes) and sluice-pg (prompt-guard → the same) POST /v1/chat/completions; bare-mcp and sluice-mcp (mcp-tool → proxy) POST an MCP tools/call');
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req'],
    results.rows.map((r) => [r.target === 'bare' ? 'bare (POST)' : r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpuUsPerRequest, 1)]),
  );
  const f = results.firstChunk;
  if (f === null) return;
  console.log(`streamed, time to the first chunk over ${f.requests} requests each: direct p50 ${fmt(f.direct.p50Ms, 3)} ms (p99 ${fmt(f.direct.p99Ms, 3)}), through sluice's llm proxy p50 ${fmt(f.sluice.p50Ms, 3)} ms (p99 ${fmt(f.sluice.p99Ms, 3)}), through a plain proxy of the same gateway p50 ${fmt(f.plain.p50Ms, 3)} ms (p99 ${fmt(f.plain.p99Ms, 3)})`);
}
