import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { diffContracts, diffWorkflowsSliced, errorContractSliced, runPaced, type ValidateOptions } from '../../shared/compile/index.ts';
import { contractOpenApi } from '../preview/contract-openapi.ts';
import { runWorkflowTests, simulate, type SimulationContext } from '../preview/simulate.ts';
import { kindConfigJsonSchema } from '../../shared/compile/json-schema.ts';
import { CATEGORIES, kinds, type AnyKindDescriptor } from '../../shared/nodes/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, DOCUMENT_LIMIT_SETTINGS, demoTokenSchema, errorCatalogSchema, formatBytes, jsonTextDepth, workflowDocumentSchema, type DocumentLimits, type WorkflowDocument } from '../../shared/schema/index.ts';
import { createPace, validatePaced } from '../compile/pace.ts';
import type { ProblemRenderer } from '../gateway/problem.ts';
import { problemHeaders } from '../gateway/problem.ts';
import { traceContextOf } from '../gateway/trace.ts';
import { StoreUnavailableError, type Store, type WorkflowRecord } from '../store/types.ts';
import { allows, type AdminIdentity, type Permission } from './auth.ts';
import { AdminError, storeWriteError } from './errors.ts';
import { createRefusalAudit } from './refusal-audit.ts';
import { workflowOf, type Lifecycle } from './lifecycle.ts';
import { adminOpenApi } from './openapi.ts';
import { partnerEndpoints } from './partner-endpoints.ts';
import type { Partners } from './partners.ts';
import { boundedDurationSchema, durationMs } from '../../shared/schema/duration.ts';
import { MAX_WINDOW_MS, SLOT_MS } from '../observe/windowed-counts.ts';

/** One admin endpoint: the Express route and the OpenAPI operation come from this one definition. */
export interface Endpoint {
  method: 'get' | 'post' | 'put';
  path: string;
  permission: Permission;
  summary: string;
  /** The status of a success: 200 unless the endpoint creates something. */
  status?: 201;
  /** The answer carries a secret (a new API key): never cached by a browser or proxy. */
  secret?: true;
  body?: z.ZodType;
  query?: z.ZodType;
  handler(call: { actor: AdminIdentity; params: Record<string, string>; query: unknown; body: unknown }): Promise<{ body: unknown }>;
}

export interface AdminApiOptions {
  store: Store;
  lifecycle: Lifecycle;
  /** The identity of a bearer token; `client` is the caller's address, for cutting off token guessing. */
  authenticate(authorization: string | undefined, client?: string): AdminIdentity;
  /** The caller's address (the one client-address function); the socket's peer when absent. */
  clientAddress?(req: Request): string;
  /** Partners, keys, products and plans; each key's last use in this process. */
  partners: { changes: Partners; lastUsed(keyId: string): number | undefined };
  problems: () => ProblemRenderer;
  /**
   * Resolves once this process serves store `revision` (the registry's whenApplied). A change is
   * acknowledged only then, so whoever publishes and then calls the route gets what they published.
   * Without it, the API watches `status().appliedRevision`.
   */
  applied?(revision: number): Promise<void>;
  /** What this process serves: the revision it applied and the version of each workflow. */
  /** This process's request counters; absent when metrics are off (the stats endpoints answer 404 then). */
  observe?: {
    stats(id: string, windowMs: number): unknown;
    /** Undefined when the workflow is not being served. */
    live(id: string, partner: string | undefined): unknown;
    /** One partner's requests by workflow and outcome. */
    partner(id: string, windowMs: number): unknown;
  };
  status(): { appliedRevision: number; serving: Array<{ workflow: string; version: number; route: string; state: 'active' | 'deprecated' | 'retired' }>; replica?: string | undefined; rateLimits?: unknown };
  /** Preview: simulation with the gateway's own compile dependencies and catalog, and the demo token helper. */
  preview?: {
    context(): SimulationContext;
    /** Signs a token for the demo issuer (only with SLUICE_DEMO). */
    demoToken?(options: { sub: string; scopes?: string[]; partner?: string; claims?: Record<string, unknown>; expiresIn?: string }): Promise<string>;
  };
  /** The live replicas sharing the store, each with the revision it applied, given the store's revision. */
  cluster?(revision: number): Promise<unknown[]>;
  /** Size bounds of workflow documents (SLUICE_MAX_*): the JSON body parser refuses larger and deeper bodies before parsing them. */
  limits?: DocumentLimits;
  /** The longest one slice of validation runs before requests get their turn. */
  sliceMs?: number;
}

