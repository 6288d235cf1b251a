import { useState } from 'react';
import { describeError } from '../api/client.ts';
import { can, needs } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { fragmentHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { NewFragmentDialog } from './NewFragmentDialog.tsx';
import { UsedBy } from './used-by.tsx';

/** Every fragment (shared flow): its exits, active version, draft changes and the workflows that use it. */
export function FragmentsPage() {
  const { api, identity } = useSessionContext();
  const { resource, reload } = useResource(() => api.fragments(), 'fragments');
  const [creating, setCreating] = useState(false);
  const mayEdit = can(identity.role, 'edit');
  const reason = mayEdit ? undefined : needs('edit', identity.role);

  return (
    <main className="page">
      <div className="page__head">
        <h1>Fragments</h1>
        <div className="page__actions">
          <button type="button" onClick={reload}>
            Refresh
          </button>
          <button type="button" className="primary" onClick={() => setCreating(true)} disabled={!mayEdit} title={reason} aria-description={reason}>
            New fragment
          </button>
        </div>
      </div>
      <p className="muted">Shared flows: drawn once, used by many workflows through subflow nodes. A workflow runs the fragment&apos;s active version unless its node pins one; publishing a fragment checks every workflow that follows it first.</p>
      {resource.status === 'loading' && <p className="loading">Loading fragments…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {resource.status === 'ready' && (
        <table className="workflows fragments">
          <caption className="sr-only">Fragments</caption>
          <thead>
            <tr>
              <th scope="col">Fragment</th>
              <th scope="col">Exits</th>
              <th scope="col">Active version</th>
              <th scope="col">Draft</th>
              <th scope="col">Used by</th>
            </tr>
          </thead>
          <tbody>
            {resource.value.fragments.map((f) => (
              <tr key={f.id}>
                <td>
                  <a href={fragmentHref(f.id)} className="workflows__name">
                    {f.name ?? f.id}
                  </a>
                  <div className="muted small">{f.id}</div>
                </td>
                <td>
                  {f.exits.map((e) => (
                    <code key={e.name} className="exit-chip" title={e.description}>
                      {e.name}
                    </code>
                  ))}
                </td>
                <td>{f.activeVersion === null ? <span className="muted">none</span> : `v${f.activeVersion}`}</td>
                <td>{f.draftChanges ? <span className="chip chip--dirty">draft changes</span> : <span className="muted">{f.activeVersion === null ? 'not published' : 'as published'}</span>}</td>
                <td>
                  <UsedBy uses={f.usedBy} label={`Workflows using ${f.id}`} />
                </td>
              </tr>
            ))}
            {resource.value.fragments.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No fragments yet. Create one, publish it, then use it in a workflow with a Subflow node.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <NewFragmentDialog open={creating} onClose={() => setCreating(false)} />
    </main>
  );
}
