import { validateWorkflow, type ValidationProblem } from '../../shared/compile/index.ts';
import { errorCatalogSchema, idSchema, type ErrorCatalog } from '../../shared/schema/index.ts';
import { documentHash, type AuditAction } from '../store/audit.ts';
import type { Store, StoreState, WorkflowRecord } from '../store/types.ts';
import { AdminError } from './errors.ts';

/** Who is acting: the token's name and role, as the audit log records them. */
export interface Actor {
  name: string;
  role: string;
}

export interface LifecycleOptions {
  store: Store;
  /** Publishing is refused when the publisher last edited the draft (SLUICE_FOUR_EYES). */
  fourEyes: boolean;
  /** Prepares a document as the gateway would (env vars, key files), naming what fails. */
  prepare(document: unknown): Promise<ValidationProblem[]>;
  now?: () => Date;
}

const activeRoutes = async (store: Store, state: StoreState, except: string) => {
  const routes = [];
  for (const record of Object.values(state.workflows)) {
    if (record.id === except || record.active === undefined) continue;
    const version = record.versions.find((v) => v.version === record.active)!;
    const document = (await store.document(version.hash)) as { route: never };
    routes.push({ workflow: record.id, route: document.route });
  }
  return routes;
};

function requireWorkflow(state: StoreState, id: string): WorkflowRecord {
  const record = state.workflows[id];
  if (!record) throw new AdminError('not_found', `no workflow "${id}"`);
  return record;
}

/**
 * The workflow lifecycle: draft -> numbered immutable versions -> one active version, with
 * rollback, deprecation and retirement. Every change and every refusal is one audit entry
 * written together with the change.
 */
