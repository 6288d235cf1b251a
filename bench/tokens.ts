// The many-token targets of `npm run bench` (issue 26). Every other target is sent ONE token, so
// a gateway with a verified-token cache verifies one signature per run; real traffic carries many
// partners' tokens. Three scenarios, each against Sluice (workflow b at a route of its own), an
// Express + jose service (express-jose.ts) and express-gateway (jwt → scope → proxy; its jwt policy
// allows HS* and RS* only, so it has no ES256 row):
//   rs10k  (e) 10,000 distinct RS256 tokens sent round-robin: a miss on first use, then hits;
//   es10k  (f) the same with ES256;
//   fresh  (g) every token new, each sent once: a signature check on every request.
// Each run (the warm-up, then each round) gets token sets of its own, signed beforehand by
// bench/sign-tokens.ts, so every run of rs10k and es10k starts with 10,000 first uses, and no
// token of fresh is ever seen twice by one server. See bench/README.md.
import type { ChildProcess } from 'node:child_process';
import { openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCompiled, waitForListening } from './children.ts';
import { tokenWorkflow, type Credentials, type SigningKey } from './fixture.ts';
import type { TokenList } from './loadgen.ts';
import { envInt } from './measure.ts';
import { PEERS, startPeer } from './peers.ts';
import { check, fmt, printTable, type Check } from './report.ts';
import { makeTempDir, SERVER_CORE, startGateway, UPSTREAM_CORE } from './servers.ts';

export const TOKEN_TARGETS = [
  'sluice-rs10k',
  'sluice-es10k',
  'sluice-fresh',
  'express-jose',
  'express-jose-rs10k',
  'express-jose-es10k',
  'express-jose-fresh',
  'express-gateway-rs10k',
  'express-gateway-fresh',
] as const;
export type TokenTargetName = (typeof TOKEN_TARGETS)[number];

type Scenario = 'rs10k' | 'es10k' | 'fresh';
const SCENARIOS: Record<Scenario, { letter: string; alg: SigningKey['alg']; once: boolean; what: string }> = {
  rs10k: { letter: 'e', alg: 'RS256', once: false, what: '10,000 RS256 tokens round-robin' },
  es10k: { letter: 'f', alg: 'ES256', once: false, what: '10,000 ES256 tokens round-robin' },
  fresh: { letter: 'g', alg: 'RS256', once: true, what: 'a new RS256 token every request' },
};

/** Distinct tokens per run of rs10k and es10k. */
const ROTATION_TOKENS = 10_000;

const scenarioOf = (name: TokenTargetName): Scenario | undefined => /-(rs10k|es10k|fresh)$/.exec(name)?.[1] as Scenario | undefined;

export const TOKEN_DESCRIPTIONS: Record<TokenTargetName, string> = {
  'sluice-rs10k': 'Sluice (e): workflow b, 10,000 distinct RS256 tokens round-robin (a miss on first use, then cache hits); a gateway of its own',
  'sluice-es10k': 'Sluice (f): workflow b with ES256, 10,000 distinct ES256 tokens round-robin',
  'sluice-fresh': 'Sluice (g): workflow b, every request a new RS256 token (a signature check on each)',
  'express-jose': 'Express 5 + jose jwtVerify (local JWKS) + scope + undici proxy, one token (it verifies every request)',
  'express-jose-rs10k': 'Express + jose (e): 10,000 RS256 tokens round-robin',
  'express-jose-es10k': 'Express + jose (f): 10,000 ES256 tokens round-robin',
  'express-jose-fresh': 'Express + jose (g): a new RS256 token every request',
  'express-gateway-rs10k': `express-gateway ${PEERS['express-gateway'].version} (e): jwt (RS256) → scope → proxy, no rate limit; 10,000 RS256 tokens round-robin`,
  'express-gateway-fresh': `express-gateway ${PEERS['express-gateway'].version} (g): jwt (RS256) → scope → proxy; a new RS256 token every request`,
};

/** Tokens per run of fresh: a run ends when they are used up, or after BENCH_SECONDS. */
const freshTokens = () => envInt('BENCH_FRESH_TOKENS', 20_000);

/** Token files by scenario, one per run: [0] the warm-up, [1..rounds] the rounds. */
export type TokenSets = Map<Scenario, string[]>;

/** `count` tokens signed by `key`, with jti `<prefix>-<i>`, into `file`. */
export interface SignJob {
  key: SigningKey;
  count: number;
  prefix: string;
  file: string;
}

/**
 * Runs bench/sign-tokens.ts for every job, two processes at a time (one per core: nothing is
 * measured meanwhile). RS256 costs ~0.4 ms a token. The private keys are written into `dir`.
 */
