// `npm run bench -- replicas`: three gateways on one Redis, each under full load, and how long a
// change made through one's admin API takes to show on every one: 50 publishes of a new version
// and 50 partner suspensions, each timed from the admin call's acknowledgement to the moment each
// replica answers with it, watched by a dedicated connection per replica. See bench/README.md.
import { Client } from 'undici';
import { makeCredentials, referenceWorkflow } from './fixture.ts';
import { chooseLoadGen, startLoad, type LoadResult } from './loadgen.ts';
import { envInt } from './measure.ts';
import { benchRedis, deleteRedisKeys, redisAnswers, redisPrefix } from './redis.ts';
import { check, fmt, printChecks, printTable, writeResults } from './report.ts';
import { startGateway, startUpstream, waitFor200, whenStopped, type Gateway } from './servers.ts';

const REPLICAS = 3;
/** Changes of each kind, each timed on every replica. */
const CHANGES = envInt('BENCH_REPLICAS_CHANGES', 50);
/** The longest a change may take to show on a replica before the run fails. */
const GIVE_UP_MS = 30_000;
/** The partner whose suspension is timed. */
const PARTNER = 'bench-partner';

/** A workflow answering its stamp: a new version is a new stamp. */
const stampWorkflow = (stamp: number) => ({
  id: 'bench-stamp',
  name: 'Bench stamp',
  route: { methods: ['GET'], path: '/stamp' },
  nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { stamp } } }],
  edges: [],
});

/** A workflow only registered partners' API keys pass: a suspended partner is refused (403). */
const partnerWorkflow = {
  id: 'bench-partner',
  name: 'Bench partner',
  route: { methods: ['GET'], path: '/partner' },
  nodes: [
    { id: 'key', kind: 'api-key', config: { source: 'partners' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } },
  ],
  edges: [{ from: 'key', port: 'ok', to: 'answer' }],
};

/**
 * Asks one replica again and again on a connection of its own (never queued behind the load's
 * requests), and tells when its answer first holds: the time that answer arrived, and the time the
 * request before it was sent (the change reached the replica in between).
 */
function createProbe(origin: string, path: string, headers: Record<string, string>) {
  const client = new Client(origin, { pipelining: 1, connections: 1 } as ConstructorParameters<typeof Client>[1]);
  const latencies: number[] = [];
  async function ask(): Promise<{ status: number; body: string; sent: number; arrived: number }> {
    const sent = performance.now();
    const res = await client.request({ method: 'GET', path, headers });
    const body = await res.body.text();
    const arrived = performance.now();
    latencies.push(arrived - sent);
    return { status: res.statusCode, body, sent, arrived };
  }
  return {
    latencies,
    ask,
    /** Asks until `holds` answers true: when the first answer that holds arrived, and when the last one that did not was sent. */
    async until(holds: (answer: { status: number; body: string }) => boolean): Promise<{ arrived: number; before: number }> {
      const deadline = performance.now() + GIVE_UP_MS;
      let before = performance.now();
      for (;;) {
        const answer = await ask();
        if (holds(answer)) return { arrived: answer.arrived, before };
        before = answer.sent;
        if (answer.arrived > deadline) throw new Error(`${origin}${path} did not change within ${GIVE_UP_MS / 1000} s (last: ${answer.status} ${answer.body.slice(0, 200)})`);
      }
    },
    close: () => client.close(),
  };
}

type Probe = ReturnType<typeof createProbe>;

/** Percentiles of a list of milliseconds. */
function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, count: sorted.length };
}

/** One change as timed: the admin call, and per replica the milliseconds until it showed (and the lower bound of that). */
interface Timed {
  ackMs: number;
  replicas: number[];
  lowerBounds: number[];
}

/**
 * Makes `change` through the admin API, then watches every replica until `holds`: per replica,
 * the milliseconds from the acknowledgement to the first answer showing it (0 when it showed
 * before the acknowledgement: the replica that acknowledges applies the change first).
 */
