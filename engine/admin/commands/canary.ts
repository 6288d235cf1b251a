import { randomBytes } from 'node:crypto';
import type { ValidationProblem } from '../../../shared/compile/index.ts';
import type { CanaryRecord, CanaryStickiness } from '../../../shared/schema/lifecycle.ts';
import type { Route } from '../../../shared/schema/index.ts';
import { auditActor, type AuditAction } from '../../store/audit.ts';
import type { Store, StoreState, Transition, VersionRecord, WorkflowRecord } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import type { Actor } from './options.ts';

/** What a canary is started with (the admin API's body, defaults applied). */
export interface CanaryStart {
  version?: number | undefined;
  share: number;
  sticky: CanaryStickiness;
  abort: { margin: number; minSample: number };
  note?: string | undefined;
}

/** The lifecycle's parts a canary is made of (engine/admin/commands/workflows.ts). */
export interface CanaryParts {
  store: Store;
  now(): string;
  fourEyes: boolean;
  requireWorkflow(state: StoreState, id: string, action?: string): WorkflowRecord;
  check(state: StoreState, id: string, document: unknown, published?: boolean): Promise<ValidationProblem[]>;
  /** The contract gate's diff from the active version to a document, when it removes or changes answers. */
  contractLoss(state: StoreState, active: VersionRecord, hash: string): Promise<{ summary: string } | undefined>;
  testDraft(actor: Actor, id: string): Promise<string | undefined>;
  /** A change whose checks read the state it commits on; a refusal returned by the body is audited, then thrown. */
  change<T>(body: (state: StoreState) => Promise<Transition<T | { refused: AdminError }>> | Transition<T | { refused: AdminError }>): Promise<T>;
  refusal(actor: Actor, attempted: AuditAction, error: AdminError, workflow?: string, version?: number): Transition<{ refused: AdminError }>;
}

/** The record without its canary. */
export function withoutCanary(record: WorkflowRecord): WorkflowRecord {
  if (record.canary === undefined) return record;
  const { canary: _, ...rest } = record;
  return rest;
}

const sameRoute = (a: Route, b: Route) => JSON.stringify(a) === JSON.stringify(b);

/** The canary's settings in words, for the audit log. */
const said = (c: Pick<CanaryRecord, 'share' | 'sticky' | 'abort'>) =>
  `share ${c.share}%, sticky by ${c.sticky.by === 'header' ? `header ${c.sticky.header}` : c.sticky.by}; aborted at +${c.abort.margin} points over ${c.abort.minSample} requests a side`;

/**
 * Canaries: a candidate version serves a share of a workflow's requests beside the active one
 * (both compiled and served by every replica, split by the same hash), until it is promoted
 * (becomes the active version) or aborted (stops serving; the version stays in the list).
 */
