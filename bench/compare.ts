// `npm run bench`: the targets side by side — the bare proxy, Sluice (a)–(d), and the peers —
// in front of the same upstream, on the same pinned core, measured alternately, with the ratios
// issue 8 asks for checked. See bench/README.md for what each target does.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rssMb } from './children.ts';
import { makeCredentials, referenceWorkflow, sharedGateway } from './fixture.ts';
import { signedRequests } from './hmac.ts';
import type { Credentials } from './fixture.ts';
import { CONNECTIONS, chooseLoadGen } from './loadgen.ts';
import { WARMUP_SECONDS, bracketedRatios, envInt, measureAlternately } from './measure.ts';
import type { LoadResult } from './loadgen.ts';
import { PEERS, startPeer, type PeerName } from './peers.ts';
import { benchRedis, deleteRedisKeys, redisAnswers, redisPrefix } from './redis.ts';
import { check, fmt, median, printChecks, printTable, writeResults, type Check } from './report.ts';
import { startBareProxy, startGateway, startUpstream, whenStopped, type Gateway } from './servers.ts';
import { measureMtls, printMtls, type MtlsRow } from './mtls.ts';
import { measureLlm, printLlm, type LlmResults } from './llm.ts';
import { printTokens, signTokenSets, startTokenTargets, TOKEN_DESCRIPTIONS, TOKEN_TARGETS, tokenChecks } from './tokens.ts';
import type { TokenList } from './loadgen.ts';

const TARGET_NAMES = [
  'bare',
  'sluice-a',
  'sluice-b',
  'sluice-c',
  'sluice-c-redis',
  'sluice-d',
  'sluice-f',
  'sluice-g',
  'sluice-i',
  'sluice-s',
  'sluice-h',
  'sluice-hmac',
  'sluice-l',
  'sluice-pg',
  'sluice-mcp',
  'sluice-m',
  'sluice-quiet',
  'sluice-c-noevidence',
  ...TOKEN_TARGETS,
  'express-gateway',
  'node-red',
] as const;
type TargetName = (typeof TARGET_NAMES)[number];

/** `npm run bench -- tokens`: the many-token targets alone, with what they are compared with. */
const TOKEN_MODE_TARGETS: readonly TargetName[] = ['bare', 'sluice-b', ...TOKEN_TARGETS];

const DESCRIPTIONS: Record<TargetName, string> = {
  bare: 'node:http + undici Pool, streamed (baseline)',
  'sluice-a': 'Sluice (a): proxy only',
  'sluice-b': 'Sluice (b): jwt-verify RS256 → scope-check → proxy',
  'sluice-c': 'Sluice (c): b + rate-limit (in memory)',
  'sluice-c-redis': 'Sluice (c) with the rate limit in Redis (a gateway of its own with REDIS_URL)',
  'sluice-d': 'Sluice (d): c + transform-response (JSONata)',
  'sluice-f': 'Sluice (f): cors → validate-request (query, Authorization by a pattern) → proxy',
  'sluice-g': 'Sluice (g): cache-lookup → (miss) proxy → cache-store, in memory: hits after the first request',
  'sluice-i': 'Sluice (i): introspect (RFC 7662, answers cached by token hash: hits after the first request) → proxy',
  'sluice-s': 'Sluice (s): switch (three JSONata cases: a method, a header, the path; the third taken) → proxy',
  'sluice-h': 'Sluice (h): http-call (GET the upstream\'s orders into vars, as a side service) → proxy: two upstream calls per request',
  'sluice-hmac': 'Sluice (hmac): hmac-verify (sha256, replay protection in memory; every request signed anew, a list sent once by wrk) → proxy',
  'sluice-l': 'Sluice (l): proxy with llm (model allow-list, usage read as the answer passes) vs the bare proxy, both POSTing a chat completion; and the time to the first chunk of a streamed answer vs the upstream directly; its own gateway',
  'sluice-pg': 'Sluice (pg): prompt-guard (a deny pattern, card and e-mail detectors blocking) → the llm proxy of (l), POSTing the chat completion, vs the bare proxy; measured with sluice-l',
  'sluice-mcp': 'Sluice (mcp): mcp-tool (the tools/call\'s tool picks the port) → proxy to an MCP server, POSTing a tools/call, vs the bare proxy POSTing the same; measured with sluice-l',
  'sluice-m': 'Sluice (m): client-cert → proxy on the TLS listener with a client CA (mTLS), a new TLS connection per request vs keep-alive; its own gateway and a node:https load generator (wrk presents no client certificate)',
  'sluice-quiet': 'Sluice (c) without request logging and metrics (a gateway of its own: LOG_LEVEL=warn, SLUICE_METRICS=off)',
  'sluice-c-noevidence': 'Sluice (c) without evidence records (a gateway of its own: SLUICE_EVIDENCE=off); sluice-c keeps them',
  'express-gateway': `express-gateway ${PEERS['express-gateway'].version}: jwt (RS256) → scope (terminate unless) → rate-limit → proxy`,
  'node-red': `Node-RED ${PEERS['node-red'].version}: http in → function (JWT + scope, node:crypto) → http request → http response`,
  ...TOKEN_DESCRIPTIONS,
};

