// `npx tsx bench/ab.ts <bundle> <bundle> ...`: CPU time per request of engine bundles (copies of
// dist/cli.mjs) and the bare proxy, measured in alternating load runs on one route. For deciding
// whether a change to the request path pays, when req/s on a noisy machine cannot tell.
// AB_ROUTE (default /a; any route of `npm run bench`'s shared gateway, /g say; /e is d with a
// transform off the compiled fast path; /fresh and /es-fresh are b with RS256 and ES256 keys, for
// AB_FRESH), AB_ROUNDS (default 8), AB_SECONDS (default 4).
// AB_FRESH=<n>: every request a new token, n per round (each target gets the same n, new to it),
// a round ending when they are used up: the cold path of jwt-verify.
// After the medians it prints each target's CPU per request split into user and system time and
// by thread (`main`, V8's and libuv's helpers), summed over the rounds: where a difference lives.
import { randomBytes } from 'node:crypto';
import { stopAll, threadMicros } from './children.ts';
import { join } from 'node:path';
import { makeCredentials, offFastPathWorkflow, sharedGateway, tokenWorkflow } from './fixture.ts';
import { chooseLoadGen, type LoadResult, type TokenList } from './loadgen.ts';
import { load, settle, WARMUP_SECONDS, type LiveTarget } from './measure.ts';
import { fmt, median } from './report.ts';
import { bundleArgument, cleanUp, makeTempDir, startBareProxy, startGateway, startUpstream } from './servers.ts';
import { signTokens } from './tokens.ts';

// an argument may carry environment variables for its gateway: dist/x.mjs@REDIS_URL=redis://…,REDIS_PREFIX=ab
const bundles = process.argv.slice(2).map(bundleArgument);
const route = process.env.AB_ROUTE ?? '/a';
const rounds = Number(process.env.AB_ROUNDS ?? 8);
const seconds = Number(process.env.AB_SECONDS ?? 4);
const credentials = await makeCredentials();
const fresh = Number(process.env.AB_FRESH ?? 0);
/** The credential of round r (0: the warm-up): the one token, or a list of new ones. */
let tokensOf = (_round: number): string | TokenList => credentials.token;
if (fresh > 0) {
  const dir = makeTempDir('sluice-ab-tokens-');
  const key = route === '/es-fresh' ? credentials.es256 : credentials.rs256;
  const files = Array.from({ length: rounds + 1 }, (_, r) => join(dir, `round-${r}.txt`));
  await signTokens(files.map((file, r) => ({ key, count: fresh, prefix: `round-${r}`, file })), dir);
  tokensOf = (round) => ({ file: files[round]!, once: true });
}
const { origin } = await startUpstream();
const bare = await startBareProxy(origin);
const targets: LiveTarget[] = [{ name: 'bare', url: `http://127.0.0.1:${bare.port}/api/orders`, server: bare }];
for (const bundle of bundles) {
  // the shared gateway of `npm run bench` (any of its rows' routes), /e and the fresh-token routes
  const shared = sharedGateway(credentials.publicJwk, origin, randomBytes(24).toString('hex'));
  const workflows = [...shared.workflows, offFastPathWorkflow(credentials.publicJwk, origin), tokenWorkflow('bench-fresh', '/fresh', credentials.rs256, origin), tokenWorkflow('bench-es-fresh', '/es-fresh', credentials.es256, origin)];
  const gateway = await startGateway({ workflows, env: { ...shared.env, ...bundle.env }, bundle: bundle.file });
  targets.push({ name: bundle.name, url: `${gateway.url}${route}`, server: gateway });
}
const gen = chooseLoadGen();
for (const t of targets) await load(gen, t, WARMUP_SECONDS, tokensOf(0));
const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
/** Each target's CPU by thread over its measured runs, and the requests they served. */
const threads = new Map<string, { requests: number; byThread: Map<string, { user: number; system: number }> }>(targets.map((t) => [t.name, { requests: 0, byThread: new Map() }]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const t of order) {
    await settle(targets.map((target) => target.server));
    const before = threadMicros(t.server.pid!);
    const result = await load(gen, t, fresh > 0 ? 600 : seconds, tokensOf(round + 1));
    const sums = threads.get(t.name)!;
    sums.requests += result.requests;
    for (const [name, after] of threadMicros(t.server.pid!)) {
      const was = before.get(name) ?? { user: 0, system: 0 };
      const sum = sums.byThread.get(name) ?? { user: 0, system: 0 };
      sums.byThread.set(name, { user: sum.user + after.user - was.user, system: sum.system + after.system - was.system });
    }
    runs.get(t.name)!.push(result);
  }
  console.log(`round ${round + 1}: ` + targets.map((t) => `${t.name} ${fmt(runs.get(t.name)!.at(-1)!.cpuUsPerRequest, 1)} µs ${fmt(runs.get(t.name)!.at(-1)!.rps, 0)}/s`).join('  '));
}
const cpuOf = (name: string) => median(runs.get(name)!.map((r) => r.cpuUsPerRequest!));
for (const t of targets)
  console.log(`${t.name.padEnd(16)} CPU ${fmt(cpuOf(t.name), 1)} µs/req (x${fmt(cpuOf('bare') / cpuOf(t.name), 3)} of bare's)  ${fmt(median(runs.get(t.name)!.map((r) => r.rps)), 0)} req/s`);
for (const t of targets) {
  const { requests, byThread } = threads.get(t.name)!;
  const per = (us: number) => fmt(us / requests, 1);
  const all = [...byThread.values()].reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }), { user: 0, system: 0 });
  const parts = [...byThread].filter(([, v]) => v.user + v.system > 0).map(([name, v]) => `${name} ${per(v.user)} + ${per(v.system)}`);
  console.log(`${t.name.padEnd(16)} over all rounds: user ${per(all.user)} + system ${per(all.system)} µs/req (${parts.join(', ')})`);
}
await stopAll();
cleanUp(false);
