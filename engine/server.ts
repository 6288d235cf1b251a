import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { RESERVED_PREFIXES } from '../shared/compile/index.ts';
import { errorCatalogSchema, type ErrorCatalog } from '../shared/schema/index.ts';
import type { Settings } from './config.ts';
import { DEMO_JWKS_FILE, ensureDemoKeys } from './demo/keys.ts';
import { startDemoUpstream } from './demo/upstream.ts';
import { createGateway, type Gateway } from './gateway/gateway.ts';
import { createProblemRenderer, problemHeaders, type ProblemRenderer } from './gateway/problem.ts';
import { createWorkflowRegistry, type WorkflowRegistry } from './gateway/registry.ts';
import { preparationProblems } from './gateway/compile-workflow.ts';
import { createAdminApi } from './admin/api.ts';
import { createAuthenticator, loadAdminTokens } from './admin/auth.ts';
import { createLifecycle, type Lifecycle } from './admin/lifecycle.ts';
import { createDirectorySync } from './store/directory-sync.ts';
import { openFileStore } from './store/file-store.ts';
import { createRedisClient, redisKeys, whenReady } from './store/redis.ts';
import { openRedisStore } from './store/redis-store.ts';
import { createReplicaRegistry, type ReplicaRegistry } from './store/replicas.ts';
import type { Store } from './store/types.ts';
import { createRedisRateLimitStore } from './runtime/redis-rate-limit-store.ts';
import { validateWorkflow, type ValidationProblem } from '../shared/compile/index.ts';
import { traceContextOf } from './gateway/trace.ts';
import { createLogger, type Logger } from './observe/logger.ts';
import { createMemoryRateLimitStore, type RateLimitStore } from './runtime/rate-limit-store.ts';
import type { SharedResources } from './runtime/types.ts';
import { createWorkflowDirectory } from './store/workflow-directory.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
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
  rateLimits: RateLimitStore;
  /** This process's entry among the replicas sharing the Redis store (absent with the file store). */
  replicas: ReplicaRegistry | undefined;
  close(): Promise<void>;
}

/** Seeds a new data directory with the example workflows and error catalog. */
function seedDataDir(dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  const workflows = join(dataDir, 'workflows');
  if (!existsSync(workflows)) cpSync(join(EXAMPLES, 'workflows'), workflows, { recursive: true });
  const catalog = join(dataDir, 'errors.json');
  if (!existsSync(catalog)) copyFileSync(join(EXAMPLES, 'errors.json'), catalog);
}

function loadCatalog(dataDir: string): ErrorCatalog {
  const file = join(dataDir, 'errors.json');
  const parsed = errorCatalogSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a valid error catalog: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
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
function createControlApp(options: { problems: () => ProblemRenderer; dataDir: string; demo: boolean; admin: express.Router }) {
  const app = express();
  app.disable('x-powered-by');
  app.use('/admin/api', options.admin);
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
      res.type('json').send(readFileSync(join(options.dataDir, DEMO_JWKS_FILE), 'utf8'));
    });
  }
  const problem = (res: Response, req: Request, id: string, params?: Record<string, string>) => {
    const answer = options.problems().render(id, { instance: req.path, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, params });
    res.status(answer.status).set(problemHeaders(answer.body)).end(answer.body); // end, not send: send appends a charset
  };
  app.use((req, res) => problem(res, req, 'not_found'));
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, req, res, _next) => {
    if (error.status === 413) return problem(res, req, 'payload_too_large', { reason: 'the body is too large' });
    if (error.status === 400) return problem(res, req, 'bad_request', { reason: 'the request is malformed' });
    problem(res, req, 'internal_error');
  };
  app.use(onError);
  return app;
}

