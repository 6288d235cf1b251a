// `npm run bench`: throughput and latency of the Sluice gateway against a bare Node proxy, both
// in front of the same trivial upstream, on the same pinned core, measured alternately.
// See bench/README.md for what is measured and why.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CAN_PIN, REPO, killAllNow, rssMb, spawnPinned, spawnCompiled, stopAll, waitForListening } from './children.ts';
import { makeCredentials, writeWorkflows } from './fixture.ts';
import type { Credentials } from './fixture.ts';
import { CONNECTIONS, chooseLoadGen, runLoad } from './loadgen.ts';
import type { LoadGenName, LoadResult } from './loadgen.ts';

// Proxies share core 0 (only one is under load at a time); upstream and load generator get core 1.
const SERVER_CORE = 0;
const UPSTREAM_CORE = 1;

const TARGET_NAMES = ['bare', 'sluice-proxy', 'sluice', 'sluice-quiet'] as const;
type TargetName = (typeof TARGET_NAMES)[number];

const DESCRIPTIONS: Record<TargetName, string> = {
  bare: 'node:http + undici Pool, streamed (baseline)',
  'sluice-proxy': 'Sluice, one proxy node (/proxy-only)',
  sluice: 'Sluice, jwt-verify → scope-check → rate-limit → proxy (/api/orders)',
  'sluice-quiet': 'the same without request logging and metrics (a second gateway: LOG_LEVEL=warn, SLUICE_METRICS=off)',
};

interface Target {
  name: TargetName;
  url: string;
  server: ChildProcess;
}

const WARMUP_SECONDS = 2;

interface Settings {
  seconds: number;
  rounds: number;
  targets: TargetName[];
}

/** Read in main() rather than at load time, so a bad value is reported like any other failure. */
function readSettings(): Settings {
  return { seconds: envInt('BENCH_SECONDS', 8), rounds: envInt('BENCH_ROUNDS', 3), targets: selectedTargets() };
}

/** Gateway data dirs: kept (with the gateway log) after a failure, removed otherwise. */
const dataDirs: string[] = [];

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

function selectedTargets(): TargetName[] {
  const raw = process.env.BENCH_TARGETS;
  if (raw === undefined || raw === '') return [...TARGET_NAMES];
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(TARGET_NAMES as readonly string[]).includes(n)) throw new Error(`BENCH_TARGETS: unknown target "${n}" (choose from ${TARGET_NAMES.join(', ')})`);
  }
  // Keep the canonical order whatever order they were given in, so runs stay comparable.
  return TARGET_NAMES.filter((n) => names.includes(n));
}

async function startUpstream(): Promise<{ server: ChildProcess; origin: string }> {
  const server = spawnCompiled(UPSTREAM_CORE, 'bench/upstream.ts', []);
  const port = await waitForListening(server, 'upstream');
  return { server, origin: `http://127.0.0.1:${port}` };
}

async function startBareProxy(upstream: string): Promise<ChildProcess & { port: number }> {
  const server = spawnCompiled(SERVER_CORE, 'bench/bare-proxy.ts', [upstream]);
  const port = await waitForListening(server, 'bare proxy');
  return Object.assign(server, { port });
}

/** The gateway binds PORT itself, so we find a free port for it by binding one and letting go. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A gateway as `npm start` runs it (the engine bundle built by scripts/build.mjs). Logging and
 * metrics are on, as by default, unless `observe` is false.
 */