const isPeer = (name: TargetName): name is PeerName => name in PEERS;
/** Targets that may fail without stopping the run: the peers, installed from the registry at run time. */
const mayDrop = (name: TargetName) => isPeer(name) || name.startsWith('express-gateway-');

interface Target {
  name: TargetName;
  url: string;
  server: ChildProcess;
  /** The peer's installed version. */
  version?: string;
  /** A many-token target's tokens per run (tokens.ts). */
  tokens?: (run: number) => TokenList;
  /** What it is checked with before the runs, when not the run's one token. */
  checkToken?: string;
  /** Or a request of its own (sluice-hmac: a signed one). */
  checkRequest?: { url: string; headers: Record<string, string> };
}

/** Targets between two runs of bare (BENCH_BARE_EVERY): no run is further than this from a bare run before and after it. */
const BARE_EVERY = envInt('BENCH_BARE_EVERY', 4);

interface Settings {
  seconds: number;
  rounds: number;
  targets: TargetName[];
}

function selectedTargets(defaults: readonly TargetName[]): TargetName[] {
  const raw = process.env.BENCH_TARGETS;
  if (raw === undefined || raw === '') return [...defaults];
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(TARGET_NAMES as readonly string[]).includes(n)) throw new Error(`BENCH_TARGETS: unknown target "${n}" (choose from ${TARGET_NAMES.join(', ')})`);
  }
  // Keep the canonical order whatever order they were given in, so runs stay comparable.
  return TARGET_NAMES.filter((n) => names.includes(n));
}

/** What happened to a target that was selected but not measured (a peer that failed), and notes on the ones that were. */
interface Outcome {
  notes: string[];
  /** Targets left out of the table, with why. */
  dropped: Map<string, string>;
}

function note(outcome: Outcome, text: string): void {
  outcome.notes.push(text);
  console.log(`NOTE: ${text}`);
}

/**
 * The c-redis gateway: the same workflows, REDIS_URL and a prefix of its own. Whether the rate
 * limit really counts in Redis is read back from /admin/api/status (`store`, issue 6), because a
 * gateway that does not know REDIS_URL ignores it and counts in memory.
 */
async function startRedisGateway(credentials: Credentials, upstream: string, outcome: Outcome): Promise<{ gateway: Gateway; inRedis: boolean; redis: string } | undefined> {
  const redis = await benchRedis();
  if (!(await redisAnswers(redis.url))) {
    outcome.dropped.set('sluice-c-redis', `no Redis answers at ${redis.url} (set BENCH_REDIS_URL)`);
    return undefined;
  }
  console.log(`sluice-c-redis: Redis at ${redis.url}: ${redis.where}`);
  const prefix = redisPrefix();
  whenStopped(() => {
    if (redis.own) return; // stopped already, and it kept nothing
    const deleted = deleteRedisKeys(prefix, redis.url);
    if (typeof deleted === 'string') console.error(`could not remove the run's Redis keys (*${prefix}*): ${deleted}`);
  });
  const gateway = await startGateway({ workflows: [referenceWorkflow('bench-c', '/c', credentials.publicJwk, upstream)], env: { REDIS_URL: redis.url, REDIS_PREFIX: prefix } });
  const status = (await gateway.admin('GET', '/status')) as { store?: string; rateLimits?: unknown };
  const inRedis = status.store === 'redis';
  if (!inRedis) {
    note(outcome, `sluice-c-redis: the gateway reports store "${status.store}", not "redis": this build ignores REDIS_URL (the Redis store of issue 6 is not merged), so sluice-c-redis counts its rate limit IN MEMORY like sluice-c`);
  } else {
    console.log(`sluice-c-redis: store "redis" (prefix ${prefix}), rate limits: ${JSON.stringify(status.rateLimits ?? 'not reported')}`);
  }
  return { gateway, inRedis, redis: redis.where };
}

