// The load generator: wrk when available (C, one thread, cheap per request — it won't be the
// bottleneck), otherwise autocannon. Either one runs as its own process pinned to core 1, away
// from the proxies on core 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, commandExists, spawnPinned } from './children.ts';

export type LoadGenName = 'wrk' | 'autocannon';

export const CONNECTIONS = 50;
/**
 * A request slower than this counts as failed. Both generators wait 10 s (wrk's default is 2 s), so
 * a slow peer's p99 shows in the latency column instead of ending its run as a socket timeout.
 */
const TIMEOUT_SECONDS = 10;
const LOAD_CORE = 1;

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx answers plus socket errors and timeouts: any of them invalidates the run. */
  failures: number;
  failureDetail: string;
  /** CPU time (user + system) the server under test spent per request during the run, in µs. */
  cpuUsPerRequest?: number;
}

/** BENCH_LOADGEN forces one; otherwise wrk, installing it with apt-get when we are root. */
export function chooseLoadGen(): LoadGenName {
  const forced = process.env.BENCH_LOADGEN;
  if (forced !== undefined && forced !== 'wrk' && forced !== 'autocannon') throw new Error(`BENCH_LOADGEN must be wrk or autocannon, not "${forced}"`);
  if (forced === 'autocannon') return 'autocannon';
  if (commandExists('wrk') || tryInstallWrk()) return 'wrk';
  if (forced === 'wrk') throw new Error('BENCH_LOADGEN=wrk but wrk is not installed (apt-get install wrk)');
  console.log('wrk not available: falling back to autocannon, which may saturate before a fast target does');
  return 'autocannon';
}

function tryInstallWrk(): boolean {
  if (process.getuid?.() !== 0 || !commandExists('apt-get')) return false;
  console.log('wrk not found: installing it with apt-get…');
  const apt = (...args: string[]) =>
    spawnSync('apt-get', ['-qq', ...args], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  // Fresh containers often have no package lists at all: update only if the plain install fails.
  return apt('install', '-y', 'wrk') || (apt('update') && apt('install', '-y', 'wrk'));
}

/** A wrk script that POSTs `body` as JSON, written once per body. */
const wrkScripts = new Map<string, string>();
function wrkPostScript(body: string): string {
  let path = wrkScripts.get(body);
  if (path === undefined) {
    path = join(mkdtempSync(join(tmpdir(), 'sluice-wrk-')), 'post.lua');
    writeFileSync(path, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["content-type"] = "application/json"\n`);
    wrkScripts.set(body, path);
  }
  return path;
}

/** Loads `url` with GET, or with POST of the JSON `post` (sluice-l). */
export async function runLoad(gen: LoadGenName, url: string, seconds: number, token: string, post?: string): Promise<LoadResult> {
  const auth = `Bearer ${token}`;
  const posting = post === undefined ? [] : gen === 'wrk' ? ['-s', wrkPostScript(post)] : ['-m', 'POST', '-b', post, '-H', 'content-type=application/json'];
  const [cmd, args] =
    gen === 'wrk'
      ? ['wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', `${TIMEOUT_SECONDS}s`, '--latency', '-H', `authorization: ${auth}`, ...posting, url]]
      : [process.execPath, [join(REPO, 'node_modules/autocannon/autocannon.js'), '-c', String(CONNECTIONS), '-d', String(seconds), '-t', String(TIMEOUT_SECONDS), '-j', '-n', '-H', `authorization=${auth}`, ...posting, url]];
  const child = spawnPinned(LOAD_CORE, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${gen} exited with code ${code}:\n${err}${out}`);
  return gen === 'wrk' ? parseWrk(out) : parseAutocannon(out);
}

const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function wrkMs(text: string, percentile: string): number {
  const m = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text);
  if (!m) throw new Error(`no ${percentile}% latency line in wrk output (was --latency passed?):\n${text}`);
  return Number(m[1]) * TIME_UNITS_MS[m[2]!]!;
}

/** Parses `wrk --latency` output. */
function parseWrk(text: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1];
  const requests = /^\s*(\d+) requests in /m.exec(text)?.[1];
  if (rps === undefined || requests === undefined) throw new Error(`unexpected wrk output:\n${text}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    rps: Number(rps),
    p50Ms: wrkMs(text, '50'),
    p99Ms: wrkMs(text, '99'),
    requests: Number(requests),
    failures: non2xx + socketErrors,
    failureDetail: `${non2xx} non-2xx answers${socket ? `, socket errors: ${socket[0].slice('Socket errors: '.length)}` : ''}`,
  };
}

interface AutocannonJson {
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Parses `autocannon --json` output (latencies already in ms, duration in s). */
function parseAutocannon(text: string): LoadResult {
  const r = JSON.parse(text) as AutocannonJson;
  return {
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    failures: r.non2xx + r.errors, // autocannon counts timeouts among errors
    failureDetail: `${r.non2xx} non-2xx answers, ${r.errors} errors (${r.timeouts} of them timeouts)`,
  };
}

/**
 * Loads `url` with GET until stopped (SIGINT, on which wrk and autocannon print what they did):
 * load beside other work whose length is not known in advance (the replicas mode).
 */
export function startLoad(gen: LoadGenName, url: string, token: string): { stop(): Promise<LoadResult | undefined> } {
  const auth = `Bearer ${token}`;
  const longest = 3_600;
  const [cmd, args] =
    gen === 'wrk'
      ? ['wrk', ['-t1', `-c${CONNECTIONS}`, `-d${longest}s`, '--timeout', `${TIMEOUT_SECONDS}s`, '--latency', '-H', `authorization: ${auth}`, url]]
      : [process.execPath, [join(REPO, 'node_modules/autocannon/autocannon.js'), '-c', String(CONNECTIONS), '-d', String(longest), '-t', String(TIMEOUT_SECONDS), '-j', '-n', '-H', `authorization=${auth}`, url]];
  const child = spawnPinned(LOAD_CORE, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
      try {
        return gen === 'wrk' ? parseWrk(out) : parseAutocannon(out);
      } catch {
        return undefined;
      }
    },
  };
}