export async function signTokens(jobs: SignJob[], dir: string): Promise<void> {
  const keyFiles = new Map<string, string>();
  for (const { key } of jobs) {
    if (keyFiles.has(key.kid)) continue;
    const file = join(dir, `${key.kid}.pem`);
    writeFileSync(file, key.privatePem, { mode: 0o600 });
    keyFiles.set(key.kid, file);
  }
  const queue = [...jobs];
  const worker = async (core: number) => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const child = spawnCompiled(core, 'bench/sign-tokens.ts', [job.key.alg, job.key.kid, keyFiles.get(job.key.kid)!, String(job.count), job.prefix, job.file], { stdio: ['ignore', 'inherit', 'inherit'] });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`bench/sign-tokens.ts (${job.key.alg}, ${job.prefix}) exited with code ${code}`);
    }
  };
  await Promise.all([worker(SERVER_CORE), worker(UPSTREAM_CORE)]);
}

/** Signs every set the selected targets need, before any server starts (~50 s of CPU for the default run). */
export async function signTokenSets(selected: readonly string[], credentials: Credentials, rounds: number): Promise<TokenSets> {
  const wanted = new Set((selected.filter((n) => (TOKEN_TARGETS as readonly string[]).includes(n)) as TokenTargetName[]).map(scenarioOf).filter((s) => s !== undefined));
  const sets: TokenSets = new Map();
  if (wanted.size === 0) return sets;
  const dir = makeTempDir('sluice-tokens-');
  const jobs: SignJob[] = [];
  for (const scenario of wanted) {
    const key = SCENARIOS[scenario].alg === 'RS256' ? credentials.rs256 : credentials.es256;
    const count = scenario === 'fresh' ? freshTokens() : ROTATION_TOKENS;
    const files = Array.from({ length: rounds + 1 }, (_, run) => join(dir, `${scenario}-${run}.txt`));
    sets.set(scenario, files);
    files.forEach((file, run) => jobs.push({ key, count, prefix: `${scenario}-${run}`, file }));
  }
  const started = performance.now();
  console.log(`signing ${fmt(jobs.reduce((sum, j) => sum + j.count, 0), 0)} tokens for the many-token targets (${[...wanted].join(', ')}), two processes…`);
  await signTokens(jobs, dir);
  console.log(`signed in ${fmt((performance.now() - started) / 1000, 1)} s`);
  return sets;
}

/** The first token of a file: what a target is checked with before its runs. */
function firstToken(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8').split('\n')[0]!;
  } finally {
    closeSync(fd);
  }
}

export interface TokenTarget {
  name: TokenTargetName;
  url: string;
  server: ChildProcess;
  version?: string;
  tokens?: (run: number) => TokenList;
  /** The token the target is checked with before the runs (an ES256 one for the es10k targets). */
  checkToken: string;
}

/**
 * Starts what the selected many-token targets need: one Sluice gateway for the three Sluice ones
 * (a node each, hence a cache each), one Express + jose server for its four, and one
 * express-gateway without its rate limit, as Sluice's b. A peer that fails to install or start is
 * left out with why in `dropped`.
 */
export async function startTokenTargets(selected: readonly string[], credentials: Credentials, upstream: string, sets: TokenSets, dropped: Map<string, string>): Promise<TokenTarget[]> {
  const names = TOKEN_TARGETS.filter((n) => selected.includes(n));
  const targets: TokenTarget[] = [];
  const tokensOf = (name: TokenTargetName) => {
    const scenario = scenarioOf(name);
    if (scenario === undefined) return { checkToken: credentials.token };
    const files = sets.get(scenario)!;
    return { tokens: (run: number): TokenList => ({ file: files[run]!, once: SCENARIOS[scenario].once }), checkToken: firstToken(files[0]!) };
  };
  const keyOf = (scenario: Scenario) => (SCENARIOS[scenario].alg === 'RS256' ? credentials.rs256 : credentials.es256);
  const sluice = names.filter((n) => n.startsWith('sluice-'));
  if (sluice.length > 0) {
    const gateway = await startGateway({ workflows: sluice.map((n) => tokenWorkflow(`bench-${n}`, `/${scenarioOf(n)}`, keyOf(scenarioOf(n)!), upstream)) });
    for (const name of sluice) targets.push({ name, url: `${gateway.url}/${scenarioOf(name)}`, server: gateway, ...tokensOf(name) });
  }
  const jose = names.filter((n) => n.startsWith('express-jose'));
  if (jose.length > 0) {
    const jwks = join(makeTempDir('express-jose-'), 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [credentials.rs256.publicJwk, credentials.es256.publicJwk] }));
    const server = spawnCompiled(SERVER_CORE, 'bench/express-jose.ts', [upstream, jwks]);
    const port = await waitForListening(server, 'express-jose');
    for (const name of jose) targets.push({ name, url: `http://127.0.0.1:${port}/api/orders`, server, ...tokensOf(name) });
  }
  const gateways = names.filter((n) => n.startsWith('express-gateway-'));
  if (gateways.length > 0) {
    try {
      const peer = await startPeer('express-gateway', { publicPem: credentials.rs256.publicPem, upstream, token: credentials.token, rateLimit: false });
      console.log(`express-gateway ${peer.version} (no rate limit) started`);
      for (const name of gateways) targets.push({ name, url: peer.url, server: peer, version: peer.version, ...tokensOf(name) });
    } catch (err) {
      for (const name of gateways) dropped.set(name, (err as Error).message);
      console.log(`express-gateway (no rate limit): NOT MEASURED, it could not be installed or started:\n  ${(err as Error).message.replaceAll('\n', '\n  ')}`);
    }
  }
  return targets;
}