async function startGateway(upstream: string, credentials: Credentials, observe = true): Promise<ChildProcess & { port: number }> {
  execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, stdio: 'inherit' });
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  dataDirs.push(dataDir);
  writeWorkflows(dataDir, credentials.publicJwk, upstream);
  const port = await freePort();
  // Request logging stays on and goes to a file, as in production: a log sink on a terminal (slow)
  // or /dev/null (free) would both misstate its cost.
  const logPath = join(dataDir, 'gateway.log');
  const log = openSync(logPath, 'a');
  // LOG_FILE is dropped from the inherited env: it would send the log somewhere other than this file.
  const { LOG_FILE: _ignored, ...env } = process.env;
  // Node's flags are npm start's (package.json config.serveFlags), so the bench measures what users run.
  const serveFlags = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { serveFlags: string } }).config.serveFlags.split(' ');
  const server = spawnPinned(SERVER_CORE, process.execPath, [...serveFlags, join(REPO, 'dist', 'cli.mjs'), 'serve'], {
    env: { ...env, PORT: String(port), SLUICE_DATA: dataDir, SLUICE_DEMO: 'off', LOG_LEVEL: observe ? 'info' : 'warn', SLUICE_METRICS: observe ? 'on' : 'off' },
    stdio: ['ignore', log, log],
  });
  closeSync(log); // the child has its own copy
  await waitForHealthz(server, port, logPath);
  return Object.assign(server, { port });
}

async function waitForHealthz(server: ChildProcess, port: number, logPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`the Sluice gateway exited (${server.signalCode ?? `code ${server.exitCode}`}) during startup. Last lines of ${logPath}:\n${logTail(logPath)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`the Sluice gateway did not answer 200 on /healthz within 15 s (last: ${last}). Last lines of ${logPath}:\n${logTail(logPath)}`);
}

/** One request first: a target that answers 401 or 502 would otherwise "win" by failing fast. */
async function checkAnswers200(target: Target, token: string): Promise<void> {
  const res = await fetch(target.url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${target.name} answered ${res.status} to GET ${target.url}:\n${body}`);
}

async function load(gen: LoadGenName, target: Target, seconds: number, token: string): Promise<LoadResult> {
  const result = await runLoad(gen, target.url, seconds, token);
  // A dead server shows up in wrk only as a flood of socket errors; say what really happened.
  if (target.server.exitCode !== null || target.server.signalCode !== null) {
    throw new Error(`${target.name}: its server exited (${target.server.signalCode ?? `code ${target.server.exitCode}`}) during the load run`);
  }
  if (result.failures > 0) throw new Error(`${target.name} failed under load (${result.failureDetail}) at ${target.url}`);
  return result;
}

/** Targets take turns, round after round, so drift (thermal, noisy neighbours) hits them all alike. */
async function measure(gen: LoadGenName, targets: Target[], token: string, { seconds, rounds }: Settings): Promise<Map<TargetName, LoadResult[]>> {
  const runs = new Map<TargetName, LoadResult[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      // Warm-up lets V8 optimise the hot path and the pools fill before anything is recorded.
      if (round === 1) await load(gen, target, WARMUP_SECONDS, token);
      const r = await load(gen, target, seconds, token);
      runs.get(target.name)!.push(r);
      console.log(`round ${round}/${rounds}  ${target.name.padEnd(12)} ${fmt(r.rps, 0).padStart(8)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms`);
    }
  }
  return runs;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

interface Summary {
  target: TargetName;
  description: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ratioToBare: number | undefined;
  rssMb: number | undefined;
  runs: LoadResult[];
}

function summarize(targets: Target[], runs: Map<TargetName, LoadResult[]>): Summary[] {
  const bareRuns = runs.get('bare');
  const bareRps = bareRuns ? median(bareRuns.map((r) => r.rps)) : undefined;
  return targets.map((t) => {
    const rs = runs.get(t.name)!;
    const rps = median(rs.map((r) => r.rps));
    return {
      target: t.name,
      description: DESCRIPTIONS[t.name],
      rps,
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      ratioToBare: bareRps === undefined ? undefined : rps / bareRps,
      // Read after the load, while the process is still up: what it holds once it has been busy.
      rssMb: rssMb(t.server.pid),
      runs: rs,
    };
  });
}

