// `npm run bench -- scale`: how Sluice holds up as workflows grow and multiply — req/s of 5-, 20-
// and 50-node workflows, req/s of one route among 10 and among 1,000, compile + publish time of
// 300-node, largest-allowed and 2,000-node workflows through the admin API (with a bystander route's
// latency meanwhile), and memory per loaded workflow. Short runs: a few minutes in all. See
// bench/README.md.
import { rssMb } from './children.ts';
import { longWorkflow, makeCredentials, referenceWorkflow } from './fixture.ts';
import { chooseLoadGen } from './loadgen.ts';
import { envInt, measureAlternately, WARMUP_SECONDS, type LiveTarget } from './measure.ts';
import { check, fmt, median, printChecks, printTable, writeResults } from './report.ts';
import { startGateway, startUpstream, waitFor200, type Gateway } from './servers.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../shared/schema/index.ts';

/** Chain lengths measured: nodes in the workflow, the proxy included. */
const SIZES = [5, 20, 50] as const;
const FEW = 10;
const MANY = 1_000;
/** Workflows published through the admin API: a large drawn one, the largest allowed by default, and one past it (the 10-workflow gateway raises SLUICE_MAX_NODES for it). */
const BIG = [300, DEFAULT_DOCUMENT_LIMITS.nodes, 2_000] as const;
const PUBLISHES = 3;

/** The route measured among FEW and among MANY workflows: the same reference workflow (c) in both. */
const MEASURED_ROUTE = '/svc/0/orders';

export async function runScale(): Promise<void> {
  const settings = { seconds: envInt('BENCH_SECONDS', 3), rounds: envInt('BENCH_ROUNDS', 2) };
  const gen = chooseLoadGen();
  const credentials = await makeCredentials();
  const upstream = await startUpstream();
  const references = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => referenceWorkflow(`svc-${from + i}`, `/svc/${from + i}/orders`, credentials.publicJwk, upstream.origin));
  const chains = SIZES.map((size) => longWorkflow(`chain-${size}`, `/chain/${size}`, size, upstream.origin));

  // FEW workflows: the chains plus reference workflows. MANY: the same FEW plus more reference workflows.
  const fewWorkflows = [...chains, ...references(0, FEW - chains.length)];
  let started = performance.now();
  const few = await startGateway({ workflows: fewWorkflows, env: { SLUICE_MAX_NODES: String(Math.max(...BIG)) } });
  const fewStartMs = performance.now() - started;
  started = performance.now();
  const many = await startGateway({ workflows: [...fewWorkflows, ...references(FEW - chains.length, MANY - chains.length)], startupMs: 600_000 });
  const manyStartMs = performance.now() - started;
  console.log(`gateway with ${FEW} workflows up in ${fmt(fewStartMs / 1000, 1)} s, with ${MANY} in ${fmt(manyStartMs / 1000, 1)} s (each file published at startup)`);
  await waitFor200(`${many.url}${MEASURED_ROUTE}`, credentials.token, 10_000, () => many.exitCode === null);
  // Idle RSS, before any load: what the loaded workflows hold, not what a busy young generation does.
  const idleRss = { few: rssMb(few.pid), many: rssMb(many.pid) };

  const targets: LiveTarget[] = [
    ...SIZES.map((size) => ({ name: `${size} nodes`, url: `${few.url}/chain/${size}`, server: few })),
    { name: `${FEW} routes`, url: `${few.url}${MEASURED_ROUTE}`, server: few },
    { name: `${MANY} routes`, url: `${many.url}${MEASURED_ROUTE}`, server: many },
  ];
  for (const t of targets) await waitFor200(t.url, credentials.token, 5_000, () => t.server.exitCode === null);
  console.log(`${gen}, ${settings.rounds} round(s) of ${settings.seconds} s per target (+${WARMUP_SECONDS} s warm-up each)`);
  const runs = await measureAlternately(gen, targets, credentials.token, settings);
  const rows = targets.map((t) => {
    const rs = runs.get(t.name)!;
    return { target: t.name, rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), runs: rs };
  });
  const loadedRss = { few: rssMb(few.pid), many: rssMb(many.pid) };

  const publishes = [];
  for (const size of BIG) publishes.push({ size, runs: await timePublishes(few, upstream.origin, size, credentials.token) });
  const simulations = await timeSimulations(few, DEFAULT_DOCUMENT_LIMITS.nodes, credentials.token);

  // Print
  const first = rows[0]!.rps;
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', `vs ${SIZES[0]} nodes`],
    rows.map((r) => [r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.target.endsWith('nodes') ? fmt(r.rps / first, 2) : '']),
  );
  console.log(`\n(n nodes: ${SIZES.map((s) => `/chain/${s}`).join(', ')}: n - 1 conditions and transform-requests alternately, then the proxy.`);
  console.log(` routes: ${MEASURED_ROUTE}, the reference workflow c, on a gateway serving ${FEW} workflows and on one serving ${MANY}.)`);
  const perWorkflow = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : ((b - a) * 1024) / (MANY - FEW));
  const idlePerWorkflowKb = perWorkflow(idleRss.few, idleRss.many);
  const loadedPerWorkflowKb = perWorkflow(loadedRss.few, loadedRss.many);
  console.log(`\nmemory per loaded workflow (4-node reference workflow c): ${fmt(idlePerWorkflowKb, 0)} KB idle, ${fmt(loadedPerWorkflowKb, 0)} KB after load`);
  console.log(`  RSS idle: ${fmt(idleRss.few, 0)} MB with ${FEW} workflows, ${fmt(idleRss.many, 0)} MB with ${MANY}; after load: ${fmt(loadedRss.few, 0)} MB, ${fmt(loadedRss.many, 0)} MB`);
  console.log(`\nworkflows published through the admin API of the running 10-workflow gateway (median of ${PUBLISHES}), while a bystander calls ${MEASURED_ROUTE} every ${BYSTANDER_EVERY_MS} ms:`);
  printTable(
    ['nodes', 'publish ms', 'route 200 after ms', 'bystander p50 ms', 'bystander p99 ms', 'bystander max ms'],
    publishes.map(({ size, runs }) => [String(size), fmt(median(runs.map((p) => p.publishMs)), 0), fmt(median(runs.map((p) => p.answeringMs)), 0), fmt(median(runs.map((p) => p.bystander.p50)), 1), fmt(median(runs.map((p) => p.bystander.p99)), 1), fmt(median(runs.map((p) => p.bystander.max)), 1)]),
  );
  console.log(`simulating a ${DEFAULT_DOCUMENT_LIMITS.nodes}-node workflow (upstream mocked), median of ${PUBLISHES}: ${fmt(median(simulations.map((s) => s.simulateMs)), 0)} ms; bystander p99 ${fmt(median(simulations.map((s) => s.bystander.p99)), 1)} ms, max ${fmt(median(simulations.map((s) => s.bystander.max)), 1)} ms`);
  const fewRow = rows.find((r) => r.target === `${FEW} routes`)!;
  const manyRow = rows.find((r) => r.target === `${MANY} routes`)!;
  const checks = [check(`req/s ${MANY} routes / ${FEW} routes >= 0.9`, manyRow.rps / fewRow.rps, '>=', 0.9, `${fmt(manyRow.rps, 0)} / ${fmt(fewRow.rps, 0)} req/s (falls by less than 10%)`)];
  printChecks(checks);

  const path = writeResults('scale', {
    loadGenerator: gen,
    seconds: settings.seconds,
    rounds: settings.rounds,
    warmupSeconds: WARMUP_SECONDS,
    targets: rows,
    startup: { [`${FEW}WorkflowsMs`]: fewStartMs, [`${MANY}WorkflowsMs`]: manyStartMs },
    memory: { rssMb: { idle: idleRss, afterLoad: loadedRss }, perWorkflowKb: { idle: idlePerWorkflowKb, afterLoad: loadedPerWorkflowKb }, workflows: { few: FEW, many: MANY } },
    publish: publishes.map(({ size, runs }) => ({ nodes: size, runs, medianPublishMs: median(runs.map((p) => p.publishMs)), medianAnsweringMs: median(runs.map((p) => p.answeringMs)), medianBystanderP99Ms: median(runs.map((p) => p.bystander.p99)) })),
    simulate: { nodes: DEFAULT_DOCUMENT_LIMITS.nodes, runs: simulations, medianSimulateMs: median(simulations.map((s) => s.simulateMs)), medianBystanderP99Ms: median(simulations.map((s) => s.bystander.p99)) },
    checks,
  });
  console.log(`\nresults written to ${path}`);
}

