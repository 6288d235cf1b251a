import { useCallback } from 'react';
import type { WorkflowView } from '../api/types.ts';
import { useSessionContext } from '../editor-context.ts';
import { useArchive } from '../hooks/useArchive.ts';
import { AskDialog } from './Dialog.tsx';

/**
 * Over the editor of an archived workflow (nothing for others, but what a restore just did): who archived it, when and why, that it is read-only,
 * and Restore (for roles that may publish; disabled with the reason for the others).
 */
export function ArchivedBanner({ workflow, onRestored }: { workflow: WorkflowView; onRestored(view: WorkflowView): void }) {
  const { api, identity } = useSessionContext();
  const id = workflow.id;
  const reload = useCallback(() => void api.workflow(id).then(onRestored, () => undefined), [api, id, onRestored]);
  const actions = useArchive(api, identity.role, reload);
  const archived = workflow.archived;
  if (!archived)
    return actions.note ? (
      <div className="banner banner--info" role="status">
        {actions.note.text}
      </div>
    ) : null;
  return (
    <div className="banner banner--archived" role="note" aria-label="Archived">
      <span>
        <strong>Archived</strong> {new Date(archived.at).toLocaleString()} by {archived.by}
        {archived.reason ? ` (“${archived.reason}”)` : ''}: nothing of it serves and it is read-only; its versions are kept for audit.
        {archived.version ? ` Restore serves version ${archived.version} again if its route is still free.` : ''}
      </span>
      <button type="button" className="primary" onClick={() => void actions.restore(workflow)} disabled={actions.reason !== undefined} title={actions.reason} aria-description={actions.reason}>
        Restore
      </button>
      {actions.note?.tone === 'bad' && (
        <span className="field__error" role="alert">
          {actions.note.text}
        </span>
      )}
      <AskDialog question={actions.ask.question} onAnswer={actions.ask.answer} />
    </div>
  );
}
