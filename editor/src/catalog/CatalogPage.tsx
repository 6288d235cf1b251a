import { useEffect, useMemo, useState } from 'react';
import { describeError } from '../api/client.ts';
import { can } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';
import { catalogProblems, GATEWAY_IDS, newEntry, newIdProblem, refusalLines, sameCatalog, type CatalogEntry, type CatalogProblem, type ErrorCatalog } from './catalog-model.ts';
import { forgetCatalog } from './useCatalog.ts';

/** Which workflows' active versions raise each id, from their error contracts (absent while loading). */
function useRaisedBy(reloaded: number): Map<string, string[]> | undefined {
  const { api } = useSessionContext();
  const [raised, setRaised] = useState<Map<string, string[]>>();
  useEffect(() => {
    let live = true;
    void (async () => {
      const map = new Map<string, string[]>();
      try {
        const { workflows } = await api.workflows();
        const active = workflows.filter((w) => w.activeVersion !== null).slice(0, 50);
        const contracts = await Promise.all(active.map((w) => api.contract(w.id, 'active').catch(() => undefined)));
        contracts.forEach((contract, i) => {
          for (const entry of contract?.entries ?? []) {
            if (entry.node === undefined) continue;
            const list = map.get(entry.id) ?? [];
            if (!list.includes(active[i]!.id)) map.set(entry.id, [...list, active[i]!.id]);
          }
        });
      } catch {
        // who raises what is a help, not needed to read or edit the catalog
      }
      if (live) setRaised(map);
    })();
    return () => {
      live = false;
    };
  }, [api, reloaded]);
  return raised;
}

/**
 * The error catalog: every error the gateway answers with (status, problem type, title, detail
 * template) and the workflows that raise it. Every role reads it; publishers and admins add,
 * change and remove entries and save the whole catalog, which the API refuses while the gateway
 * or an active workflow still raises an id it lacks.
 */