export function createCanaryCommands(parts: CanaryParts) {
  const { store, now, requireWorkflow, check, change, refusal } = parts;

  /** The candidate's problems: checked as a rollback is (published) or a publish is (the draft), on the active version's route. */
  async function candidateProblems(state: StoreState, record: WorkflowRecord, hash: string, published: boolean): Promise<ValidationProblem[]> {
    const document = (await store.document(hash)) as { route?: Route };
    const problems = await check(state, record.id, document, published);
    const active = record.versions.find((v) => v.version === record.active)!;
    const route = ((await store.document(active.hash)) as { route: Route }).route;
    if (problems.length === 0 && document.route !== undefined && !sameRoute(document.route, route))
      problems.push({ code: 'invalid_document', field: 'route', message: `a canary serves the active version's route (${route.methods.join(', ')} ${route.path}${route.hosts ? ` on ${route.hosts.join(', ')}` : ''}); this version's differs: publish it instead` });
    return problems;
  }

  return {
    /**
     * Starts a canary (of a published version, or of the draft published now as a new version
     * that does not become active), or changes the running one's share, stickiness or abort rule.
     */
    async start(actor: Actor, id: string, start: CanaryStart) {
      const running = requireWorkflow(await store.state(), id).canary;
      const fromDraft = running === undefined && start.version === undefined;
      const testedHash = fromDraft ? await parts.testDraft(actor, id) : undefined;
      return change<{ canary: CanaryRecord; started: boolean }>(async (state) => {
        const record = requireWorkflow(state, id, 'start a canary');
        const time = now();
        const settings = { share: start.share, sticky: start.sticky, abort: start.abort };
        if (record.canary !== undefined) {
          if (start.version !== undefined && start.version !== record.canary.version)
            throw new AdminError('conflict', `version ${record.canary.version} of "${id}" is the candidate now: promote or abort it before a canary of version ${start.version}`);
          const canary = { ...record.canary, ...settings };
          return {
            state: { ...state, workflows: state.workflows.with(id, { ...record, canary }) },
            entry: { time, ...auditActor(actor), action: 'canary.update', workflow: id, version: canary.version, detail: said(canary) },
            result: { canary, started: false },
          };
        }
        if (record.active === undefined) throw new AdminError('conflict', `workflow "${id}" serves no version: publish one before a canary`);
        let versions = record.versions;
        let version: number;
        let hash: string;
        if (start.version !== undefined) {
          const target = record.versions.find((v) => v.version === start.version);
          if (!target) throw new AdminError('not_found', `workflow "${id}" has no version ${start.version}`);
          if (target.version === record.active) throw new AdminError('conflict', `version ${target.version} is the active version: a canary needs another`);
          if (target.retired) throw new AdminError('conflict', `version ${target.version} is retired and cannot serve again`);
          ({ version, hash } = target);
        } else {
          const draft = record.draft;
          if (!draft) throw new AdminError('conflict', `workflow "${id}" has no draft to publish as a candidate`);
          if (testedHash !== undefined && draft.hash !== testedHash) throw new AdminError('conflict', `the draft of "${id}" changed while its tests ran: start the canary again`);
          if (parts.fourEyes && draft.updatedBy === actor.name)
            return refusal(actor, 'canary.start', new AdminError('forbidden', `four-eyes rule: ${actor.name} last edited this draft, so another publisher must publish it`), id);
          if (record.versions.some((v) => v.version === record.active && v.hash === draft.hash)) throw new AdminError('conflict', `the draft of "${id}" is the active version: change it first`);
          hash = draft.hash;
          version = Math.max(0, ...record.versions.map((v) => v.version)) + 1;
          const note = start.note?.trim();
          versions = [...record.versions, { version, hash, publishedAt: time, publishedBy: actor.name, ...(note ? { note } : {}) }];
        }
        const problems = await candidateProblems(state, record, hash, start.version !== undefined);
        // a candidate serves real partners: one that takes answers away goes through the contract gate, not around it
        const loss = problems.length > 0 ? undefined : await parts.contractLoss(state, record.versions.find((v) => v.version === record.active)!, hash);
        if (loss !== undefined)
          return refusal(actor, 'canary.start', new AdminError('conflict', `the candidate ${loss.summary.replace(/^this change /, '')}: a version that removes or changes answers of the error contract is published through the contract gate (a second publisher's approval), not as a canary`), id, start.version);
        if (problems.length > 0) return refusal(actor, 'canary.start', new AdminError('validation_failed', `version ${start.version ?? 'from the draft'} of "${id}" cannot serve as a candidate: ${problems.length} problem(s)`, { problems }), id, start.version);
        const canary: CanaryRecord = { id: `${version}-${randomBytes(4).toString('hex')}`, version, ...settings, startedAt: time, startedBy: actor.name };
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...record, versions, canary }) },
          entry: { time, ...auditActor(actor), action: 'canary.start', workflow: id, version, documentHash: hash, detail: `${fromDraft ? 'published from the draft as the candidate; ' : ''}active version ${record.active}; ${said(canary)}` },
          result: { canary, started: true },
        };
      });
    },

    /** Makes the candidate the active version; the canary ends. */
    promote(actor: Actor, id: string) {
      return change<{ active: number; candidate: number; outcome: 'promoted' }>(async (state) => {
        const record = requireWorkflow(state, id, 'promote a canary');
        const canary = record.canary;
        if (canary === undefined) throw new AdminError('conflict', `workflow "${id}" runs no canary`);
        const target = record.versions.find((v) => v.version === canary.version)!;
        const problems = await candidateProblems(state, record, target.hash, true);
        if (problems.length > 0) return refusal(actor, 'canary.promote', new AdminError('validation_failed', `version ${canary.version} of "${id}" cannot serve now: ${problems.length} problem(s)`, { problems }), id, canary.version);
        return {
          state: { ...state, workflows: state.workflows.with(id, { ...withoutCanary(record), active: canary.version }) },
          entry: { time: now(), ...auditActor(actor), action: 'canary.promote', workflow: id, version: canary.version, documentHash: target.hash, detail: `from version ${record.active}` },
          result: { active: canary.version, candidate: canary.version, outcome: 'promoted' },
        };
      });
    },

    /**
     * Ends the canary: the active version serves every request again. `canaryId`, when given, is
     * the canary meant (the watch's automatic abort): another one running by then is left alone.
     */
    async abort(actor: Actor, id: string, reason: string | undefined, canaryId?: string) {
      const { result } = await store.transact((state) => {
        const record = requireWorkflow(state, id);
        const canary = record.canary;
        if (canary === undefined || (canaryId !== undefined && canary.id !== canaryId)) throw new AdminError('conflict', `workflow "${id}" runs no canary${canaryId === undefined ? '' : ` ${canaryId}`}`);
        return {
          state: { ...state, workflows: state.workflows.with(id, withoutCanary(record)) },
          entry: { time: now(), ...auditActor(actor), action: 'canary.abort', workflow: id, version: canary.version, ...(reason ? { detail: reason } : {}) },
          result: { active: record.active ?? null, candidate: canary.version, outcome: 'aborted' as const },
        };
      });
      return result;
    },
  };
}

