import { useMemo, useState } from 'react';
import { contractMarkdown, entryWords, nodeName, sortedEntries } from '../../../shared/compile/index.ts';
import { describeError } from '../api/client.ts';
import type { VersionRef } from '../api/types.ts';
import { statusClass } from '../components/PreviewPanel.tsx';
import { useSessionContext } from '../editor-context.ts';
import { listHref, workflowHref } from '../hooks/useHashRoute.ts';
import { useResource } from '../hooks/useResource.ts';

interface Named {
  name?: string;
  nodes?: Array<{ id: string; label?: string }>;
}

/** Words with their `code` spans (single or double backticks, as in the Markdown) shown as code. */
export function Words({ text }: { text: string }) {
  const parts = text.split(/(`` .+? ``|`[^`]+`)/);
  return (
    <>
      {parts.map((part, i) => (i % 2 === 1 ? <code key={i}>{part.startsWith('`` ') ? part.slice(3, -3) : part.slice(1, -1)}</code> : part))}
    </>
  );
}

/** Saves text as a file the browser downloads. */
function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = window.document.createElement('a');
  link.href = url;
  link.download = name;
  window.document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * The contract of a workflow for product owners: every answer it can give that is not the
 * upstream's, with its status, problem type, why in words, the path on the canvas and an example
 * body; printable (the app's chrome is left out) and downloadable as Markdown with the same words.
 */
export function ContractView({ id }: { id: string }) {
  const { api } = useSessionContext();
  const { resource: workflow } = useResource(() => api.workflow(id), `workflow:${id}`);
  const [picked, setPicked] = useState<VersionRef | undefined>();
  const view = workflow.status === 'ready' ? workflow.value : undefined;
  const which: VersionRef | undefined = picked ?? (view ? (view.draft ? 'draft' : (view.active ?? undefined)) : undefined);
  const { resource } = useResource(async () => {
    if (!view || which === undefined) return undefined;
    const [contract, document, change] = await Promise.all([
      api.contract(id, which),
      which === 'draft' ? Promise.resolve(view.draft?.document) : api.version(id, which as number).then((v) => v.document),
      which === 'draft' && view.active !== null ? api.contractDiff(id, 'active', 'draft').then((d) => d.summary, () => undefined) : Promise.resolve(undefined),
    ]);
    return { contract, document: (document ?? {}) as Named, change };
  }, `contract:${id}:${String(which)}:${view ? 'ready' : 'loading'}`);

  const shown = resource.status === 'ready' ? resource.value : undefined;
  const names = useMemo(() => {
    const labels = new Map((shown?.document.nodes ?? []).map((n) => [n.id, nodeName(n)]));
    return (node: string) => labels.get(node) ?? node;
  }, [shown]);
  const entries = shown ? sortedEntries(shown.contract.entries) : [];
  const title = shown?.document.name ?? id;
  const versionLabel = which === 'draft' ? 'the draft' : `version ${String(which)}`;

  return (
    <div className="page contract-view">
      <header className="page__head">
        <div>
          <h1>{title}: the answers it gives</h1>
          <p className="muted">
            Every answer of {versionLabel} of <code>{id}</code> that does not come from the upstream
            {shown ? (
              <>
                {' '}
                — <code>{`${shown.contract.route.methods.join(', ')} ${shown.contract.route.path}`}</code>
              </>
            ) : null}
            .
          </p>
        </div>
        <div className="page__actions contract-view__actions">
          <a href={workflowHref(id)}>Back to the editor</a>
          {view && (
            <label>
              Contract of{' '}
              <select value={String(which)} onChange={(e) => setPicked(e.target.value === 'draft' ? 'draft' : Number(e.target.value))} aria-label="Contract of">
                {view.draft && <option value="draft">the draft</option>}
                {[...view.versions].reverse().map((v) => (
                  <option key={v.version} value={v.version}>
                    version {v.version}
                    {v.version === view.active ? ' (serving)' : ''}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" onClick={() => window.print()} disabled={!shown}>
            Print / save as PDF
          </button>
          <button
            type="button"
            className="primary"
            disabled={!shown}
            onClick={() => shown && download(`${id}-contract.md`, contractMarkdown({ workflow: id, version: shown.contract.version, route: shown.contract.route, name: shown.document.name, change: shown.change }, shown.contract.entries, names), 'text/markdown')}
          >
            Download Markdown
          </button>
        </div>
      </header>

      {workflow.status === 'error' && (
        <p className="field__error" role="alert">
          Cannot open workflow “{id}”. {describeError(workflow.error)} <a href={listHref}>Back to the workflows</a>
        </p>
      )}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          No contract for {versionLabel}. {describeError(resource.error)}
        </p>
      )}
      {!shown && workflow.status !== 'error' && resource.status !== 'error' && <p className="loading">Reading the contract…</p>}
      {shown?.change && (
        <p className="banner banner--info" role="note" aria-label="Change against the active version">
          <strong>Change against the active version:</strong> <Words text={shown.change} />.
        </p>
      )}

      {shown && (
        <>
          <table className="contract-view__table" aria-label="Answers">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Title</th>
                <th scope="col">Problem type</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => {
                const w = entryWords(e, names);
                return (
                  <tr key={i}>
                    <td>
                      <span className={statusClass(w.status)}>{w.status}</span>
                    </td>
                    <td>{w.title}</td>
                    <td className="contract-view__type">{w.type}</td>
                    <td>
                      <Words text={w.why} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>

          <ol className="contract-view__answers" aria-label="Answers in detail">
            {entries.map((e, i) => {
              const w = entryWords(e, names);
              return (
                <li key={i} className="contract-view__answer" aria-label={`${w.status} ${w.title}`}>
                  <h2>
                    <span className={statusClass(w.status)}>{w.status}</span> {w.title}
                  </h2>
                  <dl>
                    <dt>Why</dt>
                    <dd>
                      <Words text={w.why} />
                    </dd>
                    <dt>Problem type</dt>
                    <dd className="contract-view__type">{w.type}</dd>
                    <dt>Path on the canvas</dt>
                    <dd>{w.path}</dd>
                    {w.headers.length > 0 && (
                      <>
                        <dt>Headers</dt>
                        <dd>
                          <code>{w.headers.join('; ')}</code>
                        </dd>
                      </>
                    )}
                  </dl>
                  <pre aria-label={`Example body of ${w.status} ${w.title}`}>{w.example}</pre>
                </li>
              );
            })}
          </ol>
        </>
      )}
    </div>
  );
}
