import { useEffect, useState } from 'react';
import { describeError, type Api } from '../api/client.ts';
import type { ContractEntry } from '../api/preview-types.ts';
import type { PathHighlight } from '../editor-context.ts';
import { Words } from '../contract/ContractView.tsx';
import { contractHref } from '../hooks/useHashRoute.ts';
import { statusClass } from './PreviewPanel.tsx';
import { ownerTrace } from '../graph/subflow.ts';

export interface ContractPanelProps {
  api: Api;
  workflowId: string;
  /** Whether a version is active (the draft's contract is compared with it). */
  hasActive: boolean;
  /** Changes when the draft is saved: the contract is read again. */
  draftRevision: number;
  onHighlight(path: PathHighlight | undefined): void;
  /** The canvas's edges: a path through a subflow node's inlined nodes is drawn on the node and the exit it leaves by. */
  edges(): ReadonlyArray<{ from: string; port: string; to: string }>;
}

/** A contract entry's way there, as a path on the canvas (a fragment's inlined steps on their subflow node). */
function entryPath(entry: ContractEntry, edges: ReadonlyArray<{ from: string; port: string; to: string }>): PathHighlight {
  const path = ownerTrace(entry.path.map((s) => ({ ...s, ms: 0 })), edges);
  return {
    label: `${entry.status} ${entry.title}${entry.node ? ` at ${entry.node}.${entry.port}` : ''}`,
    nodes: new Map(path.map((s) => [s.node, {}])),
    edges: new Set(path.map((s) => `${s.node}\u0000${s.port}`)),
  };
}

/**
 * The error contract of the saved draft: every answer the workflow gives that is not the
 * upstream's, what it means and where it comes from. Clicking one draws its path; the OpenAPI
 * can be copied; what changed against the active version is said in words.
 */
export function ContractPanel({ api, workflowId, hasActive, draftRevision, onHighlight, edges }: ContractPanelProps) {
  const [entries, setEntries] = useState<ContractEntry[] | undefined>();
  const [change, setChange] = useState<string | undefined>();
  const [picked, setPicked] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();

  useEffect(() => {
    let stale = false;
    setMessage(undefined);
    api.contract(workflowId, 'draft').then(
      (c) => !stale && setEntries(c.entries),
      (e: unknown) => !stale && setMessage(describeError(e)),
    );
    if (hasActive) api.contractDiff(workflowId, 'active', 'draft').then((d) => !stale && setChange(d.summary), () => undefined);
    return () => {
      stale = true;
    };
  }, [api, workflowId, hasActive, draftRevision]);

  async function copyOpenApi() {
    try {
      const doc = await api.contractOpenApi(workflowId, 'draft');
      await navigator.clipboard.writeText(JSON.stringify(doc, null, 2));
      setMessage('The OpenAPI 3.1 document of the contract is on the clipboard');
    } catch (e) {
      setMessage(describeError(e));
    }
  }

  const key = (e: ContractEntry) => `${e.id}@${e.node ?? ''}.${e.port ?? ''}`;
  const sorted = [...(entries ?? [])].sort((a, b) => a.status - b.status || (a.node ?? '~').localeCompare(b.node ?? '~'));
  return (
    <section className="contract" aria-label="Error contract">
      <h2>Error contract</h2>
      <p className="muted">Every answer of the saved draft that is not the upstream's. Click one to see the path that leads to it.</p>
      {change && (
        <p role="note" aria-label="Contract change">
          Against the active version: <Words text={change} />.
        </p>
      )}
      <div className="preview__actions">
        <a className="button-link" href={contractHref(workflowId)}>
          Open the contract view
        </a>
        <button type="button" onClick={() => void copyOpenApi()}>
          Copy OpenAPI
        </button>
      </div>
      {message && <p role="status">{message}</p>}
      <ul className="contract__entries" aria-label="Contract entries">
        {sorted.map((e) => (
          <li key={key(e)}>
            <button
              type="button"
              aria-pressed={picked === key(e)}
              aria-label={`${e.status} ${e.title}${e.node ? ` at ${e.node}.${e.port}` : ''}`}
              onClick={() => {
                const next = picked === key(e) ? undefined : key(e);
                setPicked(next);
                onHighlight(next && e.node ? entryPath(e, edges()) : undefined);
              }}
            >
              <span className={statusClass(e.status)}>{e.status}</span> <strong>{e.title}</strong>
            </button>
            {/* outside the button: a button's visible text must be within its name (axe label-content-name-mismatch) */}
            <div className="muted">
              {e.node ? `${e.node}.${e.port}` : 'gateway'} — <Words text={e.condition} />
            </div>
            {picked === key(e) && <pre>{JSON.stringify({ headers: e.headers, body: e.example }, null, 2)}</pre>}
          </li>
        ))}
      </ul>
    </section>
  );
}