/** One request first: a target that answers 401 or 502 would otherwise "win" by failing fast. */
async function checkAnswers200(target: Target, token: string): Promise<void> {
  const { url, headers } = target.checkRequest ?? { url: target.url, headers: { authorization: `Bearer ${token}` } };
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${target.name} answered ${res.status} to GET ${url}:\n${body.slice(0, 2000)}`);
}

interface Summary {
  target: TargetName;
  description: string;
  version?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** req/s over bare's: the median over the rounds of each run against the bare runs beside it (bracketedRatios). */
  ratioToBare: number | undefined;
  /** CPU time per request of the server (median over the rounds), µs. */
  cpuUsPerRequest: number | undefined;
  /** Bare's CPU per request / this target's, the same way: the share of bare's efficiency, whatever the load generator's core did. */
  cpuRatioToBare: number | undefined;
  rssMb: number | undefined;
  runs: LoadResult[];
}

function summarize(targets: Target[], runs: Map<TargetName, LoadResult[]>, outcome: Outcome): Summary[] {
  const bareRuns = runs.get('bare') ?? [];
  const hasCpu = (rs: LoadResult[]) => rs.length > 0 && rs.every((r) => r.cpuUsPerRequest !== undefined);
  const cpuOf = (rs: LoadResult[]) => (hasCpu(rs) ? median(rs.map((r) => r.cpuUsPerRequest!)) : undefined);
  // each run against the bare runs just before and after it (bracketedRatios), then the median
  const toBare = (rs: LoadResult[]) => (bareRuns.length ? median(bracketedRatios(rs, bareRuns, (r) => r.rps)) : undefined);
  const cpuToBare = (rs: LoadResult[]) => (hasCpu(bareRuns) && hasCpu(rs) ? 1 / median(bracketedRatios(rs, bareRuns, (r) => r.cpuUsPerRequest!)) : undefined);
  return targets
    .filter((t) => !outcome.dropped.has(t.name) && runs.get(t.name)!.length > 0)
    .map((t) => {
      const rs = runs.get(t.name)!;
      const rps = median(rs.map((r) => r.rps));
      const cpu = cpuOf(rs);
      return {
        target: t.name,
        description: DESCRIPTIONS[t.name],
        ...(t.version ? { version: t.version } : {}),
        rps,
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        ratioToBare: t.name === 'bare' ? 1 : toBare(rs),
        cpuUsPerRequest: cpu,
        cpuRatioToBare: t.name === 'bare' ? 1 : cpuToBare(rs),
        // Read after the load, while the process is still up: what it holds once it has been busy.
        rssMb: rssMb(t.server.pid),
        runs: rs,
      };
    });
}

/** Rounds of one target further apart than this (fastest / slowest) say the machine was not quiet. */
const STEADY_SPREAD = 1.2;

/**
 * A NOTE for every Sluice target or baseline whose rounds disagree by more than STEADY_SPREAD:
 * other work on the machine (a noisy neighbour of the VM, a test run) slowed some rounds, and a
 * ratio built on them says more about the machine than about the targets.
 */
function noteUnsteadyRounds(rows: Summary[], outcome: Outcome): void {
  for (const row of rows) {
    if (mayDrop(row.target) || row.runs.length < 2) continue;
    const rps = row.runs.map((r) => r.rps);
    const spread = Math.max(...rps) / Math.min(...rps);
    // printed under the checks with the other notes
    if (spread > STEADY_SPREAD)
      outcome.notes.push(`${row.target}'s rounds range from ${fmt(Math.min(...rps), 0)} to ${fmt(Math.max(...rps), 0)} req/s (${fmt(spread, 2)}x): the machine was not quiet, its ratios are unreliable; run again`);
  }
}

