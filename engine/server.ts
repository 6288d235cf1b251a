import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { RESERVED_PREFIXES } from '../shared/compile/index.ts';
import { errorCatalogSchema, GATEWAY_ERRORS, type ErrorCatalog } from '../shared/schema/index.ts';
import type { Settings } from './config.ts';
import { DEMO_JWKS_FILE, ensureDemoKeys, signDemoToken, type DemoTokenOptions } from './demo/keys.ts';
import { runWorkflowTests, type SimulationContext } from './preview/simulate.ts';
import { startDemoUpstream } from './demo/upstream.ts';
import { createGateway, type Gateway } from './gateway/gateway.ts';
import { createClientAddress, type ClientAddress } from './gateway/client-address.ts';
import { createSlowReaderGuard } from './gateway/slow-readers.ts';
import { createProblemRenderer, problemHeaders, type ProblemRenderer } from './gateway/problem.ts';
import { createWorkflowRegistry, type WorkflowRegistry } from './compile/registry.ts';
import { preparationProblems } from './compile/compile-workflow.ts';
import { createAdminApi } from './admin/api.ts';
import { createAuthenticator, loadAdminTokens } from './admin/auth.ts';
import { createLifecycle, type Lifecycle } from './admin/commands/workflows.ts';
import { createDirectorySync } from './sources/directory-sync.ts';
import { openFileStore } from './store/file-store.ts';
import { createRedisClient, redisKeys, whenReady } from './store/redis.ts';
import { openRedisStore, type RedisStore } from './store/redis-store.ts';
import { createReplicaRegistry, type ReplicaRegistry } from './store/replicas.ts';
import type { Store } from './store/types.ts';
import { createRedisRateLimitStore } from './kinds/support/redis-rate-limit-store.ts';
import { validateWorkflow, type ValidationProblem } from '../shared/compile/index.ts';
import { traceContextOf } from './gateway/trace.ts';
import { createLogger, type Logger } from './observe/logger.ts';
import { createMemoryRateLimitStore, type RateLimitStore } from './kinds/support/rate-limit-store.ts';
import { createExpressionPool, type ExpressionPool } from './kinds/support/expression-pool.ts';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './kinds/support/expression.ts';
import type { SharedResources } from './kinds/types.ts';
import { createWorkflowDirectory, FILE_SIZE_FACTOR } from './sources/workflow-directory.ts';
import { SLICE_MS } from './compile/pace.ts';
import { Metrics } from './observe/metrics.ts';
import { createOtlpExporter } from './observe/otlp.ts';
import { liveView, partnerStats, workflowStats } from './observe/workflow-stats.ts';
import { createPartners } from './admin/commands/partners.ts';
import { createPartnerAccess } from './kinds/support/partner-directory.ts';
import { createEgressPolicy } from './kinds/support/egress.ts';
import { keysDir } from './kinds/support/key-files.ts';
import { AdminError } from './admin/errors.ts';
import type { CompiledWorkflow } from './compile/compile-workflow.ts';
import type { ApiKeyConfig } from '../shared/nodes/api-key.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Logged at start in demo mode: the demo token issuer is a way around every credential the examples check. */
const DEMO_WARNING = 'demo mode: the demo upstream and the demo token issuer are on; anyone with the editor role can mint tokens for any partner; do not use in production';
const EXAMPLES = join(ROOT, 'examples');

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
  close(): Promise<void>;
}

/** Partners named by a workflow's api-key credentials: each gets its own metric label whatever the bound. */
function credentialPartners(workflow: CompiledWorkflow): string[] {
  const partners: string[] = [];
  for (const node of workflow.graph.nodes.values())
    if (node.kind === 'api-key') for (const key of (node.config as ApiKeyConfig).keys) partners.push(key.partner);
  return partners;
}

