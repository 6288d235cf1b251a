import type { Server } from 'node:http';
import { randomBytes, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Settings } from './config.ts';
import { ensureDemoKeys, signDemoToken, type DemoTokenOptions } from './demo/keys.ts';
import { startDemoUpstream } from './demo/upstream.ts';
import { runWorkflowTests, type SimulationContext } from './preview/simulate.ts';
import { createGateway, type Gateway } from './gateway/gateway.ts';
import { createHttpServer, type TlsMaterial } from './gateway/http-server.ts';
import { createDrain, type Readiness } from './gateway/drain.ts';
import { createClientCertificates, readCertificateBundle } from './gateway/client-certificate.ts';
import { createClientAddress } from './gateway/client-address.ts';
import { createSlowReaderGuard } from './gateway/slow-readers.ts';
import { createProblemRenderer } from './gateway/problem.ts';
import { createWorkflowRegistry, type WorkflowRegistry } from './compile/registry.ts';
import { preparationProblems } from './compile/compile.ts';
import { createFragmentLibrary } from './compile/fragments.ts';
import { calloutHostsOf, createSharedResources, egressOf, expressionsOf, openCache, openRateLimits, openReplays } from './compile/dependencies.ts';
import { SLICE_MS } from './compile/pace.ts';
import { openTableCache } from './compile/table-cache.ts';
import { openGraphCache, validatingBuild } from './compile/graph-cache.ts';
import { createLifecycle, type Lifecycle } from './admin/commands/workflows.ts';
import { createControlPlane } from './control-app.ts';
import { seedDataDir } from './sources/data-dir.ts';
import { createDirectorySync } from './sources/directory-sync.ts';
import { createFragmentFileSync } from './sources/fragment-files.ts';
import { ensureStoredCatalog, readCatalogFile } from './sources/error-catalog.ts';
import { openEvidence } from './evidence/open.ts';
import { openSampleStore, type SampleStore } from './replay/sample-store.ts';
import { TrafficSampler } from './replay/sample.ts';
import { createStoredCatalogs } from './store/catalogs.ts';
import { rebaseCatalog, rebasedCatalogs } from './portal/problem-base.ts';
import { createWorkflowDirectory, FILE_SIZE_FACTOR } from './sources/workflow-directory.ts';
import { openFileStore } from './store/file-store.ts';
import { openRedisStore } from './store/redis-store.ts';
import { createReplicaRegistry, type ReplicaRegistry } from './store/replicas.ts';
import type { Store } from './store/types.ts';
import type { RateLimitStore } from './kinds/support/rate-limit-store.ts';
import { createPartnerAccess } from './kinds/support/partner-directory.ts';
import { createLogger, type Logger } from './observe/logger.ts';
import { Metrics } from './observe/metrics.ts';
import { listenMetrics } from './observe/metrics-listener.ts';
import { createPartnerLabelling, observeEngine } from './observe/engine-metrics.ts';
import { createOtlpExporter } from './observe/otlp.ts';
import { createCanaryWatch } from './canary/watch.ts';
import { createMcpEndpoint } from './mcp/endpoint.ts';
import { createMcpCallCounter } from './mcp/tool-metrics.ts';
import { observeUpstreams } from './observe/upstreams.ts';
import { collectGarbage, START_GARBAGE_WORKFLOWS } from './observe/start-garbage.ts';
import { createValidatedGraphs } from './compile/validated-graphs.ts';
import { openPartnerSessions } from './portal/partner-sessions.ts';

/** Logged at start in demo mode: the demo token issuer is a way around every credential the examples check. */
const DEMO_WARNING = 'demo mode: the demo upstream and the demo token issuer are on; anyone with the editor role can mint tokens for any partner; do not use in production';

