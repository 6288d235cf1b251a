import { approvalVoidedBy, needsApproval, type PendingApproval } from '../../../shared/admin/approvals.ts';
import { diffContracts, errorContractSliced, routeShape, ruleProblemsSliced, runPaced, type ValidationProblem } from '../../../shared/compile/index.ts';
import { GATEWAY_ERRORS, idSchema, type ErrorCatalog, type FragmentResolver, type Route } from '../../../shared/schema/index.ts';
import { createFragmentLibrary } from '../../compile/fragments.ts';
import { createPace, validatePaced } from '../../compile/pace.ts';
import { auditActor, storedDocument, type AuditAction, type StoredDocument } from '../../store/audit.ts';
import { createStoredCatalogs } from '../../store/catalogs.ts';
import { RecordMap } from '../../store/record-map.ts';
import type { Store, StoreState, Transition, VersionRecord, WorkflowRecord } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { createCanaryCommands, withoutCanary } from './canary.ts';
import { requireEnvelope, storedDraft } from './drafts.ts';
import { createFragments } from './fragments.ts';
import type { Actor, LifecycleOptions } from './options.ts';

export type { Actor, LifecycleOptions } from './options.ts';

/**
 * The routes of the active versions, by route shape, for the route-clash check: a document can
 * clash only with routes of its own shape (clashingMethods), so a publish among 10,000 workflows
 * checks the few of its shape. Kept in step with the state it is asked about: from one state to
 * the next only the records that changed are read again, and each version's route is read once
 * (documents are named by their content).
 */
function createRouteIndex(store: Store) {
  let seen = RecordMap.empty<WorkflowRecord>();
  const routes = new Map<string, { route: Route; shape: string }>();
  const byShape = new Map<string, Set<string>>();
  const routeByHash = new Map<string, Route>();
  /** One question at a time: each moves the index to its own state, then reads it. */
  let queue: Promise<unknown> = Promise.resolve();

  function forget(id: string) {
    const known = routes.get(id);
    if (known === undefined) return;
    routes.delete(id);
    const ids = byShape.get(known.shape)!;
    ids.delete(id);
    if (ids.size === 0) byShape.delete(known.shape);
  }

  async function moveTo(workflows: RecordMap<WorkflowRecord>) {
    const { set, dropped } = RecordMap.changes(seen, workflows);
    for (const id of dropped) forget(id);
    for (const [id, record] of set) {
      forget(id);
      if (record.active === undefined || record.archived !== undefined) continue; // an archived workflow holds no route
      const version = record.versions.find((v) => v.version === record.active)!;
      let route = routeByHash.get(version.hash);
      if (route === undefined) {
        route = ((await store.document(version.hash)) as { route: Route }).route;
        routeByHash.set(version.hash, route);
      }
      const shape = routeShape(route.path);
      routes.set(id, { route, shape });
      byShape.set(shape, (byShape.get(shape) ?? new Set()).add(id));
    }
    seen = workflows;
  }

  return {
    /** The active routes of `state` other than `except`'s that a route at `path` could clash with. */
    others(state: StoreState, except: string, path: unknown): Promise<Array<{ workflow: string; route: Route }>> {
      const run = queue.then(async () => {
        await moveTo(state.workflows);
        if (typeof path !== 'string') return [];
        return [...(byShape.get(routeShape(path)) ?? [])].filter((id) => id !== except).map((id) => ({ workflow: id, route: routes.get(id)!.route }));
      });
      // a failed read (the store down) leaves the index half moved: the next question builds it again
      queue = run.catch(() => {
        seen = RecordMap.empty<WorkflowRecord>();
        routes.clear();
        byShape.clear();
      });
      return run;
    },
  };
}