function printTable(rows: Summary[]): void {
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'RSS MB'];
  const cells = rows.map((r) => [r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.ratioToBare, 2), fmt(r.rssMb, 0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const c of cells) console.log(line(c));
  console.log('\n(req/s, p50 and p99 are medians over the rounds; sluice-proxy and sluice share one gateway process, hence one RSS)');
  const observed = rows.find((r) => r.target === 'sluice');
  const quiet = rows.find((r) => r.target === 'sluice-quiet');
  if (observed && quiet) console.log(`logging + metrics cost: sluice / sluice-quiet = ${fmt(observed.rps / quiet.rps, 2)}`);
  for (const r of rows) console.log(`  ${r.target.padEnd(12)} ${r.description}`);
}

function writeResults(gen: LoadGenName, settings: Settings, rows: Summary[], upstreamRss: number | undefined): string {
  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const path = join(dir, `${date.replace(/[:.]/g, '-')}.json`);
  const results = {
    date,
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    pinned: CAN_PIN,
    loadGenerator: gen,
    connections: CONNECTIONS,
    seconds: settings.seconds,
    rounds: settings.rounds,
    warmupSeconds: WARMUP_SECONDS,
    upstreamRssMb: upstreamRss,
    targets: rows,
  };
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const selected = settings.targets;
  const gen = chooseLoadGen();
  if (!CAN_PIN) console.log('cannot pin to cores 0 and 1 (no taskset, or fewer than 2 usable cores): numbers will be noisier');
  const credentials = await makeCredentials();
  const upstream = await startUpstream();

  const targets: Target[] = [];
  if (selected.includes('bare')) {
    const bare = await startBareProxy(upstream.origin);
    targets.push({ name: 'bare', url: `http://127.0.0.1:${bare.port}/api/orders`, server: bare });
  }
  if (selected.includes('sluice-proxy') || selected.includes('sluice')) {
    const gateway = await startGateway(upstream.origin, credentials);
    const base = `http://127.0.0.1:${gateway.port}`;
    if (selected.includes('sluice-proxy')) targets.push({ name: 'sluice-proxy', url: `${base}/proxy-only`, server: gateway });
    if (selected.includes('sluice')) targets.push({ name: 'sluice', url: `${base}/api/orders`, server: gateway });
  }
  if (selected.includes('sluice-quiet')) {
    const quiet = await startGateway(upstream.origin, credentials, false);
    targets.push({ name: 'sluice-quiet', url: `http://127.0.0.1:${quiet.port}/api/orders`, server: quiet });
  }
  for (const t of targets) await checkAnswers200(t, credentials.token);

  console.log(`${gen}, ${CONNECTIONS} connections, ${settings.rounds} round(s) of ${settings.seconds} s per target (+${WARMUP_SECONDS} s warm-up each)`);
  const runs = await measure(gen, targets, credentials.token, settings);
  const rows = summarize(targets, runs);
  printTable(rows);
  console.log(`\nresults written to ${writeResults(gen, settings, rows, rssMb(upstream.server.pid))}`);
}

/**
 * Stops every child (servers and load generator), then exits. The first caller decides the exit
 * code: after a Ctrl-C, main() fails too (its children died) and must not turn 130 into 1.
 */
let shuttingDown: Promise<never> | undefined;
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    await stopAll();
    for (const dir of dataDirs) {
      // The log grows by megabytes a second under load: keep it only when it may explain a failure.
      if (code === 1) console.error(`gateway data and log kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
    process.exit(code);
  })();
  return shuttingDown;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    if (!shuttingDown) console.error(`\n${signal}: stopping…`);
    void shutdown(code);
  });
}
// Children lead their own process groups, so nothing else would stop them if we die unexpectedly.
process.on('exit', killAllNow);

main().then(
  () => shutdown(0),
  (err: unknown) => {
    // Once we are stopping, errors are just the children we killed: don't report them.
    if (!shuttingDown) console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    return shutdown(1);
  },
);