/** The TLS files, read once at start (a missing or unreadable file stops the start, naming it). */
function tlsMaterialOf(settings: Settings): { listener: TlsMaterial | undefined; clientCas: X509Certificate[] | undefined } {
  const read = (file: string, setting: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${setting}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const clientCa = settings.clientCertificates.caFile === undefined ? undefined : read(settings.clientCertificates.caFile, 'SLUICE_TLS_CLIENT_CA');
  let clientCas: X509Certificate[] | undefined;
  try {
    clientCas = clientCa === undefined ? undefined : readCertificateBundle(clientCa.toString('utf8'));
  } catch (error) {
    throw new Error(`SLUICE_TLS_CLIENT_CA: ${(error as Error).message}`);
  }
  const listener = settings.tls === undefined ? undefined : { cert: read(settings.tls.cert, 'SLUICE_TLS_CERT'), key: read(settings.tls.key, 'SLUICE_TLS_KEY'), clientCa };
  if (listener) {
    try {
      createSecureContext({ cert: listener.cert, key: listener.key });
    } catch (error) {
      throw new Error(`SLUICE_TLS_CERT, SLUICE_TLS_KEY: ${(error as Error).message}`);
    }
  }
  return { listener, clientCas };
}

export interface Sluice {
  url: string;
  server: Server;
  gateway: Gateway;
  registry: WorkflowRegistry;
  logger: Logger;
  settings: Settings;
  /** Reads the workflow directory again (the file watcher does this on every change) and serves what the store says. */
  reload(): Promise<void>;
  store: Store;
  lifecycle: Lifecycle;
  /** The request counters; undefined with SLUICE_METRICS=off. */
  metrics: Metrics | undefined;
  /** Where /metrics is served without a token (SLUICE_METRICS_PORT). */
  metricsUrl: string | undefined;
  rateLimits: RateLimitStore;
  /** This process's entry among the replicas sharing the Redis store (absent with the file store). */
  replicas: ReplicaRegistry | undefined;
  /** Differential replay's recorded samples (absent with SLUICE_REPLAY=off). */
  samples: SampleStore | undefined;
  /** What /readyz says. */
  readonly readiness: Readiness;
  /**
   * Stops without dropping a request: readiness 503, new connections accepted for
   * SLUICE_SHUTDOWN_DELAY, then the listener closes and the requests in flight finish (at most
   * SLUICE_SHUTDOWN_GRACE), then everything else closes. Logs each step.
   */
  close(): Promise<void>;
}

/**
 * Starts Sluice: the gateway and its control plane on one port, the workflows of the data
 * directory hot-reloaded, and with SLUICE_DEMO the demo upstream and demo token issuer.
 * `watchWorkflows: false` leaves the workflows directory to another process (the first worker
 * of `sluice serve --workers N` publishes it; the others hear of its changes through the store).
 */
export async function startSluice(
  settings: Settings,
  options: { logger?: Logger; env?: Record<string, string | undefined>; rateLimits?: RateLimitStore; watchWorkflows?: boolean } = {},
): Promise<Sluice> {
  const logger = options.logger ?? createLogger({ level: settings.logLevel, ...(settings.logFile ? { destination: settings.logFile } : {}) });
  // first: a TLS file that cannot be read stops the start before anything is opened
  const tls = tlsMaterialOf(settings);
  seedDataDir(settings.dataDir);
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  if (settings.demo) logger.warn({ setting: 'SLUICE_DEMO' }, DEMO_WARNING);
  const demoUpstream = settings.demo ? await startDemoUpstream() : undefined;
  if (demoUpstream) {
    env.SLUICE_DEMO_UPSTREAM = demoUpstream.url;
    await ensureDemoKeys(settings.dataDir);
  }

  const redisStore = settings.redis ? await openRedisStore({ target: settings.redis, logger }) : undefined;
  const store: Store = redisStore ?? (await openFileStore(join(settings.dataDir, 'store')));
  // with SLUICE_PROBLEM_BASE, every catalog is read with its built-in problem types under that base (the portal's pages)
  const storedCatalogs = createStoredCatalogs(store);
  const catalogs = rebasedCatalogs(storedCatalogs, settings.problemBase);
  const dataDirCatalog = readCatalogFile(join(settings.dataDir, 'errors.json'));
  let problems = createProblemRenderer(rebaseCatalog(dataDirCatalog, settings.problemBase));
  const metrics = settings.metrics ? new Metrics({ partners: settings.metricsPartners, partnerLimit: settings.metricsPartnerLimit }) : undefined;
  const spans = settings.otlp ? createOtlpExporter({ ...settings.otlp, logger }) : undefined;
  const clients = createClientAddress(settings.trustProxy);
  const slowReaders = createSlowReaderGuard({ maxBufferedBytes: settings.maxBufferedAnswerBytes, sendTimeoutMs: settings.sendTimeoutMs, logger });
  const logSubject = settings.logSubject === 'hash' ? { mode: 'hash' as const, key: settings.logSubjectKey } : { mode: settings.logSubject };
  const clientCertificates = tls.clientCas === undefined ? undefined : createClientCertificates({ cas: tls.clientCas, header: settings.clientCertificates.header, clients });
  const partnerAccess = createPartnerAccess();
  let replicas: ReplicaRegistry | undefined;
  const evidence = await openEvidence(settings, { replica: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`, directory: () => partnerAccess.current, logger });
  const samples = await openSampleStore(settings);
  const sampler = samples && settings.replay ? new TrafficSampler(samples, { perSecond: settings.replay.perSecond, extraHeaders: settings.clientCertificates.header === undefined ? [] : [settings.clientCertificates.header] }) : undefined;
  const gateway = createGateway({ slowReaders, problems, logger, maxBodyBytes: settings.maxBodyBytes, clientAddress: clients, metrics, spans, logSubject, ...(clientCertificates ? { clientCertificates } : {}), ...(metrics ? { mcpCalls: createMcpCallCounter(metrics) } : {}), ...(evidence ? { evidence: evidence.recorder } : {}), ...(sampler ? { samples: sampler } : {}) });
  const shared = createSharedResources();
  const rateLimits = options.rateLimits ?? (await openRateLimits(settings, () => replicas?.live ?? 1, logger));
  const cache = await openCache(settings);
  const replays = await openReplays(settings);
  if (metrics) observeEngine(metrics, { store, rateLimits, spans, slowReaders, evidence: evidence?.recorder });
  const { expressionLimits, expressionPool } = expressionsOf(settings);
  // Validation and compilation run in slices no longer than the expression bound (nor SLICE_MS), with requests served between them.
  const documents = { limits: settings.documentLimits, sliceMs: Math.min(SLICE_MS, settings.expressionTimeoutMs) };
  const egress = egressOf(settings, demoUpstream?.url, logger);
  logger.info({ egress: egress.summary, ...(demoUpstream ? { demoUpstream: new URL(demoUpstream.url).host } : {}) }, demoUpstream ? 'egress policy (the demo upstream allowed)' : 'egress policy');
  // Tables XState computed for this data dir's workflows before: a restart compiles without asking again.
  const tables = await openTableCache(join(settings.dataDir, 'cache', 'transition-tables.jsonl'));
  // Graphs this build validated for this data dir's versions before: a restart does not validate them again.
  const build = validatingBuild();
  const graphs = build === undefined ? undefined : await openGraphCache(join(settings.dataDir, 'cache'), build);
  const deps = { tables, env, envAllowList: settings.workflowEnv, egress, calloutHosts: calloutHostsOf(settings, demoUpstream?.url), dataDir: settings.dataDir, rateLimits, cache, replays, shared, partners: partnerAccess, maxBufferedAnswer: settings.maxBufferedAnswerBytes, expressionLimits, expressionPool, ...documents };
  const labelPartners = metrics && createPartnerLabelling(metrics);
  // /readyz says `starting` until the first sync below is applied, `draining` from the start of close()
  const drain = createDrain();
  const fragments = createFragmentLibrary(store);
  // A publish's check leaves the graph it validated for the registry: a version is validated once, not again to be served.
  const validated = createValidatedGraphs();
  const registry = createWorkflowRegistry({
    deps,
    store,
    catalogs,
    fragments,
    validated,
    ...(graphs ? { graphs } : {}),
    logger,
    metrics,
    activate: (changes, catalog) => {
      if (catalog && catalog !== problems.catalog) {
        problems = createProblemRenderer(catalog);
        gateway.setProblems(problems);
      }
      labelPartners?.(changes.set, partnerAccess.current.partners.keys()); // registered partners get their own label, whatever the bound
      gateway.update(changes);
    },
  });
  if (metrics) observeUpstreams(metrics, () => registry.active.values());
  // Previews, workflow tests and the publish gate run in the real engine with this process's compile dependencies and catalog.
  const mintToken = settings.demo ? (claims: DemoTokenOptions) => signDemoToken(settings.dataDir, claims) : undefined;
  const previewContext = (): SimulationContext => ({ deps, catalog: problems.catalog, problems, fragments: fragments.current, ...(mintToken ? { mintToken } : {}) });
  const lifecycle = createLifecycle({
    store,
    catalogs,
    fragments,
    validated,
    fourEyes: settings.fourEyes,
    contractGate: settings.contractGate,
    ...documents,
    prepare: (document) => preparationProblems(document, deps),
    runTests: (document, resolver) => runWorkflowTests(document, { ...previewContext(), fragments: async () => resolver }),
  });
  // Canaries: counted per side, summed over the replicas through Redis, aborted by the rule as `system`.
  const canaries = createCanaryWatch({
    served: () => registry.canaried(),
    redis: redisStore ? { client: redisStore.client, prefix: redisStore.target.prefix } : undefined,
    abort: (workflow, canaryId, reason) => lifecycle.canary.abort({ name: 'system', role: 'admin' }, workflow, reason, canaryId),
    logger,
    intervalMs: settings.canaryCheckMs,
  });
  await ensureStoredCatalog({ store, catalogs: storedCatalogs, dataDirCatalog, put: (catalog) => lifecycle.putCatalog({ name: 'system', role: 'admin' }, catalog) });
  if (redisStore) replicas = createReplicaRegistry({ client: redisStore.client, prefix: redisStore.target.prefix, logger, report: () => ({ appliedRevision: registry.appliedRevision, serving: registry.serving().map(({ workflow, version }) => ({ workflow, version })), rateLimits: rateLimits.health?.() }) });
  // The heartbeat after each sync tells the cluster view what this replica serves now.
  store.onChange(() => void registry.sync().then(() => replicas?.beat()));
  await registry.sync();

  const directory = createWorkflowDirectory(join(settings.dataDir, 'workflows'), { maxBytes: FILE_SIZE_FACTOR * settings.documentLimits.bytes });
  const directorySync = createDirectorySync({ directory, lifecycle, store, logger, limits: settings.documentLimits, remember: join(settings.dataDir, 'cache', 'workflow-files.json') });
  const fragmentDirectory = createWorkflowDirectory(join(settings.dataDir, 'fragments'), { maxBytes: FILE_SIZE_FACTOR * settings.documentLimits.bytes });
  const fragmentSync = createFragmentFileSync({ directory: fragmentDirectory, lifecycle, store, logger });
  const watchWorkflows = options.watchWorkflows ?? true;
  const reload = async () => {
    // fragments first: the workflows published next find the fragments they use
    if (watchWorkflows) await fragmentSync.sync();
    if (watchWorkflows) await directorySync.sync();
    await registry.sync();
  };
  await reload();
  if (registry.active.size >= START_GARBAGE_WORKFLOWS) {
    const collected = collectGarbage();
    logger.info({ ms: Math.round(collected.ms), heapMb: [collected.heapBefore, collected.heapAfter].map((b) => Math.round(b / 1_048_576)) }, "the start's garbage collected");
  }
  drain.ready(); // the first sync is applied: from here /readyz answers 200 (until a shutdown)
  if (watchWorkflows) {
    directory.watch(() => void reload());
    fragmentDirectory.watch(() => void reload());
  }

  const portalSessions = await openPartnerSessions(settings);
  const controlPlane = createControlPlane({ portalSessions, settings, store, lifecycle, registry, replicas: () => replicas, rateLimits, metrics, partnerAccess, preview: previewContext, mintToken, documents, clients, problems: () => problems, drain, logger, evidence: evidence?.store, canaries, ...(samples ? { replay: { samples: (workflow: string) => samples.list(workflow) } } : {}) });
  const metricsServer = metrics && settings.metricsPort !== undefined ? await listenMetrics(metrics, settings.host, settings.metricsPort) : undefined;
  const mcp = createMcpEndpoint({ gateway, partners: partnerAccess, problems: () => problems, clientAddress: clients, maxBodyBytes: settings.maxBodyBytes, maxAnswerBytes: settings.maxBufferedAnswerBytes, logger });
  const server = createHttpServer(settings, { problems: () => problems, control: controlPlane.app, gateway, mcp, drain, ...(tls.listener ? { tls: tls.listener } : {}) });
  slowReaders.watch(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${tls.listener ? 'https' : 'http'}://${settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host}:${port}`;
  logger.info({ url, dataDir: settings.dataDir, workflows: registry.active.size, demoUpstream: demoUpstream?.url, metricsUrl: metricsServer?.url }, 'sluice listening');

  return {
    url,
    server,
    gateway,
    registry,
    logger,
    settings,
    reload,
    store,
    lifecycle,
    metrics,
    metricsUrl: metricsServer?.url,
    rateLimits,
    replicas,
    samples,
    get readiness() {
      return drain.readiness;
    },
    async close() {
      directory.close();
      fragmentDirectory.close();
      canaries.close();
      const { delayMs, graceMs } = settings.shutdown;
      logger.info({ delayMs, graceMs }, 'shutting down: not ready, draining');
      const { cut } = await drain.shutdown(server, { delayMs, graceMs, onListenerClosed: () => logger.info('shutting down: listener closed, finishing requests in flight') });
      if (cut > 0) logger.warn({ cut, setting: 'SLUICE_SHUTDOWN_GRACE' }, `shutting down: ${cut} connection(s) still open after the grace, cut`);
      else logger.info('shutting down: every request in flight finished');
      // after the drain: the last requests' spans, metrics and evidence are still written
      await replicas?.close();
      await metricsServer?.close();
      await spans?.close();
      slowReaders.close();
      for (const workflow of registry.active.values()) {
        workflow.canary?.candidate.close();
        workflow.close();
      }
      await controlPlane.close(); // the refusals counted but not yet written
      await evidence?.close(); // the records queued are written
      await shared.close();
      await tables.flush();
      await graphs?.flush();
      await directorySync.close();
      await expressionPool.close();
      rateLimits.close?.();
      await cache.close?.();
      await replays.close?.();
      samples?.close();
      await demoUpstream?.close();
      await store.close();
    },
  };
}
