import type { ProblemBody } from '../api/types.ts';
import { Dialog } from './Dialog.tsx';

export interface ConflictDialogProps {
  conflict: { problem: ProblemBody; baseRevision: number } | undefined;
  onReload(): void;
  onOverwrite(): void;
  onClose(): void;
}

/** A stale save (409): who saved in between, and the two ways out, both stated plainly. */
export function ConflictDialog({ conflict, onReload, onOverwrite, onClose }: ConflictDialogProps) {
  const p = conflict?.problem;
  return (
    <Dialog open={conflict !== undefined} title="The draft changed since you opened it" onClose={onClose}>
      {p && (
        <>
          <p>
            <strong>{p.updatedBy ?? 'Someone'}</strong> saved revision {p.currentRevision ?? '?'}
            {p.updatedAt ? ` at ${new Date(p.updatedAt).toLocaleString()}` : ''}; your changes are based on revision {conflict.baseRevision}.
          </p>
          <ul className="choices">
            <li>
              <button type="button" onClick={onReload}>
                Load their version
              </button>{' '}
              — your changes are replaced on the canvas; Undo brings them back.
            </li>
            <li>
              <button type="button" className="danger" onClick={onOverwrite}>
                Overwrite with mine
              </button>{' '}
              — their revision {p.currentRevision ?? ''} is replaced by what you see now (the audit log keeps both).
            </li>
          </ul>
          <p>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </p>
        </>
      )}
    </Dialog>
  );
}
