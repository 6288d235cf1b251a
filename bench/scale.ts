// `npm run bench -- scale`: how Sluice holds up as workflows grow and multiply — req/s of 5-, 20-
// and 50-node workflows, req/s of one route among 10 and among 1,000, compile + publish time of a
// 300-node workflow through the admin API, and memory per loaded workflow. Short runs: a few minutes
// in all. See bench/README.md.
import { rssMb } from './children.ts';
import { longWorkflow, makeCredentials, referenceWorkflow } from './fixture.ts';
import { chooseLoadGen } from './loadgen.ts';
import { envInt, measureAlternately, WARMUP_SECONDS, type LiveTarget } from './measure.ts';
import { check, fmt, median, printChecks, printTable, writeResults } from './report.ts';
import { startGateway, startUpstream, waitFor200, type Gateway } from './servers.ts';

/** Chain lengths measured: nodes in the workflow, the proxy included. */
const SIZES = [5, 20, 50] as const;
const FEW = 10;
const MANY = 1_000;
const BIG = 300;
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
  const few = await startGateway({ workflows: fewWorkflows });
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

  const publishes = await timePublishes(few, upstream.origin);

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
  console.log(`\n${BIG}-node workflow, published through the admin API of a running gateway (median of ${PUBLISHES}):`);
  console.log(`  POST publish answered in ${fmt(median(publishes.map((p) => p.publishMs)), 0)} ms; route answering 200 after ${fmt(median(publishes.map((p) => p.answeringMs)), 0)} ms`);
  console.log(`  each: ${publishes.map((p) => `${fmt(p.publishMs, 0)}/${fmt(p.answeringMs, 0)} ms`).join(', ')}`);
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
    publish: { nodes: BIG, runs: publishes, medianPublishMs: median(publishes.map((p) => p.publishMs)), medianAnsweringMs: median(publishes.map((p) => p.answeringMs)) },
    checks,
  });
  console.log(`\nresults written to ${path}`);
}

/**
 * Creates BIG-node workflows through the admin API and times each publish: from POST publish to
 * its answer (validate, compile, store, activate), and to the route's first 200.
 */
async function timePublishes(gateway: Gateway, upstream: string): Promise<Array<{ publishMs: number; answeringMs: number }>> {
  const times = [];
  for (let i = 1; i <= PUBLISHES; i++) {
    const id = `big-${i}`;
    await gateway.admin('POST', '/workflows', { document: longWorkflow(id, `/big/${i}`, BIG, upstream) });
    const started = performance.now();
    await gateway.admin('POST', `/workflows/${id}/publish`, {});
    const publishMs = performance.now() - started;
    await waitFor200(`${gateway.url}/big/${i}`, undefined, 30_000, () => gateway.exitCode === null);
    times.push({ publishMs, answeringMs: performance.now() - started });
  }
  return times;
}
