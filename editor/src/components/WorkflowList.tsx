import { useMemo, useState } from 'react';
import type { WorkflowSummary } from '../../../shared/admin/index.ts';
import { ApiError, describeError } from '../api/client.ts';
import { can, needs } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { parseWorkflowText } from '../graph/clipboard.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { useArchive, type ArchiveActions } from '../hooks/useArchive.ts';
import { useResource } from '../hooks/useResource.ts';
import { AskDialog } from './Dialog.tsx';
import { ImportDialog } from './ImportDialog.tsx';
import { NewWorkflowDialog } from './NewWorkflowDialog.tsx';
import { OpenApiImportDialog } from './OpenApiImportDialog.tsx';

const ago = (iso: string) => {
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
};

/** The archive actions of one row: Archive (or Restore, when archived) and Delete for a workflow never published. */
function RowActions({ w, actions }: { w: WorkflowSummary; actions: ArchiveActions }) {
  const { reason } = actions;
  const deletable = w.versionCount === 0 && w.activeVersion === null;
  const name = w.name ?? w.id;
  return (
    <div className="workflows__actions">
      {w.archived ? (
        <button type="button" onClick={() => void actions.restore(w)} disabled={reason !== undefined} title={reason ?? `Restore ${name}`} aria-description={reason} aria-label={`Restore ${name}`}>
          Restore
        </button>
      ) : (
        <button type="button" onClick={() => void actions.archive(w)} disabled={reason !== undefined} title={reason ?? `Archive ${name}: it stops serving, its versions are kept`} aria-description={reason} aria-label={`Archive ${name}`}>
          Archive
        </button>
      )}
      {deletable && (
        <button type="button" className="danger" onClick={() => void actions.remove(w)} disabled={reason !== undefined} title={reason ?? `Delete ${name} (never published)`} aria-description={reason} aria-label={`Delete ${name}`}>
          Delete
        </button>
      )}
    </div>
  );
}

/** Every workflow: what it serves, at which version, in which state, and who changed it last. */
/** A route path that may wrap after each "/" (a long path would otherwise widen the table past a narrow window). */
function breakableAtSlashes(path: string) {
  return path.split('/').map((segment, i) => (i === 0 ? segment : [<wbr key={i} />, `/${segment}`]));
}

