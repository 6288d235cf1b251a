import { issueProblems, runPaced, validateFragmentSliced, type ValidationProblem } from '../../../shared/compile/index.ts';
import { fragmentDocumentSchema, fragmentEnvelopeSchema, type FragmentDocument, type FragmentResolver } from '../../../shared/schema/index.ts';
import { fragmentOf, type FragmentOverride } from '../../compile/fragments.ts';
import { createPace } from '../../compile/pace.ts';
import { auditActor, storedDocumentSliced } from '../../store/audit.ts';
import type { FragmentRecord, StoreState, Transition } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { storedDraft } from './drafts.ts';
import type { Actor, LifecycleOptions } from './options.ts';
import type { FragmentLibrary } from '../../compile/fragments.ts';

/** Where a workflow uses a fragment: its active version or its draft, following the active fragment version or pinned. */
export interface FragmentUsage {
  workflow: string;
  node: string;
  in: number | 'draft';
  pinned?: number;
}

/** A workflow whose active version follows a fragment's active version: what a publish of the fragment changes. */
interface Dependent {
  workflow: string;
  version: number;
  hash: string;
  document: unknown;
}

function requireEnvelope(document: unknown): string {
  const parsed = fragmentEnvelopeSchema.safeParse(document);
  if (parsed.success) return parsed.data.id;
  const problems: ValidationProblem[] = parsed.error.issues.flatMap((issue) =>
    issueProblems(issue).map(({ path, message }) => ({ code: 'invalid_document' as const, message, field: path.map(String).join('.') || '(document)' })),
  );
  throw new AdminError('validation_failed', `the document cannot become a fragment: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { problems });
}

function requireFragment(state: StoreState, id: string): FragmentRecord {
  const record = fragmentOf(state, id);
  if (!record) throw new AdminError('not_found', `no fragment "${id}"`);
  return record;
}

const withFragment = (state: StoreState, record: FragmentRecord) => ({ ...state, fragments: { ...state.fragments, [record.id]: record } });

/**
 * Shared flows: drafts and versions as a workflow has, and a publish that holds every workflow
 * using the fragment to its checks: each dependent is validated with the new version inlined and
 * its tests are run, and one failure refuses the publish (audited, naming the workflow).
 */
export function createFragments(
  options: Pick<LifecycleOptions, 'store' | 'limits' | 'sliceMs' | 'fourEyes' | 'prepare' | 'runTests' | 'now'>,
  lifecycle: { fragmentLibrary: FragmentLibrary; check(state: StoreState, id: string, document: unknown, published: boolean, resolver: FragmentResolver): Promise<ValidationProblem[]> },
) {
  const { store } = options;
  const now = () => (options.now?.() ?? new Date()).toISOString();
  const library = lifecycle.fragmentLibrary;

  /** Every use of fragment `id` by an active version or a draft of a workflow that is not archived. */
  async function usages(state: StoreState, id: string): Promise<FragmentUsage[]> {
    const found: FragmentUsage[] = [];
    for (const record of state.workflows.values()) {
      if (record.archived) continue;
      const active = record.versions.find((v) => v.version === record.active);
      const sources: Array<[number | 'draft', string]> = [];
      if (active) sources.push([active.version, active.hash]);
      if (record.draft && record.draft.hash !== active?.hash) sources.push(['draft', record.draft.hash]);
      for (const [where, hash] of sources) {
        const { nodes } = (await store.document(hash)) as { nodes?: unknown };
        for (const node of Array.isArray(nodes) ? (nodes as Array<{ id?: unknown; kind?: unknown; config?: { fragment?: unknown; version?: unknown } } | null>) : []) {
          if (node?.kind !== 'subflow' || node.config?.fragment !== id || typeof node.id !== 'string') continue;
          const pinned = node.config.version;
          found.push({ workflow: record.id, node: node.id, in: where, ...(typeof pinned === 'number' ? { pinned } : {}) });
        }
      }
    }
    return found;
  }

  /** The active workflow versions that follow fragment `id`'s active version. */
  async function dependents(state: StoreState, id: string): Promise<Dependent[]> {
    const following = new Set((await usages(state, id)).filter((u) => u.in !== 'draft' && u.pinned === undefined).map((u) => u.workflow));
    const list: Dependent[] = [];
    for (const workflow of following) {
      const record = state.workflows.get(workflow)!;
      const version = record.versions.find((v) => v.version === record.active)!;
      list.push({ workflow, version: version.version, hash: version.hash, document: await store.document(version.hash) });
    }
    return list;
  }

  /** A fragment's own problems: its format, every check a workflow using it gets, and what stops its nodes from running here. */
  async function check(document: unknown): Promise<{ fragment?: FragmentDocument; problems: ValidationProblem[] }> {
    const result = await runPaced(validateFragmentSliced(document, options.limits ? { limits: options.limits } : {}), createPace(options.sliceMs));
    if (!result.ok) return { problems: result.problems };
    const problems = await options.prepare({ id: result.fragment.id, nodes: result.fragment.nodes });
    return problems.length > 0 ? { problems } : { fragment: result.fragment, problems: [] };
  }

  /**
   * Every dependent validated (as a rollback would be: its route and catalog as now) and its tests
   * run with `override` standing for the fragment; the problems name the workflow.
   */
  async function checkDependents(state: StoreState, override: FragmentOverride): Promise<{ problems: ValidationProblem[]; checked: Array<{ workflow: string; version: number; tests: number }> }> {
    const resolver = await library.resolver(state, override);
    const problems: ValidationProblem[] = [];
    const checked = [];
    for (const dependent of await dependents(state, override.id)) {
      const own = await lifecycle.check(state, dependent.workflow, dependent.document, true, resolver);
      const named = (p: ValidationProblem) => ({ ...p, message: `workflow "${dependent.workflow}" version ${dependent.version}: ${p.message}` });
      problems.push(...own.map(named));
      let tests = 0;
      if (own.length === 0 && options.runTests) {
        const verdicts = await options.runTests(dependent.document, resolver);
        tests = verdicts.length;
        for (const [i, verdict] of verdicts.entries())
          if (!verdict.passed)
            for (const f of verdict.failures)
              problems.push(named({ code: 'test_failed', message: `test "${verdict.name}": ${f.what} expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`, field: `tests.${i}` }));
      }
      checked.push({ workflow: dependent.workflow, version: dependent.version, tests });
    }
    return { problems, checked };
  }

  async function refuse(actor: Actor, attempted: string, id: string, error: AdminError): Promise<never> {
    await store.transact(() => ({ entry: { time: now(), ...auditActor(actor), action: 'refused', fragment: id, detail: `${attempted}: ${error.message}` }, result: undefined }));
    throw error;
  }

  /**
   * Makes version `version` of fragment `id` (with `document`) the active one after its dependents
   * pass; `commit` builds the record. The dependents are checked outside the store's transaction
   * (their tests may call a real upstream); the commit is refused if they changed meanwhile.
   */
  async function activate(actor: Actor, attempted: 'fragment.publish' | 'fragment.rollback', id: string, version: number, document: FragmentDocument, commit: (record: FragmentRecord, time: string) => FragmentRecord, detail: string, hash: string) {
    const state = await store.state();
    const { problems, checked } = await checkDependents(state, { id, version, document });
    if (problems.length > 0) {
      const workflows = [...new Set(checked.map((c) => c.workflow).filter((w) => problems.some((p) => p.message.startsWith(`workflow "${w}"`))))];
      await refuse(actor, attempted, id, new AdminError('validation_failed', `version ${version} of fragment "${id}" breaks ${workflows.length} workflow(s) that use it: ${workflows.join(', ')}`, { problems }));
    }
    const checkedHashes = new Set((await dependents(state, id)).map((d) => `${d.workflow}@${d.hash}`));
    const { result } = await store.transact(async (current): Promise<Transition<{ version: number; unchanged: boolean; checked: typeof checked }>> => {
      const record = requireFragment(current, id);
      const serving = await dependents(current, id);
      if (serving.length !== checkedHashes.size || serving.some((d) => !checkedHashes.has(`${d.workflow}@${d.hash}`))) throw new AdminError('conflict', `the workflows using fragment "${id}" changed while they were checked: try again`);
      const time = now();
      const next = commit(record, time);
      return {
        state: withFragment(current, next),
        entry: { time, ...auditActor(actor), action: attempted, fragment: id, version, documentHash: hash, detail: `${detail}${checked.length > 0 ? `; checked ${checked.map((c) => `${c.workflow}@${c.version}`).join(', ')}` : ''}` },
        result: { version, unchanged: false, checked },
      };
    });
    return result;
  }

  /** Publishes the draft as the next version, once it and every workflow following the fragment pass. */
  async function publish(actor: Actor, id: string, fourEyes: boolean, note?: string) {
    const state = await store.state();
    const record = requireFragment(state, id);
    if (!record.draft) throw new AdminError('conflict', `fragment "${id}" has no draft to publish`);
    const draft = record.draft;
    if (fourEyes && draft.updatedBy === actor.name)
      await refuse(actor, 'fragment.publish', id, new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must publish it`));
    const activeVersion = record.versions.find((v) => v.version === record.active);
    if (activeVersion?.hash === draft.hash) return { version: activeVersion.version, unchanged: true, checked: [] };
    const { fragment, problems } = await check(await store.document(draft.hash));
    if (!fragment) await refuse(actor, 'fragment.publish', id, new AdminError('validation_failed', `the draft of fragment "${id}" has ${problems.length} problem(s)`, { problems }));
    const version = Math.max(0, ...record.versions.map((v) => v.version)) + 1;
    const said = note?.trim() ? { note: note.trim() } : {};
    return activate(
      actor,
      'fragment.publish',
      id,
      version,
      fragment!,
      (current, time) => {
        if (current.draft?.hash !== draft.hash) throw new AdminError('conflict', `the draft of fragment "${id}" changed while it was checked: publish again`);
        return { ...current, versions: [...current.versions, { version, hash: draft.hash, publishedAt: time, publishedBy: actor.name, ...said }], active: version };
      },
      said.note ? `note: ${said.note}` : 'published',
      draft.hash,
    );
  }

  const api = {
    usages,
    check,

    async create(actor: Actor, document: unknown) {
      const id = requireEnvelope(document);
      const stored = await storedDraft(document, options.limits, options.sliceMs);
      const { result } = await store.transact((state) => {
        if (fragmentOf(state, id)) throw new AdminError('conflict', `fragment "${id}" exists already`);
        const time = now();
        const record: FragmentRecord = { id, createdAt: time, createdBy: actor.name, draft: { hash: stored.hash, revision: 1, updatedAt: time, updatedBy: actor.name }, versions: [], active: undefined };
        return { state: withFragment(state, record), documents: [stored], entry: { time, ...auditActor(actor), action: 'fragment.create', fragment: id, documentHash: stored.hash }, result: record };
      });
      return result;
    },

    async saveDraft(actor: Actor, id: string, document: unknown, baseRevision: number) {
      if ((document as { id?: unknown } | null)?.id !== id) throw new AdminError('validation_failed', `the draft's id must be "${id}"`, { problems: [{ code: 'invalid_document', message: `must be "${id}"`, field: 'id' }] });
      const stored = await storedDraft(document, options.limits, options.sliceMs);
      const { result } = await store.transact((state) => {
        const record = requireFragment(state, id);
        const current = record.draft?.revision ?? 0;
        if (baseRevision !== current) throw new AdminError('conflict', `the draft changed since revision ${baseRevision}: it is at revision ${current}, saved by ${record.draft?.updatedBy ?? 'nobody'}`, { extra: { currentRevision: current } });
        const time = now();
        const draft = { hash: stored.hash, revision: current + 1, updatedAt: time, updatedBy: actor.name };
        return { state: withFragment(state, { ...record, draft }), documents: [stored], entry: { time, ...auditActor(actor), action: 'fragment.save', fragment: id, documentHash: stored.hash, detail: `revision ${draft.revision}` }, result: draft };
      });
      return result;
    },

    /** Publishes the draft as the next version, once it and every workflow following the fragment pass. */
    publish: (actor: Actor, id: string, note?: string) => publish(actor, id, options.fourEyes, note),

    /**
     * Makes a document the fragment's active version in one step (create or save the draft, then
     * publish), as the fragments directory does; the four-eyes rule is for people and does not apply.
     */
    async apply(actor: Actor, document: unknown) {
      const id = requireEnvelope(document);
      const { hash } = await runPaced(storedDocumentSliced(document), createPace(options.sliceMs));
      const record = fragmentOf(await store.state(), id);
      if (!record) await api.create(actor, document);
      else if (record.draft?.hash !== hash) await api.saveDraft(actor, id, document, record.draft?.revision ?? 0);
      return publish(actor, id, false);
    },

    /** Makes an earlier version active again, checked as a publish is. */
    async rollback(actor: Actor, id: string, version: number) {
      const record = requireFragment(await store.state(), id);
      const target = record.versions.find((v) => v.version === version);
      if (!target) throw new AdminError('not_found', `fragment "${id}" has no version ${version}`);
      if (record.active === version) return { version, unchanged: true, checked: [] };
      const document = fragmentDocumentSchema.parse(await store.document(target.hash));
      return activate(actor, 'fragment.rollback', id, version, document, (current) => ({ ...current, active: version }), `from version ${record.active ?? 'none'}`, target.hash);
    },
  };
  return api;
}
