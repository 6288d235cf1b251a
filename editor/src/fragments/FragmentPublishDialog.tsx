import { useState } from 'react';
import type { z } from 'zod';
import type { fragmentPublishedSchema } from '../../../shared/admin/index.ts';
import { MAX_PUBLISH_NOTE } from '../../../shared/schema/lifecycle.ts';
import type { FragmentView, ValidationProblem } from '../api/types.ts';
import { Dialog } from '../components/Dialog.tsx';
import { workflowHref } from '../hooks/useHashRoute.ts';

/** How a publish ended: the version and the workflows checked against it, or the refusal and its problems (naming the workflows that failed). */
export type PublishOutcome = { ok: true; answer: PublishedAnswer } | { ok: false; message: string; problems: ValidationProblem[] };
/** POST /fragments/:id/publish and /rollback's answer. */
export type PublishedAnswer = z.infer<typeof fragmentPublishedSchema>;

export interface FragmentPublishDialogProps {
  /** Open: asking to publish, or a rollback under way. */
  action: 'Publish' | 'Roll back' | undefined;
  id: string;
  view: FragmentView;
  dirty: boolean;
  problems: ValidationProblem[];
  busy: boolean;
  outcome: PublishOutcome | undefined;
  onPublish(note: string | undefined): void;
  onClose(): void;
}

/** Asks before publishing a fragment (a rollback is asked for by its button), then says what happened: each workflow checked, or why it was refused. */
export function FragmentPublishDialog({ action, id, view, dirty, problems, busy, outcome, onPublish, onClose }: FragmentPublishDialogProps) {
  const [note, setNote] = useState('');
  const following = view.usedBy.filter((u) => u.pinned === undefined);
  return (
    <Dialog open={action !== undefined} title={`${action ?? 'Publish'} fragment ${id}`} onClose={onClose}>
      {outcome === undefined && action === 'Roll back' && <p role="status">Rolling back: checking the workflows that follow the fragment…</p>}
      {outcome === undefined && action === 'Publish' && (
        <>
          <p>
            The {dirty ? 'draft (saved first)' : 'saved draft'} becomes version {Math.max(0, ...view.versions.map((v) => v.version)) + 1} and the active one. Every workflow that follows the active version ({following.length === 0 ? 'none now' : [...new Set(following.map((u) => u.workflow))].join(', ')}) is validated and its tests run against it first; if one fails, nothing changes.
          </p>
          {problems.length > 0 && (
            <p role="alert" className="field__error">
              The fragment has {problems.length} problem{problems.length === 1 ? '' : 's'}: the publish will be refused until {problems.length === 1 ? 'it is' : 'they are'} fixed.
            </p>
          )}
          <div className="field">
            <label htmlFor="fragment-publish-note">Note (optional): what this version is for</label>
            <textarea id="fragment-publish-note" rows={3} maxLength={MAX_PUBLISH_NOTE} value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
          <div className="dialog__actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="button" className="primary" disabled={busy} onClick={() => onPublish(note.trim() === '' ? undefined : note.trim())}>
              {busy ? 'Publishing…' : 'Publish now'}
            </button>
          </div>
        </>
      )}
      {outcome?.ok === true && (
        <div role="status" aria-label="Publish result">
          <p>{outcome.answer.unchanged ? `Nothing changed: version ${outcome.answer.version} is active already.` : `Version ${outcome.answer.version} is active.`}</p>
          {outcome.answer.checked.length === 0 ? (
            <p className="muted">No workflow follows this fragment&apos;s active version: none was checked.</p>
          ) : (
            <>
              <p>Checked against it, and passing:</p>
              <ul aria-label="Workflows checked">
                {outcome.answer.checked.map((c) => (
                  <li key={c.workflow}>
                    <a href={workflowHref(c.workflow)}>{c.workflow}</a> v{c.version}: valid, {c.tests} test{c.tests === 1 ? '' : 's'} passed
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {outcome?.ok === false && (
        <div role="alert" aria-label="Publish refused">
          <p className="field__error">Not published: {outcome.message}</p>
          {outcome.problems.length > 0 && (
            <ul className="field__problems">
              {outcome.problems.map((p, i) => (
                <li key={i} className="field__error">
                  {p.node ? <code>{p.node}</code> : null} {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {outcome !== undefined && (
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      )}
    </Dialog>
  );
}