/** A raw HTTP answer for requests Node refuses before they reach a handler (headers too large, bad framing). */
function clientErrorAnswer(problems: ProblemRenderer, code: string | undefined): string {
  const id = code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
  const answer = problems.render(id, { instance: '/', traceId: traceContextOf(undefined, undefined).traceId, params: { reason: 'the request could not be parsed' } });
  const reason = answer.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  const headers = Object.entries(problemHeaders(answer.body)).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return `HTTP/1.1 ${answer.status} ${reason}\r\n${headers}\r\nconnection: close\r\n\r\n${answer.body}`;
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
  const gateway = createGateway({ problems, logger, maxBodyBytes: settings.maxBodyBytes, trustProxy: settings.trustProxy });
  const shared = createSharedResources();
  let replicas: ReplicaRegistry | undefined;
  let rateLimits: RateLimitStore;
  if (options.rateLimits) rateLimits = options.rateLimits;
  else if (redis) {
    // A connection of its own: a slow admin read never delays a rate-limit check, nor the reverse.
    const client = createRedisClient(redis, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: settings.rateLimitTimeoutMs });
    client.on('error', () => undefined); // the store's connections report Redis trouble; the breaker logs its own state
    await whenReady(client, redis).catch(() => undefined); // not ready: checks decide by onStoreDown until it is
    rateLimits = createRedisRateLimitStore({ client, keyPrefix: redisKeys(redis.prefix).rateLimit, replicas: () => replicas?.live ?? 1, logger });
  } else rateLimits = createMemoryRateLimitStore();
  const deps = { env, dataDir: settings.dataDir, rateLimits, shared, expressionLimits: { timeoutMs: settings.expressionTimeoutMs, depth: 300, sequence: 100_000 } };
  const registry = createWorkflowRegistry({
    deps,
    store,
    logger,
    activate: (workflows, catalog) => {
      if (catalog && catalog !== problems.catalog) {
        problems = createProblemRenderer(catalog);
        gateway.setProblems(problems);
      }
      gateway.activate(workflows);
    },
  });
  const lifecycle = createLifecycle({ store, fourEyes: settings.fourEyes, prepare: (document) => preparationProblems(document, deps) });
  // A new store starts with the data directory's error catalog.
  if ((await store.state()).catalog === undefined) await lifecycle.putCatalog(system, problems.catalog);
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

  const directory = createWorkflowDirectory(join(settings.dataDir, 'workflows'));
  const directorySync = createDirectorySync({ directory, lifecycle, store, logger });
  const watchWorkflows = options.watchWorkflows ?? true;
  const reload = async () => {
    if (watchWorkflows) await directorySync.sync();
    await registry.sync();
  };
  await reload();
  if (watchWorkflows) directory.watch(() => void reload());

  const admin = loadAdminTokens(settings.adminTokens, settings.dataDir);
  if (admin.createdFile) logger.warn({ file: admin.createdFile }, `no SLUICE_ADMIN_TOKENS: created an admin token in ${admin.createdFile} (mode 0600)`);
  const authenticator = createAuthenticator(admin.tokens);
  const adminApi = createAdminApi({
    store,
    lifecycle,
    authenticate: authenticator.authenticate,
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

  const control = createControlApp({ problems: () => problems, dataDir: settings.dataDir, demo: settings.demo, admin: adminApi.router });
  const isControl = (url: string) => RESERVED_PREFIXES.some((p) => url.startsWith(p) && (url.length === p.length || url[p.length] === '/' || url[p.length] === '?'));
  const server = createServer(
    { maxHeaderSize: settings.maxHeaderBytes, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      if (isControl(req.url ?? '/')) control(req, res);
      else gateway.handle(req, res);
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed) socket.end(clientErrorAnswer(problems, error.code));
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host}:${port}`;
  logger.info({ url, dataDir: settings.dataDir, workflows: registry.active.size, demoUpstream: demoUpstream?.url }, 'sluice listening');

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
    rateLimits,
    replicas,
    async close() {
      directory.close();
      await replicas?.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const workflow of registry.active.values()) workflow.close();
      await shared.close();
      rateLimits.close?.();
      await demoUpstream?.close();
      await store.close();
    },
  };
}
