// `npx tsx bench/callgrind.ts <bundle> <bundle> …`: instructions per request of engine bundles
// (copies of dist/cli.mjs), counted by valgrind's callgrind over a fixed number of requests. The
// count barely moves from run to run, whatever else the machine does, so it decides an A/B that
// CPU time on a shared machine cannot. Each gateway runs under callgrind with instrumentation
// off; it is warmed up with CG_WARMUP requests, then instructions are counted over CG_REQUESTS
// requests (all threads: WebCrypto's thread pool, GC and JIT threads included) and divided by them.
// CG_ROUTE: /fresh (default; a new RS256 token every request), /es-fresh (a new ES256 token every
// request), or any other target's route with one token (/b; /d, whose response transform is an
// expression). CG_REQUESTS (default 2000), CG_WARMUP (default 3000). An argument
// bundle@NAME=value,… starts that gateway with those variables: SLUICE_EVIDENCE=off to compare
// anything but evidence (DuckDB's ingest thread runs inside the counted window or not: ±25%).
// Under valgrind a gateway runs ~50x slower: a bundle takes a few minutes.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopAll, stopChild } from './children.ts';
import { makeCredentials, targetWorkflows, tokenWorkflow } from './fixture.ts';
import { runLoad, type TokenList } from './loadgen.ts';
import { fmt } from './report.ts';
import { bundleArgument, cleanUp, makeTempDir, startGateway, startUpstream } from './servers.ts';
import { signTokens } from './tokens.ts';

// an argument may carry environment variables for its gateway, as in ab.ts: dist/x.mjs@SLUICE_EVIDENCE=off
const bundles = process.argv.slice(2).map(bundleArgument);
if (bundles.length === 0) throw new Error('usage: bench/callgrind.ts <bundle.mjs> [<bundle.mjs> …]');
const route = process.env.CG_ROUTE ?? '/fresh';
const requests = Number(process.env.CG_REQUESTS ?? 2000);
const warmup = Number(process.env.CG_WARMUP ?? 3000);
const credentials = await makeCredentials();
const dir = makeTempDir('sluice-callgrind-');
const lists = { warm: join(dir, 'warm.txt'), measured: join(dir, 'measured.txt') };
if (route !== '/fresh' && route !== '/es-fresh') {
  // one token, sent `n` times: a list of copies is what makes a run count requests instead of seconds
  writeFileSync(lists.warm, `${Array(warmup).fill(credentials.token).join('\n')}\n`);
  writeFileSync(lists.measured, `${Array(requests).fill(credentials.token).join('\n')}\n`);
} else {
  const key = route === '/es-fresh' ? credentials.es256 : credentials.rs256;
  // the same tokens for every bundle: each gateway is new, so each token is new to it
  await signTokens([{ key, count: warmup, prefix: 'warm', file: lists.warm }, { key, count: requests, prefix: 'measured', file: lists.measured }], dir);
}
const { origin } = await startUpstream();
const workflows = [...targetWorkflows(credentials.publicJwk, origin), tokenWorkflow('bench-fresh', '/fresh', credentials.rs256, origin), tokenWorkflow('bench-es-fresh', '/es-fresh', credentials.es256, origin)];
const once = (file: string): TokenList => ({ file, once: true });
/** A few connections, and patience: under valgrind the first requests (JIT compiling) and a GC can take seconds. */
const UNDER_VALGRIND = { connections: 8, timeoutSeconds: 120 };
const results: Array<{ bundle: string; irPerRequest: number; requests: number }> = [];
for (const { file: bundle, name, env } of bundles) {
  const outDir = makeTempDir('sluice-callgrind-out-');
  const gateway = await startGateway({
    workflows,
    bundle,
    env,
    startupMs: 600_000,
    wrap: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, 'callgrind.out')}`],
  });
  const url = `${gateway.url}${route}`;
  const warm = await runLoad('wrk', url, 3600, once(lists.warm), undefined, UNDER_VALGRIND);
  // vgdb finds the gateway by a file named after $HOST, which the gateway has as its listen address
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(gateway.pid)], { stdio: 'ignore', env: { ...process.env, HOST: '127.0.0.1' } });
  control('--instr=on');
  const measured = await runLoad('wrk', url, 3600, once(lists.measured), undefined, UNDER_VALGRIND);
  control('--dump=measured');
  control('--instr=off');
  if (measured.failures > 0) throw new Error(`${bundle}: ${measured.failureDetail}`);
  const dump = readdirSync(outDir).find((f) => /callgrind\.out\.\d+$/.test(f));
  const totals = dump === undefined ? undefined : /^totals: (\d+)/m.exec(readFileSync(join(outDir, dump), 'utf8'))?.[1];
  if (totals === undefined) throw new Error(`${bundle}: no callgrind dump in ${outDir}`);
  const irPerRequest = Number(totals) / measured.requests;
  results.push({ bundle: name, irPerRequest, requests: measured.requests });
  console.log(`${name}: ${fmt(irPerRequest / 1000, 1)} k instructions per request (${measured.requests} requests on ${route}, after ${warm.requests} to warm up)`);
  await stopChild(gateway);
}
await stopAll();
for (const r of results) console.log(`${r.bundle.padEnd(24)} ${fmt(r.irPerRequest / 1000, 1).padStart(8)} k Ir/request  (x${fmt(r.irPerRequest / results[0]!.irPerRequest, 3)} of the first)`);
cleanUp(process.env.CG_KEEP === '1'); // CG_KEEP=1 keeps the dumps, for callgrind_annotate
