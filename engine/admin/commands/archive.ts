import type { ValidationProblem } from '../../../shared/compile/index.ts';
import { auditActor } from '../../store/audit.ts';
import type { StoreState, WorkflowRecord } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { withoutCanary } from './canary.ts';
import { requireWorkflow, type Actor, type Lifecycle, type LifecycleOptions } from './workflows.ts';

/** What a restore did: whether the version that served at archiving serves again, and if not, why. */
interface Restored {
  /** The version serving now, or undefined when the workflow came back inactive. */
  active: number | undefined;
  /** Why the version that served when it was archived does not serve again (its route is taken, or it no longer validates). */
  inactiveBecause?: string;
  problems?: ValidationProblem[];
}

/** The state without one workflow: what deleting it leaves. */
function without(state: StoreState, id: string): StoreState['workflows'] {
  return state.workflows.without(id);
}

/**
 * Archiving, restoring and deleting workflows, audited like the other lifecycle actions.
 *
 * Archiving stops serving (active becomes undefined, so the registry drops the route and the
 * route-clash check no longer counts it), keeps the draft and every version for audit, and
 * refuses edits and publication until a restore (requireWorkflow with an action).
 *
 * Restoring never refuses over the route: the version that served when the workflow was archived
 * serves again only if it passes the check a rollback makes (its route is free, the catalog still
 * has its errors, it prepares here); otherwise the workflow comes back inactive and the answer and
 * the audit entry say why. Refusing instead would keep the workflow locked in the archive until
 * whoever took its route moved away, though editing its draft to a new route is the usual way out;
 * and activating nothing by surprise is safe: a publish or rollback is one deliberate step away.
 *
 * Deleting is for workflows that never had a version (a draft only): a version is part of the
 * audit trail, so a workflow with versions is archived instead, and a served one first archived.
 */
export function createArchive(options: Pick<LifecycleOptions, 'store' | 'now'>, lifecycle: Pick<Lifecycle, 'check'>) {
  const { store } = options;
  const now = () => (options.now?.() ?? new Date()).toISOString();

  return {
    async archive(actor: Actor, id: string, reason: string | undefined) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        if (record.archived) throw new AdminError('conflict', `workflow "${id}" is archived already (since ${record.archived.at}, by ${record.archived.by})`);
        const time = now();
        const archived = { at: time, by: actor.name, ...(reason ? { reason } : {}), ...(record.active === undefined ? {} : { version: record.active }) };
        const next: WorkflowRecord = { ...withoutCanary(record), active: undefined, archived };
        const detail = [record.active === undefined ? 'served nothing' : `stopped serving version ${record.active}`, reason ? `reason: ${reason}` : undefined].filter(Boolean).join('; ');
        return {
          state: { ...state, workflows: state.workflows.with(id, next) },
          entry: { time, ...auditActor(actor), action: 'workflow.archive' as const, workflow: id, ...(record.active === undefined ? {} : { version: record.active }), detail },
          result: next,
        };
      });
      return result;
    },

    async restore(actor: Actor, id: string) {
      const { result } = await store.transact(async (state) => {
        const record = requireWorkflow(state, id);
        if (!record.archived) throw new AdminError('conflict', `workflow "${id}" is not archived`);
        const { archived: _archived, ...rest } = record;
        const version = record.versions.find((v) => v.version === record.archived!.version);
        let restored: Restored = { active: undefined };
        if (version && !version.retired) {
          // Checked on the state the restore commits on, as a rollback is: two restores cannot both take one route.
          const problems = await lifecycle.check(state, id, await store.document(version.hash), true);
          restored = problems.length === 0 ? { active: version.version } : { active: undefined, inactiveBecause: `version ${version.version} cannot serve now: ${problems.map((p) => p.message).join('; ')}`, problems };
        } else if (version) restored = { active: undefined, inactiveBecause: `version ${version.version} is retired` };
        const time = now();
        const detail = restored.active !== undefined ? `version ${restored.active} serves again` : restored.inactiveBecause ? `inactive: ${restored.inactiveBecause}` : 'inactive: it served nothing when archived';
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...rest, active: restored.active }) },
          entry: { time, ...auditActor(actor), action: 'workflow.restore' as const, workflow: id, ...(restored.active === undefined ? {} : { version: restored.active, documentHash: version!.hash }), detail: detail.slice(0, 2_000) },
          result: restored,
        };
      });
      return result;
    },

    async remove(actor: Actor, id: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        if (record.active !== undefined) throw new AdminError('conflict', `workflow "${id}" cannot be deleted: it serves traffic (version ${record.active}): archive it first`);
        if (record.versions.length > 0)
          throw new AdminError('conflict', `workflow "${id}" cannot be deleted: it has ${record.versions.length} version(s), and versions are kept for audit: archive it instead`);
        // Products name workflows that exist: one naming this workflow would be left pointing at nothing.
        const products = Object.values(state.products).filter((p) => p.workflows.includes(id)).map((p) => p.id);
        if (products.length > 0) throw new AdminError('conflict', `workflow "${id}" cannot be deleted: API product(s) ${products.join(', ')} include it: remove it from them first`);
        const time = now();
        return {
          state: { ...state, workflows: without(state, id) },
          entry: { time, ...auditActor(actor), action: 'workflow.delete' as const, workflow: id, ...(record.draft ? { documentHash: record.draft.hash, detail: `draft revision ${record.draft.revision} deleted` } : {}) },
          result: { deleted: id },
        };
      });
      return result;
    },
  };
}
