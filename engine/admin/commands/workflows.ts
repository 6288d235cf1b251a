import { ruleProblemsSliced, runPaced, type ValidationProblem } from '../../../shared/compile/index.ts';
import { GATEWAY_ERRORS, idSchema, type ErrorCatalog, type FragmentResolver, type Route } from '../../../shared/schema/index.ts';
import { createFragmentLibrary } from '../../compile/fragments.ts';
import { createPace, validatePaced } from '../../compile/pace.ts';
import { auditActor, storedDocument, storedDocumentSliced, type AuditAction } from '../../store/audit.ts';
import { createStoredCatalogs } from '../../store/catalogs.ts';
import type { Store, StoreState, Transition, WorkflowRecord } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { createCanaryCommands, withoutCanary } from './canary.ts';
import { requireEnvelope, storedDraft } from './drafts.ts';
import { createFragments } from './fragments.ts';
import type { Actor, LifecycleOptions } from './options.ts';

export type { Actor, LifecycleOptions } from './options.ts';

/**
 * The routes of the active versions other than `except`'s, for the route-clash check. Documents
 * are named by their content, so each one's route is read once (`routes` remembers it): a
 * publish among a thousand workflows reads no file for the other 999.
 */
const activeRoutes = async (store: Store, state: StoreState, except: string, routes: Map<string, Route>) => {
  const active = [];
  for (const record of Object.values(state.workflows)) {
    if (record.id === except || record.active === undefined || record.archived !== undefined) continue; // an archived workflow holds no route
    const version = record.versions.find((v) => v.version === record.active)!;
    let route = routes.get(version.hash);
    if (route === undefined) {
      route = ((await store.document(version.hash)) as { route: Route }).route;
      routes.set(version.hash, route);
    }
    active.push({ workflow: record.id, route });
  }
  return active;
};

/** A workflow by id; own properties only, so "constructor" or "toString" never find Object's members. */
export function workflowOf(state: StoreState, id: string): WorkflowRecord | undefined {
  return Object.hasOwn(state.workflows, id) ? state.workflows[id] : undefined;
}

/** A workflow by id; with `action` (what is tried, in words), refused while the workflow is archived. */
export function requireWorkflow(state: StoreState, id: string, action?: string): WorkflowRecord {
  const record = workflowOf(state, id);
  if (!record) throw new AdminError('not_found', `no workflow "${id}"`);
  if (action !== undefined && record.archived) throw new AdminError('conflict', `workflow "${id}" is archived: restore it first (cannot ${action})`);
  return record;
}

/** A refusal decided inside a transaction: recorded with the state it was decided on, thrown after the commit. */
interface Refusal {
  refused: AdminError;
}
const isRefusal = (result: unknown): result is Refusal => typeof result === 'object' && result !== null && (result as Refusal).refused instanceof AdminError;

/** What a catalog lacks that the gateway answers with itself, whatever the workflows. */
function missingGatewayErrors(catalog: ErrorCatalog): ValidationProblem[] {
  return GATEWAY_ERRORS.filter((id) => !Object.hasOwn(catalog.errors, id)).map((id) => ({
    code: 'unknown_error' as const,
    message: `the gateway itself answers with "${id}", so the catalog must define it`,
    field: `errors.${id}`,
  }));
}

/**
 * The workflow lifecycle: draft -> numbered immutable versions -> one active version, with
 * rollback, deprecation and retirement. Every change and every refusal is one audit entry
 * written together with the change.
 */