/** A workflow by id ("constructor" or "toString" find nothing: the map has no prototype members). */
export function workflowOf(state: StoreState, id: string): WorkflowRecord | undefined {
  return state.workflows.get(id);
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
  const routeIndex = createRouteIndex(store);
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
   * back to as it was). `hash`: the document's, when it is a stored version or draft about to
   * serve: a graph that passes is kept for the registry (options.validated).
   */
  async function check(state: StoreState, id: string, document: unknown, published = false, resolver?: FragmentResolver, hash?: string): Promise<ValidationProblem[]> {
    const catalog = await catalogOf(state);
    const result = await validate(document, { ...(catalog ? { catalog } : {}), otherRoutes: await routeIndex.others(state, id, (document as { route?: { path?: unknown } } | null)?.route?.path), allowStoredCredentials: published, fragments: resolver ?? (await fragments.resolver(state)) });
    const problems = result.ok ? [] : [...result.problems];
    if (result.ok && (document as { id: string }).id !== id) problems.push({ code: 'invalid_document', message: `the document's id must be "${id}"`, field: 'id' });
    if (result.ok && state.rules) problems.push(...(await runPaced(ruleProblemsSliced(result.graph, state.rules.rules), createPace(options.sliceMs))));
    // A document over a size limit is not prepared: that is the work the limit bounds.
    if (problems.some((p) => p.code === 'too_large')) return problems;
    // the nodes served, with the fragments' inlined
    problems.push(...(await options.prepare(result.ok ? result.graph.document : document)));
    if (result.ok && problems.length === 0 && hash !== undefined) options.validated?.keep(hash, state.catalog, result.graph);
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

  /**
   * The error contract of a document: validated against `catalog` with the published fragments
   * (or `resolver`'s), then derived in slices. The contract endpoints show it and the contract
   * gate compares two of it, so both read the same answers. `published`: a version's stored
   * credentials pass, as a rollback checks it.
   */
  async function contract(document: unknown, catalog: ErrorCatalog, rest: { resolver?: FragmentResolver; published?: boolean; deprecated?: { sunset?: string | undefined } } = {}) {
    const result = await validate(document, { catalog, fragments: rest.resolver ?? (await fragments.current()), ...(rest.published ? { allowStoredCredentials: true } : {}) });
    if (!result.ok) return result;
    return { ok: true as const, contract: await runPaced(errorContractSliced(result.graph, catalog, rest.deprecated ? { deprecated: rest.deprecated } : {}), createPace(options.sliceMs)) };
  }

  /**
   * The contract gate: the diff from the active version's error contract to the draft's (one
   * catalog and the fragments of `state` for both) when it removes or changes an answer (status or
   * problem type); undefined when it only adds answers or changes none. An active version whose
   * contract cannot be derived now counts as a change: the gate fails closed.
   */
  async function contractLoss(state: StoreState, active: VersionRecord, draftHash: string) {
    if (options.contractGate === false) return undefined;
    // the server stores a catalog at its first start; a bare store has none yet
    const catalog = (await catalogOf(state)) ?? { errors: {} };
    const resolver = await fragments.resolver(state);
    const before = await contract(await store.document(active.hash), catalog, { resolver, published: true });
    const after = await contract(await store.document(draftHash), catalog, { resolver });
    if (!before.ok || !after.ok) {
      const [which, problems] = before.ok ? ['the draft', after.ok ? [] : after.problems] : [`version ${active.version}`, before.problems];
      return { added: [], removed: [], changed: [], summary: `the contract of ${which} cannot be derived now (${problems.length} problem(s): ${problems.slice(0, 3).map((p) => p.message).join('; ')}), so it cannot be compared` };
    }
    const diff = diffContracts(before.contract, after.contract);
    return needsApproval(diff) ? diff : undefined;
  }

  /** A workflow record without its pending approval: any publish ends it. */
  function withoutApproval(record: WorkflowRecord): WorkflowRecord {
    const next = { ...record };
    delete next.approval;
    return next;
  }

  /**
   * The draft `draftHash` of `current` as a new active version: the next state and the publish's
   * audit entry (`said` is added to its detail). A pending approval ends with it.
   */
  function activation(state: StoreState, current: WorkflowRecord, actor: Actor, draftHash: string, note: string | undefined, said?: string): Transition<{ version: number; unchanged: false }> {
    const version = Math.max(0, ...current.versions.map((v) => v.version)) + 1;
    const time = now();
    const kept = note?.trim() ? { note: note.trim() } : {};
    const next: WorkflowRecord = { ...withoutApproval(current), versions: [...current.versions, { version, hash: draftHash, publishedAt: time, publishedBy: actor.name, ...kept }], active: version };
    const detail = [said, kept.note === undefined ? undefined : `note: ${kept.note}`].filter((part) => part !== undefined).join('; ');
    return {
      state: { ...state, workflows: state.workflows.with(current.id, next) },
      entry: { time, ...auditActor(actor), action: 'workflow.publish', workflow: current.id, version, documentHash: draftHash, ...(detail ? { detail } : {}) },
      result: { version, unchanged: false },
    };
  }

  /** A publish's outcome: a version (new or the active one), or a request waiting for a second publisher. */
  type PublishOutcome = { version: number; unchanged: boolean; pending?: undefined } | { pending: true; approval: PendingApproval; version?: undefined };

  function publish(actor: Actor, id: string, fourEyes: boolean, testedHash?: string, note?: string) {
    return change<PublishOutcome>(async (state) => {
      const current = requireWorkflow(state, id, 'publish');
      if (!current.draft) throw new AdminError('conflict', `workflow "${id}" has no draft to publish`);
      if (current.canary !== undefined) throw new AdminError('conflict', `version ${current.canary.version} of "${id}" runs as a canary: promote or abort it before publishing`);
      if (testedHash !== undefined && current.draft.hash !== testedHash) throw new AdminError('conflict', `the draft of "${id}" changed while its tests ran: publish again`);
      if (fourEyes && current.draft.updatedBy === actor.name)
        return refusal(actor, 'workflow.publish', new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must publish it`), id);
      const draftHash = current.draft.hash;
      const problems = await check(state, id, await store.document(draftHash), false, undefined, draftHash);
      if (problems.length > 0) return refusal(actor, 'workflow.publish', new AdminError('validation_failed', `the draft of "${id}" has ${problems.length} problem(s)`, { problems }), id);
      const activeVersion = current.versions.find((v) => v.version === current.active);
      if (activeVersion?.hash === draftHash && !activeVersion.retired) return { entry: { time: now(), ...auditActor(actor), action: 'workflow.publish', workflow: id, version: activeVersion.version, documentHash: draftHash, detail: 'unchanged: the draft is the active version' }, result: { version: activeVersion.version, unchanged: true } };
      const loss = activeVersion === undefined ? undefined : await contractLoss(state, activeVersion, draftHash);
      if (loss !== undefined) {
        // Removing or changing an answer partners rely on takes a second publisher: nothing is activated yet.
        const time = now();
        const approval: PendingApproval = { draftHash, requestedBy: actor.name, requestedAt: time, ...(note?.trim() ? { note: note.trim() } : {}), activeVersion: activeVersion!.version, diff: loss };
        const replaced = current.approval ? `; replaces the request of ${current.approval.requestedBy} of ${current.approval.requestedAt}` : '';
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...current, approval }) },
          entry: { time, ...auditActor(actor), action: 'workflow.approval-requested', workflow: id, documentHash: draftHash, detail: `against version ${approval.activeVersion}: ${loss.summary}${replaced}` },
          result: { pending: true, approval },
        };
      }
      return activation(state, current, actor, draftHash, note, current.approval ? `ends the pending approval requested by ${current.approval.requestedBy}` : undefined);
    });
  }

  /** Why `actor` may not approve the pending publish of `record` now; undefined when they may. */
  function approvalRefusal(actor: Actor, record: WorkflowRecord, seenHash: string | undefined): AdminError | undefined {
    const approval = record.approval;
    if (!approval) return new AdminError('not_found', `workflow "${record.id}" has no publish waiting for approval`);
    // the names the audit log records: a person approves nothing they asked for or last edited, by any way in
    if (record.canary !== undefined) return new AdminError('conflict', `version ${record.canary.version} of "${record.id}" runs as a canary: promote or abort it before approving a publish`);
    if (approval.requestedBy === actor.name) return new AdminError('forbidden', `four-eyes rule: ${actor.name} asked for this publish, so another publisher must approve it`);
    if (record.draft?.updatedBy === actor.name) return new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must approve it`);
    if (seenHash !== undefined && seenHash !== approval.draftHash) return new AdminError('conflict', `the publish waiting for approval is of another draft than the one shown (asked by ${approval.requestedBy} at ${approval.requestedAt}): look at it again`);
    const voided = approvalVoidedBy(approval, record);
    return voided === undefined ? undefined : new AdminError('conflict', `the request to publish is void: ${voided}`);
  }

  const api = {
    check,
    catalogOf,
    contract,
    /** The published fragments, as validation inlines them. */
    fragmentLibrary: fragments,

    /** Creates a workflow with `document` as its first draft (`stored`: the draft as made already, by apply). */
    async create(actor: Actor, document: unknown, stored?: StoredDocument) {
      const id = requireEnvelope(document);
      stored ??= await draftOf(document);
      const { hash } = stored;
      const { result } = await store.transact((state) => {
        if (workflowOf(state, id)) throw new AdminError('conflict', `workflow "${String(id)}" exists already`);
        const time = now();
        const record: WorkflowRecord = { id, createdAt: time, createdBy: actor.name, draft: { hash, revision: 1, updatedAt: time, updatedBy: actor.name }, versions: [], active: undefined };
        return {
          state: { ...state, workflows: state.workflows.with(record.id, record) },
          documents: [stored],
          entry: { time, ...auditActor(actor), action: 'workflow.create', workflow: record.id, documentHash: hash },
          result: record,
        };
      });
      return result;
    },

    async saveDraft(actor: Actor, id: string, document: unknown, baseRevision: number, stored?: StoredDocument) {
      if ((document as { id?: unknown } | null)?.id !== id) throw new AdminError('validation_failed', `the draft's id must be "${id}"`, { problems: [{ code: 'invalid_document', message: `must be "${id}"`, field: 'id' }] });
      stored ??= await draftOf(document);
      const { hash } = stored;
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id, 'save its draft');
        const current = record.draft?.revision ?? 0;
        if (baseRevision !== current)
          throw new AdminError('conflict', `the draft changed since revision ${baseRevision}: it is at revision ${current}, saved by ${record.draft?.updatedBy ?? 'nobody'}`, { extra: { currentRevision: current, updatedBy: record.draft?.updatedBy, updatedAt: record.draft?.updatedAt } });
        const time = now();
        const draft = { hash, revision: current + 1, updatedAt: time, updatedBy: actor.name };
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...record, draft }) },
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
     * Approves a publish waiting for a second publisher: the approver is neither who asked nor
     * who last edited the draft, the draft is still the one asked for (`seenHash`, when given,
     * too) and the same version serves; the tests and checks run again (the catalog or other
     * routes may have moved), then exactly that draft becomes the new version. Audited as the
     * publish and as `workflow.approval-approved` naming both people; each refusal is audited.
     */
    async approvePublish(actor: Actor, id: string, seenHash?: string) {
      const attempted = 'workflow.approval-approved';
      const early = approvalRefusal(actor, requireWorkflow(await store.state(), id, 'approve a publish'), seenHash);
      if (early?.code === 'not_found') throw early;
      if (early) await refuse(actor, attempted, early, id);
      const tested = await testDraft(actor, id);
      const published = await change<{ version: number; approval: PendingApproval }>(async (state) => {
        const current = requireWorkflow(state, id, 'approve a publish');
        const refused = approvalRefusal(actor, current, seenHash);
        if (refused?.code === 'not_found') throw refused;
        if (refused) return refusal(actor, attempted, refused, id);
        const approval = current.approval!;
        // the tests ran on the draft as it was then: another one in between (saved and saved back) tested something else
        if (tested !== undefined && tested !== approval.draftHash) return refusal(actor, attempted, new AdminError('conflict', `the draft of "${id}" changed while its tests ran: approve again`), id);
        const problems = await check(state, id, await store.document(approval.draftHash), false, undefined, approval.draftHash);
        if (problems.length > 0) return refusal(actor, attempted, new AdminError('validation_failed', `the draft of "${id}" has ${problems.length} problem(s) now`, { problems }), id);
        const activated = activation(state, current, actor, approval.draftHash, approval.note, `approved by ${actor.name}, asked by ${approval.requestedBy} at ${approval.requestedAt}`);
        return { ...activated, result: { version: activated.result.version, approval } };
      });
      const { version, approval } = published;
      await store.transact(() => ({
        entry: { time: now(), ...auditActor(actor), action: 'workflow.approval-approved', workflow: id, version, documentHash: approval.draftHash, detail: `asked by ${approval.requestedBy}, approved by ${actor.name}: ${approval.diff.summary}` },
        result: undefined,
      }));
      return { version, requestedBy: approval.requestedBy, approvedBy: actor.name };
    },

    /** Refuses a publish waiting for approval, with a reason; nothing is published. Who asked for it withdraws it the same way. */
    async refusePublish(actor: Actor, id: string, reason: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const approval = record.approval;
        if (!approval) throw new AdminError('not_found', `workflow "${id}" has no publish waiting for approval`);
        const withdrawn = approval.requestedBy === actor.name;
        return {
          state: { ...state, workflows: state.workflows.with(id, withoutApproval(record)) },
          entry: { time: now(), ...auditActor(actor), action: 'workflow.approval-refused', workflow: id, documentHash: approval.draftHash, detail: `${withdrawn ? `withdrawn by ${actor.name}` : `refused by ${actor.name}, asked by ${approval.requestedBy}`}: ${reason}` },
          result: { requestedBy: approval.requestedBy, refusedBy: actor.name, reason, withdrawn },
        };
      });
      return result;
    },

    /**
     * Makes a document the active version in one step (draft save + publish), as GitOps sources
     * (the workflows directory) do; the four-eyes rule is for people and does not apply, the
     * contract gate does: a document that removes or changes an answer waits for a publisher's approval.
     */
    async apply(actor: Actor, document: unknown) {
      const id = (document as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !idSchema.safeParse(id).success)
        throw new AdminError('validation_failed', 'the document needs a valid "id"', { problems: [{ code: 'invalid_document', message: 'a-z, 0-9, "-" and "_", 1-64 characters, starting with a letter or digit', field: 'id' }] });
      // Replicas reading the same directory apply the same file at once: losing that race (the
      // workflow was just created, the draft just saved) means reading again, not a refusal.
      const stored = await draftOf(document);
      for (let attempt = 1; ; attempt++) {
        const record = workflowOf(await store.state(), id);
        try {
          if (!record) await api.create(actor, document, stored);
          else if (record.draft?.hash !== stored.hash) await api.saveDraft(actor, id, document, record.draft?.revision ?? 0, stored);
          break;
        } catch (error) {
          if (!(error instanceof AdminError && error.code === 'conflict') || attempt >= 5) throw error;
        }
      }
      // the document's hash too: the version it is, for a source to remember
      return { ...(await publish(actor, id, false, await testDraft(actor, id))), documentHash: stored.hash };
    },

    /** Stops serving a workflow (its route answers 404); its versions stay for rollback. */
    async unpublish(actor: Actor, id: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...withoutCanary(record), active: undefined }) },
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
        const problems = await check(state, id, await store.document(target.hash), true, undefined, target.hash);
        if (problems.length > 0)
          return refusal(actor, 'workflow.rollback', new AdminError('validation_failed', `version ${version} of "${id}" cannot serve now: ${problems.length} problem(s)`, { problems }), id, version);
        const time = now();
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...withoutCanary(record), active: version }) },
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
          state: { ...state, workflows: state.workflows.with(id, { ...record, versions }) },
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
          state: { ...state, workflows: state.workflows.with(id, { ...record, versions }) },
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
        for (const record of state.workflows.values()) {
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
    canary: createCanaryCommands({ store, now, fourEyes: options.fourEyes, requireWorkflow, check, contractLoss, testDraft, change, refusal }),
  };
  return { ...api, fragments: createFragments(options, api) };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