/** Redis health, the rate-limit decisions made while it was down, and the counters held in memory, read when scraped. */
function observeSharedState(metrics: Metrics, store: Store, rateLimits: RateLimitStore): void {
  if (rateLimits.health) {
    const health = rateLimits.health.bind(rateLimits);
    metrics.gauge('sluice_rate_limit_store_up', 'Whether the shared rate-limit store answers (1), or its circuit breaker is open or probing (0).', () => {
      const h = health();
      return [{ labels: { store: h.store, state: h.state }, value: h.state === 'up' ? 1 : 0 }];
    });
    metrics.counter('sluice_rate_limit_store_down_decisions_total', 'Rate-limit checks decided by the node\'s onStoreDown (allow, deny, local) while the shared store was unreachable.', () =>
      Object.entries(health().storeDownDecisions).map(([choice, value]) => ({ labels: { choice }, value })),
    );
  }
  if (rateLimits.occupancy) {
    const occupancy = rateLimits.occupancy.bind(rateLimits);
    metrics.gauge('sluice_rate_limit_keys', 'Rate-limit counters held in process memory (in-memory limits, or the `local` fallback while Redis is down), at most SLUICE_RATE_LIMIT_MAX_KEYS.', () => [{ labels: {}, value: occupancy().keys }]);
    metrics.counter('sluice_rate_limit_evictions_total', 'Rate-limit counters evicted from process memory to stay within SLUICE_RATE_LIMIT_MAX_KEYS (each resets one key\'s count).', () => [{ labels: {}, value: occupancy().evictions }]);
  }
  if (store.kind === 'redis') {
    const client = (store as RedisStore).client;
    metrics.gauge('sluice_redis_connected', 'Whether the store\'s Redis connection is ready (1) or not (0).', () => [{ labels: { connection: 'store' }, value: client.status === 'ready' ? 1 : 0 }]);
  }
}

