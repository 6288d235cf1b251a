// `npm run bench -- scale`: how Sluice holds up as workflows grow and multiply — req/s of 5-, 20-
// and 50-node workflows; a gateway of 10 workflows beside one of 10,000 (BENCH_SCALE_WORKFLOWS):
// first start from files, restart on the same data dir, memory per idle workflow, req/s of one
// route among 10 and among 10,000, and the publish of one workflow among each; then compile +
// publish time of 300-node, largest-allowed and 2,000-node workflows through the admin API (with a
// bystander route's latency meanwhile). See bench/README.md.
import { cpuMicros, procStat, rssMb, stopChild } from './children.ts';
import { longWorkflow, makeCredentials, referenceWorkflow } from './fixture.ts';
import { chooseLoadGen, runLoad } from './loadgen.ts';
import { envInt, measureAlternately, pairedRatios, settle, WARMUP_SECONDS, type LiveTarget } from './measure.ts';
import { check, fmt, median, printChecks, printTable, writeResults } from './report.ts';
import { startGateway, startUpstream, waitFor200, type Gateway } from './servers.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../shared/schema/index.ts';

/** Chain lengths measured: nodes in the workflow, the proxy included. */
const SIZES = [5, 20, 50] as const;
const FEW = 10;
/** Workflows of the large gateway. */
const MANY = envInt('BENCH_SCALE_WORKFLOWS', 10_000);
/** Workflows published through the admin API: a large drawn one, the largest allowed by default, and one past it (the 10-workflow gateway raises SLUICE_MAX_NODES for it). */
const BIG = [300, DEFAULT_DOCUMENT_LIMITS.nodes, 2_000] as const;
const PUBLISHES = 3;
/** Publishes of one small workflow's new version on each gateway (alternately), for the O(changed) check. */
const SMALL_PUBLISHES = envInt('BENCH_SCALE_PUBLISHES', 20);
/** Unmeasured load on each gateway before the measured runs. */
const PRELOAD_SECONDS = envInt('BENCH_SCALE_PRELOAD', 15);
/** The longest the bench waits for a started gateway to go idle (its start's garbage collected) before its RSS is read or it is loaded. */
const SETTLE_MS = 60_000;

/** The route measured among FEW and among MANY workflows: the same reference workflow (c) in both. */
const MEASURED_ROUTE = '/svc/0/orders';
/** The workflow whose new versions are published on both gateways. */
const REPUBLISHED = 'svc-1';