/** The ratios issue 8's "Done means" asks for, each PASS/FAIL with its numbers, or SKIP with why. */
function checks(rows: Summary[], outcome: Outcome, redisIsMemory: boolean): Check[] {
  const row = (name: TargetName) => rows.find((r) => r.target === name);
  const why = (name: TargetName) => outcome.dropped.get(name) ?? `${name} was not measured (BENCH_TARGETS)`;
  const bare = row('bare');
  const toBare = (name: TargetName, min: number, label: string) => {
    const r = row(name);
    const skip = !bare ? why('bare') : why(name);
    return check(`${label} / bare >= ${min}`, r && bare ? r.ratioToBare : undefined, '>=', min, r && bare ? `${fmt(r.rps, 0)} / ${fmt(bare.rps, 0)} req/s (medians)` : '', skip);
  };
  const b = row('sluice-b');
  const timesPeer = (peer: PeerName, min: number) => {
    const p = row(peer);
    return check(`(b) / ${peer} >= ${min}x`, b && p ? b.rps / p.rps : undefined, '>=', min, b && p ? `${fmt(b.rps, 0)} / ${fmt(p.rps, 0)} req/s` : '', !b ? why('sluice-b') : why(peer));
  };
  const redis = toBare('sluice-c-redis', 0.6, '(c-redis)');
  if (redisIsMemory && redis.result !== 'SKIP') redis.detail += ' — rate limit counted IN MEMORY, not in Redis (see NOTE)';
  const bCpu = b?.cpuRatioToBare;
  return [
    toBare('sluice-a', 0.9, '(a)'),
    toBare('sluice-b', 0.85, '(b)'),
    check('(b) CPU: bare / (b) per request >= 0.9', bCpu, '>=', 0.9, bCpu !== undefined ? `${fmt(bare!.cpuUsPerRequest, 1)} / ${fmt(b!.cpuUsPerRequest, 1)} µs (medians)` : '', !bare ? why('bare') : b ? 'no CPU time could be read' : why('sluice-b')),
    redis,
    toBare('sluice-d', 0.6, '(d)'),
    toBare('sluice-f', 0.8, '(f)'),
    toBare('sluice-g', 1.5, '(g) cache hit'),
    toBare('sluice-i', 0.8, '(i) introspection cache hit'),
    toBare('sluice-s', 0.8, '(s) switch'),
    toBare('sluice-h', 0.45, '(h) http-call + proxy, two upstream calls'),
    toBare('sluice-hmac', 0.8, '(hmac) hmac-verify, every request signed anew'),
    evidenceCost(row('sluice-c'), row('sluice-c-noevidence'), why),
    ...tokenChecks((name) => row(name as TargetName), (name) => why(name as TargetName)),
    timesPeer('express-gateway', 30),
    timesPeer('node-red', 10),
    check(
      'p99 (b) / p99 bare <= 1.5',
      b && bare ? b.p99Ms / bare.p99Ms : undefined,
      '<=',
      1.5,
      b && bare ? `${fmt(b.p99Ms, 2)} / ${fmt(bare.p99Ms, 2)} ms` : '',
      !bare ? why('bare') : why('sluice-b'),
    ),
  ];
}

/** What keeping evidence costs the reference workflow: (c) with it against (c) without, within 5%. */
function evidenceCost(on: Summary | undefined, off: Summary | undefined, why: (name: TargetName) => string): Check {
  return check('(c) with evidence / (c) without >= 0.95', on && off ? on.rps / off.rps : undefined, '>=', 0.95, on && off ? `${fmt(on.rps, 0)} / ${fmt(off.rps, 0)} req/s` : '', !on ? why('sluice-c') : why('sluice-c-noevidence'));
}

