// `npx tsx bench/profile.ts [seconds]`: a CPU profile of the gateway under the reference load,
// for finding where the per-request time goes. Writes a .cpuprofile into bench/results and prints
// the heaviest functions by self time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, spawnCompiled, spawnPinned, stopAll, waitForListening } from './children.ts';
import { makeCredentials, targetWorkflows, writeWorkflows } from './fixture.ts';
import { chooseLoadGen, runLoad, type TokenList } from './loadgen.ts';
import { signTokens } from './tokens.ts';

const seconds = Number(process.argv[2] ?? 8);
const route = process.env.PROFILE_ROUTE ?? '/c';
const credentials = await makeCredentials();
// PROFILE_TOKENS=<n>: every request a new RS256 token (n of them, each sent once; wrk), the cold path of jwt-verify;
// with PROFILE_ROTATE=1 they are sent round-robin instead
const fresh = Number(process.env.PROFILE_TOKENS ?? 0);
const tokenDir = mkdtempSync(join(tmpdir(), 'sluice-profile-tokens-'));
const lists: [string | TokenList, string | TokenList] = [credentials.token, credentials.token];
if (fresh > 0) {
  const files = [join(tokenDir, 'warm.txt'), join(tokenDir, 'measured.txt')];
  await signTokens([{ key: credentials.rs256, count: Math.ceil(fresh / 4), prefix: 'warm', file: files[0]! }, { key: credentials.rs256, count: fresh, prefix: 'measured', file: files[1]! }], tokenDir);
  // PROFILE_ROTATE=1: the measured tokens sent round-robin (the bench's (e)): a miss on first use, then hits
  const once = process.env.PROFILE_ROTATE !== '1';
  lists[0] = { file: files[0]!, once };
  lists[1] = { file: files[1]!, once };
}
const upstream = spawnCompiled(1, 'bench/upstream.ts', []);
const origin = `http://127.0.0.1:${await waitForListening(upstream, 'upstream')}`;
execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, stdio: 'inherit' });
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-profile-'));
writeWorkflows(dataDir, targetWorkflows(credentials.publicJwk, origin));
const profDir = join(REPO, 'bench', 'results', `profile-${Date.now()}`);
mkdirSync(profDir, { recursive: true });
const port = 18000 + Math.floor(Math.random() * 1000);
const serveFlags = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { serveFlags: string } }).config.serveFlags.split(' ');
const gateway = spawnPinned(0, process.execPath, [...serveFlags, '--cpu-prof', `--cpu-prof-dir=${profDir}`, join(REPO, 'dist', 'cli.mjs'), 'serve'], {
  env: { ...process.env, PORT: String(port), SLUICE_DATA: dataDir, SLUICE_DEMO: 'off', SLUICE_EGRESS_ALLOW: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', LOG_FILE: join(dataDir, 'gateway.log') },
  stdio: ['ignore', 'ignore', 'inherit'],
});
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) break;
  } catch {}
  await sleep(100);
}
const gen = chooseLoadGen();
await runLoad(gen, `http://127.0.0.1:${port}${route}`, 2, lists[0]);
const result = await runLoad(gen, `http://127.0.0.1:${port}${route}`, seconds, lists[1]);
console.log(`${result.rps.toFixed(0)} req/s during the profile (${result.requests} requests)`);
gateway.kill('SIGINT');
await new Promise((resolve) => gateway.once('exit', resolve));
await stopAll();
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
  endTime: number;
  startTime: number;
};
// Only the samples of the measured load: the last `seconds` of the profile (the gateway is stopped
// right after it), not its startup or the warm-up.
const keyOf = new Map(profile.nodes.map((node) => [node.id, `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`]));
const from = profile.endTime - (result.requests / result.rps) * 1e6;
const self = new Map<string, number>();
let total = 0;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i]!;
  if (at < from) return;
  const key = keyOf.get(id)!;
  self.set(key, (self.get(key) ?? 0) + 1);
  total += 1;
});
// each sample stands for the time since the one before: µs per request of a function = its samples × the mean interval / requests
const intervalUs = (profile.endTime - from) / Math.max(1, total);
console.log(`share of the samples, and µs per request (${total} samples over ${result.requests} requests)`);
for (const [key, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${((hits * intervalUs) / result.requests).toFixed(2).padStart(7)} µs  ${key}`);
console.log(`profile: ${join(profDir, file)}`);
