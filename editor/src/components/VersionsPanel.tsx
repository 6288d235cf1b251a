import { useState } from 'react';
import { versionState } from '../../../shared/admin/index.ts';
import type { VersionRef, WorkflowView } from '../api/types.ts';
import { useAsk } from '../hooks/useAsk.ts';
import { versionHref, workflowHref } from '../hooks/useHashRoute.ts';
import { AskDialog, Dialog } from './Dialog.tsx';

export interface VersionsPanelProps {
  workflow: WorkflowView;
  canPublish: boolean;
  publishReason: string | undefined;
  busy: boolean;
  onRollback(version: number): void;
  onDeprecate(version: number, sunset: string | undefined): void;
  onRetire(version: number): void;
  onCompare(from: VersionRef, to: VersionRef): void;
}

const when = (iso: string) => new Date(iso).toLocaleString();

/** Over the canvas while a past version is open: which one, that nothing can change, and the way back to the draft. */
export function VersionBanner({ workflow, version }: { workflow: WorkflowView; version: number }) {
  const record = workflow.versions.find((v) => v.version === version);
  return (
    <div className="banner banner--version" role="region" aria-label="Version shown">
      <strong>Version {version} (read-only)</strong> — <a href={workflowHref(workflow.id)}>back to draft</a>
      {record && (
        <span className="muted">
          {' '}
          · published by {record.publishedBy}, {when(record.publishedAt)}
          {version === workflow.active ? ' · serving now' : ''}
          {record.note ? ` · “${record.note}”` : ''}
        </span>
      )}
    </div>
  );
}

/** The rollback question: names the version that will serve and the one it replaces, and what happens to that one. */
function rollbackQuestion(workflow: WorkflowView, version: number) {
  const record = workflow.versions.find((v) => v.version === version);
  const current = workflow.active;
  const note = record?.note ? ` Its note: “${record.note}”.` : '';
  const deprecated = record?.deprecated ? ' It is deprecated: its answers carry Deprecation headers.' : '';
  if (current === null) return { title: `Serve version ${version}?`, text: `Version ${version} will serve ${workflow.id} at once.${note}${deprecated}`, confirm: `Serve version ${version}` };
  return {
    title: `Serve version ${version} instead of version ${current}?`,
    text: `Version ${version} will serve ${workflow.id} at once, in place of version ${current}; version ${current} stays published and can serve again.${note}${deprecated}`,
    confirm: `Serve version ${version}`,
  };
}