export function createLifecycle(options: LifecycleOptions) {
  const { store } = options;
  const now = () => (options.now?.() ?? new Date()).toISOString();

  async function catalogOf(state: StoreState): Promise<ErrorCatalog | undefined> {
    return state.catalog === undefined ? undefined : errorCatalogSchema.parse(await store.document(state.catalog));
  }

  /** Records a refused attempt (no change) and throws the refusal; `attempted` names what was tried. */
  async function refuse(actor: Actor, attempted: AuditAction | string, error: AdminError, workflow?: string, version?: number): Promise<never> {
    await store.transact(() => ({
      entry: { time: now(), actor: actor.name, role: actor.role, action: 'refused', workflow, version, detail: `${attempted}: ${error.message}` },
      result: undefined,
    }));
    throw error;
  }

  /** Validates a document as a candidate to serve: graph, catalog, routes of the other active workflows, and preparation. */
  async function check(state: StoreState, id: string, document: unknown): Promise<ValidationProblem[]> {
    const catalog = await catalogOf(state);
    const result = validateWorkflow(document, { ...(catalog ? { catalog } : {}), otherRoutes: await activeRoutes(store, state, id) });
    if (!result.ok) return result.problems;
    if ((document as { id: string }).id !== id) return [{ code: 'invalid_document', message: `the document's id must be "${id}"`, field: 'id' }];
    return options.prepare(document);
  }

  async function publish(actor: Actor, id: string, fourEyes: boolean) {
    const before = await store.state();
    const record = requireWorkflow(before, id);
    if (!record.draft) throw new AdminError('conflict', `workflow "${id}" has no draft to publish`);
    if (fourEyes && record.draft.updatedBy === actor.name)
      return refuse(actor, 'workflow.publish', new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must publish it`), id);
    const draftHash = record.draft.hash;
    const document = await store.document(draftHash);
    const problems = await check(before, id, document);
    if (problems.length > 0) return refuse(actor, 'workflow.publish', new AdminError('validation_failed', `the draft of "${id}" has ${problems.length} problem(s)`, { problems }), id);
    const { result } = await store.transact((state) => {
      const current = requireWorkflow(state, id);
      if (current.draft?.hash !== draftHash) throw new AdminError('conflict', 'the draft changed while it was being published; publish again');
      const activeVersion = current.versions.find((v) => v.version === current.active);
      if (activeVersion?.hash === draftHash && !activeVersion.retired) return { entry: { time: now(), actor: actor.name, role: actor.role, action: 'workflow.publish', workflow: id, version: activeVersion.version, documentHash: draftHash, detail: 'unchanged: the draft is the active version' }, result: { version: activeVersion.version, unchanged: true } };
      const version = Math.max(0, ...current.versions.map((v) => v.version)) + 1;
      const time = now();
      const next: WorkflowRecord = { ...current, versions: [...current.versions, { version, hash: draftHash, publishedAt: time, publishedBy: actor.name }], active: version };
      return {
        state: { ...state, workflows: { ...state.workflows, [id]: next } },
        entry: { time, actor: actor.name, role: actor.role, action: 'workflow.publish', workflow: id, version, documentHash: draftHash },
        result: { version, unchanged: false },
      };
    });
    return result;
  }

  const api = {
    check,

    async create(actor: Actor, document: unknown) {
      const id = (document as { id?: unknown } | null)?.id;
      if (!idSchema.safeParse(id).success) throw new AdminError('validation_failed', 'the document needs a valid "id"', { problems: [{ code: 'invalid_document', message: 'a-z, 0-9, "-" and "_", 1-64 characters', field: 'id' }] });
      const hash = documentHash(document);
      const { result } = await store.transact((state) => {
        if (state.workflows[id as string]) throw new AdminError('conflict', `workflow "${String(id)}" exists already`);
        const time = now();
        const record: WorkflowRecord = { id: id as string, createdAt: time, createdBy: actor.name, draft: { hash, revision: 1, updatedAt: time, updatedBy: actor.name }, versions: [], active: undefined };
        return {
          state: { ...state, workflows: { ...state.workflows, [record.id]: record } },
          documents: [{ hash, document }],
          entry: { time, actor: actor.name, role: actor.role, action: 'workflow.create', workflow: record.id, documentHash: hash },
          result: record,
        };
      });
      return result;
    },

    async saveDraft(actor: Actor, id: string, document: unknown, baseRevision: number) {
      if ((document as { id?: unknown } | null)?.id !== id) throw new AdminError('validation_failed', `the draft's id must be "${id}"`, { problems: [{ code: 'invalid_document', message: `must be "${id}"`, field: 'id' }] });
      const hash = documentHash(document);
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const current = record.draft?.revision ?? 0;
        if (baseRevision !== current)
          throw new AdminError('conflict', `the draft changed since revision ${baseRevision}: it is at revision ${current}, saved by ${record.draft?.updatedBy ?? 'nobody'}`, { extra: { currentRevision: current, updatedBy: record.draft?.updatedBy, updatedAt: record.draft?.updatedAt } });
        const time = now();
        const draft = { hash, revision: current + 1, updatedAt: time, updatedBy: actor.name };
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, draft } } },
          documents: [{ hash, document }],
          entry: { time, actor: actor.name, role: actor.role, action: 'draft.save', workflow: id, documentHash: hash, detail: `revision ${draft.revision}` },
          result: draft,
        };
      });
      return result;
    },

    publish(actor: Actor, id: string) {
      return publish(actor, id, options.fourEyes);
    },

    /**
     * Makes a document the active version in one step (draft save + publish), as GitOps sources
     * (the workflows directory) do; the four-eyes rule is for people and does not apply.
     */
    async apply(actor: Actor, document: unknown) {
      const id = (document as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !idSchema.safeParse(id).success)
        throw new AdminError('validation_failed', 'the document needs a valid "id"', { problems: [{ code: 'invalid_document', message: 'a-z, 0-9, "-" and "_", 1-64 characters, starting with a letter or digit', field: 'id' }] });
      const record = (await store.state()).workflows[id];
      if (!record) await api.create(actor, document);
      else if (record.draft?.hash !== documentHash(document)) await api.saveDraft(actor, id, document, record.draft?.revision ?? 0);
      return publish(actor, id, false);
    },

    /** Stops serving a workflow (its route answers 404); its versions stay for rollback. */
    async unpublish(actor: Actor, id: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, active: undefined } } },
          entry: { time: now(), actor: actor.name, role: actor.role, action: 'workflow.unpublish', workflow: id, ...(record.active === undefined ? {} : { version: record.active }) },
          result: { previous: record.active },
        };
      });
      return result;
    },

    async rollback(actor: Actor, id: string, version: number) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        if (target.retired) throw new AdminError('conflict', `version ${version} is retired and cannot serve again`);
        const time = now();
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, active: version } } },
          entry: { time, actor: actor.name, role: actor.role, action: 'workflow.rollback', workflow: id, version, documentHash: target.hash, detail: `from version ${record.active ?? 'none'}` },
          result: { active: version, previous: record.active },
        };
      });
      return result;
    },

    async deprecate(actor: Actor, id: string, version: number, sunset: string | undefined) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        const time = now();
        const versions = record.versions.map((v) => (v.version === version ? { ...v, deprecated: { at: time, ...(sunset ? { sunset } : {}) } } : v));
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, versions } } },
          entry: { time, actor: actor.name, role: actor.role, action: 'workflow.deprecate', workflow: id, version, documentHash: target.hash, ...(sunset ? { detail: `sunset ${sunset}` } : {}) },
          result: versions.find((v) => v.version === version)!,
        };
      });
      return result;
    },

    async retire(actor: Actor, id: string, version: number) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        const time = now();
        const versions = record.versions.map((v) => (v.version === version ? { ...v, retired: { at: time } } : v));
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, versions } } },
          entry: { time, actor: actor.name, role: actor.role, action: 'workflow.retire', workflow: id, version, documentHash: target.hash },
          result: versions.find((v) => v.version === version)!,
        };
      });
      return result;
    },

    async putCatalog(actor: Actor, catalog: ErrorCatalog) {
      const hash = documentHash(catalog);
      const state = await store.state();
      const problems: ValidationProblem[] = [];
      for (const record of Object.values(state.workflows)) {
        if (record.active === undefined) continue;
        const document = await store.document(record.versions.find((v) => v.version === record.active)!.hash);
        const result = validateWorkflow(document, { catalog });
        if (!result.ok) for (const p of result.problems.filter((x) => x.code === 'unknown_error')) problems.push({ ...p, message: `workflow "${record.id}": ${p.message}` });
      }
      if (problems.length > 0) return refuse(actor, 'catalog.update', new AdminError('validation_failed', 'active workflows raise errors this catalog lacks', { problems }));
      await store.transact((s) => ({
        state: { ...s, catalog: hash },
        documents: [{ hash, document: catalog }],
        entry: { time: now(), actor: actor.name, role: actor.role, action: 'catalog.update', documentHash: hash },
        result: undefined,
      }));
      return { hash };
    },

    refuse,
  };
  return api;
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