/** An endpoint as the audit log names an operation: method and route pattern, whatever the URL. */
const operationOf = (endpoint: Endpoint) => `${endpoint.method.toUpperCase()} /admin/api${endpoint.path}`;

/** The longest a change waits for this process to serve it before it is acknowledged anyway. */
const SETTLE_MS = 5_000;
/** Room in an admin body beside its document: the wrapper, a sample request and its upstream mock. */
const BODY_SLACK_BYTES = 64 * 1024;

/** A body nested deeper than the limit, found before it was parsed (body-parser hands it to the error handler with this status). */
class BodyTooDeep extends Error {
  status = 400;
  type = 'entity.too.deep';
}

/** Endpoints that act on the path alone still refuse a body with fields: nothing is silently ignored. */
const noBody = z.object({}).strict();
const versionBody = z.object({ version: z.number().int().min(1) }).strict();
const deprecateBody = z
  .object({ version: z.number().int().min(1), sunset: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the version stops being served (RFC 8594 Sunset).' }) })
  .strict();
const draftBody = z.object({ document: z.record(z.string(), z.unknown()), baseRevision: z.number().int().min(0) }).strict();
const createBody = z.object({ document: z.record(z.string(), z.unknown()) }).strict();
const validateBody = z.object({ document: z.record(z.string(), z.unknown()).optional() }).strict();
const diffQuery = z.object({ from: z.union([z.literal('draft'), z.literal('active'), z.coerce.number().int().min(1)]), to: z.union([z.literal('draft'), z.literal('active'), z.coerce.number().int().min(1)]) }).strict();
export const statsQuery = z.object({ window: boundedDurationSchema(SLOT_MS, MAX_WINDOW_MS).default('5m').meta({ description: 'How far back: 10s to 1h, in 10-second slots.' }) }).strict();
const liveQuery = z.object({ partner: z.string().min(1).max(200).optional().meta({ description: 'Only this partner label (or "none", "other").' }) }).strict();
const sampleRequest = z
  .object({
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    path: z.string().startsWith('/').max(4096),
    query: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    token: demoTokenSchema.optional(),
  })
  .strict();
const upstreamMock = z.object({ status: z.number().int().min(100).max(599).default(200), headers: z.record(z.string(), z.string()).optional(), body: z.unknown().optional() }).strict();
const versionRef = z.union([z.literal('draft'), z.literal('active'), z.coerce.number().int().min(1)]);
const simulateBody = z
  .object({
    workflow: z.string().min(1).max(64).optional().meta({ description: 'A stored workflow: its draft, active version or a version number (`version`).' }),
    version: z.union([z.literal('draft'), z.literal('active'), z.number().int().min(1)]).default('draft'),
    document: z.record(z.string(), z.unknown()).optional().meta({ description: 'A document to simulate instead of a stored one (the editor\'s unsaved canvas).' }),
    request: sampleRequest,
    upstream: upstreamMock.optional().meta({ description: 'Mock the upstream with this answer; absent: the real upstream is called.' }),
  })
  .strict();
const contractQuery = z.object({ version: versionRef.default('active'), format: z.enum(['json', 'openapi']).default('json') }).strict();
const contractDiffQuery = z.object({ from: versionRef.default('active'), to: versionRef.default('draft') }).strict();
const testBody = z.object({ document: z.record(z.string(), z.unknown()).optional() }).strict();
const demoTokenBody = z
  .object({
    sub: z.string().min(1).max(200),
    scopes: z.array(z.string().min(1).max(200)).max(50).optional(),
    partner: z.string().min(1).max(200).optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
    expiresIn: z.string().regex(/^\d+[smhd]$/).optional(),
  })
  .strict();
const auditQuery = z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() }).strict();

