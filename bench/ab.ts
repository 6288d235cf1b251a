// `npx tsx bench/ab.ts <bundle> <bundle> ...`: CPU time per request of engine bundles (copies of
// dist/cli.mjs) and the bare proxy, measured in alternating load runs on one route. For deciding
// whether a change to the request path pays, when req/s on a noisy machine cannot tell.
// AB_ROUTE (default /a), AB_ROUNDS (default 8), AB_SECONDS (default 4).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, cpuMicros, spawnPinned, stopAll } from './children.ts';
import { makeCredentials, targetWorkflows, writeWorkflows } from './fixture.ts';
import { chooseLoadGen, runLoad } from './loadgen.ts';
import { cleanEnv, cleanUp, freePort, makeTempDir, SERVER_CORE, startBareProxy, startUpstream } from './servers.ts';

// an argument may carry environment variables for its gateway: dist/x.mjs@REDIS_URL=redis://…,REDIS_PREFIX=ab
const bundles = process.argv.slice(2).map((arg) => {
  const [file, env = ''] = arg.split('@');
  return { file: resolve(file!), name: arg.split('/').pop()!, env: Object.fromEntries(env.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
});
const route = process.env.AB_ROUTE ?? '/a';
const rounds = Number(process.env.AB_ROUNDS ?? 8);
const seconds = Number(process.env.AB_SECONDS ?? 4);
const credentials = await makeCredentials();
const { origin } = await startUpstream();
const serveFlags = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { serveFlags: string } }).config.serveFlags.split(' ');
const targets: Array<{ name: string; pid: number; url: string }> = [];
const bare = await startBareProxy(origin);
targets.push({ name: 'bare', pid: bare.pid!, url: `http://127.0.0.1:${bare.port}/api/orders` });
for (const bundle of bundles) {
  const dataDir = makeTempDir('sluice-ab-');
  writeWorkflows(dataDir, targetWorkflows(credentials.publicJwk, origin));
  const port = await freePort();
  const log = openSync(join(dataDir, 'gateway.log'), 'a');
  const child = spawnPinned(SERVER_CORE, process.execPath, [...serveFlags, bundle.file, 'serve'], {
    env: { ...cleanEnv(), PORT: String(port), HOST: '127.0.0.1', SLUICE_DATA: dataDir, SLUICE_DEMO: 'off', SLUICE_ADMIN_TOKENS: `ab:admin:${randomBytes(12).toString('hex')}`, LOG_LEVEL: 'info', SLUICE_METRICS: 'on', ...bundle.env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) break;
    } catch {}
    await sleep(100);
  }
  targets.push({ name: bundle.name, pid: child.pid!, url: `http://127.0.0.1:${port}${route}` });
}
const gen = chooseLoadGen();
for (const t of targets) await runLoad(gen, t.url, 2, credentials.token); // warm-up
const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]));
const rps = new Map<string, number[]>(targets.map((t) => [t.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const t of order) {
    const before = cpuMicros(t.pid)!;
    const r = await runLoad(gen, t.url, seconds, credentials.token);
    const used = cpuMicros(t.pid)! - before;
    cpu.get(t.name)!.push(used / (r.rps * seconds));
    rps.get(t.name)!.push(r.rps);
  }
  console.log(`round ${round + 1}: ` + targets.map((t) => `${t.name} ${cpu.get(t.name)!.at(-1)!.toFixed(1)} µs ${rps.get(t.name)!.at(-1)!.toFixed(0)}/s`).join('  '));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bareCpu = median(cpu.get('bare')!);
for (const t of targets) console.log(`${t.name.padEnd(16)} CPU ${median(cpu.get(t.name)!).toFixed(1)} µs/req (x${(bareCpu / median(cpu.get(t.name)!)).toFixed(3)} of bare's)  ${median(rps.get(t.name)!).toFixed(0)} req/s`);
await stopAll();
cleanUp(false);