export function WorkflowList() {
  const { api, identity } = useSessionContext();
  const { resource, reload } = useResource(() => api.workflows(), 'workflows');
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [importingOpenApi, setImportingOpenApi] = useState(false);
  const [importError, setImportError] = useState<string | undefined>();
  const [query, setQuery] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const actions = useArchive(api, identity.role, reload);
  const mayEdit = can(identity.role, 'edit');
  const reason = mayEdit ? undefined : needs('edit', identity.role);

  const { rows, archived } = useMemo(() => {
    if (resource.status !== 'ready') return { rows: [], archived: [] };
    const q = query.trim().toLowerCase();
    const matching = resource.value.workflows.filter((w) => q === '' || `${w.id} ${w.name ?? ''} ${w.route?.path ?? ''}`.toLowerCase().includes(q));
    return { rows: matching.filter((w) => !w.archived), archived: matching.filter((w) => w.archived) };
  }, [resource, query]);

  const importWorkflow = (text: string) => {
    const parsed = parseWorkflowText(text);
    if ('error' in parsed) return parsed.error;
    api.create(parsed.document).then(
      () => {
        setImporting(false);
        window.location.hash = workflowHref(parsed.document.id);
      },
      (error: unknown) =>
        setImportError(error instanceof ApiError && error.status === 409 ? `A workflow "${parsed.document.id}" exists already: open it and use Import there to replace its draft.` : describeError(error)),
    );
    return undefined;
  };

  return (
    <main className="page">
      <div className="page__head">
        <h1>Workflows</h1>
        <div className="page__actions">
          <input type="search" aria-label="Filter workflows" placeholder="Filter" value={query} onChange={(e) => setQuery(e.target.value)} data-native-keys />
          <button type="button" onClick={reload}>
            Refresh
          </button>
          <button type="button" onClick={() => setImporting(true)} disabled={!mayEdit} title={reason} aria-description={reason}>
            Import…
          </button>
          <button type="button" onClick={() => setImportingOpenApi(true)} disabled={!mayEdit} title={reason ?? 'One draft per operation of an OpenAPI 3 file'} aria-description={reason}>
            Import OpenAPI…
          </button>
          <button type="button" className="primary" onClick={() => setCreating(true)} disabled={!mayEdit} title={reason} aria-description={reason}>
            New workflow
          </button>
        </div>
      </div>
      {!mayEdit && (
        <div className="banner banner--readonly" role="note">
          <strong>Read-only.</strong> The {identity.role} role can open every workflow, its versions and diffs, but not change them.
        </div>
      )}
      {actions.note && (
        <p className={actions.note.tone === 'bad' ? 'field__error' : 'banner banner--info'} role={actions.note.tone === 'bad' ? 'alert' : 'status'}>
          {actions.note.text}
        </p>
      )}
      {importError && (
        <p className="field__error" role="alert">
          {importError}
        </p>
      )}
      {resource.status === 'loading' && <p className="loading">Loading workflows…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {resource.status === 'ready' && (
        <table className="workflows">
          <caption className="sr-only">Workflows</caption>
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Route</th>
              <th scope="col">Active version</th>
              <th scope="col">State</th>
              <th scope="col">Last change</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((w) => (
              <tr key={w.id}>
                <td>
                  <a href={workflowHref(w.id)} className="workflows__name">
                    {w.name ?? w.id}
                  </a>
                  <div className="muted small">{w.id}</div>
                </td>
                <td>
                  <code>
                    {(w.route?.methods ?? []).join(', ')} {w.route?.path ? breakableAtSlashes(w.route.path) : '—'}
                  </code>
                </td>
                <td>{w.activeVersion === null ? <span className="muted">none</span> : `v${w.activeVersion}`}</td>
                <td>
                  <span className={`chip chip--${w.state}`}>{w.state === 'draft' ? 'draft only' : w.state}</span>
                  {w.draftChanges && w.state !== 'draft' && <span className="chip chip--dirty">draft changes</span>}
                </td>
                <td>{w.lastChange ? <span title={new Date(w.lastChange.at).toLocaleString()}>{ago(w.lastChange.at)} by {w.lastChange.by}</span> : '—'}</td>
                <td>
                  <RowActions w={w} actions={actions} />
                </td>
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  {query ? `No workflow matches “${query}”.` : 'No workflows yet. Create one, or drop JSON files into the workflows directory.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {resource.status === 'ready' && archived.length > 0 && (
        <section className="workflows__archived" aria-label="Archived workflows">
          <button type="button" aria-expanded={showArchived} aria-controls="archived-workflows" onClick={() => setShowArchived((v) => !v)}>
            {showArchived ? 'Hide' : 'Show'} archived ({archived.length})
          </button>
          {showArchived && (
            <table className="workflows" id="archived-workflows">
              <caption className="sr-only">Archived workflows</caption>
              <thead>
                <tr>
                  <th scope="col">Workflow</th>
                  <th scope="col">Route (free)</th>
                  <th scope="col">Versions</th>
                  <th scope="col">Archived</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {archived.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <a href={workflowHref(w.id)} className="workflows__name">
                        {w.name ?? w.id}
                      </a>
                      <div className="muted small">{w.id}</div>
                    </td>
                    <td>
                      <code>
                        {(w.route?.methods ?? []).join(', ')} {w.route?.path ?? '—'}
                      </code>
                    </td>
                    <td>{w.versionCount === 0 ? <span className="muted">none</span> : `${w.versionCount}${w.archived?.version ? ` (v${w.archived.version} served)` : ''}`}</td>
                    <td>
                      <span title={new Date(w.archived!.at).toLocaleString()}>
                        {ago(w.archived!.at)} by {w.archived!.by}
                      </span>
                      {w.archived?.reason && <div className="muted small">{w.archived.reason}</div>}
                    </td>
                    <td>
                      <RowActions w={w} actions={actions} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      <AskDialog question={actions.ask.question} onAnswer={actions.ask.answer} />
      <NewWorkflowDialog open={creating} onClose={() => setCreating(false)} />
      <OpenApiImportDialog open={importingOpenApi} onClose={() => setImportingOpenApi(false)} onImported={reload} />
      <ImportDialog
        open={importing}
        onClose={() => setImporting(false)}
        onImport={importWorkflow}
        title="Import a workflow"
        explanation="Creates a new workflow from a document (its first draft). To replace an existing workflow's draft, open it and import there."
      />
    </main>
  );
}
