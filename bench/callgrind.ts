// `npx tsx bench/callgrind.ts <bundle> <bundle> …`: instructions per request of engine bundles
// (copies of dist/cli.mjs), counted by valgrind's callgrind over a fixed number of requests. The
// count barely moves from run to run, whatever else the machine does, so it decides an A/B that
// CPU time on a shared machine cannot. Each gateway runs under callgrind with instrumentation
// off; it is warmed up with CG_WARMUP requests, then instructions are counted over CG_REQUESTS
// requests (all threads: WebCrypto's thread pool, GC and JIT threads included) and divided by them.
// The argument `bare` counts the bare proxy (bench/bare-proxy.ts) the same way, on /api/orders.
// Each count is printed whole and without V8's optimizing compiler (TurboFan's jobs, inclusive):
// under valgrind V8 goes on compiling far longer than it does at full speed (measured: ~33 jobs
// per 10,000 requests of the bare proxy after 40,000 of warm-up, where at full speed it compiles
// about one per 70,000), and those jobs were a quarter of some counts; without them the count is
// the request path's own.
// CG_ROUTE: /fresh (default; a new RS256 token every request), /es-fresh (a new ES256 token every
// request), /hm (hmac-verify: every request signed anew, as sluice-hmac), or any other
// route of the default run's shared gateway with one token (/b; /d, whose response transform is an
// expression; /g, /h and the rest: the gateway holds every row's workflow). CG_REQUESTS (default
// 2000), CG_WARMUP (default 3000). An argument bundle@NAME=value,… starts that gateway with those
// variables: SLUICE_EVIDENCE=off to compare anything but evidence (DuckDB's ingest thread runs
// inside the counted window or not: ±25%).
// CG_FUNCTIONS=<n>: also print each bundle's n costliest functions by their own instructions a
// request, JavaScript ones by name (the counted process runs with --perf-basic-prof, and the
// addresses callgrind reports for JIT code are looked up in V8's /tmp/perf-<pid>.map), V8's
// optimizing compiler left out: where two counts differ, function by function.
// Work done once a time span (the request log's time stamp once a second, replay's samples, at
// most a few a second) weighs more here, where a gateway serves ~60 requests a second.
// Under valgrind a gateway runs ~50x slower: a bundle takes a few minutes.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCompiled, stopAll, stopChild, waitForListening } from './children.ts';
import { makeCredentials, sharedGateway, tokenWorkflow } from './fixture.ts';
import { signedRequests } from './hmac.ts';
import { runLoad, type TokenList } from './loadgen.ts';
import { fmt } from './report.ts';
import { bundleArgument, cleanUp, makeTempDir, SERVER_CORE, startGateway, startUpstream } from './servers.ts';
import { signTokens } from './tokens.ts';

