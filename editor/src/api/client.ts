import type { z } from 'zod';
import type { canaryEndSchema, canaryStartSchema, canaryViewSchema } from '../../../shared/admin/canary.ts';
import type { approvalRefusedSchema, approvedSchema, clientCertificateRecordSchema, contractDiffSchema, contractSchema, createdHmacSecretSchema, createdKeySchema, demoTokenAnswerSchema, draftSavedSchema, evidenceAggregateSchema, evidencePageSchema, evidenceTraceSchema, fragmentDraftSavedSchema, fragmentListSchema, fragmentPublishedSchema, fragmentRecordSchema, fragmentVersionSchema, fragmentViewSchema, partnerListSchema, partnerStatsSchema, partnerViewSchema, planListSchema, planSchema, productListSchema, productSchema, publishAnswerSchema, removedCertificateSchema, restoredSchema, revokedKeySchema, rolledBackSchema, rulesChangedSchema, rulesViewSchema, ruleViolationsSchema, testRunSchema, validatedSchema, versionDetailSchema, versionListSchema, workflowListSchema } from '../../../shared/admin/index.ts';
import type { ErrorCatalog } from '../../../shared/schema/catalog.ts';
import type { CompareAnswer } from '../../../shared/admin/index.ts';
import type { PartnerFields, PlanFields, ProductFields } from '../../../shared/schema/partners.ts';
import type { SampleRequest, SimulationResult, UpstreamMock } from './preview-types.ts';
import type { EvaluationSample } from '../forms/sample.ts';
import type { Identity, KindsPayload, LiveView, ProblemBody, VersionRecord, VersionRef, WorkflowDiff, WorkflowRecordView, WorkflowView } from './types.ts';

/** What an endpoint answers, by the schema the engine declares for it. */
type Answer<S extends z.ZodType> = z.infer<S>;

/** A refused admin call: the HTTP status and the problem+json body, with its `problems` to pin. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemBody;
  constructor(status: number, problem: ProblemBody) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

const BASE = '/admin/api';

/**
 * The admin API as the editor uses it. Every call carries the bearer token; a refusal throws
 * ApiError with the problem body, and a 401 also tells `onUnauthorized` so the session ends.
 * @example
 * const api = createApi(token, () => signOut());
 * const { kinds } = await api.kinds();
 */
