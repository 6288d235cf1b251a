import { useState } from 'react';
import { needsApproval } from '../../../shared/admin/index.ts';
import { MAX_PUBLISH_NOTE } from '../../../shared/schema/lifecycle.ts';
import type { ValidationProblem, WorkflowDiff, WorkflowView } from '../api/types.ts';
import type { WorkflowMeta } from '../graph/convert.ts';
import { useSessionContext } from '../editor-context.ts';
import { useResource } from '../hooks/useResource.ts';
import { ContractChanges } from './ApprovalBanner.tsx';
import { Dialog } from './Dialog.tsx';
import { DiffDetails } from './DiffSummary.tsx';
import { ReplayCompare } from './ReplayCompare.tsx';

export interface PublishDialogProps {
  workflow: WorkflowView;
  meta: WorkflowMeta;
  /** The saved draft's revision: what becomes the new version. */
  revision: number;
  /** Open, with the draft's diff to the active version when there is one. */
  offer: { diff: WorkflowDiff | undefined } | undefined;
  /** The draft's problems: with any, "Publish now" is not offered. */
  problems: ValidationProblem[];
  /** A check of the latest change is running: "Publish now" waits for it. */
  checking: boolean;
  onCancel(): void;
  /** Publishes, with the note typed (absent when none was). */
  onPublish(note: string | undefined): void;
}

/**
 * Asks before publishing: what the draft becomes, where it serves, how it differs from what serves
 * now, and (the contract gate) the answers of the error contract it removes or changes, which
 * make it wait for another publisher's approval instead of serving at once.
 */
export function PublishDialog({ workflow, meta, revision, offer, problems, checking, onCancel, onPublish }: PublishDialogProps) {
  const { api } = useSessionContext();
  const open = offer !== undefined;
  // the same diff the server's gate makes, read when the dialog opens on a draft with an active version to compare with
  const { resource: contract } = useResource(
    async () => (open && workflow.active !== null ? api.contractDiff(workflow.id, 'active', 'draft') : undefined),
    `${workflow.id}:${open ? `${revision}:${workflow.active ?? 'none'}` : 'closed'}`,
  );
  const contractDiff = contract.status === 'ready' ? contract.value : undefined;
  const gated = contractDiff !== undefined && needsApproval(contractDiff);
  const wait = checking ? 'Checking the draft…' : open && workflow.active !== null && contract.status === 'loading' ? 'Reading the error contract…' : undefined;
  const [note, setNote] = useState('');
  const [openedFor, setOpenedFor] = useState(offer);
  // a new offer starts with an empty note
  if (openedFor !== offer) {
    setOpenedFor(offer);
    if (offer !== undefined) setNote('');
  }
  return (
    <Dialog open={offer !== undefined} title={`Publish ${workflow.id}`} onClose={onCancel}>
      {gated ? (
        <p>
          The saved draft (revision {revision}) removes or changes answers of the error contract, so it <strong>needs another publisher&apos;s approval</strong>: publishing asks for it, and version {workflow.active} keeps serving{' '}
          {meta.route?.methods?.join(', ')} {meta.route?.path} until a publisher other than you approves. Its tests run first, and again at approval.
        </p>
      ) : (
        <p>
          The saved draft (revision {revision}) becomes version {Math.max(0, ...workflow.versions.map((v) => v.version)) + 1} and serves{' '}
          {meta.route?.methods?.join(', ')} {meta.route?.path} at once. Its tests run first; a draft with problems is refused and the active version keeps serving.
        </p>
      )}
      {gated && (
        <section className="banner banner--approval" aria-label="Error contract change">
          <ContractChanges diff={contractDiff} />
        </section>
      )}
      {contract.status === 'error' && problems.length === 0 && <p className="muted small">The change of the error contract could not be read; the publish checks it.</p>}
      {problems.length > 0 && (
        <div role="alert" className="field__error">
          <p>
            The draft has {problems.length} problem{problems.length === 1 ? '' : 's'}: it cannot be published until {problems.length === 1 ? 'it is' : 'they are'} fixed. Close this and pick one in Problems to go to it.
          </p>
          <ul>
            {problems.slice(0, 5).map((p, i) => (
              <li key={i}>
                {p.node ?? 'workflow'}
                {p.field ? ` · ${p.field}` : ''}: {p.message}
              </li>
            ))}
            {problems.length > 5 && <li>and {problems.length - 5} more</li>}
          </ul>
        </div>
      )}
      {offer !== undefined && <ReplayCompare workflowId={workflow.id} hasActive={workflow.active !== null} revision={revision} />}
      {offer?.diff && (offer.diff.same ? <p className="muted">The draft is the same as the active version (layout aside).</p> : <DiffDetails diff={offer.diff} />)}
      {problems.length === 0 && (
        <div className="field">
          <label htmlFor="publish-note">Note (optional): what this version is for</label>
          <textarea id="publish-note" rows={3} maxLength={MAX_PUBLISH_NOTE} value={note} aria-describedby="publish-note-help" onChange={(e) => setNote(e.target.value)} />
          <p id="publish-note-help" className="muted small">
            Kept with the version, in the versions list and the audit log. {note.length}/{MAX_PUBLISH_NOTE} characters.
          </p>
        </div>
      )}
      <div className="dialog__actions">
        <button type="button" onClick={onCancel}>
          {problems.length > 0 ? 'Close' : 'Cancel'}
        </button>
        {problems.length === 0 && (
          <button type="button" className="primary" disabled={wait !== undefined} title={wait} aria-description={wait} onClick={() => onPublish(note.trim() === '' ? undefined : note.trim())}>
            {wait ?? (gated ? 'Ask for approval' : 'Publish now')}
          </button>
        )}
      </div>
    </Dialog>
  );
}