/** How often the bystander calls while a large workflow is published or simulated. */
const BYSTANDER_EVERY_MS = 10;

/**
 * Calls `url` every BYSTANDER_EVERY_MS on a fixed schedule while `work` runs: each call's latency
 * counts from when it was due, so a gateway that stops answering for a while shows as the
 * time every call due meanwhile waited.
 */
async function withBystander<T>(url: string, token: string, work: () => Promise<T>): Promise<{ result: T; bystander: { count: number; p50: number; p99: number; max: number } }> {
  const latencies: number[] = [];
  const calls: Array<Promise<void>> = [];
  let running = true;
  const start = performance.now();
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const due = start + n * BYSTANDER_EVERY_MS;
      if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      calls.push(
        fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(
          async (res) => {
            await res.arrayBuffer();
            latencies.push(performance.now() - due);
          },
          () => undefined,
        ),
      );
    }
  })();
  const result = await work().finally(() => (running = false));
  await loop;
  await Promise.all(calls);
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
  return { result, bystander: { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN } };
}

/**
 * Creates `size`-node workflows through the admin API and times each publish: from POST publish
 * to its answer (validate, compile, store, activate), and to the route's first 200; a bystander
 * calls MEASURED_ROUTE meanwhile.
 */
async function timePublishes(gateway: Gateway, upstream: string, size: number, token: string) {
  const times = [];
  for (let i = 1; i <= PUBLISHES; i++) {
    const id = `big-${size}-${i}`;
    await gateway.admin('POST', '/workflows', { document: longWorkflow(id, `/big/${size}/${i}`, size, upstream) });
    const { result, bystander } = await withBystander(`${gateway.url}${MEASURED_ROUTE}`, token, async () => {
      const started = performance.now();
      await gateway.admin('POST', `/workflows/${id}/publish`, {});
      const publishMs = performance.now() - started;
      await waitFor200(`${gateway.url}/big/${size}/${i}`, undefined, 60_000, () => gateway.exitCode === null);
      return { publishMs, answeringMs: performance.now() - started };
    });
    times.push({ ...result, bystander });
  }
  return times;
}

/** Simulates a `size`-node workflow through the admin API (upstream mocked), a bystander calling meanwhile. */
async function timeSimulations(gateway: Gateway, size: number, token: string) {
  const times = [];
  for (let i = 1; i <= PUBLISHES; i++) {
    const document = longWorkflow(`sim-${size}`, `/sim/${size}`, size, 'http://127.0.0.1:9');
    const { result, bystander } = await withBystander(`${gateway.url}${MEASURED_ROUTE}`, token, async () => {
      const started = performance.now();
      await gateway.admin('POST', '/simulate', { document, request: { method: 'GET', path: `/sim/${size}` }, upstream: { status: 200, body: { orders: [] } } });
      return performance.now() - started;
    });
    times.push({ simulateMs: result, bystander });
  }
  return times;
}