/** What tokens.ts reads of a row of the compare table. */
interface Row {
  target: string;
  rps: number;
  cpuUsPerRequest: number | undefined;
  /** Against bare run by run (compare.ts's summary): what a check against bare is judged on. */
  ratioToBare?: number | undefined;
  cpuRatioToBare?: number | undefined;
}

/**
 * The checks of issue 26 on the many-token targets, on req/s and on CPU per request: (e) and
 * (f) >= 0.7 of bare; (g) at least twice the Express + jose service's.
 */
export function tokenChecks(row: (name: string) => Row | undefined, why: (name: string) => string): Check[] {
  const bare = row('bare');
  const both = (label: string, name: string, base: Row | undefined, baseName: string, min: number): Check[] => {
    const r = row(name);
    const skip = !base ? why(baseName) : why(name);
    // against bare: run by run (Row.ratioToBare); against another server: the ratio of the medians
    const vsBare = baseName === 'bare';
    const cpu = r?.cpuUsPerRequest !== undefined && base?.cpuUsPerRequest !== undefined ? (vsBare ? r.cpuRatioToBare : base.cpuUsPerRequest / r.cpuUsPerRequest) : undefined;
    const rps = r && base ? (vsBare ? r.ratioToBare : r.rps / base.rps) : undefined;
    return [
      check(`${label} req/s >= ${min}x`, rps, '>=', min, r && base ? `${fmt(r.rps, 0)} / ${fmt(base.rps, 0)} req/s${vsBare ? ' (medians)' : ''}` : '', skip),
      check(`${label} CPU >= ${min}x`, cpu, '>=', min, cpu !== undefined ? `${fmt(base!.cpuUsPerRequest, 1)} / ${fmt(r!.cpuUsPerRequest, 1)} µs per request${vsBare ? ' (medians)' : ''}` : '', r && base && cpu === undefined ? 'no CPU time could be read' : skip),
    ];
  };
  return [
    ...both('(e) 10k RS256 tokens / bare', 'sluice-rs10k', bare, 'bare', 0.7),
    ...both('(f) 10k ES256 tokens / bare', 'sluice-es10k', bare, 'bare', 0.7),
    ...both('(g) new token / express-jose', 'sluice-fresh', row('express-jose-fresh'), 'express-jose-fresh', 2),
  ];
}

/** CPU per request of a scenario minus the same server's with one token: what verifying a signature costs it. */
function verifyCost(row: (name: string) => Row | undefined, fresh: string, one: string): number | undefined {
  const f = row(fresh)?.cpuUsPerRequest;
  const o = row(one)?.cpuUsPerRequest;
  return f === undefined || o === undefined ? undefined : f - o;
}

/** The many-token rows side by side by scenario, and each server's cost of one verification. */
export function printTokens(row: (name: string) => Row | undefined): { perVerifyUs: Record<string, number | undefined> } {
  const servers = [
    ['Sluice', 'sluice-b', 'sluice'],
    ['Express + jose', 'express-jose', 'express-jose'],
    ['express-gateway', undefined, 'express-gateway'],
  ] as const;
  const cell = (name: string | undefined) => {
    const r = name === undefined ? undefined : row(name);
    return [fmt(r?.rps, 0), fmt(r?.cpuUsPerRequest, 1)];
  };
  const lines = [
    ['(b) one token', ...servers.flatMap(([, one]) => cell(one))],
    ...(Object.keys(SCENARIOS) as Scenario[]).map((s) => [`(${SCENARIOS[s].letter}) ${SCENARIOS[s].what}`, ...servers.flatMap(([, , prefix]) => cell(`${prefix}-${s}`))]),
  ];
  if (lines.slice(1).every((l) => l.slice(1).every((c) => c === '-'))) return { perVerifyUs: {} };
  console.log('\nmany tokens (req/s and CPU µs per request of each server, medians; express-gateway\'s one-token row is the main table\'s, with its rate limit):');
  printTable(['scenario', ...servers.flatMap(([label]) => [`${label} req/s`, 'CPU µs/req'])], lines);
  const perVerifyUs = { sluice: verifyCost(row, 'sluice-fresh', 'sluice-b'), 'express-jose': verifyCost(row, 'express-jose-fresh', 'express-jose') };
  console.log(`per-verify cost (CPU µs per request of (g) minus (b) with one token): Sluice ${fmt(perVerifyUs.sluice, 1)} µs, Express + jose ${fmt(perVerifyUs['express-jose'], 1)} µs`);
  return { perVerifyUs };
}
