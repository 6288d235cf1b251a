import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { DocumentLimits } from '../shared/schema/index.ts';
import { createAdminApi } from './admin/api.ts';
import { createAttemptLimit } from './admin/attempt-limit.ts';
import { ADMIN_FAILURE_WINDOW_MS, createAuthenticator, loadAdminTokens } from './admin/auth.ts';
import { AdminError } from './admin/errors.ts';
import type { Lifecycle } from './admin/commands/workflows.ts';
import { createPartners } from './admin/commands/partners.ts';
import type { WorkflowRegistry } from './compile/registry.ts';
import { ROOT, type Settings } from './config.ts';
import type { DemoTokenOptions } from './demo/keys.ts';
import type { PartnerAccess } from './kinds/support/partner-directory.ts';
import type { RateLimitStore } from './kinds/support/rate-limit-store.ts';
import type { Metrics } from './observe/metrics.ts';
import { upstreamsOf } from './observe/upstreams.ts';
import { liveView, partnerStats, workflowStats } from './observe/workflow-stats.ts';
import type { SimulationContext } from './preview/simulate.ts';
import type { ReplicaRegistry } from './store/replicas.ts';
import type { Store } from './store/types.ts';
import type { EvidenceStore } from './evidence/types.ts';
import type { CanaryWatch } from './canary/watch.ts';
import { DEMO_JWKS_FILE } from './demo/keys.ts';
import type { ClientAddress } from './gateway/client-address.ts';
import type { Drain } from './gateway/drain.ts';
import { writeProblem, type ProblemRenderer } from './gateway/problem.ts';
import { traceContextOf } from './gateway/trace.ts';
import { keysDir } from './kinds/support/key-files.ts';
import type { Identity } from '../shared/admin/index.ts';
import { validatePaced } from './compile/pace.ts';
import { createPortalRouter } from './portal/portal-api.ts';
import { createPublishedCatalog } from './portal/published.ts';
import { createPartnerPortalApi, type PartnerPortal } from './portal/partner-api.ts';
import type { PartnerSessionStore } from './portal/partner-sessions.ts';
import { createPortalTokenVerifier } from './portal/partner-token.ts';
import { createPartnerUsage } from './portal/partner-usage.ts';

interface ControlAppOptions {
  /** The catalog's renderer as last activated. */
  problems: () => ProblemRenderer;
  dataDir: string;
  /** Serves the demo issuer's JWKS. */
  demo: boolean;
  clients: ClientAddress;
  /** The admin API, mounted at /admin/api. */
  admin: express.Router;
  /** The admin API as an MCP server, mounted at /admin/mcp. */
  adminMcp: express.Router;
  /** The developer portal, mounted at /portal; absent with SLUICE_PORTAL=off. */
  portal: express.Router | undefined;
  /** The partner view of the portal, mounted at /portal/api/partner; absent with SLUICE_PORTAL=off. */
  partnerPortal: express.Router | undefined;
  /** What /readyz says, and answers saying `Connection: close` while draining (engine/gateway/drain.ts). */
  drain: Pick<Drain, 'readiness' | 'closeAfterAnswers'>;
  /** /metrics on this port; `authenticate` absent when it is open (its own port serves it without a token, not this one). */
  metrics: { text(): Promise<string>; contentType: string; authenticate: ((authorization: string | undefined, client?: string) => Promise<unknown>) | undefined } | undefined;
}

/** The Express app for everything that is not gateway traffic: health, editor, admin, metrics. */
function createControlApp(options: ControlAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  options.drain.closeAfterAnswers(app.response);
  // req.ip, req.protocol and req.hostname trust the same proxies as everything else (SLUICE_TRUST_PROXY)
  app.set('trust proxy', options.clients.trust ?? false);
  app.use('/admin/api', options.admin);
  app.use('/admin/mcp', options.adminMcp);
  if (options.partnerPortal) app.use('/portal/api/partner', options.partnerPortal);
  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', async (req, res, next) => {
      try {
        await metrics.authenticate?.(req.headers.authorization, options.clients.of(req));
        res.type(metrics.contentType).send(await metrics.text());
      } catch (error) {
        next(error);
      }
    });
  }
  // Liveness: the process answers. Nothing else is checked, so a slow store never restarts a gateway that serves.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  if (options.portal) app.use('/portal', options.portal);
  // Readiness: 503 until the first store sync is served, and again from the start of a shutdown.
  app.get('/readyz', (_req, res) => {
    const status = options.drain.readiness;
    res.status(status === 'ready' ? 200 : 503).set('cache-control', 'no-store').json({ status });
  });
  const editorDist = join(ROOT, 'editor', 'dist');
  // the portal's page is served at /portal, never as a file of the editor
  app.get('/editor/portal.html', (req, res) => problem(res, req, 'not_found'));
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
    writeProblem(res, options.problems().render(id, { instance: req.path, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, params, ...(detail ? { detail } : {}) }));
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

/** What the control plane reads of the running process. */
export interface ControlPlaneParts {
  settings: Settings;
  store: Store;
  lifecycle: Lifecycle;
  registry: WorkflowRegistry;
  /** This process among the replicas (absent with the file store). */
  replicas: () => ReplicaRegistry | undefined;
  rateLimits: RateLimitStore;
  metrics: Metrics | undefined;
  partnerAccess: PartnerAccess;
  /** The preview's context: this process's compile dependencies and catalog. */
  preview: () => SimulationContext;
  /** Signs demo tokens; absent unless demo mode. */
  mintToken: ((claims: DemoTokenOptions) => Promise<string>) | undefined;
  documents: { limits: DocumentLimits; sliceMs: number };
  clients: ClientAddress;
  problems: () => ProblemRenderer;
  /** Readiness (/readyz) and the shutdown's `Connection: close`. */
  drain: Pick<Drain, 'readiness' | 'closeAfterAnswers'>;
  logger: Logger;
  /** The evidence store the evidence queries read; absent when evidence is off. */
  evidence?: EvidenceStore | undefined;
  /** The canaries' counts. */
  canaries?: CanaryWatch | undefined;
  /** Differential replay's recorded samples; absent when recording is off. */
  replay?: { samples(workflow: string): Promise<string[]> } | undefined;
  /** Partner portal sessions (files of the data directory, or Redis with REDIS_URL). */
  portalSessions: PartnerSessionStore;
}