/** The versions of the workflow, what serves now, the lifecycle actions and the version diff. */
export function VersionsPanel({ workflow, canPublish, publishReason, busy, onRollback, onDeprecate, onRetire, onCompare }: VersionsPanelProps) {
  const versions = [...workflow.versions].sort((a, b) => b.version - a.version);
  const refs: Array<{ value: string; label: string }> = [
    ...(workflow.draft ? [{ value: 'draft', label: `draft (revision ${workflow.draft.revision})` }] : []),
    ...versions.map((v) => ({ value: String(v.version), label: `version ${v.version}${v.version === workflow.active ? ' (active)' : ''}` })),
  ];
  const [from, setFrom] = useState(() => (versions[1] ? String(versions[1].version) : versions[0] ? String(versions[0].version) : 'draft'));
  const [to, setTo] = useState(() => (versions[1] ? String(versions[0]!.version) : 'draft'));
  const [deprecating, setDeprecating] = useState<number | undefined>();
  const [sunset, setSunset] = useState('');
  const ask = useAsk();
  const parse = (v: string): VersionRef => (v === 'draft' || v === 'active' ? v : Number(v));
  const deny = canPublish ? {} : { title: publishReason, 'aria-description': publishReason };

  return (
    <section className="versions" aria-label="Versions">
      <header className="inspector__head">
        <div>
          <h2>Versions</h2>
          <p className="muted">
            {workflow.active === null ? 'Not served: nothing is published yet.' : `Version ${workflow.active} serves ${workflow.id}.`}
            {workflow.draft ? ` Draft revision ${workflow.draft.revision} saved by ${workflow.draft.updatedBy}, ${when(workflow.draft.updatedAt)}.` : ''}
          </p>
        </div>
      </header>

      <div className="compare" role="group" aria-label="Compare versions">
        <label>
          From
          <select value={from} onChange={(e) => setFrom(e.target.value)} aria-label="Compare from">
            {refs.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          To
          <select value={to} onChange={(e) => setTo(e.target.value)} aria-label="Compare to">
            {refs.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={from === to || refs.length < 2} onClick={() => onCompare(parse(from), parse(to))}>
          Show changes
        </button>
        {workflow.active !== null && workflow.draft && (
          <button type="button" className="link" onClick={() => onCompare('active', 'draft')}>
            Draft vs active
          </button>
        )}
      </div>

      {versions.length === 0 && <p className="muted">No versions yet. Publish the draft to make version 1.</p>}
      <ol className="version-list" aria-label="Published versions">
        {versions.map((v) => {
          const active = v.version === workflow.active;
          const state = versionState(v, active);
          return (
            <li key={v.version} className={`version version--${state}`} aria-label={`Version ${v.version}, ${active ? 'serving, ' : ''}${state}`}>
              <div className="version__head">
                <strong>v{v.version}</strong>
                {active && <span className="chip chip--active">serving</span>}
                {workflow.canary?.version === v.version && <span className="chip chip--canary">canary · {workflow.canary.share}%</span>}
                {v.deprecated && <span className="chip chip--deprecated">deprecated{v.deprecated.sunset ? ` · sunset ${new Date(v.deprecated.sunset).toLocaleDateString()}` : ''}</span>}
                {v.retired && <span className="chip chip--retired">retired</span>}
              </div>
              <div className="muted small">
                published by {v.publishedBy}, {when(v.publishedAt)}
              </div>
              {v.note && (
                <p className="version__note" aria-label={`Note of version ${v.version}`}>
                  {v.note}
                </p>
              )}
              <div className="version__actions">
                <a className="button-link" href={versionHref(workflow.id, v.version)} aria-label={`Open version ${v.version} read-only`}>
                  Open
                </a>
                {!active && (
                  <button type="button" disabled={!canPublish || busy || v.retired !== undefined} {...deny} onClick={() => void ask.confirm(rollbackQuestion(workflow, v.version)).then((yes) => yes && onRollback(v.version))}>
                    Make <span className="sr-only">version {v.version} </span>active
                  </button>
                )}
                {!v.deprecated && !v.retired && (
                  <button type="button" disabled={!canPublish || busy} {...deny} onClick={() => setDeprecating(v.version)} aria-label={`Deprecate version ${v.version}`}>
                    Deprecate
                  </button>
                )}
                {!v.retired && (
                  <button
                    type="button"
                    className="danger"
                    disabled={!canPublish || busy}
                    {...deny}
                    aria-label={`Retire version ${v.version}`}
                    onClick={() =>
                      void ask
                        .confirm({ title: `Retire version ${v.version}?`, text: active ? 'Its route will answer 410 Gone while it is active.' : 'It can never serve again.', confirm: 'Retire', danger: true })
                        .then((yes) => yes && onRetire(v.version))
                    }
                  >
                    Retire
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ol>

      <Dialog open={deprecating !== undefined} title={`Deprecate version ${deprecating ?? ''}`} onClose={() => setDeprecating(undefined)}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onDeprecate(deprecating!, sunset === '' ? undefined : new Date(sunset).toISOString());
            setDeprecating(undefined);
            setSunset('');
          }}
        >
          <p>A deprecated version is still served, with Deprecation and Sunset headers so clients learn to move on.</p>
          <div className="field">
            <label htmlFor="sunset">Sunset (optional)</label>
            <input id="sunset" type="datetime-local" value={sunset} onChange={(e) => setSunset(e.target.value)} />
          </div>
          <div className="dialog__actions">
            <button type="button" onClick={() => setDeprecating(undefined)}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Deprecate
            </button>
          </div>
        </form>
      </Dialog>
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </section>
  );
}
