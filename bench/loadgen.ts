// The load generator: wrk when available (C, one thread, cheap per request — it won't be the
// bottleneck), otherwise autocannon. Either one runs as its own process pinned to core 1, away
// from the proxies on core 0. wrk's own CPU time is read after every run (bash's `times`), so a
// run can show that the load generator kept up. Many tokens (tokens.ts) need wrk: a Lua script
// sends them from a list.
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
  /** When the run began (performance.now()), set by measure.ts: which baseline runs were beside it. */
  startedAtMs?: number;
  /** CPU time (user + system) the server under test spent per request during the run, in µs. */
  cpuUsPerRequest?: number;
  /** wrk's own CPU time per request, µs (not read for autocannon). */
  loadGenUsPerRequest?: number;
  /** wrk's CPU time over the run's wall-clock time: near 1, the load generator, not the target, set the pace. */
  loadGenBusy?: number;
}

/**
 * Bearer tokens from a file, one a line, sent in turn (wrk only). `once`: each token at most
 * once; the run ends when they run out, or after its seconds if that comes first.
 */
export interface TokenList {
  file: string;
  once: boolean;
  /**
   * Another header than `authorization: Bearer <line>`: each line is then `<path>\t<value>`, the
   * request's path (with its query; empty: the URL's) and this header's value (sluice-hmac's
   * signed requests).
   */
  header?: string;
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

/**
 * A wrk script sending the tokens of `list` in turn, the requests formatted once in init() so
 * that a request costs wrk a table lookup. Without `once` it starts over after the last token.
 * With `once` the thread stops when they run out and interrupts wrk's main thread (SIGINT, which
 * wrk takes as "stop and report"; it would otherwise sleep out the duration); wrk would still
 * divide by the whole duration, so the script prints the time it really ran (`ELAPSED_US`, by
 * LuaJIT's ffi).
 */
function wrkTokenScript(list: TokenList): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-wrk-')), 'tokens.lua');
  writeFileSync(
    path,
    `local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } sluice_timespec; int clock_gettime(int clock, sluice_timespec *tp); int getpid(void); int kill(int pid, int sig); ]]
local ts = ffi.new("sluice_timespec")
local function now_us() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3 end
local threads = {}
function setup(thread) table.insert(threads, thread) end
local requests, n, i, started = {}, 0, 0, 0
function init(args)
  for line in io.lines(${JSON.stringify(list.file)}) do
    if #line > 0 then
      n = n + 1
      ${
        list.header === undefined
          ? 'requests[n] = wrk.format(nil, nil, { ["Host"] = wrk.headers["Host"], ["authorization"] = "Bearer " .. line })'
          : `local tab = line:find("\\t", 1, true)
      local path = line:sub(1, tab - 1)
      requests[n] = wrk.format(nil, #path > 0 and path or nil, { ["Host"] = wrk.headers["Host"], [${JSON.stringify(list.header)}] = line:sub(tab + 1) })`
      }
    end
  end
  started = now_us()
end
function request()
  i = i + 1
  if i > n then
    ${list.once ? 'if wrk.thread:get("elapsed") == nil then wrk.thread:set("elapsed", now_us() - started); wrk.thread:stop(); ffi.C.kill(ffi.C.getpid(), 2) end' : ''}
    i = 1
  end
  return requests[i]
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local elapsed = thread:get("elapsed")
    if elapsed ~= nil then io.write("ELAPSED_US " .. string.format("%d", elapsed) .. "\\n") end
  end
end
`,
  );
  return path;
}

/** wrk's CPU time in µs from bash's `times` (its second line: the children's user and system time). */
function childCpuMicros(stderr: string): number | undefined {
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/m.exec(stderr.trimEnd().split('\n').at(-1) ?? '');
  return m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1e6 : undefined;
}

/** Loads `url` with GET carrying `token` (or each token of a list in turn), or with POST of the JSON `post` (sluice-l). */
export async function runLoad(
  gen: LoadGenName,
  url: string,
  seconds: number,
  token: string | TokenList,
  post?: string,
  { connections = CONNECTIONS, timeoutSeconds = TIMEOUT_SECONDS }: { connections?: number; timeoutSeconds?: number } = {},
): Promise<LoadResult> {
  if (typeof token !== 'string' && gen !== 'wrk') throw new Error('sending many tokens needs wrk (a Lua script rotates them); autocannon sends one');
  const auth = typeof token === 'string' ? ['-H', `authorization: Bearer ${token}`] : ['-s', wrkTokenScript(token)];
  const posting = post === undefined ? [] : gen === 'wrk' ? ['-s', wrkPostScript(post)] : ['-m', 'POST', '-b', post, '-H', 'content-type=application/json'];
  const wrkArgs = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', `${timeoutSeconds}s`, '--latency', ...auth, ...posting, url];
  // wrk through bash, whose `times` then prints wrk's CPU time (LC_ALL=C: a decimal point)
  const [cmd, args] =
    gen === 'wrk'
      ? ['bash', ['-c', 'wrk "$@"; code=$?; times >&2; exit $code', 'wrk', ...wrkArgs]]
      : [process.execPath, [join(REPO, 'node_modules/autocannon/autocannon.js'), '-c', String(connections), '-d', String(seconds), '-t', String(timeoutSeconds), '-j', '-n', '-H', `authorization=Bearer ${token as string}`, ...posting, url]];
  const started = performance.now();
  const child = spawnPinned(LOAD_CORE, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wallUs = (performance.now() - started) * 1000;
  if (code !== 0) throw new Error(`${gen} exited with code ${code}:\n${err}${out}`);
  if (gen === 'autocannon') return parseAutocannon(out);
  const result = parseWrk(out);
  // a list sent once that ran out early: wrk's req/s divides by the whole duration
  const elapsedUs = Number(/^ELAPSED_US (\d+)$/m.exec(out)?.[1] ?? NaN);
  if (elapsedUs > 0) result.rps = result.requests / (elapsedUs / 1e6);
  const cpu = childCpuMicros(err);
  if (cpu !== undefined && result.requests > 0) {
    result.loadGenUsPerRequest = cpu / result.requests;
    // over the time it ran: bash and wrk's startup are in the wall time, but small beside a run
    result.loadGenBusy = cpu / (elapsedUs > 0 ? elapsedUs : wallUs);
  }
  return result;
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