/** The developer portal's router: the published catalog read from what this process serves. */
function createPortal(parts: ControlPlaneParts, authenticate: (authorization: string | undefined, client?: string) => Promise<Identity>, partners: PartnerPortal): express.Router {
  const { settings, store, registry, lifecycle } = parts;
  const published = createPublishedCatalog({
    state: () => store.state(),
    document: (hash) => store.document(hash),
    served: () => registry.active,
    catalog: () => parts.problems().catalog,
    validate: async (document, { catalog, published: stored }) => validatePaced(document, { catalog, fragments: await lifecycle.fragmentLibrary.current(), limits: parts.documents.limits, allowStoredCredentials: stored }, parts.documents.sliceMs),
    sliceMs: parts.documents.sliceMs,
  });
  return createPortalRouter({ mode: settings.portal === 'sign-in' ? 'sign-in' : 'public', published, authenticate, clientAddress: parts.clients.of, problems: parts.problems, viewers: [partners.viewer] });
}

/** The control plane: the admin API with its tokens, and the Express app that serves it beside health, editor and metrics. */
export function createControlPlane(parts: ControlPlaneParts): { app: express.Express; close(): Promise<void> } {
  const { settings, registry, metrics, rateLimits } = parts;
  const admin = loadAdminTokens(settings.adminTokens, settings.dataDir);
  if (admin.createdFile) parts.logger.warn({ file: admin.createdFile }, `no SLUICE_ADMIN_TOKENS: created an admin token in ${admin.createdFile} (mode 0600)`);
  // wrong tokens counted in the gateway's rate-limit store: shared by every replica with REDIS_URL
  const authenticator = createAuthenticator(admin.tokens, createAttemptLimit(rateLimits, { scope: 'admin/token-failures', max: settings.adminMaxFailures, windowMs: ADMIN_FAILURE_WINDOW_MS }));
  const servedVersions = () => registry.serving().map(({ workflow, version }) => ({ workflow, version }));
  const adminApi = createAdminApi({
    store: parts.store,
    lifecycle: parts.lifecycle,
    ...parts.documents,
    preview: { context: parts.preview, ...(parts.mintToken ? { demoToken: parts.mintToken } : {}) },
    partners: { changes: createPartners({ store: parts.store }), lastUsed: (keyId) => parts.partnerAccess.lastUsed.get(keyId) },
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
    clientAddress: parts.clients.of,
    logger: parts.logger,
    evidence: parts.evidence,
    canaries: parts.canaries,
    replay: parts.replay,
    problems: parts.problems,
    applied: (revision) => registry.whenApplied(revision),
    status: () => ({ appliedRevision: registry.appliedRevision, serving: registry.serving(), replica: parts.replicas()?.id, rateLimits: rateLimits.health?.() ?? { store: rateLimits.name, state: 'up' }, upstreams: upstreamsOf(registry.active.values()) }),
    cluster: async (revision) => {
      const replicas = parts.replicas();
      if (replicas) return replicas.list(revision);
      // The file store has no shared list of replicas: this process speaks for itself.
      const behind = Math.max(0, revision - registry.appliedRevision);
      return [{ id: `${hostname()}-${process.pid}`, host: hostname(), pid: process.pid, appliedRevision: registry.appliedRevision, serving: servedVersions(), lastSeenMs: 0, behind, lagging: behind > 0, self: true }];
    },
  });
  const partnerPortal = createPartnerPortalApi({
    store: parts.store,
    partners: createPartners({ store: parts.store }),
    access: parts.partnerAccess,
    served: () => registry.active,
    tokens: createPortalTokenVerifier({ served: () => registry.active.values(), deps: registry.deps, audience: settings.partnerPortal.audience, directory: () => parts.partnerAccess.current, revision: () => registry.appliedRevision }),
    sessions: parts.portalSessions,
    usage: createPartnerUsage({ metrics, evidence: parts.evidence }),
    clients: parts.clients,
    problems: parts.problems,
    applied: (revision) => registry.whenApplied(revision),
    sessionMs: settings.partnerPortal.sessionMs,
    maxOverlapMs: settings.partnerPortal.maxOverlapMs,
    rateLimits: parts.rateLimits,
    logger: parts.logger,
  });
  const app = createControlApp({
    problems: parts.problems,
    dataDir: settings.dataDir,
    demo: settings.demo,
    clients: parts.clients,
    admin: adminApi.router,
    adminMcp: adminApi.mcp,
    portal: settings.portal === 'off' ? undefined : createPortal(parts, authenticator.authenticate, partnerPortal),
    partnerPortal: settings.portal === 'off' ? undefined : partnerPortal.router,
    drain: parts.drain,
    // With its own port, /metrics is open there; on the main port it needs an admin token.
    metrics: metrics && { text: () => metrics.text(), contentType: metrics.registry.contentType, authenticate: settings.metricsPort === undefined ? authenticator.authenticate : undefined },
  });
  return {
    app,
    close: async () => {
      await adminApi.close();
      partnerPortal.close();
    },
  };
}