export function createApi(token: string, onUnauthorized: () => void = () => {}) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    if (!response.ok) {
      if (response.status === 401) onUnauthorized();
      throw new ApiError(response.status, (parsed as ProblemBody | undefined) ?? { status: response.status });
    }
    return parsed as T;
  }
  /** A streamed download (an export): the whole answer as a Blob, with the file name the server gives it. */
  async function download(path: string): Promise<{ blob: Blob; name: string | undefined }> {
    const response = await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) {
      if (response.status === 401) onUnauthorized();
      const text = await response.text();
      let problem: ProblemBody;
      try {
        problem = JSON.parse(text) as ProblemBody;
      } catch {
        problem = { status: response.status, detail: text.slice(0, 200) };
      }
      throw new ApiError(response.status, problem);
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
    return { blob: await response.blob(), name };
  }
  const wf = (id: string) => `/workflows/${encodeURIComponent(id)}`;
  const frag = (id: string) => `/fragments/${encodeURIComponent(id)}`;
  return {
    whoami: () => call<Identity>('GET', '/whoami'),
    kinds: () => call<KindsPayload>('GET', '/kinds'),
    catalog: () => call<ErrorCatalog>('GET', '/errors'),
    workflows: () => call<Answer<typeof workflowListSchema>>('GET', '/workflows'),
    workflow: (id: string) => call<WorkflowView>('GET', wf(id)),
    create: (document: unknown) => call<WorkflowRecordView>('POST', '/workflows', { document }),
    saveDraft: (id: string, document: unknown, baseRevision: number) =>
      call<Answer<typeof draftSavedSchema>>('PUT', `${wf(id)}/draft`, { document, baseRevision }),
    validate: (id: string, document: unknown) => call<Answer<typeof validatedSchema>>('POST', `${wf(id)}/validate`, { document }),
    /** Publishes the draft, or (a draft that removes or changes contract answers) asks another publisher to approve it: `pending`. */
    publish: (id: string, note?: string) => call<Answer<typeof publishAnswerSchema>>('POST', `${wf(id)}/publish`, note ? { note } : {}),
    /** Approves the publish waiting for approval, of the draft `draftHash` the approver looked at. */
    approve: (id: string, draftHash: string) => call<Answer<typeof approvedSchema>>('POST', `${wf(id)}/approval/approve`, { draftHash }),
    /** Refuses the publish waiting for approval (who asked withdraws it the same way). */
    refuseApproval: (id: string, reason: string) => call<Answer<typeof approvalRefusedSchema>>('POST', `${wf(id)}/approval/refuse`, { reason }),
    startCanary: (id: string, body: z.input<typeof canaryStartSchema>) => call<{ canary: NonNullable<Answer<typeof canaryViewSchema>['canary']>; started: boolean }>('POST', `${wf(id)}/canary`, body),
    canary: (id: string) => call<Answer<typeof canaryViewSchema>>('GET', `${wf(id)}/canary`),
    promoteCanary: (id: string) => call<Answer<typeof canaryEndSchema>>('POST', `${wf(id)}/canary/promote`),
    abortCanary: (id: string, reason?: string) => call<Answer<typeof canaryEndSchema>>('POST', `${wf(id)}/canary/abort`, reason ? { reason } : {}),
    rollback: (id: string, version: number) => call<Answer<typeof rolledBackSchema>>('POST', `${wf(id)}/rollback`, { version }),
    deprecate: (id: string, version: number, sunset?: string) => call<VersionRecord>('POST', `${wf(id)}/deprecate`, sunset ? { version, sunset } : { version }),
    retire: (id: string, version: number) => call<VersionRecord>('POST', `${wf(id)}/retire`, { version }),
    versions: (id: string) => call<Answer<typeof versionListSchema>>('GET', `${wf(id)}/versions`),
    version: (id: string, n: number) => call<Answer<typeof versionDetailSchema>>('GET', `${wf(id)}/versions/${n}`),
    diff: (id: string, from: VersionRef, to: VersionRef) => call<WorkflowDiff>('GET', `${wf(id)}/diff?from=${from}&to=${to}`),
    simulate: (body: { document: unknown; request: SampleRequest; upstream?: UpstreamMock }) => call<SimulationResult>('POST', '/simulate', body),
    contract: (id: string, version: VersionRef) => call<Answer<typeof contractSchema>>('GET', `${wf(id)}/contract?version=${version}`),
    contractOpenApi: (id: string, version: VersionRef) => call<unknown>('GET', `${wf(id)}/contract?version=${version}&format=openapi`),
    contractDiff: (id: string, from: VersionRef, to: VersionRef) => call<Answer<typeof contractDiffSchema>>('GET', `${wf(id)}/contract/diff?from=${from}&to=${to}`),
    compare: (id: string, from: VersionRef = 'active', to: VersionRef = 'draft') => call<CompareAnswer>('POST', `${wf(id)}/compare`, { from, to }),
    runTests: (id: string, document: unknown) => call<Answer<typeof testRunSchema>>('POST', `${wf(id)}/test`, { document }),
    demoToken: (claims: { sub: string; scopes?: string[]; partner?: string }) => call<Answer<typeof demoTokenAnswerSchema>>('POST', '/demo-token', claims),
    live: (id: string, partner?: string) => call<LiveView>('GET', `${wf(id)}/live${partner ? `?partner=${encodeURIComponent(partner)}` : ''}`),
    partners: () => call<Answer<typeof partnerListSchema>>('GET', '/partners'),
    products: () => call<Answer<typeof productListSchema>>('GET', '/products'),
    plans: () => call<Answer<typeof planListSchema>>('GET', '/plans'),
    setPartnerStatus: (id: string, action: 'suspend' | 'reactivate', reason?: string) => call<Answer<typeof partnerViewSchema>>('POST', `/partners/${encodeURIComponent(id)}/${action}`, reason ? { reason } : {}),
    createKey: (id: string, body: { scopes?: string[]; expiresAt?: string } = {}) => call<Answer<typeof createdKeySchema>>('POST', `/partners/${encodeURIComponent(id)}/keys`, body),
    rotateKey: (id: string, key: string, overlap = '24h') => call<Answer<typeof createdKeySchema>>('POST', `/partners/${encodeURIComponent(id)}/keys/${encodeURIComponent(key)}/rotate`, { overlap }),
    revokeKey: (id: string, key: string, reason?: string) => call<Answer<typeof revokedKeySchema>>('POST', `/partners/${encodeURIComponent(id)}/keys/${encodeURIComponent(key)}/revoke`, reason ? { reason } : {}),
    addCertificate: (id: string, body: { match: 'fingerprint' | 'subject' | 'san'; value: string }) => call<Answer<typeof clientCertificateRecordSchema>>('POST', `/partners/${encodeURIComponent(id)}/certificates`, body),
    removeCertificate: (id: string, certificate: string, reason?: string) => call<Answer<typeof removedCertificateSchema>>('POST', `/partners/${encodeURIComponent(id)}/certificates/${encodeURIComponent(certificate)}/remove`, reason ? { reason } : {}),
    createHmacSecret: (id: string) => call<Answer<typeof createdHmacSecretSchema>>('POST', `/partners/${encodeURIComponent(id)}/hmac-secrets`, {}),
    rotateHmacSecret: (id: string, secret: string, overlap = '24h') => call<Answer<typeof createdHmacSecretSchema>>('POST', `/partners/${encodeURIComponent(id)}/hmac-secrets/${encodeURIComponent(secret)}/rotate`, { overlap }),
    revokeHmacSecret: (id: string, secret: string, reason?: string) => call<Answer<typeof revokedKeySchema>>('POST', `/partners/${encodeURIComponent(id)}/hmac-secrets/${encodeURIComponent(secret)}/revoke`, reason ? { reason } : {}),
    partnerStats: (id: string, window = '1h') => call<PartnerStats>('GET', `/partners/${encodeURIComponent(id)}/stats?window=${window}`),
    createPartner: (body: PartnerFields & { id: string }) => call<Answer<typeof partnerViewSchema>>('POST', '/partners', body),
    updatePartner: (id: string, body: PartnerFields) => call<Answer<typeof partnerViewSchema>>('PUT', `/partners/${encodeURIComponent(id)}`, body),
    putProduct: (id: string, body: ProductFields) => call<Answer<typeof productSchema>>('PUT', `/products/${encodeURIComponent(id)}`, body),
    putPlan: (id: string, body: PlanFields) => call<Answer<typeof planSchema>>('PUT', `/plans/${encodeURIComponent(id)}`, body),
    putCatalog: (catalog: ErrorCatalog) => call<{ hash: string }>('PUT', '/errors', catalog),
    /** The organisation rules (every role); replacing them is the admin's, answering the active workflows they leave breaking them. */
    rules: () => call<Answer<typeof rulesViewSchema>>('GET', '/rules'),
    putRules: (set: unknown) => call<Answer<typeof rulesChangedSchema>>('PUT', '/rules', set),
    ruleViolations: () => call<Answer<typeof ruleViolationsSchema>>('GET', '/rules/violations'),
    evaluate: (body: { expression: string } & EvaluationSample) => call<{ defined: boolean; value?: unknown; ms: number }>('POST', '/expressions/evaluate', body),
    archive: (id: string, reason?: string) => call<WorkflowRecordView>('POST', `${wf(id)}/archive`, reason ? { reason } : {}),
    restore: (id: string) => call<Answer<typeof restoredSchema>>('POST', `${wf(id)}/restore`, {}),
    deleteWorkflow: (id: string) => call<{ deleted: string }>('DELETE', wf(id), {}),
    fragments: () => call<Answer<typeof fragmentListSchema>>('GET', '/fragments'),
    fragment: (id: string) => call<Answer<typeof fragmentViewSchema>>('GET', frag(id)),
    createFragment: (document: unknown) => call<Answer<typeof fragmentRecordSchema>>('POST', '/fragments', { document }),
    saveFragmentDraft: (id: string, document: unknown, baseRevision: number) => call<Answer<typeof fragmentDraftSavedSchema>>('PUT', `${frag(id)}/draft`, { document, baseRevision }),
    validateFragment: (id: string, document?: unknown) => call<Answer<typeof validatedSchema>>('POST', `${frag(id)}/validate`, document === undefined ? {} : { document }),
    publishFragment: (id: string, note?: string) => call<Answer<typeof fragmentPublishedSchema>>('POST', `${frag(id)}/publish`, note ? { note } : {}),
    rollbackFragment: (id: string, version: number) => call<Answer<typeof fragmentPublishedSchema>>('POST', `${frag(id)}/rollback`, { version }),
    /** Evidence records of a filter, newest first (auditor, admin); `query` as the endpoint takes it. */
    evidence: (query: string) => call<Answer<typeof evidencePageSchema>>('GET', `/evidence?${query}`),
    /** Requests counted by bucket and dimensions (every role). */
    evidenceAggregate: (query: string) => call<Answer<typeof evidenceAggregateSchema>>('GET', `/evidence/aggregate?${query}`),
    /** One trace's records, the version that served them and the audit entries around them (auditor, admin). */
    evidenceTrace: (traceId: string) => call<Answer<typeof evidenceTraceSchema>>('GET', `/evidence/traces/${encodeURIComponent(traceId)}`),
    /** The records of a filter as NDJSON or CSV (auditor, admin). */
    evidenceExport: (query: string) => download(`/evidence/export?${query}`),
    fragmentVersion: (id: string, n: number) => call<Answer<typeof fragmentVersionSchema>>('GET', `${frag(id)}/versions/${n}`),
  };
}

export type Api = ReturnType<typeof createApi>;

/** A partner's requests over a window, as GET /partners/:id/stats answers. */
export type PartnerStats = Answer<typeof partnerStatsSchema>;

/** One evidence record: a request as the evidence store keeps it. */
export type EvidenceRecord = Answer<typeof evidencePageSchema>['records'][number];
/** GET /evidence/traces/:traceId as the editor reads it. */
export type EvidenceTrace = Answer<typeof evidenceTraceSchema>;

/** A sentence for a failed call, for a toast or an alert. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const count = error.problem.problems?.length ?? 0;
    return `${error.problem.title ?? `HTTP ${error.status}`}: ${error.message}${count > 0 ? ` (${count} problem${count === 1 ? '' : 's'} listed below)` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