function print(rows: Summary[], outcome: Outcome, results: Check[]): Record<string, number | undefined> {
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'CPU µs/req', 'CPU vs bare', 'RSS MB'],
    rows.map((r) => [r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.ratioToBare, 2), fmt(r.cpuUsPerRequest, 1), fmt(r.cpuRatioToBare, 2), fmt(r.rssMb, 0)]),
  );
  console.log('\n(req/s, p50, p99 and CPU per request are medians over the rounds; CPU vs bare = bare\'s CPU per request / the target\'s)');
  if (rows.filter((r) => /^sluice-([abcdfgish]|hmac)$/.test(r.target)).length > 1) console.log('(sluice-a to sluice-hmac share one gateway process, hence one RSS; so do sluice-rs10k, -es10k and -fresh, and the four express-jose rows)');
  const observed = rows.find((r) => r.target === 'sluice-c');
  const quiet = rows.find((r) => r.target === 'sluice-quiet');
  if (observed && quiet) console.log(`logging + metrics cost: sluice-c / sluice-quiet = ${fmt(observed.rps / quiet.rps, 2)}`);
  const width = Math.max(15, ...rows.map((r) => r.target.length));
  for (const r of rows) console.log(`  ${r.target.padEnd(width)} ${r.description}`);
  for (const [name, why] of outcome.dropped) console.log(`  ${name.padEnd(width)} NOT MEASURED: ${why.replaceAll('\n', `\n${' '.repeat(width + 3)}`)}`);
  const { perVerifyUs } = printTokens((name) => rows.find((r) => r.target === name));
  printChecks(results);
  for (const n of outcome.notes) console.log(`NOTE: ${n}`);
  return perVerifyUs;
}

