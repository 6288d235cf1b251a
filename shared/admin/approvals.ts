/**
 * The contract gate's records and answers: a publish that removes or changes an answer of the
 * error contract (its status or problem type) waits for a second publisher's approval.
 */
import { z } from 'zod';
import { contractDiffSchema } from './preview.ts';

const timestamp = z.string();

/** A publish waiting for a second publisher, as the store keeps it on the workflow. */
export const pendingApprovalSchema = z.object({
  /** The draft that was asked to publish: approving publishes exactly this one. */
  draftHash: z.string(),
  requestedBy: z.string(),
  requestedAt: timestamp,
  note: z.string().optional().meta({ description: 'The publish note, kept with the version once approved.' }),
  /** The version that served when it was asked, which the diff is made against. */
  activeVersion: z.number().int(),
  /** How the contract changes from that version to the draft: what the approver agrees to. */
  diff: contractDiffSchema,
});
export type PendingApproval = z.infer<typeof pendingApprovalSchema>;

type Answer = { status: number; type?: string | undefined };
const answerKey = (a: Answer) => `${a.status} ${a.type ?? ''}`;

/**
 * Whether a contract change needs a second publisher: an answer changes its status or problem
 * type where it is given (node and port), or one is removed and no added answer gives the same
 * status and problem type. Adding answers does not, nor moving one (a respond node renamed, an
 * error raised by another node): partners get back what they got before.
 */
export function needsApproval(diff: { added: readonly Answer[]; removed: readonly Answer[]; changed: readonly unknown[] }): boolean {
  if (diff.changed.length > 0) return true;
  const added = new Set(diff.added.map(answerKey));
  return diff.removed.some((answer) => !added.has(answerKey(answer)));
}

/** What a pending approval is judged against: the workflow's draft and the version serving now. */
interface ApprovalContext {
  draft?: { hash: string; revision: number; updatedBy: string } | null | undefined;
  active?: number | null | undefined;
}

/**
 * Why a pending approval can no longer be approved (undefined while it can): a draft saved since
 * the request, or another version serving than the one its diff was made against. The engine
 * refuses an approval by it and the editor shows it, so both say the same.
 */
export function approvalVoidedBy(approval: PendingApproval, workflow: ApprovalContext): string | undefined {
  if (workflow.draft?.hash !== approval.draftHash)
    return workflow.draft ? `the draft was saved since the request (revision ${workflow.draft.revision} by ${workflow.draft.updatedBy}): publish again to ask for it` : 'the draft is gone';
  if ((workflow.active ?? undefined) !== approval.activeVersion) return `version ${workflow.active ?? 'none'} serves now, not version ${approval.activeVersion} the contract diff was made against: publish again to ask anew`;
  return undefined;
}

/** GET /workflows/:id/approval: the pending approval, and whether it still stands. */
export const approvalViewSchema = pendingApprovalSchema.extend({
  workflow: z.string(),
  stale: z.boolean(),
  staleBecause: z.string().optional().meta({ description: 'Why it can no longer be approved (a draft saved since, another version serving): refuse it or publish again.' }),
});

/**
 * POST /workflows/:id/publish: the version published at once (200; `unchanged` when the draft
 * serves already), or, for a draft that removes or changes answers, the request waiting for a
 * second publisher (202, `pending`): nothing is published yet.
 */
export const publishAnswerSchema = z.union([z.object({ version: z.number().int(), unchanged: z.boolean() }), z.object({ pending: z.literal(true), approval: pendingApprovalSchema })]);

/** POST /workflows/:id/approval/approve: the version it published and who agreed. */
export const approvedSchema = z.object({ version: z.number().int(), requestedBy: z.string(), approvedBy: z.string() });
/** POST /workflows/:id/approval/refuse: the request is gone and nothing was published. */
export const approvalRefusedSchema = z.object({ requestedBy: z.string(), refusedBy: z.string(), reason: z.string(), withdrawn: z.boolean() });