export function CatalogPage() {
  const { api, identity } = useSessionContext();
  const mayChange = can(identity.role, 'publish');
  const [round, setRound] = useState(0);
  const { resource, reload } = useResource(() => api.catalog(), `catalog-${round}`);
  const raisedBy = useRaisedBy(round);
  const [draft, setDraft] = useState<ErrorCatalog | undefined>();
  const [newId, setNewId] = useState('');
  const [idProblem, setIdProblem] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<string[] | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const [filter, setFilter] = useState('');

  const saved = resource.status === 'ready' ? resource.value : undefined;
  const shown = draft ?? saved;
  const changed = draft !== undefined && saved !== undefined && !sameCatalog(draft, saved);
  const problems = useMemo(() => (draft ? catalogProblems(draft) : []), [draft]);

  const edit = (change: (errors: Record<string, CatalogEntry>) => Record<string, CatalogEntry>) => {
    setNotice(undefined);
    setRefusal(undefined);
    setDraft((d) => {
      const base = d ?? saved!;
      return { ...base, errors: change(base.errors) };
    });
  };
  const setField = (id: string, field: keyof CatalogEntry, value: string | number) => edit((errors) => ({ ...errors, [id]: { ...errors[id]!, [field]: value } }));
  const remove = (id: string) => edit(({ [id]: _gone, ...rest }) => rest);
  const add = () => {
    const problem = newIdProblem(newId.trim(), shown!);
    setIdProblem(problem);
    if (problem) return;
    edit((errors) => ({ ...errors, [newId.trim()]: newEntry(newId.trim()) }));
    setNewId('');
  };
  const save = async () => {
    if (!draft) return;
    setSaving(true);
    setRefusal(undefined);
    try {
      await api.putCatalog(draft);
      forgetCatalog();
      setDraft(undefined);
      setNotice('Saved the catalog. The gateway answers with it now; every active workflow keeps serving.');
      setRound((r) => r + 1);
    } catch (error) {
      setRefusal(refusalLines(error));
    } finally {
      setSaving(false);
    }
  };

  const ids = shown ? Object.keys(shown.errors).filter((id) => filter === '' || `${id} ${shown.errors[id]!.title}`.toLowerCase().includes(filter.toLowerCase())) : [];
  return (
    <main className="page catalog">
      <div className="page__head">
        <h1>Error catalog</h1>
        <div className="page__actions">
          <input type="search" aria-label="Filter errors" placeholder="Filter by id or title" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <button type="button" onClick={() => (changed ? setRound((r) => r + 1) : reload())} disabled={saving}>
            Refresh
          </button>
        </div>
      </div>
      <p className="muted">Every error the gateway answers with, as application/problem+json. Error nodes and failing steps name an entry by its id; {'{name}'} in a detail is filled in by the raising node.</p>
      {!mayChange && (
        <div className="banner banner--readonly" role="note">
          <strong>Read-only.</strong> The {identity.role} role reads the catalog; changing it needs the publisher or admin role.
        </div>
      )}
      {resource.status === 'loading' && <p className="loading">Loading the catalog…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {shown && (
        <>
          <table className="workflows catalog__table">
            <caption className="sr-only">Error catalog</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Status</th>
                <th scope="col">Problem type</th>
                <th scope="col">Title</th>
                <th scope="col">Detail template</th>
                <th scope="col">Raised by</th>
                {mayChange && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {ids.map((id) => (
                <CatalogRow key={id} id={id} entry={shown.errors[id]!} editable={mayChange} raisedBy={raisedBy ? (raisedBy.get(id) ?? []) : undefined} problems={problems.filter((p) => p.id === id)} onField={setField} onRemove={remove} />
              ))}
            </tbody>
          </table>
          {mayChange && (
            <div className="catalog__edit">
              <div className="catalog__add">
                <label htmlFor="catalog-new-id">New error id</label>
                <input id="catalog-new-id" value={newId} placeholder="out_of_stock" aria-invalid={idProblem !== undefined || undefined} aria-describedby={idProblem ? 'catalog-new-id-problem' : undefined} onChange={(e) => setNewId(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && add()} />
                <button type="button" onClick={add}>
                  Add error
                </button>
                {idProblem && (
                  <span id="catalog-new-id-problem" className="field__error">
                    {idProblem}
                  </span>
                )}
              </div>
              {problems.length > 0 && (
                <ul className="field__problems" aria-label="Problems of the catalog">
                  {problems.map((p: CatalogProblem) => (
                    <li key={p.message} className="field__error">
                      {p.message}
                    </li>
                  ))}
                </ul>
              )}
              {notice && (
                <p className="catalog__notice" role="status">
                  {notice}
                </p>
              )}
              {refusal && (
                <div className="catalog__refusal field__error" role="alert">
                  <strong>The catalog was not saved.</strong>
                  <ul>
                    {refusal.map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                </div>
              )}
              <div className="page__actions">
                <button type="button" className="primary" disabled={!changed || problems.length > 0 || saving} title={problems.length > 0 ? 'Mend the problems listed first' : changed ? undefined : 'Nothing changed yet'} onClick={() => void save()}>
                  {saving ? 'Saving…' : 'Save catalog'}
                </button>
                <button type="button" disabled={!changed || saving} onClick={() => (setDraft(undefined), setRefusal(undefined))}>
                  Discard changes
                </button>
              </div>
            </div>
          )}
        </>
      )}
    </main>
  );
}

interface RowProps {
  id: string;
  entry: CatalogEntry;
  editable: boolean;
  raisedBy: string[] | undefined;
  problems: CatalogProblem[];
  onField(id: string, field: keyof CatalogEntry, value: string | number): void;
  onRemove(id: string): void;
}

/** One entry: plain text to read, inputs to change. */
function CatalogRow({ id, entry, editable, raisedBy, problems, onField, onRemove }: RowProps) {
  const gateway = GATEWAY_IDS.has(id);
  const bad = (field: string) => problems.some((p) => p.field === field) || undefined;
  const raised = (
    <td>
      {gateway && <div className="muted small">the gateway itself</div>}
      {raisedBy === undefined ? <span className="muted small">loading…</span> : raisedBy.map((w) => <div key={w}><a href={workflowHref(w)}>{w}</a></div>)}
      {raisedBy?.length === 0 && !gateway && <span className="muted small">no active workflow</span>}
    </td>
  );
  if (!editable)
    return (
      <tr aria-label={`Error ${id}`}>
        <td>
          <code>{id}</code>
        </td>
        <td>{entry.status}</td>
        <td className="catalog__type">{entry.type}</td>
        <td>{entry.title}</td>
        <td className="catalog__detail">{entry.detail}</td>
        {raised}
      </tr>
    );
  return (
    <tr aria-label={`Error ${id}`}>
      <td>
        <code>{id}</code>
      </td>
      <td>
        <input type="number" className="catalog__status" min={400} max={599} aria-label={`Status of ${id}`} aria-invalid={bad('status')} value={entry.status} onChange={(e) => onField(id, 'status', e.target.valueAsNumber)} />
      </td>
      <td>
        <input type="text" aria-label={`Problem type of ${id}`} aria-invalid={bad('type')} value={entry.type} onChange={(e) => onField(id, 'type', e.target.value)} />
      </td>
      <td>
        <input type="text" aria-label={`Title of ${id}`} aria-invalid={bad('title')} value={entry.title} onChange={(e) => onField(id, 'title', e.target.value)} />
      </td>
      <td>
        <textarea rows={2} aria-label={`Detail template of ${id}`} aria-invalid={bad('detail')} value={entry.detail} onChange={(e) => onField(id, 'detail', e.target.value)} />
      </td>
      {raised}
      <td>
        <button type="button" className="small" aria-label={`Remove ${id}`} disabled={gateway} title={gateway ? 'The gateway itself answers with this error: the catalog must keep it' : undefined} onClick={() => onRemove(id)}>
          Remove
        </button>
      </td>
    </tr>
  );
}