/** Compare mode: every target (`npm run bench`), or the many-token ones with their baselines (`npm run bench -- tokens`). */
export async function runCompare(only: 'all' | 'tokens' = 'all'): Promise<void> {
  const began = performance.now();
  const settings: Settings = { seconds: envInt('BENCH_SECONDS', 8), rounds: envInt('BENCH_ROUNDS', 3), targets: selectedTargets(only === 'tokens' ? TOKEN_MODE_TARGETS : TARGET_NAMES) };
  const selected = settings.targets;
  const gen = chooseLoadGen();
  const credentials = await makeCredentials();
  const outcome: Outcome = { notes: [], dropped: new Map() };
  // targets sent a list of tokens or signed requests, which a wrk script sends
  const fromLists = selected.filter((n) => (TOKEN_TARGETS as readonly string[]).includes(n) || n === 'sluice-hmac');
  if (fromLists.length > 0 && gen !== 'wrk') {
    for (const name of fromLists) outcome.dropped.set(name, 'needs wrk (a Lua script sends the tokens or signed requests from a list); install wrk');
  }
  // before any server starts: signing takes both cores for a while
  const tokenSets = await signTokenSets(selected.filter((n) => !outcome.dropped.has(n)), credentials, settings.rounds);
  const upstream = await startUpstream();

  const targets: Target[] = [];
  if (selected.includes('bare')) {
    const bare = await startBareProxy(upstream.origin);
    targets.push({ name: 'bare', url: `http://127.0.0.1:${bare.port}/api/orders`, server: bare });
  }
  const routes = { 'sluice-a': '/a', 'sluice-b': '/b', 'sluice-c': '/c', 'sluice-d': '/d', 'sluice-f': '/f', 'sluice-g': '/g', 'sluice-i': '/i', 'sluice-s': '/s', 'sluice-h': '/h', 'sluice-hmac': '/hm' } as const;
  const mainTargets = (Object.keys(routes) as Array<keyof typeof routes>).filter((n) => selected.includes(n) && !outcome.dropped.has(n));
  if (mainTargets.length > 0) {
    const gateway = await startGateway(sharedGateway(credentials.publicJwk, upstream.origin, randomBytes(24).toString('hex')));
    for (const name of mainTargets) {
      if (name !== 'sluice-hmac') targets.push({ name, url: `${gateway.url}${routes[name]}`, server: gateway });
      else {
        const signed = await signedRequests(gateway, routes[name], Array<number>(settings.rounds + 1).fill(envInt('BENCH_FRESH_TOKENS', 20_000)));
        targets.push({ name, url: `${gateway.url}${routes[name]}`, server: gateway, tokens: signed.tokens, checkRequest: { url: `${gateway.url}${signed.check.path}`, headers: { signature: signed.check.header } } });
      }
    }
  }
  let redisIsMemory = false;
  let redisWhere: string | null = null;
  if (selected.includes('sluice-c-redis')) {
    const started = await startRedisGateway(credentials, upstream.origin, outcome);
    if (started) {
      redisIsMemory = !started.inRedis;
      redisWhere = started.redis;
      targets.push({ name: 'sluice-c-redis', url: `${started.gateway.url}/c`, server: started.gateway });
    }
  }
  if (selected.includes('sluice-c-noevidence')) {
    const plain = await startGateway({ workflows: [referenceWorkflow('bench-c', '/c', credentials.publicJwk, upstream.origin)], env: { SLUICE_EVIDENCE: 'off' } });
    targets.push({ name: 'sluice-c-noevidence', url: `${plain.url}/c`, server: plain });
  }
  if (selected.includes('sluice-quiet')) {
    const quiet = await startGateway({ workflows: [referenceWorkflow('bench-c', '/c', credentials.publicJwk, upstream.origin)], observe: false });
    targets.push({ name: 'sluice-quiet', url: `${quiet.url}/c`, server: quiet });
  }
  for (const name of selected.filter(isPeer)) {
    try {
      const peer = await startPeer(name, { publicPem: credentials.publicPem, upstream: upstream.origin, token: credentials.token });
      targets.push({ name, url: peer.url, server: peer, version: peer.version });
      console.log(`${name} ${peer.version} started`);
    } catch (err) {
      outcome.dropped.set(name, (err as Error).message);
      console.log(`${name}: NOT MEASURED, it could not be installed or started:\n  ${(err as Error).message.replaceAll('\n', '\n  ')}`);
    }
  }
  targets.push(...(await startTokenTargets(selected.filter((n) => !outcome.dropped.has(n)), credentials, upstream.origin, tokenSets, outcome.dropped)));
  // Keep the canonical order (peers were started last, after the gateways).
  targets.sort((x, y) => TARGET_NAMES.indexOf(x.name) - TARGET_NAMES.indexOf(y.name));
  for (const t of targets) await checkAnswers200(t, t.checkToken ?? credentials.token);

  console.log(`${gen}, ${CONNECTIONS} connections, ${settings.rounds} round(s) of ${settings.seconds} s per target (+${WARMUP_SECONDS} s warm-up each), bare again after every ${BARE_EVERY}`);
  // bare first, then again after every BARE_EVERY others: each run is judged against the bare runs beside it
  const runs = (await measureAlternately(gen, targets, credentials.token, { ...settings, baselineEvery: targets[0]?.name === 'bare' ? BARE_EVERY : undefined }, outcome.dropped, (name) => mayDrop(name as TargetName))) as Map<TargetName, LoadResult[]>;
  const rows = summarize(targets, runs, outcome);
  noteUnsteadyRounds(rows, outcome);
  const results = checks(rows, outcome, redisIsMemory);
  const perVerifyUs = print(rows, outcome, results);
  // the LLM proxy after the others: its own gateway and bare proxy, POST requests
  let llm: LlmResults | null = null;
  if (selected.includes('sluice-l') || selected.includes('sluice-pg') || selected.includes('sluice-mcp')) {
    llm = await measureLlm(gen, upstream.origin, settings, { llm: selected.includes('sluice-l'), promptGuard: selected.includes('sluice-pg'), mcp: selected.includes('sluice-mcp') });
    printLlm(llm);
    printChecks(llm.checks);
  }
  // mTLS after the others: its own gateway, its own load generator
  let mtls: MtlsRow[] | null = null;
  if (selected.includes('sluice-m')) {
    mtls = await measureMtls(upstream.origin, settings);
    printMtls(mtls);
  }
  const path = writeResults('compare', {
    loadGenerator: gen,
    seconds: settings.seconds,
    rounds: settings.rounds,
    warmupSeconds: WARMUP_SECONDS,
    upstreamRssMb: rssMb(upstream.server.pid),
    targets: rows,
    notMeasured: Object.fromEntries(outcome.dropped),
    peers: Object.fromEntries(
      selected.filter(isPeer).map((name) => [name, { package: PEERS[name].package, version: PEERS[name].version, measured: rows.some((r) => r.target === name), error: outcome.dropped.get(name) ?? null }]),
    ),
    cRedisRateLimitStore: targets.some((t) => t.name === 'sluice-c-redis') ? (redisIsMemory ? 'memory' : 'redis') : null,
    cRedisServer: redisWhere,
    checks: results,
    perVerifyUs,
    mtls,
    llm,
    notes: outcome.notes,
  });
  console.log(`\nresults written to ${path} (the run took ${fmt((performance.now() - began) / 60_000, 1)} min)`);
}
