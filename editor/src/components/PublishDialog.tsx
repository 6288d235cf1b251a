import type { WorkflowDiff, WorkflowView } from '../api/types.ts';
import type { WorkflowMeta } from '../graph/convert.ts';
import { Dialog } from './Dialog.tsx';
import { DiffDetails } from './DiffSummary.tsx';

export interface PublishDialogProps {
  workflow: WorkflowView;
  meta: WorkflowMeta;
  /** The saved draft's revision: what becomes the new version. */
  revision: number;
  /** Open, with the draft's diff to the active version when there is one. */
  offer: { diff: WorkflowDiff | undefined } | undefined;
  onCancel(): void;
  onPublish(): void;
}

/** Asks before publishing: what the draft becomes, where it serves, and how it differs from what serves now. */
export function PublishDialog({ workflow, meta, revision, offer, onCancel, onPublish }: PublishDialogProps) {
  return (
    <Dialog open={offer !== undefined} title={`Publish ${workflow.id}`} onClose={onCancel}>
      <p>
        The saved draft (revision {revision}) becomes version {Math.max(0, ...workflow.versions.map((v) => v.version)) + 1} and serves{' '}
        {meta.route?.methods?.join(', ')} {meta.route?.path} at once. Its tests run first; a draft with problems is refused and the active version keeps serving.
      </p>
      {offer?.diff && (offer.diff.same ? <p className="muted">The draft is the same as the active version (layout aside).</p> : <DiffDetails diff={offer.diff} />)}
      <div className="dialog__actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={onPublish}>
          Publish now
        </button>
      </div>
    </Dialog>
  );
}