async function timeChange(probes: Probe[], change: () => Promise<unknown>, holds: (answer: { status: number; body: string }) => boolean): Promise<Timed> {
  const sent = performance.now();
  await change();
  const acknowledged = performance.now();
  const seen = await Promise.all(probes.map((probe) => probe.until(holds)));
  return { ackMs: acknowledged - sent, replicas: seen.map((s) => Math.max(0, s.arrived - acknowledged)), lowerBounds: seen.map((s) => Math.max(0, s.before - acknowledged)) };
}

export async function runReplicas(): Promise<void> {
  const gen = chooseLoadGen();
  const credentials = await makeCredentials();
  const upstream = await startUpstream();
  const redis = await benchRedis();
  if (!(await redisAnswers(redis.url))) throw new Error(`no Redis answers at ${redis.url} (set BENCH_REDIS_URL)`);
  const prefix = redisPrefix();
  whenStopped(() => {
    if (redis.own) return; // stopped already, and it kept nothing
    const deleted = deleteRedisKeys(prefix, redis.url);
    if (typeof deleted === 'string') console.error(`could not remove the run's Redis keys (*${prefix}*): ${deleted}`);
  });
  console.log(`Redis at ${redis.url}: ${redis.where}; key prefix ${prefix}`);
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix };
  // The first publishes the workflows from its files; the others find them in Redis.
  const loaded = referenceWorkflow('bench-c', '/c', credentials.publicJwk, upstream.origin);
  const gateways: Gateway[] = [await startGateway({ workflows: [loaded, stampWorkflow(0), partnerWorkflow], env })];
  for (let i = 1; i < REPLICAS; i++) gateways.push(await startGateway({ workflows: [], env }));
  const [first] = gateways as [Gateway, ...Gateway[]];
  for (const gateway of gateways) for (const path of ['/c', '/stamp']) await waitFor200(`${gateway.url}${path}`, credentials.token, 30_000, () => gateway.exitCode === null);

  await first.admin('POST', '/partners', { id: PARTNER, name: 'Bench partner' });
  const { key } = (await first.admin('POST', `/partners/${PARTNER}/keys`, {})) as { key: string };
  const stampProbes = gateways.map((g) => createProbe(g.url, '/stamp', {}));
  const partnerProbes = gateways.map((g) => createProbe(g.url, '/partner', { 'x-api-key': key }));
  for (const probe of partnerProbes) await probe.until((a) => a.status === 200);

  // Full load on every replica: the reference workflow c (jwt-verify, scope-check, rate-limit in Redis, proxy).
  console.log(`${gen} on each of the ${REPLICAS} gateways (/c, ${REPLICAS} load generators), then ${CHANGES} publishes and ${CHANGES} suspensions through the first one's admin API`);
  const loads = gateways.map((g) => startLoad(gen, `${g.url}/c`, credentials.token));
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // the load settles in
  const started = performance.now();

  const publishes: Timed[] = [];
  let stamp = 0;
  let draftRevision = ((await first.admin('GET', '/workflows/bench-stamp')) as { draft: { revision: number } | null }).draft?.revision ?? 0;
  for (let i = 0; i < CHANGES; i++) {
    const next = ++stamp;
    draftRevision = ((await first.admin('PUT', '/workflows/bench-stamp/draft', { document: stampWorkflow(next), baseRevision: draftRevision })) as { draft: { revision: number } }).draft.revision;
    const timed = await timeChange(stampProbes, () => first.admin('POST', '/workflows/bench-stamp/publish', {}), (a) => a.status === 200 && (JSON.parse(a.body) as { stamp: number }).stamp === next);
    publishes.push(timed);
  }
  const suspensions: Timed[] = [];
  for (let i = 0; i < CHANGES; i++) {
    suspensions.push(await timeChange(partnerProbes, () => first.admin('POST', `/partners/${PARTNER}/suspend`, { reason: 'bench' }), (a) => a.status === 403));
    await first.admin('POST', `/partners/${PARTNER}/reactivate`, { reason: 'bench' });
    await Promise.all(partnerProbes.map((probe) => probe.until((a) => a.status === 200)));
  }
  const changesSeconds = (performance.now() - started) / 1000;
  const loadResults: Array<LoadResult | undefined> = await Promise.all(loads.map((l) => l.stop()));
  for (const probe of [...stampProbes, ...partnerProbes]) await probe.close();

  // Print
  const every = (runs: Timed[]) => runs.map((r) => Math.max(...r.replicas));
  const rows = (['publish', 'suspension'] as const).flatMap((kind) => {
      const runs = kind === 'publish' ? publishes : suspensions;
      const all = stats(every(runs));
      const floor = stats(runs.map((r) => Math.max(...r.lowerBounds)));
      return [
        [`${kind}: every replica`, fmt(all.p50, 1), fmt(all.p99, 1), fmt(all.max, 1), `${fmt(floor.p50, 1)} / ${fmt(floor.p99, 1)}`, fmt(stats(runs.map((r) => r.ackMs)).p50, 1)],
        ...gateways.map((_, i) => {
          const one = stats(runs.map((r) => r.replicas[i]!));
          const low = stats(runs.map((r) => r.lowerBounds[i]!));
          return [`  replica ${i + 1}${i === 0 ? ' (acknowledges)' : ''}`, fmt(one.p50, 1), fmt(one.p99, 1), fmt(one.max, 1), `${fmt(low.p50, 1)} / ${fmt(low.p99, 1)}`, ''];
        }),
      ];
    });
  console.log(`\nms from the admin call's acknowledgement to the replica answering with the change (${CHANGES} each; a replica that answered with it before the acknowledgement counts 0).`);
  console.log('"seen": when the first answer with the change arrived at the probe; "not before": when the probe sent its last request answered without it (the change reached the replica between the two):');
  printTable(['change', 'seen p50 ms', 'seen p99 ms', 'seen max ms', 'not before p50 / p99', 'ack p50 ms'], rows);
  const probeLatency = stats([...stampProbes, ...partnerProbes].flatMap((p) => p.latencies));
  console.log(`(each time includes the probe's own request: its latency under this load was p50 ${fmt(probeLatency.p50, 1)} ms, p99 ${fmt(probeLatency.p99, 1)} ms)`);
  printTable(
    ['gateway under load', 'req/s', 'p50 ms', 'p99 ms', 'failed'],
    loadResults.map((r, i) => [`replica ${i + 1} /c`, fmt(r?.rps, 0), fmt(r?.p50Ms, 2), fmt(r?.p99Ms, 2), r === undefined ? '?' : String(r.failures)]),
  );
  const publishAll = stats(every(publishes));
  const suspendAll = stats(every(suspensions));
  const checks = [
    check('publish visible on every replica, p99 < 100 ms', publishAll.p99, '<=', 100, `p50 ${fmt(publishAll.p50, 1)} ms, p99 ${fmt(publishAll.p99, 1)} ms, max ${fmt(publishAll.max, 1)} ms`),
    check('suspension visible on every replica, p99 < 100 ms', suspendAll.p99, '<=', 100, `p50 ${fmt(suspendAll.p50, 1)} ms, p99 ${fmt(suspendAll.p99, 1)} ms, max ${fmt(suspendAll.max, 1)} ms`),
    check('no request of the load failed', loadResults.reduce((sum, r) => sum + (r?.failures ?? 0), 0), '<=', 0, loadResults.map((r) => r?.failureDetail ?? 'not reported').join('; ')),
  ];
  printChecks(checks);
  const path = writeResults('replicas', {
    loadGenerator: gen,
    replicas: REPLICAS,
    changes: CHANGES,
    redis: redis.where,
    changesSeconds,
    publish: { everyReplica: publishAll, perReplica: gateways.map((_, i) => stats(publishes.map((r) => r.replicas[i]!))), runs: publishes },
    suspension: { everyReplica: suspendAll, perReplica: gateways.map((_, i) => stats(suspensions.map((r) => r.replicas[i]!))), runs: suspensions },
    probeLatency,
    load: loadResults,
    checks,
  });
  console.log(`\nresults written to ${path}`);
}
