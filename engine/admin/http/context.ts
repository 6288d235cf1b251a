import type { Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Identity, LiveView, PartnerStats, Replica, Serving, UpstreamNodeStatus, WorkflowStats } from '../../../shared/admin/index.ts';
import type { ValidateOptions } from '../../../shared/compile/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, workflowDocumentSchema, type DocumentLimits, type WorkflowDocument } from '../../../shared/schema/index.ts';
import { validatePaced } from '../../compile/pace.ts';
import type { ProblemRenderer } from '../../gateway/problem.ts';
import type { SimulationContext } from '../../preview/simulate.ts';
import type { Store } from '../../store/types.ts';
import type { EvidenceStore } from '../../evidence/types.ts';
import type { CanaryWatch } from '../../canary/watch.ts';
import type { Partners } from '../commands/partners.ts';
import { workflowOf, type Lifecycle } from '../commands/workflows.ts';
import { AdminError } from '../errors.ts';
import { inputProblems } from './problems.ts';

export interface AdminApiOptions {
  store: Store;
  lifecycle: Lifecycle;
  /** The identity of a bearer token; `client` is the caller's address, for cutting off token guessing. */
  authenticate(authorization: string | undefined, client?: string): Promise<Identity>;
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
  /** This process's request counters; absent when metrics are off (the stats endpoints answer 404 then). */
  observe?: {
    stats(id: string, windowMs: number): WorkflowStats;
    /** Undefined when the workflow is not being served. */
    live(id: string, partner: string | undefined): LiveView | undefined;
    /** One partner's requests by workflow and outcome. */
    partner(id: string, windowMs: number): PartnerStats;
  };
  /** What this process serves: the revision it applied and the version of each workflow. */
  status(): { appliedRevision: number; serving: Serving[]; replica?: string | undefined; rateLimits?: unknown; upstreams?: UpstreamNodeStatus[] };
  /** Preview: simulation with the gateway's own compile dependencies and catalog, and the demo token helper. */
  preview?: {
    context(): SimulationContext;
    /** Signs a token for the demo issuer (only with SLUICE_DEMO). */
    demoToken?(options: { sub: string; scopes?: string[]; partner?: string; claims?: Record<string, unknown>; expiresIn?: string }): Promise<string>;
  };
  /** The live replicas sharing the store, each with the revision it applied, given the store's revision. */
  cluster?(revision: number): Promise<Replica[]>;
  /** Size bounds of workflow documents (SLUICE_MAX_*): the JSON body parser refuses larger and deeper bodies before parsing them. */
  limits?: DocumentLimits;
  /** The longest one slice of validation runs before requests get their turn. */
  sliceMs?: number;
  /** Where internal errors of admin calls are logged. */
  logger?: Logger;
  /** The evidence store queries read; absent when evidence is off (those endpoints answer 404). */
  evidence?: EvidenceStore | undefined;
  /** The canaries' counts (engine/canary/watch.ts); absent: none are counted (zeros). */
  canaries?: CanaryWatch | undefined;
  /** Differential replay's recorded samples of a workflow, newest first (JSON); absent when recording is off (a compare replays the tests only). */
  replay?: { samples(workflow: string): Promise<string[]> } | undefined;
}

/** A stored workflow's draft, active version or a version number. */
export type Which = 'draft' | 'active' | number;

/** The path of an endpoint about one workflow. */
export const workflowParams = z.object({ id: z.string() });
/** A version to read: the draft, the active version or a number. */
export const versionRef = z.union([z.literal('draft'), z.literal('active'), z.coerce.number().int().min(1)]);

/** A version as a sentence names it: "version 3", "draft", "active". */
const versionName = (which: Which) => (typeof which === 'number' ? `version ${which}` : which);

/** What the resource groups share: the options, and reading workflows and their documents from the store. */
export function adminContext(options: AdminApiOptions) {
  const { store } = options;
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS;

  async function record(id: string) {
    const state = await store.state();
    const workflow = workflowOf(state, id);
    if (!workflow) throw new AdminError('not_found', `no workflow "${id}"`);
    return { state, workflow };
  }

  /** A stored document as it was saved (a draft may be half drawn). */
  async function versionDocument(id: string, which: Which): Promise<unknown> {
    const { workflow } = await record(id);
    let hash: string | undefined;
    if (which === 'draft') hash = workflow.draft?.hash;
    else {
      const n = which === 'active' ? workflow.active : which;
      hash = workflow.versions.find((v) => v.version === n)?.hash;
    }
    if (!hash) throw new AdminError('not_found', `workflow "${id}" has no ${versionName(which)}`);
    return store.document(hash);
  }

  return {
    options,
    store,
    limits,
    record,
    versionDocument,
    /** Validation in slices, with the published fragments inlined unless `rest` names others. */
    validate: async (document: unknown, rest: ValidateOptions = {}) => validatePaced(document, { fragments: await options.lifecycle.fragmentLibrary.current(), ...rest, limits }, options.sliceMs),
    /** A stored document as a workflow; a draft may be half drawn, which is a 422 naming its problems, not a 500. */
    async workflowDocument(id: string, which: Which): Promise<WorkflowDocument> {
      const parsed = workflowDocumentSchema.safeParse(await versionDocument(id, which));
      if (!parsed.success) throw new AdminError('validation_failed', `the ${versionName(which)} of "${id}" is not a valid workflow document`, { problems: inputProblems(parsed.error, '(document)') });
      return parsed.data;
    },
    /** The error catalog in use: the stored one, or the one this process started with. */
    async catalog() {
      const state = await store.state();
      return (await options.lifecycle.catalogOf(state)) ?? options.problems().catalog;
    },
    versionName,
  };
}

export type AdminContext = ReturnType<typeof adminContext>;