export function createLifecycle(options: LifecycleOptions) {
  const { store } = options;
  const now = () => (options.now?.() ?? new Date()).toISOString();
  /** Validation in slices with requests served between them, under the document limits. */
  const validate = (document: unknown, rest: { catalog?: ErrorCatalog; otherRoutes?: Array<{ workflow: string; route: Route }>; allowStoredCredentials?: boolean; fragments: FragmentResolver }) =>
    validatePaced(document, { ...rest, ...(options.limits ? { limits: options.limits } : {}) }, options.sliceMs);
  /** Route of each version document read so far, by content hash. */
  const routeByHash = new Map<string, Route>();
  const catalogs = options.catalogs ?? createStoredCatalogs(store);
  const fragments = options.fragments ?? createFragmentLibrary(store);

  /** The stored catalog of a state; undefined before one is stored. */
  async function catalogOf(state: StoreState): Promise<ErrorCatalog | undefined> {
    return state.catalog === undefined ? undefined : catalogs.read(state.catalog);
  }

  /** The transition of a refused attempt: no change, one audit entry; `attempted` names what was tried. */
  function refusal(actor: Actor, attempted: AuditAction | string, error: AdminError, workflow?: string, version?: number): Transition<Refusal> {
    return { entry: { time: now(), ...auditActor(actor), action: 'refused', workflow, version, detail: `${attempted}: ${error.message}` }, result: { refused: error } };
  }

  /** Records a refused attempt (no change) and throws the refusal. */
  async function refuse(actor: Actor, attempted: AuditAction | string, error: AdminError, workflow?: string, version?: number): Promise<never> {
    await store.transact(() => refusal(actor, attempted, error, workflow, version));
    throw error;
  }

  const draftOf = (document: unknown) => storedDraft(document, options.limits, options.sliceMs);

  /**
   * Runs a change whose checks read the state it commits on (validation, routes, catalog, four
   * eyes), so two changes cannot both pass checks the other would fail; a refusal decided in the
   * body is audited, then thrown.
   */
  async function change<T>(body: (state: StoreState) => Promise<Transition<T | Refusal>> | Transition<T | Refusal>): Promise<T> {
    const { result } = await store.transact(body);
    if (isRefusal(result)) throw result.refused;
    return result;
  }

  /**
   * Validates a document as a candidate to serve: graph (its subflows inlined from `state`'s
   * fragments, or `resolver`'s), catalog, routes of the other active workflows, the organisation
   * rules of `state`, and preparation (a published version's stored credentials pass: it is rolled
   * back to as it was).
   */
  async function check(state: StoreState, id: string, document: unknown, published = false, resolver?: FragmentResolver): Promise<ValidationProblem[]> {
    const catalog = await catalogOf(state);
    const result = await validate(document, { ...(catalog ? { catalog } : {}), otherRoutes: await activeRoutes(store, state, id, routeByHash), allowStoredCredentials: published, fragments: resolver ?? (await fragments.resolver(state)) });
    const problems = result.ok ? [] : [...result.problems];
    if (result.ok && (document as { id: string }).id !== id) problems.push({ code: 'invalid_document', message: `the document's id must be "${id}"`, field: 'id' });
    if (result.ok && state.rules) problems.push(...(await runPaced(ruleProblemsSliced(result.graph, state.rules.rules), createPace(options.sliceMs))));
    // A document over a size limit is not prepared: that is the work the limit bounds.
    if (problems.some((p) => p.code === 'too_large')) return problems;
    // the nodes served, with the fragments' inlined
    problems.push(...(await options.prepare(result.ok ? result.graph.document : document)));
    return problems;
  }

  /**
   * Runs the draft's workflow tests before its publication (outside the store's transaction: a
   * test may call a real upstream); a failure is refused and audited, naming each failing test
   * with what it expected and what it got. Answers the hash of the draft that passed.
   */
  async function testDraft(actor: Actor, id: string): Promise<string | undefined> {
    if (!options.runTests) return undefined;
    const draft = workflowOf(await store.state(), id)?.draft;
    if (!draft) return undefined;
    const verdicts = await options.runTests(await store.document(draft.hash), await fragments.current());
    const failed = verdicts.filter((v) => !v.passed);
    if (failed.length > 0) {
      const problems: ValidationProblem[] = verdicts.flatMap((v, i) =>
        v.passed ? [] : v.failures.map((f) => ({ code: 'test_failed' as const, message: `test "${v.name}": ${f.what} expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`, field: `tests.${i}` })),
      );
      await refuse(actor, 'workflow.publish', new AdminError('validation_failed', `${failed.length} of ${verdicts.length} workflow test(s) failed: ${failed.map((v) => v.name).join(', ')}`, { problems, extra: { tests: verdicts.map(({ name, passed, failures }) => ({ name, passed, failures })) } }), id);
    }
    return draft.hash;
  }

  function publish(actor: Actor, id: string, fourEyes: boolean, testedHash?: string, note?: string) {
    return change<{ version: number; unchanged: boolean }>(async (state) => {
      const current = requireWorkflow(state, id, 'publish');
      if (!current.draft) throw new AdminError('conflict', `workflow "${id}" has no draft to publish`);
      if (current.canary !== undefined) throw new AdminError('conflict', `version ${current.canary.version} of "${id}" runs as a canary: promote or abort it before publishing`);
      if (testedHash !== undefined && current.draft.hash !== testedHash) throw new AdminError('conflict', `the draft of "${id}" changed while its tests ran: publish again`);
      if (fourEyes && current.draft.updatedBy === actor.name)
        return refusal(actor, 'workflow.publish', new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must publish it`), id);
      const draftHash = current.draft.hash;
      const problems = await check(state, id, await store.document(draftHash));
      if (problems.length > 0) return refusal(actor, 'workflow.publish', new AdminError('validation_failed', `the draft of "${id}" has ${problems.length} problem(s)`, { problems }), id);
      const activeVersion = current.versions.find((v) => v.version === current.active);
      if (activeVersion?.hash === draftHash && !activeVersion.retired) return { entry: { time: now(), ...auditActor(actor), action: 'workflow.publish', workflow: id, version: activeVersion.version, documentHash: draftHash, detail: 'unchanged: the draft is the active version' }, result: { version: activeVersion.version, unchanged: true } };
      const version = Math.max(0, ...current.versions.map((v) => v.version)) + 1;
      const time = now();
      const said = note?.trim() ? { note: note.trim() } : {};
      const next: WorkflowRecord = { ...current, versions: [...current.versions, { version, hash: draftHash, publishedAt: time, publishedBy: actor.name, ...said }], active: version };
      return {
        state: { ...state, workflows: { ...state.workflows, [id]: next } },
        entry: { time, ...auditActor(actor), action: 'workflow.publish', workflow: id, version, documentHash: draftHash, ...(said.note ? { detail: `note: ${said.note}` } : {}) },
        result: { version, unchanged: false },
      };
    });
  }

  const api = {
    check,
    catalogOf,
    /** The published fragments, as validation inlines them. */
    fragmentLibrary: fragments,

    async create(actor: Actor, document: unknown) {
      const id = requireEnvelope(document);
      const stored = await draftOf(document);
      const { hash } = stored;
      const { result } = await store.transact((state) => {
        if (workflowOf(state, id)) throw new AdminError('conflict', `workflow "${String(id)}" exists already`);
        const time = now();
        const record: WorkflowRecord = { id, createdAt: time, createdBy: actor.name, draft: { hash, revision: 1, updatedAt: time, updatedBy: actor.name }, versions: [], active: undefined };
        return {
          state: { ...state, workflows: { ...state.workflows, [record.id]: record } },
          documents: [stored],
          entry: { time, ...auditActor(actor), action: 'workflow.create', workflow: record.id, documentHash: hash },
          result: record,
        };
      });
      return result;
    },

    async saveDraft(actor: Actor, id: string, document: unknown, baseRevision: number) {
      if ((document as { id?: unknown } | null)?.id !== id) throw new AdminError('validation_failed', `the draft's id must be "${id}"`, { problems: [{ code: 'invalid_document', message: `must be "${id}"`, field: 'id' }] });
      const stored = await draftOf(document);
      const { hash } = stored;
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id, 'save its draft');
        const current = record.draft?.revision ?? 0;
        if (baseRevision !== current)
          throw new AdminError('conflict', `the draft changed since revision ${baseRevision}: it is at revision ${current}, saved by ${record.draft?.updatedBy ?? 'nobody'}`, { extra: { currentRevision: current, updatedBy: record.draft?.updatedBy, updatedAt: record.draft?.updatedAt } });
        const time = now();
        const draft = { hash, revision: current + 1, updatedAt: time, updatedBy: actor.name };
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, draft } } },
          documents: [stored],
          entry: { time, ...auditActor(actor), action: 'draft.save', workflow: id, documentHash: hash, detail: `revision ${draft.revision}` },
          result: draft,
        };
      });
      return result;
    },

    async publish(actor: Actor, id: string, note?: string) {
      return publish(actor, id, options.fourEyes, await testDraft(actor, id), note);
    },

    /**
     * Makes a document the active version in one step (draft save + publish), as GitOps sources
     * (the workflows directory) do; the four-eyes rule is for people and does not apply.
     */
    async apply(actor: Actor, document: unknown) {
      const id = (document as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !idSchema.safeParse(id).success)
        throw new AdminError('validation_failed', 'the document needs a valid "id"', { problems: [{ code: 'invalid_document', message: 'a-z, 0-9, "-" and "_", 1-64 characters, starting with a letter or digit', field: 'id' }] });
      // Replicas reading the same directory apply the same file at once: losing that race (the
      // workflow was just created, the draft just saved) means reading again, not a refusal.
      const { hash } = await runPaced(storedDocumentSliced(document), createPace(options.sliceMs));
      for (let attempt = 1; ; attempt++) {
        const record = workflowOf(await store.state(), id);
        try {
          if (!record) await api.create(actor, document);
          else if (record.draft?.hash !== hash) await api.saveDraft(actor, id, document, record.draft?.revision ?? 0);
          break;
        } catch (error) {
          if (!(error instanceof AdminError && error.code === 'conflict') || attempt >= 5) throw error;
        }
      }
      return publish(actor, id, false, await testDraft(actor, id));
    },

    /** Stops serving a workflow (its route answers 404); its versions stay for rollback. */
    async unpublish(actor: Actor, id: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...withoutCanary(record), active: undefined } } },
          entry: { time: now(), ...auditActor(actor), action: 'workflow.unpublish', workflow: id, ...(record.active === undefined ? {} : { version: record.active }) },
          result: { previous: record.active },
        };
      });
      return result;
    },

    /** Makes an earlier version active again, checked as a publish is: routes and catalog may have moved on since. */
    rollback(actor: Actor, id: string, version: number) {
      return change<{ active: number; previous: number | undefined }>(async (state) => {
        const record = requireWorkflow(state, id, 'roll back');
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        if (target.retired) throw new AdminError('conflict', `version ${version} is retired and cannot serve again`);
        const problems = await check(state, id, await store.document(target.hash), true);
        if (problems.length > 0)
          return refusal(actor, 'workflow.rollback', new AdminError('validation_failed', `version ${version} of "${id}" cannot serve now: ${problems.length} problem(s)`, { problems }), id, version);
        const time = now();
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...withoutCanary(record), active: version } } },
          entry: { time, ...auditActor(actor), action: 'workflow.rollback', workflow: id, version, documentHash: target.hash, detail: `from version ${record.active ?? 'none'}${record.canary ? `; the canary of version ${record.canary.version} ends` : ''}` },
          result: { active: version, previous: record.active },
        };
      });
    },

    async deprecate(actor: Actor, id: string, version: number, sunset: string | undefined) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id, 'deprecate a version');
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        const time = now();
        const versions = record.versions.map((v) => (v.version === version ? { ...v, deprecated: { at: time, ...(sunset ? { sunset } : {}) } } : v));
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, versions } } },
          entry: { time, ...auditActor(actor), action: 'workflow.deprecate', workflow: id, version, documentHash: target.hash, ...(sunset ? { detail: `sunset ${sunset}` } : {}) },
          result: versions.find((v) => v.version === version)!,
        };
      });
      return result;
    },

    async retire(actor: Actor, id: string, version: number) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id, 'retire a version');
        const target = record.versions.find((v) => v.version === version);
        if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${version}`);
        const time = now();
        const versions = record.versions.map((v) => (v.version === version ? { ...v, retired: { at: time } } : v));
        return {
          state: { ...state, workflows: { ...state.workflows, [id]: { ...record, versions } } },
          entry: { time, ...auditActor(actor), action: 'workflow.retire', workflow: id, version, documentHash: target.hash },
          result: versions.find((v) => v.version === version)!,
        };
      });
      return result;
    },

    /** Replaces the error catalog; refused while it lacks an error the gateway or an active workflow answers with. */
    putCatalog(actor: Actor, catalog: ErrorCatalog) {
      const stored = storedDocument(catalog);
      const { hash } = stored;
      return change<{ hash: string }>(async (state) => {
        const problems = missingGatewayErrors(catalog);
        const resolver = await fragments.resolver(state);
        for (const record of Object.values(state.workflows)) {
          if (record.active === undefined) continue;
          const document = await store.document(record.versions.find((v) => v.version === record.active)!.hash);
          const result = await validate(document, { catalog, fragments: resolver });
          if (!result.ok) for (const p of result.problems.filter((x) => x.code === 'unknown_error')) problems.push({ ...p, message: `workflow "${record.id}": ${p.message}` });
        }
        if (problems.length > 0) return refusal(actor, 'catalog.update', new AdminError('validation_failed', `the catalog lacks errors the gateway or an active workflow answers with: ${problems.map((p) => p.message).join('; ')}`, { problems }));
        return {
          state: { ...state, catalog: hash },
          documents: [stored],
          entry: { time: now(), ...auditActor(actor), action: 'catalog.update', documentHash: hash },
          result: { hash },
        };
      });
    },

    refuse,

    /** Canaries: a candidate version beside the active one (engine/admin/commands/canary.ts). */
    canary: createCanaryCommands({ store, now, fourEyes: options.fourEyes, requireWorkflow, check, testDraft, change, refusal }),
  };
  return { ...api, fragments: createFragments(options, api) };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