/** /metrics alone on its own port, without a token (SLUICE_METRICS_PORT). */
async function listenMetrics(metrics: Metrics, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Seeds a new data directory with the example workflows and error catalog. */
function seedDataDir(dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  const workflows = join(dataDir, 'workflows');
  if (!existsSync(workflows)) cpSync(join(EXAMPLES, 'workflows'), workflows, { recursive: true });
  const catalog = join(dataDir, 'errors.json');
  if (!existsSync(catalog)) copyFileSync(join(EXAMPLES, 'errors.json'), catalog);
  mkdirSync(keysDir(dataDir), { recursive: true }); // the only folder workflow documents may name files in
}

function loadCatalog(dataDir: string): ErrorCatalog {
  const file = join(dataDir, 'errors.json');
  const parsed = errorCatalogSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid error catalog: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * A catalog stored before the gateway learnt to answer an error (partner_suspended and
 * product_not_subscribed came with partners) gets that error from the data directory's catalog,
 * else the examples', as one audited catalog change: without it, every workflow with an identity
 * node would stop validating against the stored catalog after an upgrade.
 */
async function addGatewayErrors(stored: ErrorCatalog, put: (catalog: ErrorCatalog) => Promise<unknown>, sources: ErrorCatalog[]) {
  const missing = GATEWAY_ERRORS.filter((id) => !Object.hasOwn(stored.errors, id));
  if (missing.length === 0) return;
  const added: ErrorCatalog['errors'] = {};
  for (const id of missing) {
    const source = sources.find((s) => Object.hasOwn(s.errors, id));
    if (source) added[id] = source.errors[id]!;
  }
  await put({ ...stored, errors: { ...stored.errors, ...added } });
}

/** The expression bounds of the settings, and the worker pool where expressions off the compiled fast path run (close it). */
export function expressionsOf(settings: Settings): { expressionLimits: ExpressionLimits; expressionPool: ExpressionPool } {
  return {
    expressionLimits: { ...DEFAULT_EXPRESSION_LIMITS, timeoutMs: settings.expressionTimeoutMs, stringChars: settings.expressionMaxOutput, transferChars: settings.expressionMaxTransfer },
    expressionPool: createExpressionPool({ threads: settings.expressionWorkers, queue: settings.expressionQueue }),
  };
}

function createSharedResources(): SharedResources & { close(): Promise<void> } {
  const resources = new Map<string, unknown>();
  return {
    get<T>(key: string, create: () => T): T {
      if (!resources.has(key)) resources.set(key, create());
      return resources.get(key) as T;
    },
    async close() {
      for (const value of resources.values()) {
        const closable = value as { close?: () => unknown };
        if (typeof closable.close === 'function') await closable.close();
      }
    },
  };
}

/** The Express app for everything that is not gateway traffic: health, editor, admin. */
function createControlApp(options: {
  problems: () => ProblemRenderer;
  dataDir: string;
  demo: boolean;
  clients: ClientAddress;
  admin: express.Router;
  metrics: { text(): Promise<string>; contentType: string; authenticate: ((authorization: string | undefined, client?: string) => unknown) | undefined } | undefined;
}) {
  const app = express();
  app.disable('x-powered-by');
  // req.ip, req.protocol and req.hostname trust the same proxies as everything else (SLUICE_TRUST_PROXY)
  app.set('trust proxy', options.clients.trust ?? false);
  app.use('/admin/api', options.admin);
  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', async (req, res, next) => {
      try {
        metrics.authenticate?.(req.headers.authorization, options.clients.of(req));
        res.type(metrics.contentType).send(await metrics.text());
      } catch (error) {
        next(error);
      }
    });
  }
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const editorDist = join(ROOT, 'editor', 'dist');
  if (existsSync(editorDist)) app.use('/editor', express.static(editorDist));
  // Express routes ignore a trailing slash, so '/editor' also matches '/editor/': redirect only the bare path.
  else app.get('/editor', (req, res, next) => (req.path === '/editor' ? res.redirect('/editor/') : next()));
  app.get('/editor/', (_req, res) => {
    res.type('html').send(readFileSync(join(ROOT, 'editor', 'placeholder.html'), 'utf8'));
  });
  if (options.demo) {
    app.get('/.well-known/sluice/demo-jwks.json', (_req, res) => {
      res.type('json').send(readFileSync(join(keysDir(options.dataDir), DEMO_JWKS_FILE), 'utf8'));
    });
  }
  const problem = (res: Response, req: Request, id: string, params?: Record<string, string>, detail?: string) => {
    const answer = options.problems().render(id, { instance: req.path, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, params, ...(detail ? { detail } : {}) });
    res.status(answer.status).set(problemHeaders(answer.body)).end(answer.body); // end, not send: send appends a charset
  };
  app.use((req, res) => problem(res, req, 'not_found'));
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, req, res, _next) => {
    if (error instanceof AdminError && (error.code === 'unauthorized' || error.code === 'too_many_attempts')) {
      if (error.code === 'unauthorized') res.set('www-authenticate', 'Bearer realm="sluice-admin"');
      else res.set('retry-after', String(error.extra?.retryAfter ?? 60));
      return problem(res, req, error.code, { reason: error.message }, error.message);
    }
    if (error.status === 413) return problem(res, req, 'payload_too_large', { reason: 'the body is too large' });
    if (error.status === 400) return problem(res, req, 'bad_request', { reason: 'the request is malformed' });
    problem(res, req, 'internal_error');
  };
  app.use(onError);
  return app;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error' };

/**
 * A raw HTTP answer for requests Node refuses before they reach a handler (headers too large, bad
 * framing), and for CONNECT, which no route answers: 405 with an empty Allow (RFC 9110 10.2.1).
 */
function clientErrorAnswer(problems: ProblemRenderer, code: string | undefined): string {
  const id = code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : code === 'CONNECT' ? 'method_not_allowed' : 'bad_request';
  const answer = problems.render(id, { instance: '/', traceId: traceContextOf(undefined, undefined).traceId, params: { reason: 'the request could not be parsed' } });
  const reason = REASONS[answer.status] ?? 'Bad Request';
  const headers = Object.entries(problemHeaders(answer.body)).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  const allow = id === 'method_not_allowed' ? 'allow: \r\n' : '';
  return `HTTP/1.1 ${answer.status} ${reason}\r\n${headers}\r\n${allow}connection: close\r\n\r\n${answer.body}`;
}

/** A problem answered before any route is looked up (a request without Host); the connection closes after it. */
function refuseRaw(res: ServerResponse, problems: ProblemRenderer, id: string, reason: string): void {
  const answer = problems.render(id, { instance: '/', traceId: traceContextOf(undefined, undefined).traceId, params: { reason } });
  res.shouldKeepAlive = false;
  res.writeHead(answer.status, { ...problemHeaders(answer.body), connection: 'close' });
  res.end(answer.body);
}