/**
 * The fields a zod issue is about; an unknown key is named itself (not its parent object), so a
 * mass-assignment attempt says which field was refused.
 */
const issueFields = (issue: z.core.$ZodIssue): string[] =>
  (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path]).map((path) => path.map(String).join('.'));

const inputProblems = (error: z.ZodError, whole: string) =>
  error.issues.flatMap((issue) => issueFields(issue).map((field) => ({ code: 'invalid_document' as const, message: issue.message, field: field || whole })));

/** A workflow record as the API shows it: absent values are null, never missing. */
const workflowView = (workflow: WorkflowRecord) => ({ ...workflow, draft: workflow.draft ?? null, active: workflow.active ?? null });

function kindsPayload() {
  return {
    categories: CATEGORIES,
    kinds: (Object.values(kinds) as AnyKindDescriptor[]).map((d) => ({
      kind: d.kind,
      title: d.title,
      category: d.category,
      description: d.description,
      terminal: d.terminal === true,
      errors: d.errors,
      configSchema: kindConfigJsonSchema(d.kind as keyof typeof kinds),
    })),
  };
}

/** The admin API under /admin/api: JSON in and out, bodies validated by zod, problem+json errors, every change audited. */
export function createAdminApi(options: AdminApiOptions): { router: Router; endpoints: Endpoint[]; close(): Promise<void> } {
  const { store, lifecycle } = options;
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS;
  /** Validation in slices with requests served between them, under the document limits. */
  const validate = (document: unknown, rest: ValidateOptions = {}) => validatePaced(document, { ...rest, limits }, options.sliceMs);
  /** Role refusals, one entry per actor, endpoint and minute (the rest counted): a token cannot flood the audit log. */
  const refusals = createRefusalAudit({ store });
  const clientOf = options.clientAddress ?? ((req: Request) => req.socket.remoteAddress ?? 'unknown');

  async function record(id: string) {
    const state = await store.state();
    const workflow = workflowOf(state, id);
    if (!workflow) throw new AdminError('not_found', `no workflow "${id}"`);
    return { state, workflow };
  }

  async function versionDocument(id: string, which: 'draft' | 'active' | number): Promise<WorkflowDocument> {
    const { workflow } = await record(id);
    let hash: string | undefined;
    if (which === 'draft') hash = workflow.draft?.hash;
    else {
      const n = which === 'active' ? workflow.active : which;
      hash = workflow.versions.find((v) => v.version === n)?.hash;
    }
    if (!hash) throw new AdminError('not_found', `workflow "${id}" has no ${typeof which === 'number' ? `version ${which}` : which}`);
    return (await store.document(hash)) as WorkflowDocument;
  }

  /** The contract of a stored version (draft, active or a number). */
  async function contractOf(id: string, which: 'draft' | 'active' | number) {
    const { workflow } = await record(id);
    const document = await workflowDocument(id, which);
    const state = await store.state();
    const catalog = state.catalog === undefined ? options.problems().catalog : errorCatalogSchema.parse(await store.document(state.catalog));
    const result = await validate(document, { catalog });
    if (!result.ok) throw new AdminError('validation_failed', `the ${typeof which === 'number' ? `version ${which}` : which} of "${id}" is not a valid workflow: its contract cannot be derived`, { problems: result.problems });
    const n = which === 'active' ? workflow.active! : which === 'draft' ? 'draft' : which;
    const record_ = typeof n === 'number' ? workflow.versions.find((v) => v.version === n) : undefined;
    const deprecated = record_?.deprecated ? { deprecated: { sunset: record_.deprecated.sunset } } : {};
    return { contract: await runPaced(errorContractSliced(result.graph, catalog, deprecated), createPace(options.sliceMs)), document, version: n as number | 'draft' };
  }

  const versionNumber = (text: string | undefined) => {
    const n = /^[1-9][0-9]{0,8}$/.test(text ?? '') ? Number(text) : Number.NaN;
    if (!Number.isInteger(n)) throw new AdminError('bad_request', `"${text}" is not a version number`);
    return n;
  };

  /** A stored document as a workflow; a draft may be half drawn, which is a 422 naming its problems, not a 500. */
  async function workflowDocument(id: string, which: 'draft' | 'active' | number): Promise<WorkflowDocument> {
    const parsed = workflowDocumentSchema.safeParse(await versionDocument(id, which));
    if (!parsed.success) throw new AdminError('validation_failed', `the ${typeof which === 'number' ? `version ${which}` : which} of "${id}" is not a valid workflow document`, { problems: inputProblems(parsed.error, '(document)') });
    return parsed.data;
  }

  const endpoints: Endpoint[] = [
    { method: 'get', path: '/whoami', permission: 'read', summary: 'The name and role of the token', handler: async ({ actor }) => ({ body: actor }) },
    { method: 'get', path: '/kinds', permission: 'read', summary: 'Node kinds with their config JSON Schemas (palette and forms)', handler: async () => ({ body: kindsPayload() }) },
    {
      method: 'get', path: '/workflows', permission: 'read', summary: 'Every workflow with its route, active version, state and last change',
      handler: async () => {
        const state = await store.state();
        const items = [];
        for (const w of Object.values(state.workflows)) {
          const active = w.versions.find((v) => v.version === w.active);
          const doc = (await store.document(active?.hash ?? w.draft!.hash)) as Partial<WorkflowDocument>;
          const lastChange = [w.draft ? { at: w.draft.updatedAt, by: w.draft.updatedBy } : undefined, ...w.versions.map((v) => ({ at: v.publishedAt, by: v.publishedBy }))]
            .filter((c): c is { at: string; by: string } => c !== undefined)
            .sort((a, b) => (a.at < b.at ? 1 : -1))[0];
          items.push({
            id: w.id,
            name: doc.name,
            route: doc.route,
            activeVersion: w.active ?? null,
            state: !active ? 'draft' : active.retired ? 'retired' : active.deprecated ? 'deprecated' : 'active',
            draftChanges: w.draft !== undefined && w.draft.hash !== active?.hash,
            draftRevision: w.draft?.revision ?? 0,
            lastChange,
          });
        }
        return { body: { revision: state.revision, workflows: items.sort((a, b) => a.id.localeCompare(b.id)) } };
      },
    },
    {
      method: 'post', path: '/workflows', permission: 'edit', summary: 'Create a workflow from a document (its first draft)', status: 201, body: createBody,
      handler: async ({ actor, body }) => {
        const created = await lifecycle.create({ name: actor.name, role: actor.role }, (body as z.infer<typeof createBody>).document);
        return { body: workflowView(created) };
      },
    },
    {
      method: 'get', path: '/workflows/:id', permission: 'read', summary: 'A workflow: its draft, versions and active pointer',
      handler: async ({ params }) => {
        const { workflow } = await record(params.id!);
        const draft = workflow.draft ? { ...workflow.draft, document: await store.document(workflow.draft.hash) } : null;
        return { body: { ...workflowView(workflow), draft } };
      },
    },
    {
      method: 'put', path: '/workflows/:id/draft', permission: 'edit', summary: 'Save the draft; baseRevision must be the draft revision it was based on (409 when stale)', body: draftBody,
      handler: async ({ actor, params, body }) => {
        const b = body as z.infer<typeof draftBody>;
        const draft = await lifecycle.saveDraft({ name: actor.name, role: actor.role }, params.id!, b.document, b.baseRevision);
        const result = await validate(b.document);
        return { body: { draft, problems: result.ok ? [] : result.problems } };
      },
    },
    {
      method: 'post', path: '/workflows/:id/validate', permission: 'edit', summary: 'Validate the draft (or a document given in the body) as a publish would', body: validateBody,
      handler: async ({ params, body }) => {
        const document = (body as z.infer<typeof validateBody>).document ?? (await versionDocument(params.id!, 'draft'));
        const problems = await lifecycle.check(await store.state(), params.id!, document);
        return { body: { ok: problems.length === 0, problems } };
      },
    },
    {
      method: 'post', path: '/workflows/:id/publish', permission: 'publish', summary: 'Publish the draft as a new immutable version and activate it', body: noBody,
      handler: async ({ actor, params }) => ({ body: await lifecycle.publish({ name: actor.name, role: actor.role }, params.id!) }),
    },
    {
      method: 'post', path: '/workflows/:id/rollback', permission: 'publish', summary: 'Make an earlier version active again', body: versionBody,
      handler: async ({ actor, params, body }) => ({ body: await lifecycle.rollback({ name: actor.name, role: actor.role }, params.id!, (body as z.infer<typeof versionBody>).version) }),
    },
    {
      method: 'post', path: '/workflows/:id/deprecate', permission: 'publish', summary: 'Mark a version deprecated (served with Deprecation and Sunset headers)', body: deprecateBody,
      handler: async ({ actor, params, body }) => {
        const b = body as z.infer<typeof deprecateBody>;
        return { body: await lifecycle.deprecate({ name: actor.name, role: actor.role }, params.id!, b.version, b.sunset) };
      },
    },
    {
      method: 'post', path: '/workflows/:id/retire', permission: 'publish', summary: 'Retire a version (its route answers 410 while it is active)', body: versionBody,
      handler: async ({ actor, params, body }) => ({ body: await lifecycle.retire({ name: actor.name, role: actor.role }, params.id!, (body as z.infer<typeof versionBody>).version) }),
    },
    {
      method: 'get', path: '/workflows/:id/versions', permission: 'read', summary: 'The versions of a workflow',
      handler: async ({ params }) => {
        const { workflow } = await record(params.id!);
        return { body: { active: workflow.active ?? null, versions: workflow.versions } };
      },
    },
    {
      method: 'get', path: '/workflows/:id/versions/:n', permission: 'read', summary: 'One version with its document',
      handler: async ({ params }) => {
        const { workflow } = await record(params.id!);
        const n = versionNumber(params.n);
        const version = workflow.versions.find((v) => v.version === n);
        if (!version) throw new AdminError('not_found', `workflow "${params.id}" has no version ${n}`);
        return { body: { ...version, active: workflow.active === n, document: await store.document(version.hash) } };
      },
    },
    {
      method: 'get', path: '/workflows/:id/diff', permission: 'read', summary: 'Nodes and edges added, removed and changed between two versions (draft, active or a number); layout ignored', query: diffQuery,
      handler: async ({ params, query }) => {
        const q = query as z.infer<typeof diffQuery>;
        return { body: await runPaced(diffWorkflowsSliced(await workflowDocument(params.id!, q.from), await workflowDocument(params.id!, q.to)), createPace(options.sliceMs)) };
      },
    },
    {
      method: 'get', path: '/errors', permission: 'read', summary: 'The error catalog',
      handler: async () => ({ body: options.problems().catalog }),
    },
    {
      method: 'put', path: '/errors', permission: 'publish', summary: 'Replace the error catalog (refused while an active workflow raises an id it lacks)', body: errorCatalogSchema,
      handler: async ({ actor, body }) => ({ body: await lifecycle.putCatalog({ name: actor.name, role: actor.role }, body as z.infer<typeof errorCatalogSchema>) }),
    },
    {
      method: 'get', path: '/audit', permission: 'audit', summary: 'Audit log entries, oldest first', query: auditQuery,
      handler: async ({ query }) => {
        const q = query as z.infer<typeof auditQuery>;
        return { body: { entries: await store.audit({ ...(q.after === undefined ? {} : { after: q.after }), ...(q.limit === undefined ? {} : { limit: q.limit }) }) } };
      },
    },
    {
      method: 'get', path: '/audit/verify', permission: 'audit', summary: 'Walk the audit chain; report the first edited, missing or reordered entry',
      handler: async () => ({ body: await store.verifyAudit() }),
    },
    {
      method: 'post', path: '/simulate', permission: 'edit', summary: 'Run a sample request through a draft, a version or a given document in the real engine: the answer and a trace of every node (rate limits count privately; nothing stored changes)', body: simulateBody,
      handler: async ({ actor, body }) => {
        if (!options.preview) throw new AdminError('not_found', 'simulation is not available');
        const b = body as z.infer<typeof simulateBody>;
        if (!b.document && !b.workflow) throw new AdminError('bad_request', 'give a workflow (with a version) or a document', { problems: [{ code: 'invalid_document', message: 'workflow or document is required', field: 'workflow' }] });
        const document = b.document ?? (await versionDocument(b.workflow!, b.version));
        const workflow = b.workflow ?? String((document as { id?: unknown }).id ?? '');
        const result = await simulate(document, b.request, options.preview.context(), { upstream: b.upstream });
        // who simulated what is audited; the simulation itself changes nothing
        await store.transact(() => ({ entry: { time: new Date().toISOString(), actor: actor.name, role: actor.role, action: 'workflow.simulate', workflow: workflow.slice(0, 64) || undefined, detail: `${b.request.method} ${b.request.path.slice(0, 200)}${b.upstream ? ` (upstream mocked: ${b.upstream.status})` : ''}` }, result: undefined }));
        return { body: result };
      },
    },
    {
      method: 'get', path: '/workflows/:id/contract', permission: 'read', summary: 'The error contract: every answer the workflow can give that is not the upstream\'s (status, problem type, node and port, condition, example, headers); ?format=openapi for OpenAPI 3.1', query: contractQuery,
      handler: async ({ params, query }) => {
        const q = query as z.infer<typeof contractQuery>;
        const { contract, document, version } = await contractOf(params.id!, q.version);
        return { body: q.format === 'openapi' ? contractOpenApi(document, version, contract) : { workflow: params.id, version, route: document.route, entries: contract } };
      },
    },
    {
      method: 'get', path: '/workflows/:id/contract/diff', permission: 'read', summary: 'How the error contract changes between two versions (default: active to draft), in entries and in words', query: contractDiffQuery,
      handler: async ({ params, query }) => {
        const q = query as z.infer<typeof contractDiffQuery>;
        const [from, to] = await Promise.all([contractOf(params.id!, q.from), contractOf(params.id!, q.to)]);
        return { body: diffContracts(from.contract, to.contract) };
      },
    },
    {
      method: 'post', path: '/workflows/:id/test', permission: 'edit', summary: 'Run the workflow tests of the draft (or of a given document) as a publish would', body: testBody,
      handler: async ({ params, body }) => {
        if (!options.preview) throw new AdminError('not_found', 'simulation is not available');
        const document = (body as z.infer<typeof testBody>).document ?? (await versionDocument(params.id!, 'draft'));
        const verdicts = await runWorkflowTests(document, options.preview.context());
        return { body: { passed: verdicts.every((v) => v.passed), tests: verdicts } };
      },
    },
    {
      method: 'post', path: '/demo-token', permission: 'edit', summary: 'Sign a token for the demo issuer with chosen claims, for previews (SLUICE_DEMO only)', body: demoTokenBody,
      handler: async ({ body }) => {
        if (!options.preview?.demoToken) throw new AdminError('not_found', 'the demo issuer is off (SLUICE_DEMO=off)');
        return { body: { token: await options.preview.demoToken(body as z.infer<typeof demoTokenBody>) } };
      },
    },
    {
      method: 'get', path: '/workflows/:id/stats', permission: 'read', summary: 'Requests by outcome and partner over a recent window, as this process counted them', query: statsQuery,
      handler: async ({ params, query }) => {
        await record(params.id!);
        if (!options.observe) throw new AdminError('not_found', 'metrics are off (SLUICE_METRICS=off)');
        return { body: options.observe.stats(params.id!, durationMs((query as z.infer<typeof statsQuery>).window)) };
      },
    },
    {
      method: 'get', path: '/workflows/:id/live', permission: 'read', summary: 'Edge counts, node p50/p99 and last-minute outcomes of the served version (the editor\'s live mode)', query: liveQuery,
      handler: async ({ params, query }) => {
        await record(params.id!);
        if (!options.observe) throw new AdminError('not_found', 'metrics are off (SLUICE_METRICS=off)');
        const live = options.observe.live(params.id!, (query as z.infer<typeof liveQuery>).partner);
        if (live === undefined) throw new AdminError('not_found', `workflow "${params.id}" is not being served`);
        return { body: live };
      },
    },
    {
      method: 'get', path: '/status', permission: 'read', summary: 'What this process serves and the store revision it applied',
      handler: async () => {
        // What this process serves is known even while the store cannot be reached (revision null then).
        const revision = await store.state().then((state) => state.revision, () => null);
        const mine = options.status();
        return {
          body: {
            store: store.kind, revision, storeReachable: revision !== null, appliedRevision: mine.appliedRevision, replica: mine.replica ?? null, pid: process.pid,
            uptimeSeconds: Math.round(process.uptime()), workflows: mine.serving, rateLimits: mine.rateLimits ?? null,
          },
        };
      },
    },
    {
      method: 'get', path: '/cluster', permission: 'read', summary: 'The live replicas (heartbeats with expiry): the revision and versions each serves, and which lag behind the store',
      handler: async () => {
        const { revision } = await store.state();
        const replicas = (await options.cluster?.(revision)) ?? [];
        return { body: { store: store.kind, revision, replicas, lagging: replicas.filter((r) => (r as { lagging?: boolean }).lagging).length } };
      },
    },
    ...partnerEndpoints({ store, partners: options.partners, stats: options.observe && ((id, windowMs) => options.observe!.partner(id, windowMs)) }),
  ];

  /** Waits (bounded) until this process serves `revision`; the change is committed either way. */
  async function settle(revision: number): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    if (options.applied) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([options.applied(revision), new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
      clearTimeout(timer);
      return;
    }
    while (options.status().appliedRevision < revision && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  const router = express.Router();
  // The API's own description is documentation, readable without a token.
  const openapi = adminOpenApi(endpoints, '1');
  router.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const problem = (res: Response, req: Request, error: AdminError) => {
    const id = error.code === 'bad_request' ? 'bad_request' : error.code;
    const answer = options.problems().render(id, {
      instance: req.originalUrl.split('?')[0]!,
      traceId: traceContextOf(req.headers.traceparent, undefined).traceId,
      detail: error.message,
      extensions: { ...(error.problems ? { problems: error.problems } : {}), ...error.extra },
    });
    // RFC 9110: a 401 says how to authenticate
    const challenge = error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="sluice-admin"' } : error.code === 'too_many_attempts' ? { 'retry-after': String(error.extra?.retryAfter ?? 60) } : {};
    res.status(answer.status).set({ ...problemHeaders(answer.body), ...challenge }).end(answer.body);
  };

  /** Who is calling, before anything else is read: a body is parsed only for a caller who may send it. */
  const authorize = (endpoint: Endpoint) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = options.authenticate(req.headers.authorization, clientOf(req));
      if (!allows(actor.role, endpoint.permission)) {
        const denied = new AdminError('forbidden', `role ${actor.role} may not ${endpoint.summary.charAt(0).toLowerCase()}${endpoint.summary.slice(1)}`);
        const workflow = endpoint.path.startsWith('/workflows/') ? (req.params.id as string | undefined)?.slice(0, 64) : undefined;
        await refusals.record(actor, operationOf(endpoint), `${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 300)}: ${denied.message}`, workflow);
        throw denied;
      }
      res.locals.actor = actor;
      next();
    } catch (error) {
      next(error);
    }
  };
  // Bytes and nesting are bounded before JSON.parse: what reads a body afterwards (hashing, schemas, JSON.stringify) recurses into it.
  const bodyDepth = limits.depth + 1; // the document sits in a wrapping object
  const json = express.json({
    limit: limits.bytes + BODY_SLACK_BYTES,
    type: ['application/json', 'application/*+json'],
    verify: (_req, _res, buffer) => {
      if (jsonTextDepth(buffer, bodyDepth) > bodyDepth) throw new BodyTooDeep(`the body nests objects and arrays deeper than ${DOCUMENT_LIMIT_SETTINGS.depth} (${limits.depth}) allows`);
    },
  });

  for (const endpoint of endpoints) {
    router[endpoint.method](endpoint.path, authorize(endpoint), json, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const actor = res.locals.actor as AdminIdentity;
        let body: unknown;
        if (endpoint.body) {
          const parsed = endpoint.body.safeParse(req.body ?? {});
          if (!parsed.success) throw new AdminError('bad_request', 'the request body is not valid', { problems: inputProblems(parsed.error, '(body)') });
          body = parsed.data;
        }
        let query: unknown = req.query;
        if (endpoint.query) {
          const parsed = endpoint.query.safeParse(req.query);
          if (!parsed.success) throw new AdminError('bad_request', 'the query is not valid', { problems: inputProblems(parsed.error, '(query)') });
          query = parsed.data;
        }
        const result = await endpoint.handler({ actor, params: req.params as Record<string, string>, query, body });
        if (endpoint.method !== 'get') await settle((await store.state()).revision);
        if (endpoint.secret) res.set('cache-control', 'no-store');
        res.status(endpoint.status ?? 200).json(result.body);
      } catch (error) {
        next(error);
      }
    });
  }

  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    if (error instanceof AdminError) return problem(res, req, error);
    if (error instanceof StoreUnavailableError) {
      // nothing was changed: say so, and when to try again (a catalog without the entry answers internal_error)
      const answer = options.problems().render('store_unavailable', { instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId });
      return res.status(answer.status).set({ ...problemHeaders(answer.body), 'retry-after': '5' }).end(answer.body);
    }
    const unwritable = storeWriteError(error);
    if (unwritable) return problem(res, req, unwritable);
    if (error instanceof BodyTooDeep) return problem(res, req, new AdminError('bad_request', error.message, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.depth, value: limits.depth } } }));
    const status = (error as { status?: number }).status;
    if (status === 413)
      return problem(res, req, new AdminError('payload_too_large', `the body is larger than ${formatBytes(limits.bytes + BODY_SLACK_BYTES)}: a workflow document may be ${formatBytes(limits.bytes)} (${DOCUMENT_LIMIT_SETTINGS.bytes})`, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.bytes, value: limits.bytes } } }));
    if (status === 400 || status === 415) return problem(res, req, new AdminError('bad_request', 'the body is not valid JSON'));
    const answer = options.problems().render('internal_error', { instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId });
    res.status(answer.status).set(problemHeaders(answer.body)).end(answer.body);
  };
  router.use((req, res) => problem(res, req, new AdminError('not_found', `no admin endpoint ${req.method} ${req.path}`)));
  router.use(onError);
  return { router, endpoints, close: () => refusals.close() };
}
