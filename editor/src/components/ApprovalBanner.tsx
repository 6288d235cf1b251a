import { useCallback } from 'react';
import { approvalVoidedBy, type PendingApproval } from '../../../shared/admin/index.ts';
import { describeError } from '../api/client.ts';
import { can, needs } from '../api/roles.ts';
import type { WorkflowView } from '../api/types.ts';
import { useSessionContext } from '../editor-context.ts';
import { useAsk } from '../hooks/useAsk.ts';
import type { Busy } from '../hooks/useBusy.ts';
import type { Say } from '../hooks/useStatusLine.ts';
import { AskDialog } from './Dialog.tsx';

type ContractDiff = PendingApproval['diff'];

/** Where an answer is given: a node and port, or the gateway around every workflow. */
const at = (answer: { node?: string | undefined; port?: string | undefined }) => (answer.node ? ` at ${answer.node}.${answer.port ?? ''}` : ' (by the gateway)');

/** The answers a contract change removes or changes, each with its status, error and where; the change in words first. */
export function ContractChanges({ diff }: { diff: ContractDiff }) {
  return (
    <div className="contract-changes">
      <p>{diff.summary}</p>
      {(diff.removed.length > 0 || diff.changed.length > 0) && (
        <ul aria-label="Answers removed or changed">
          {diff.removed.map((e) => (
            <li key={`removed ${e.node ?? ''} ${e.port ?? ''} ${e.id}`}>
              Removes {e.status} {e.id}
              {at(e)}
            </li>
          ))}
          {diff.changed.map((c) => (
            <li key={`changed ${c.node ?? ''} ${c.port ?? ''} ${c.before.id}`}>
              Changes {c.before.status} {c.before.id}
              {at(c)}
              {c.after.status !== c.before.status ? ` to ${c.after.status}` : ''}
              {c.after.type !== c.before.type ? ` (problem type ${c.after.type ?? 'none'})` : ''}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export interface ApprovalBannerProps {
  workflow: WorkflowView;
  whileBusy: Busy['whileBusy'];
  busy: boolean;
  say: Say;
  onWorkflowChanged(view: WorkflowView): void;
}

/**
 * Over the editor of a workflow whose publish waits for a second publisher (the contract gate):
 * who asked and when, the contract diff, whether the request still stands, and Approve and
 * Refuse for another publisher, Withdraw for who asked. The API stays the authority: a control
 * disabled here says why, and the API refuses the same.
 */
export function ApprovalBanner({ workflow, whileBusy, busy, say, onWorkflowChanged }: ApprovalBannerProps) {
  const { api, identity } = useSessionContext();
  const ask = useAsk();
  const id = workflow.id;
  const refresh = useCallback(async () => onWorkflowChanged(await api.workflow(id)), [api, id, onWorkflowChanged]);
  const approval = workflow.approval;
  if (!approval) return null;

  const voided = approvalVoidedBy(approval, workflow);
  const mine = approval.requestedBy === identity.name;
  const lastEditor = workflow.draft?.updatedBy === identity.name;
  const mayDecide = can(identity.role, 'publish');
  const approveReason = !mayDecide ? needs('publish', identity.role) : voided ? `This request is void: ${voided}` : lastEditor ? 'You last edited this draft: another publisher must approve it' : undefined;
  const refuseReason = mayDecide ? undefined : needs('publish', identity.role);

  /** Runs a decision, says how it went, and shows the workflow as it is after it. */
  const decide = (done: string, call: () => Promise<unknown>) =>
    whileBusy(async () => {
      try {
        await call();
        say(done, 'good');
      } catch (error) {
        say(describeError(error), 'bad');
      }
      await refresh().catch(() => undefined);
    });
  const approve = async () => {
    const yes = await ask.confirm({ title: `Approve the publish of ${id}?`, text: `The draft ${approval.requestedBy} asked to publish becomes the new version and serves at once: ${approval.diff.summary}. Its tests and checks run again first.`, confirm: 'Approve and publish' });
    if (yes) await decide('Approved: the draft serves as the new version', () => api.approve(id, approval.draftHash));
  };
  const refuse = async () => {
    const reason = await ask.prompt({
      title: mine ? `Withdraw the publish of ${id}?` : `Refuse the publish of ${id}?`,
      text: mine ? 'Nothing is published; the draft stays as it is.' : `Nothing is published; ${approval.requestedBy} sees your reason in the audit log.`,
      confirm: mine ? 'Withdraw' : 'Refuse',
      danger: true,
      input: { label: 'Reason', value: '' },
    });
    if (reason !== undefined) await decide(mine ? 'Withdrawn: nothing was published' : 'Refused: nothing was published', () => api.refuseApproval(id, reason));
  };

  return (
    <div className={`banner banner--approval${voided ? ' banner--stale' : ''}`} role="region" aria-label="Waiting for approval">
      <p>
        <strong>{voided ? 'Approval request void' : 'Waiting for approval'}</strong>: {mine ? 'you' : approval.requestedBy} asked on {new Date(approval.requestedAt).toLocaleString()} to publish the draft in place of version {approval.activeVersion}, and it removes or changes answers of the error contract, so another publisher must approve it.
        {approval.note ? ` Note: “${approval.note}”.` : ''}
      </p>
      {voided && (
        <p role="note" className="field__error">
          This request can no longer be approved: {voided}.
        </p>
      )}
      <ContractChanges diff={approval.diff} />
      <div className="banner__actions">
        {mine ? (
          <button type="button" onClick={() => void refuse()} disabled={busy}>
            Withdraw
          </button>
        ) : (
          <>
            <button type="button" className="primary" onClick={() => void approve()} disabled={busy || approveReason !== undefined} title={approveReason} aria-description={approveReason}>
              Approve
            </button>
            <button type="button" className="danger" onClick={() => void refuse()} disabled={busy || refuseReason !== undefined} title={refuseReason} aria-description={refuseReason}>
              Refuse…
            </button>
          </>
        )}
      </div>
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </div>
  );
}