/**
 * Makes the data directory's one-time files (examples, demo keys, the admin token file) before
 * several processes start on it, so they all read the same ones. Returns the admin token file
 * it created, if any.
 */
export async function prepareDataDir(settings: Settings): Promise<string | undefined> {
  seedDataDir(settings.dataDir);
  if (settings.demo) await ensureDemoKeys(settings.dataDir);
  return loadAdminTokens(settings.adminTokens, settings.dataDir).createdFile;
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
  seedDataDir(settings.dataDir);
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  if (settings.demo) logger.warn({ setting: 'SLUICE_DEMO' }, DEMO_WARNING);
  const demoUpstream = settings.demo ? await startDemoUpstream() : undefined;
  if (demoUpstream) {
    env.SLUICE_DEMO_UPSTREAM = demoUpstream.url;
    await ensureDemoKeys(settings.dataDir);
  }

  const redis = settings.redis;
  const redisStore = redis ? await openRedisStore({ target: redis, logger }) : undefined;
  const store: Store = redisStore ?? (await openFileStore(join(settings.dataDir, 'store')));
  const system = { name: 'system', role: 'admin' };
  let problems = createProblemRenderer(loadCatalog(settings.dataDir));
  const metrics = settings.metrics ? new Metrics({ partners: settings.metricsPartners, partnerLimit: settings.metricsPartnerLimit }) : undefined;
  const spans = settings.otlp ? createOtlpExporter({ ...settings.otlp, logger }) : undefined;
  if (metrics && spans) {
    metrics.counter('sluice_spans_exported_total', 'Spans sent to the OTLP collector, by result (exported, dropped: queue full, failed: collector error).', () =>
      Object.entries(spans.counts).map(([result, value]) => ({ labels: { result }, value })),
    );
  }
  const clients = createClientAddress(settings.trustProxy);
  const slowReaders = createSlowReaderGuard({ maxBufferedBytes: settings.maxBufferedAnswerBytes, sendTimeoutMs: settings.sendTimeoutMs, logger });
  if (metrics) {
    metrics.counter('sluice_slow_readers_closed_total', 'Connections closed for not reading their answers: no byte taken for SLUICE_SEND_TIMEOUT (send_timeout), or unread answers over SLUICE_MAX_BUFFERED_ANSWER (buffer_limit).', () =>
      Object.entries(slowReaders.closed).map(([reason, value]) => ({ labels: { reason }, value })),
    );
  }
  const gateway = createGateway({
    slowReaders,
    problems,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
    clientAddress: clients,
    metrics,
    spans,
    logSubject: settings.logSubject === 'hash' ? { mode: 'hash', key: settings.logSubjectKey } : { mode: settings.logSubject },
  });
  const shared = createSharedResources();
  let replicas: ReplicaRegistry | undefined;
  let rateLimits: RateLimitStore;
  if (options.rateLimits) rateLimits = options.rateLimits;
  else if (redis) {
    // A connection of its own: a slow admin read never delays a rate-limit check, nor the reverse.
    const client = createRedisClient(redis, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: settings.rateLimitTimeoutMs });
    client.on('error', () => undefined); // the store's connections report Redis trouble; the breaker logs its own state
    await whenReady(client, redis).catch(() => undefined); // not ready: checks decide by onStoreDown until it is
    rateLimits = createRedisRateLimitStore({ client, keyPrefix: redisKeys(redis.prefix).rateLimit, replicas: () => replicas?.live ?? 1, logger, localMaxKeys: settings.rateLimitMaxKeys });
  } else rateLimits = createMemoryRateLimitStore({ maxKeys: settings.rateLimitMaxKeys });
  if (metrics) observeSharedState(metrics, store, rateLimits);
  const partnerAccess = createPartnerAccess();
  const { expressionLimits, expressionPool } = expressionsOf(settings);
  // Validation and compilation run in slices no longer than the expression bound (nor SLICE_MS), with requests served between them.
  const documents = { limits: settings.documentLimits, sliceMs: Math.min(SLICE_MS, settings.expressionTimeoutMs) };
  let egress = createEgressPolicy({ ...settings.egress, onDenied: (denied) => logger.warn({ egress: denied }, 'egress policy refused a connection') });
  // The embedded default's upstream is on loopback: exactly its address and port are allowed, nothing else of loopback.
  if (demoUpstream) egress = egress.allowing(new URL(demoUpstream.url).host);
  logger.info({ egress: egress.summary, ...(demoUpstream ? { demoUpstream: new URL(demoUpstream.url).host } : {}) }, demoUpstream ? 'egress policy (the demo upstream allowed)' : 'egress policy');
  const deps = { env, envAllowList: settings.workflowEnv, egress, dataDir: settings.dataDir, rateLimits, shared, partners: partnerAccess, maxBufferedAnswer: settings.maxBufferedAnswerBytes, expressionLimits, expressionPool, ...documents };
  /** Compiled workflows whose credentials' partners are labelled already. */
  const labelled = new WeakSet<CompiledWorkflow>();
  const registry = createWorkflowRegistry({
    deps,
    store,
    logger,
    metrics,
    activate: (workflows, catalog) => {
      if (catalog && catalog !== problems.catalog) {
        problems = createProblemRenderer(catalog);
        gateway.setProblems(problems);
      }
      if (metrics) {
        for (const workflow of workflows) {
          if (labelled.has(workflow)) continue; // a version served before named the same partners
          labelled.add(workflow);
          for (const partner of credentialPartners(workflow)) metrics.partners.known.add(partner);
        }
        // registered partners get their own label, whatever the bound
        for (const partner of partnerAccess.current.partners.keys()) metrics.partners.known.add(partner);
      }
      gateway.activate(workflows);
    },
  });
  // Previews, workflow tests and the publish gate run in the real engine with this process's compile dependencies and catalog.
  const mintToken = settings.demo ? (claims: DemoTokenOptions) => signDemoToken(settings.dataDir, claims) : undefined;
  const previewContext = (): SimulationContext => ({ deps, catalog: problems.catalog, problems, ...(mintToken ? { mintToken } : {}) });
  const lifecycle = createLifecycle({
    store,
    fourEyes: settings.fourEyes,
    ...documents,
    prepare: (document) => preparationProblems(document, deps),
    runTests: (document) => runWorkflowTests(document, previewContext()),
  });
  // A new store starts with the data directory's error catalog.
  const storedCatalog = (await store.state()).catalog;
  if (storedCatalog === undefined) await lifecycle.putCatalog(system, problems.catalog);
  else await addGatewayErrors(errorCatalogSchema.parse(await store.document(storedCatalog)), (catalog) => lifecycle.putCatalog(system, catalog), [problems.catalog, loadCatalog(EXAMPLES)]);
  const serving = () =>
    [...registry.active.values()].map((w) => ({
      workflow: w.id,
      version: w.version,
      route: w.graph.document.route.path,
      state: w.lifecycle?.retired ? ('retired' as const) : w.lifecycle?.headers ? ('deprecated' as const) : ('active' as const),
    }));
  if (redisStore)
    replicas = createReplicaRegistry({
      client: redisStore.client,
      prefix: redisStore.target.prefix,
      logger,
      report: () => ({ appliedRevision: registry.appliedRevision, serving: serving().map(({ workflow, version }) => ({ workflow, version })), rateLimits: rateLimits.health?.() }),
    });
  // The heartbeat after each sync tells the cluster view what this replica serves now.
  store.onChange(() => void registry.sync().then(() => replicas?.beat()));
  await registry.sync();

  const directory = createWorkflowDirectory(join(settings.dataDir, 'workflows'), { maxBytes: FILE_SIZE_FACTOR * settings.documentLimits.bytes });
  const directorySync = createDirectorySync({ directory, lifecycle, store, logger, limits: settings.documentLimits });
  const watchWorkflows = options.watchWorkflows ?? true;
  const reload = async () => {
    if (watchWorkflows) await directorySync.sync();
    await registry.sync();
  };
  await reload();
  if (watchWorkflows) directory.watch(() => void reload());

  const admin = loadAdminTokens(settings.adminTokens, settings.dataDir);
  if (admin.createdFile) logger.warn({ file: admin.createdFile }, `no SLUICE_ADMIN_TOKENS: created an admin token in ${admin.createdFile} (mode 0600)`);
  const authenticator = createAuthenticator(admin.tokens, { maxFailures: settings.adminMaxFailures });
  const adminApi = createAdminApi({
    store,
    lifecycle,
    ...documents,
    preview: {
      context: previewContext,
      ...(mintToken ? { demoToken: mintToken } : {}),
    },
    partners: { changes: createPartners({ store }), lastUsed: (keyId) => partnerAccess.lastUsed.get(keyId) },
    ...(metrics
      ? {
          observe: {
            stats: (id: string, windowMs: number) => workflowStats(metrics, id, windowMs),
            live: (id: string, partner: string | undefined) => {
              const served = registry.active.get(id);
              return served && liveView(metrics, served, partner);
            },
            partner: (id: string, windowMs: number) => partnerStats(metrics, id, windowMs),
          },
        }
      : {}),
    authenticate: authenticator.authenticate,
    clientAddress: clients.of,
    problems: () => problems,
    applied: (revision) => registry.whenApplied(revision),
    status: () => ({ appliedRevision: registry.appliedRevision, serving: serving(), replica: replicas?.id, rateLimits: rateLimits.health?.() ?? { store: rateLimits.name, state: 'up' } }),
    cluster: async (revision) => {
      if (replicas) return replicas.list(revision);
      // The file store has no shared list of replicas: this process speaks for itself.
      const behind = Math.max(0, revision - registry.appliedRevision);
      return [{ id: `${hostname()}-${process.pid}`, host: hostname(), pid: process.pid, appliedRevision: registry.appliedRevision, serving: serving().map(({ workflow, version }) => ({ workflow, version })), lastSeenMs: 0, behind, lagging: behind > 0, self: true }];
    },
  });

  const control = createControlApp({
    problems: () => problems,
    dataDir: settings.dataDir,
    demo: settings.demo,
    clients,
    admin: adminApi.router,
    // With its own port, /metrics is open there; on the main port it needs an admin token.
    metrics: metrics && { text: () => metrics.text(), contentType: metrics.registry.contentType, authenticate: settings.metricsPort === undefined ? authenticator.authenticate : undefined },
  });
  const metricsServer = metrics && settings.metricsPort !== undefined ? await listenMetrics(metrics, settings.host, settings.metricsPort) : undefined;
  const isControl = (url: string) => RESERVED_PREFIXES.some((p) => url.startsWith(p) && (url.length === p.length || url[p.length] === '/' || url[p.length] === '?'));
  const server = createServer(
    {
      maxHeaderSize: settings.maxHeaderBytes,
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      keepAliveTimeout: 5_000,
      // how often the two timeouts above are checked (Node's default, 30 s, would let a slow client stay far longer)
      connectionsCheckingInterval: Math.min(1_000, settings.headersTimeoutMs),
      // checked below, to answer problem+json rather than Node's bare 400
      requireHostHeader: false,
    },
    (req, res) => {
      if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) refuseRaw(res, problems, 'bad_request', 'the Host header is missing');
      else if (isControl(req.url ?? '/')) control(req, res);
      else gateway.handle(req, res);
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed) socket.end(clientErrorAnswer(problems, error.code));
    else socket.destroy();
  });
  // Without a listener Node drops a CONNECT's connection unanswered; the gateway tunnels nothing.
  server.on('connect', (_req: unknown, socket: Socket) => {
    if (socket.writable && !socket.destroyed) socket.end(clientErrorAnswer(problems, 'CONNECT'));
    else socket.destroy();
  });
  slowReaders.watch(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host}:${port}`;
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
    async close() {
      directory.close();
      await replicas?.close();
      await metricsServer?.close();
      await spans?.close();
      slowReaders.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const workflow of registry.active.values()) workflow.close();
      await adminApi.close(); // the refusals counted but not yet written
      await shared.close();
      await expressionPool.close();
      rateLimits.close?.();
      await demoUpstream?.close();
      await store.close();
    },
  };
}
