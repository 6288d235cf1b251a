// `npx tsx bench/ab.ts <bundle> <bundle> ...`: CPU time per request of engine bundles (copies of
// dist/cli.mjs) and the bare proxy, measured in alternating load runs on one route. For deciding
// whether a change to the request path pays, when req/s on a noisy machine cannot tell.
// AB_ROUTE (default /a; /e is d with a transform off the compiled fast path; /fresh and /es-fresh
// are b with RS256 and ES256 keys, for AB_FRESH), AB_ROUNDS (default 8), AB_SECONDS (default 4).
// AB_FRESH=<n>: every request a new token, n per round (each target gets the same n, new to it),
// a round ending when they are used up: the cold path of jwt-verify.
import { stopAll } from './children.ts';
import { join } from 'node:path';
import { makeCredentials, offFastPathWorkflow, targetWorkflows, tokenWorkflow } from './fixture.ts';
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
  const workflows = [...targetWorkflows(credentials.publicJwk, origin), offFastPathWorkflow(credentials.publicJwk, origin), tokenWorkflow('bench-fresh', '/fresh', credentials.rs256, origin), tokenWorkflow('bench-es-fresh', '/es-fresh', credentials.es256, origin)];
  const gateway = await startGateway({ workflows, env: bundle.env, bundle: bundle.file });
  targets.push({ name: bundle.name, url: `${gateway.url}${route}`, server: gateway });
}
const gen = chooseLoadGen();
for (const t of targets) await load(gen, t, WARMUP_SECONDS, tokensOf(0));
const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const t of order) {
    await settle(targets.map((target) => target.server));
    runs.get(t.name)!.push(await load(gen, t, fresh > 0 ? 600 : seconds, tokensOf(round + 1)));
  }
  console.log(`round ${round + 1}: ` + targets.map((t) => `${t.name} ${fmt(runs.get(t.name)!.at(-1)!.cpuUsPerRequest, 1)} µs ${fmt(runs.get(t.name)!.at(-1)!.rps, 0)}/s`).join('  '));
}
const cpuOf = (name: string) => median(runs.get(name)!.map((r) => r.cpuUsPerRequest!));
for (const t of targets)
  console.log(`${t.name.padEnd(16)} CPU ${fmt(cpuOf(t.name), 1)} µs/req (x${fmt(cpuOf('bare') / cpuOf(t.name), 3)} of bare's)  ${fmt(median(runs.get(t.name)!.map((r) => r.rps)), 0)} req/s`);
await stopAll();
cleanUp(false);