// an argument may carry environment variables for its gateway, as in ab.ts: dist/x.mjs@SLUICE_EVIDENCE=off
/** The argument that names the bare proxy instead of a bundle. */
const BARE = 'bare';
const bundles = process.argv.slice(2).map((arg) => (arg === BARE ? { file: BARE, name: BARE, env: {} } : bundleArgument(arg)));
if (bundles.length === 0) throw new Error('usage: bench/callgrind.ts <bundle.mjs> [<bundle.mjs> …]');
const route = process.env.CG_ROUTE ?? '/fresh';
if (route === '/hm' && bundles.some((b) => b.file === BARE)) throw new Error('/hm is a route of the gateways: count bare with another CG_ROUTE');
const requests = Number(process.env.CG_REQUESTS ?? 2000);
const warmup = Number(process.env.CG_WARMUP ?? 3000);
const credentials = await makeCredentials();
const dir = makeTempDir('sluice-callgrind-');
const lists = { warm: join(dir, 'warm.txt'), measured: join(dir, 'measured.txt') };
/** /hm's requests are signed for each gateway (a partner and secret of its own) once it is up: no lists here. */
const SIGNED = route === '/hm';
if (!SIGNED) {
  if (route !== '/fresh' && route !== '/es-fresh') {
    // one token, sent `n` times: a list of copies is what makes a run count requests instead of seconds
    writeFileSync(lists.warm, `${Array(warmup).fill(credentials.token).join('\n')}\n`);
    writeFileSync(lists.measured, `${Array(requests).fill(credentials.token).join('\n')}\n`);
  } else {
    const key = route === '/es-fresh' ? credentials.es256 : credentials.rs256;
    // the same tokens for every bundle: each gateway is new, so each token is new to it
    await signTokens([{ key, count: warmup, prefix: 'warm', file: lists.warm }, { key, count: requests, prefix: 'measured', file: lists.measured }], dir);
  }
}
const { origin } = await startUpstream();
// the shared gateway of `npm run bench` (so any of its routes counts as its row) and the fresh-token routes
const shared = sharedGateway(credentials.publicJwk, origin, randomBytes(24).toString('hex'));
const workflows = [...shared.workflows, tokenWorkflow('bench-fresh', '/fresh', credentials.rs256, origin), tokenWorkflow('bench-es-fresh', '/es-fresh', credentials.es256, origin)];
const once = (file: string): TokenList => ({ file, once: true });
/** The token lists a run sends (0: the warm-up), unless /hm's signed requests. */
const tokenLists = (run: number): TokenList => once(run === 0 ? lists.warm : lists.measured);
/** A few connections, and patience: under valgrind the first requests (JIT compiling) and a GC can take seconds. */
const UNDER_VALGRIND = { connections: 8, timeoutSeconds: 120 };
const results: Array<{ bundle: string; irPerRequest: number; compilerPerRequest: number; requests: number }> = [];
/** A server under valgrind: its pid (for callgrind_control) and the URL counted. */
interface Counted {
  child: ChildProcess;
  pid: number;
  url: string;
  /** /hm's signed requests, made for this gateway. */
  signed?: (run: number) => TokenList;
}

/** The bare proxy under valgrind, with the gateways' HOST: vgdb finds a process by a file named after $HOST. */
async function startBare(valgrind: string[]): Promise<Counted> {
  const child = spawnCompiled(SERVER_CORE, 'bench/bare-proxy.ts', [origin], { env: { ...process.env, HOST: '127.0.0.1', ...NAMING_ENV } }, valgrind);
  const port = await waitForListening(child, 'bare proxy under valgrind', 600_000);
  return { child, pid: child.pid!, url: `http://127.0.0.1:${port}/api/orders` };
}

async function startCounted(bundle: string, env: Record<string, string>, valgrind: string[]): Promise<Counted> {
  if (bundle === BARE) return startBare(valgrind);
  const gateway = await startGateway({ workflows, bundle, env: { ...shared.env, ...NAMING_ENV, ...env }, startupMs: 600_000, wrap: valgrind });
  const signed = SIGNED ? (await signedRequests(gateway, route, [warmup, requests])).tokens : undefined;
  return { child: gateway, pid: gateway.pid!, url: `${gateway.url}${route}`, ...(signed ? { signed } : {}) };
}

/** CG_FUNCTIONS: how many functions to name per bundle (0: none). */
const namedFunctions = Number(process.env.CG_FUNCTIONS ?? 0);

/** With CG_FUNCTIONS, V8 writes a map of its JIT code to /tmp/perf-<pid>.map, so that the functions counted can be named. */
const NAMING_ENV: Record<string, string> = namedFunctions > 0 ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, '--perf-basic-prof'].filter(Boolean).join(' ') } : {};

/** Whether a function is V8's optimizing compiler at work (its jobs run long after the warm-up under valgrind). */
const COMPILER = /v8::internal::compiler::|v8::internal::maglev::|turboshaft/;

/**
 * Each function's own instructions (callgrind_annotate's exclusive counts), JIT code named from
 * V8's perf map (`<start> <size> <name>` per line) where callgrind has only an address.
 */