export async function runScale(): Promise<void> {
  const settings = { seconds: envInt('BENCH_SECONDS', 3), rounds: envInt('BENCH_ROUNDS', 5) };
  const gen = chooseLoadGen();
  const credentials = await makeCredentials();
  const upstream = await startUpstream();
  const references = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => distinctNodes(referenceWorkflow(`svc-${from + i}`, `/svc/${from + i}/orders`, credentials.publicJwk, upstream.origin), from + i));
  const chains = SIZES.map((size) => longWorkflow(`chain-${size}`, `/chain/${size}`, size, upstream.origin));

  // FEW workflows: the chains plus reference workflows. MANY: the same FEW plus more reference workflows.
  const fewWorkflows = [...chains, ...references(0, FEW - chains.length)];
  let started = performance.now();
  const few = await startGateway({ workflows: fewWorkflows, env: { SLUICE_MAX_NODES: String(Math.max(...BIG)) } });
  const fewStartMs = performance.now() - started;
  const manyWorkflows = [...fewWorkflows, ...references(FEW - chains.length, MANY - chains.length)];
  const lastRoute = `/svc/${MANY - chains.length - 1}/orders`;
  started = performance.now();
  let many = await startGateway({ workflows: manyWorkflows, startupMs: 600_000 });
  const firstStartMs = performance.now() - started;
  const firstStartCpu = startCpu(many.pid);
  await expectServing(many, manyWorkflows.length, `${many.url}${lastRoute}`, credentials.token);
  console.log(`gateway with ${FEW} workflows up in ${fmt(fewStartMs / 1000, 1)} s; with ${MANY}: first start ${fmt(firstStartMs / 1000, 1)} s (every file published, then served; CPU ${fmt(firstStartCpu.all, 1)} s, its main thread ${fmt(firstStartCpu.main, 1)} s)`);
  // Idle RSS, before any load: what the loaded workflows hold, not what a busy young generation does.
  await settle([few, many], { maxMs: SETTLE_MS });
  const firstIdleRss = { few: rssMb(few.pid), many: rssMb(many.pid) };

  // A restart on the same data dir: the store has every version, the files are published already.
  await stopChild(many);
  started = performance.now();
  many = await startGateway({ workflows: [], dataDir: many.dataDir, startupMs: 600_000 });
  const restartMs = performance.now() - started;
  const restartCpu = startCpu(many.pid);
  await expectServing(many, manyWorkflows.length, `${many.url}${lastRoute}`, credentials.token);
  console.log(`restart with ${MANY} on the same data dir: ${fmt(restartMs / 1000, 1)} s (CPU ${fmt(restartCpu.all, 1)} s, its main thread ${fmt(restartCpu.main, 1)} s)`);
  await settle([few, many], { maxMs: SETTLE_MS });
  const idleRss = { few: rssMb(few.pid), many: rssMb(many.pid) };

  const chainTargets: LiveTarget[] = SIZES.map((size) => ({ name: `${size} nodes`, url: `${few.url}/chain/${size}`, server: few }));
  const routeTargets: LiveTarget[] = [
    { name: `${FEW} routes`, url: `${few.url}${MEASURED_ROUTE}`, server: few },
    { name: `${MANY} routes`, url: `${many.url}${MEASURED_ROUTE}`, server: many },
  ];
  const targets = [...chainTargets, ...routeTargets];
  for (const t of targets) await waitFor200(t.url, credentials.token, 5_000, () => t.server.exitCode === null);
  // Both gateways under load first, unmeasured: what the start left to collect (a heap of 10,000
  // workflows is marked once after it) is paid here, not in the first measured runs of one of them.
  for (const gateway of [few, many]) await runLoad(gen, `${gateway.url}${MEASURED_ROUTE}`, PRELOAD_SECONDS, credentials.token);
  console.log(`${gen}, ${settings.rounds} round(s) of ${settings.seconds} s per target (+${WARMUP_SECONDS} s warm-up each, after ${PRELOAD_SECONDS} s of load on each gateway)`);
  // The chains first, then the two route targets by themselves: each gateway then waits only for
  // the other's run between its own. Measured in one turn with the chains, the 10-workflow gateway
  // was loaded four runs in a row and the 10,000-workflow one after ~20 s idle every round, long
  // enough for V8's memory reducer to shrink its young generation (more scavenges of a large heap:
  // run S); the gateway now runs without it (config.serveFlags), and the order still keeps idle
  // waits alike.
  await settle([few, many]); // the preload's evidence copied in by both, not in the first chain run
  const runs = new Map([...(await measureAlternately(gen, chainTargets, credentials.token, settings)), ...(await measureAlternately(gen, routeTargets, credentials.token, settings))]);
  const rows = targets.map((t) => {
    const rs = runs.get(t.name)!;
    return { target: t.name, rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), cpuUs: median(rs.map((r) => r.cpuUsPerRequest ?? Number.NaN)), runs: rs };
  });
  const loadedRss = { few: rssMb(few.pid), many: rssMb(many.pid) };

  // One small workflow's new version published on each gateway in turn: O(changed) means the same time among 10,000.
  const republished = { few: [] as number[], many: [] as number[] };
  const template = fewWorkflows.find((w) => w.id === REPUBLISHED)!;
  for (let i = 1; i <= SMALL_PUBLISHES; i++)
    for (const [name, gateway] of [['few', few], ['many', many]] as const) republished[name].push(await timeRepublish(gateway, template, i));

  const publishes = [];
  for (const size of BIG) publishes.push({ size, runs: await timePublishes(few, upstream.origin, size, credentials.token) });
  const simulations = await timeSimulations(few, DEFAULT_DOCUMENT_LIMITS.nodes, credentials.token);

  // Print
  const first = rows[0]!.rps;
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', `vs ${SIZES[0]} nodes`],
    rows.map((r) => [r.target, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpuUs, 1), r.target.endsWith('nodes') ? fmt(r.rps / first, 2) : '']),
  );
  console.log(`\n(n nodes: ${SIZES.map((s) => `/chain/${s}`).join(', ')}: n - 1 conditions and transform-requests alternately, then the proxy.`);
  console.log(` routes: ${MEASURED_ROUTE}, the reference workflow c, on a gateway serving ${FEW} workflows and on one serving ${MANY}.)`);
  const perWorkflow = (rss: { few: number | undefined; many: number | undefined }) => (rss.few === undefined || rss.many === undefined ? undefined : ((rss.many - rss.few) * 1024) / (MANY - FEW));
  const memory = { afterFirstStart: perWorkflow(firstIdleRss), afterRestart: perWorkflow(idleRss), afterLoad: perWorkflow(loadedRss) };
  console.log(`\n${MANY} workflows (4-node reference workflow c, node ids distinct per workflow):`);
  printTable(
    ['', 'value'],
    [
      ['first start (files -> all served)', `${fmt(firstStartMs / 1000, 1)} s (CPU ${fmt(firstStartCpu.all, 1)} s, main thread ${fmt(firstStartCpu.main, 1)} s)`],
      ['restart (same data dir)', `${fmt(restartMs / 1000, 1)} s (CPU ${fmt(restartCpu.all, 1)} s, main thread ${fmt(restartCpu.main, 1)} s)`],
      ['RSS per idle workflow, after the first start', `${fmt(memory.afterFirstStart, 0)} KB`],
      ['RSS per idle workflow, after the restart', `${fmt(memory.afterRestart, 0)} KB`],
      ['RSS per workflow after the load runs', `${fmt(memory.afterLoad, 0)} KB`],
      [`publish of one workflow among ${FEW} (median of ${SMALL_PUBLISHES})`, `${fmt(median(republished.few), 1)} ms`],
      [`publish of one workflow among ${MANY} (median of ${SMALL_PUBLISHES})`, `${fmt(median(republished.many), 1)} ms`],
    ],
  );
  console.log(`  RSS idle after the first start: ${fmt(firstIdleRss.few, 0)} MB with ${FEW} workflows, ${fmt(firstIdleRss.many, 0)} MB with ${MANY}; after the restart ${fmt(idleRss.many, 0)} MB; after load: ${fmt(loadedRss.few, 0)} MB, ${fmt(loadedRss.many, 0)} MB`);
  console.log(`\nworkflows published through the admin API of the running 10-workflow gateway (median of ${PUBLISHES}), while a bystander calls ${MEASURED_ROUTE} every ${BYSTANDER_EVERY_MS} ms:`);
  printTable(
    ['nodes', 'publish ms', 'route 200 after ms', 'bystander p50 ms', 'bystander p99 ms', 'bystander max ms'],
    publishes.map(({ size, runs }) => [String(size), fmt(median(runs.map((p) => p.publishMs)), 0), fmt(median(runs.map((p) => p.answeringMs)), 0), fmt(median(runs.map((p) => p.bystander.p50)), 1), fmt(median(runs.map((p) => p.bystander.p99)), 1), fmt(median(runs.map((p) => p.bystander.max)), 1)]),
  );
  console.log(`simulating a ${DEFAULT_DOCUMENT_LIMITS.nodes}-node workflow (upstream mocked), median of ${PUBLISHES}: ${fmt(median(simulations.map((s) => s.simulateMs)), 0)} ms; bystander p99 ${fmt(median(simulations.map((s) => s.bystander.p99)), 1)} ms, max ${fmt(median(simulations.map((s) => s.bystander.max)), 1)} ms`);
  const fewRow = rows.find((r) => r.target === `${FEW} routes`)!;
  const manyRow = rows.find((r) => r.target === `${MANY} routes`)!;
  // Each round measures the two one right after the other: judged by the rounds' ratios (pairedRatios).
  const rpsOf = (row: typeof fewRow) => row.runs.map((r) => r.rps);
  const cpuOf = (row: typeof fewRow) => row.runs.map((r) => r.cpuUsPerRequest ?? Number.NaN);
  const routes = { rpsRounds: pairedRatios(rpsOf(manyRow), rpsOf(fewRow)), cpuRounds: pairedRatios(cpuOf(fewRow), cpuOf(manyRow)) };
  const checks = [
    check(`first start with ${MANY} workflows < 15 s`, firstStartMs / 1000, '<=', 15, `${fmt(firstStartMs / 1000, 1)} s`),
    check(`restart with ${MANY} workflows < 5 s`, restartMs / 1000, '<=', 5, `${fmt(restartMs / 1000, 1)} s`),
    check('RSS per idle workflow < 100 KB', Math.max(memory.afterFirstStart ?? Number.NaN, memory.afterRestart ?? Number.NaN), '<=', 100, `${fmt(memory.afterFirstStart, 0)} KB after the first start, ${fmt(memory.afterRestart, 0)} KB after the restart (the larger is checked)`),
    check(`req/s ${MANY} routes / ${FEW} routes >= 0.9`, median(routes.rpsRounds), '>=', 0.9, `median of the rounds' ${routes.rpsRounds.map((r) => fmt(r, 2)).join(', ')}; medians ${fmt(manyRow.rps, 0)} / ${fmt(fewRow.rps, 0)} req/s (falls by less than 10%)`),
    check(`CPU per request ${FEW} routes / ${MANY} routes >= 0.9`, median(routes.cpuRounds), '>=', 0.9, `median of the rounds' ${routes.cpuRounds.map((r) => fmt(r, 2)).join(', ')}; medians ${fmt(fewRow.cpuUs, 1)} / ${fmt(manyRow.cpuUs, 1)} µs (the same, in CPU per request)`),
    check(`publish among ${MANY} / among ${FEW} <= 1.5`, median(republished.many) / median(republished.few), '<=', 1.5, `${fmt(median(republished.many), 1)} / ${fmt(median(republished.few), 1)} ms (O(changed): the others cost nothing)`),
  ];
  printChecks(checks);

  const path = writeResults('scale', {
    loadGenerator: gen,
    seconds: settings.seconds,
    rounds: settings.rounds,
    warmupSeconds: WARMUP_SECONDS,
    targets: rows,
    startup: { [`${FEW}WorkflowsMs`]: fewStartMs, [`${MANY}WorkflowsFirstMs`]: firstStartMs, [`${MANY}WorkflowsRestartMs`]: restartMs, firstStartCpuSeconds: firstStartCpu, restartCpuSeconds: restartCpu },
    memory: { rssMb: { idleAfterFirstStart: firstIdleRss, idleAfterRestart: idleRss, afterLoad: loadedRss }, perWorkflowKb: memory, workflows: { few: FEW, many: MANY } },
    republish: { workflow: REPUBLISHED, fewMs: republished.few, manyMs: republished.many, medianFewMs: median(republished.few), medianManyMs: median(republished.many) },
    publish: publishes.map(({ size, runs }) => ({ nodes: size, runs, medianPublishMs: median(runs.map((p) => p.publishMs)), medianAnsweringMs: median(runs.map((p) => p.answeringMs)), medianBystanderP99Ms: median(runs.map((p) => p.bystander.p99)) })),
    simulate: { nodes: DEFAULT_DOCUMENT_LIMITS.nodes, runs: simulations, medianSimulateMs: median(simulations.map((s) => s.simulateMs)), medianBystanderP99Ms: median(simulations.map((s) => s.bystander.p99)) },
    checks,
  });
  console.log(`\nresults written to ${path}`);
}