function ownInstructions(dump: string, pid: number): Map<string, number> {
  const code: Array<{ start: number; end: number; name: string }> = [];
  try {
    for (const line of readFileSync(`/tmp/perf-${pid}.map`, 'utf8').split('\n')) {
      const [start, size, ...name] = line.split(' ');
      if (start && size && name.length > 0) code.push({ start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(' ') });
    }
  } catch {
    // no map: JIT code stays unnamed
  }
  code.sort((a, b) => a.start - b.start);
  const nameAt = (address: number) => {
    let low = 0;
    let high = code.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (code[mid]!.end <= address) low = mid + 1;
      else if (code[mid]!.start > address) high = mid - 1;
      else return code[mid]!.name;
    }
    return 'JIT code (unnamed)';
  };
  const own = new Map<string, number>();
  const text = execFileSync('callgrind_annotate', ['--threshold=100', dump], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+(\S.*?)(?: \[[^\]]*\])?$/.exec(line);
    if (match === null || !match[2]!.includes(':')) continue;
    const fn = match[2]!;
    if (COMPILER.test(fn)) continue;
    const address = /^\?\?\?:0x([0-9a-f]+)$/.exec(fn)?.[1];
    const name = address === undefined ? fn.replace(/^\?\?\?:/, '') : nameAt(parseInt(address, 16));
    own.set(name, (own.get(name) ?? 0) + Number(match[1]!.replaceAll(',', '')));
  }
  return own;
}

/** Instructions in V8's optimizing compiler: its jobs (on whichever thread ran them) and their installation, inclusive. */
function compilerInstructions(dump: string): number {
  const text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let sum = 0;
  for (const fn of ['OptimizingCompileDispatcher::CompileTask::RunInternal()', 'OptimizingCompileDispatcher::InstallOptimizedFunctions()']) {
    const line = text.split('\n').find((l) => l.includes(`v8::internal::${fn}`));
    if (line !== undefined) sum += Number(/^\s*([\d,]+)/.exec(line)![1]!.replaceAll(',', ''));
  }
  return sum;
}

for (const { file: bundle, name, env } of bundles) {
  const outDir = makeTempDir('sluice-callgrind-out-');
  const valgrind = ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, 'callgrind.out')}`];
  const server = await startCounted(bundle, env, valgrind);
  const url = server.url;
  const sent = server.signed ?? tokenLists;
  const warm = await runLoad('wrk', url, 3600, sent(0), undefined, UNDER_VALGRIND);
  // vgdb finds the gateway by a file named after $HOST, which the gateway has as its listen address
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(server.pid)], { stdio: 'ignore', env: { ...process.env, HOST: '127.0.0.1' } });
  control('--instr=on');
  const measured = await runLoad('wrk', url, 3600, sent(1), undefined, UNDER_VALGRIND);
  control('--dump=measured');
  control('--instr=off');
  if (measured.failures > 0) throw new Error(`${bundle}: ${measured.failureDetail}`);
  const dump = readdirSync(outDir).find((f) => /callgrind\.out\.\d+$/.test(f));
  const totals = dump === undefined ? undefined : /^totals: (\d+)/m.exec(readFileSync(join(outDir, dump), 'utf8'))?.[1];
  if (totals === undefined) throw new Error(`${bundle}: no callgrind dump in ${outDir}`);
  const irPerRequest = Number(totals) / measured.requests;
  const compilerPerRequest = compilerInstructions(join(outDir, dump!)) / measured.requests;
  results.push({ bundle: name, irPerRequest, compilerPerRequest, requests: measured.requests });
  if (namedFunctions > 0) {
    const own = [...ownInstructions(join(outDir, dump!), server.pid)].sort((a, b) => b[1] - a[1]).slice(0, namedFunctions);
    console.log(`${name}: its ${own.length} costliest functions, own instructions a request (the compiler left out)`);
    for (const [fn, count] of own) console.log(`${fmt(count / measured.requests, 0).padStart(8)}  ${fn}`);
    rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
  }
  console.log(`${name}: ${fmt(irPerRequest / 1000, 1)} k instructions per request, ${fmt((irPerRequest - compilerPerRequest) / 1000, 1)} k without the optimizing compiler (${measured.requests} requests on ${bundle === BARE ? '/api/orders' : route}, after ${warm.requests} to warm up)`);
  await stopChild(server.child);
}
await stopAll();
const first = results[0]!;
for (const r of results) {
  const own = r.irPerRequest - r.compilerPerRequest;
  console.log(`${r.bundle.padEnd(24)} ${fmt(r.irPerRequest / 1000, 1).padStart(8)} k Ir/request (x${fmt(r.irPerRequest / first.irPerRequest, 3)} of the first)  ${fmt(own / 1000, 1).padStart(8)} k without the compiler (x${fmt(own / (first.irPerRequest - first.compilerPerRequest), 3)})`);
}
cleanUp(process.env.CG_KEEP === '1'); // CG_KEEP=1 keeps the dumps, for callgrind_annotate