/**
 * The CPU a gateway used so far (its start, when asked as it comes up), in seconds: all its
 * threads (GC helpers and the thread pool among them) and its main thread alone, which bounds
 * its start on a quiet machine (the rest runs beside it on the other core). Steadier than wall
 * time on a shared machine.
 */
function startCpu(pid: number | undefined): { all: number | undefined; main: number | undefined } {
  const all = cpuMicros(pid);
  const main = procStat(`/proc/${pid}/task/${pid}/stat`);
  return { all: all === undefined ? undefined : all / 1e6, main: main === undefined ? undefined : (main.user + main.system) / 1e6 };
}

/**
 * The reference workflow with its node ids made its own (`verify-7`, …): no two of the many
 * workflows compile to the same machine, so nothing compiled for one is reused for another.
 */
function distinctNodes<W extends { nodes: Array<{ id: string }>; edges: Array<{ from: string; to: string }> }>(workflow: W, n: number): W {
  const id = (node: string) => `${node}-${n}`;
  return { ...workflow, nodes: workflow.nodes.map((node) => ({ ...node, id: id(node.id) })), edges: workflow.edges.map((e) => ({ ...e, from: id(e.from), to: id(e.to) })) };
}

/** Checks the gateway serves `count` workflows (its status says so) and `url` answers 200. */
async function expectServing(gateway: Gateway, count: number, url: string, token: string): Promise<void> {
  const status = (await gateway.admin('GET', '/status')) as { workflows: unknown[] };
  if (status.workflows.length !== count) throw new Error(`the gateway serves ${status.workflows.length} workflows, not ${count}; see ${gateway.logPath}`);
  await waitFor200(url, token, 10_000, () => gateway.exitCode === null);
}

/** Saves a new draft of `template` (its name changed) and times its publish until acknowledged (the gateway serves it then). */
async function timeRepublish(gateway: Gateway, template: { id: string; name?: string }, n: number): Promise<number> {
  const current = (await gateway.admin('GET', `/workflows/${template.id}`)) as { draft: { revision: number } | null };
  await gateway.admin('PUT', `/workflows/${template.id}/draft`, { document: { ...template, name: `${template.name ?? template.id} (${n})` }, baseRevision: current.draft?.revision ?? 0 });
  const started = performance.now();
  await gateway.admin('POST', `/workflows/${template.id}/publish`, {});
  return performance.now() - started;
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
