import { useState } from 'react';
import { MAX_EXITS } from '../../../shared/schema/fragment.ts';
import type { FragmentView, ValidationProblem } from '../api/types.ts';
import { fieldDomId } from '../components/FieldFrame.tsx';
import type { FlowModel, WorkflowMeta } from '../graph/convert.ts';
import { updateMeta } from '../graph/operations.ts';
import type { Say } from '../hooks/useStatusLine.ts';
import { exitNamesProblem, type Exit } from './fragment-model.ts';
import { UsedBy } from './used-by.tsx';

export interface FragmentSettingsProps {
  view: FragmentView;
  model: FlowModel;
  problems: ValidationProblem[];
  readOnly: boolean;
  readOnlyReason: string | undefined;
  commit(change: (m: FlowModel) => FlowModel, group?: string): void;
  seal(): void;
  say: Say;
  mayPublish: boolean;
  publishReason: string | undefined;
  /** Makes an earlier version active again (checked as a publish is). */
  onRollback(version: number): void;
}

/** Problems pinned to the document (not a node), as the problems panel's focus finds them: scope "workflow". */
const SCOPE = 'workflow';
const MAX_DESCRIPTION = 4000;
const MAX_EXIT_DESCRIPTION = 500;

/** The fragment itself, shown when no node is selected: name, description, exits, its versions and who uses it. */
export function FragmentSettings({ view, model, problems, readOnly, readOnlyReason, commit, seal, say, mayPublish, publishReason, onRollback }: FragmentSettingsProps) {
  const meta = model.meta;
  const exits = meta.exits ?? [];
  const [newExit, setNewExit] = useState('');
  const set = (update: (meta: WorkflowMeta) => WorkflowMeta, group?: string) => commit((m) => updateMeta(m, update), group);
  const setExits = (next: Exit[], group?: string) => set((m) => ({ ...m, exits: next }), group);
  const ro = readOnly ? { title: readOnlyReason, 'aria-description': readOnlyReason } : {};
  // the fragment's own problems, and its exits' (a kind node's are in its inspector)
  const mine = problems.filter((p) => p.node === undefined || !model.nodes.some((n) => n.id === p.node && n.type !== 'exit'));
  const addError = newExit === '' ? undefined : exitNamesProblem([...exits.map((e) => e.name), newExit]);
  const nodeIds = new Set(model.nodes.filter((n) => n.type !== 'exit').map((n) => n.id));
  const clash = nodeIds.has(newExit) ? `"${newExit}" is the id of a node: name the exit otherwise.` : undefined;

  return (
    <section className="inspector" aria-label="Fragment settings">
      <header className="inspector__head">
        <div>
          <h2>Fragment</h2>
          <p className="muted">Select a node to configure it. An edge to an exit leaves the fragment: the subflow node using it goes on by its port of that name.</p>
        </div>
      </header>
      {mine.length > 0 && (
        <ul className="inspector__problems" aria-label="Problems of the fragment">
          {mine.map((p, i) => (
            <li key={i} className="field__error">
              {p.node ? <code>{p.node}</code> : null} {p.field ? <code>{p.field}</code> : null} {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="field">
        <label htmlFor={fieldDomId(SCOPE, 'name')}>Name</label>
        <input id={fieldDomId(SCOPE, 'name')} type="text" maxLength={200} value={meta.name ?? ''} readOnly={readOnly} {...ro} onChange={(e) => set((m) => ({ ...m, name: e.target.value }), 'fragment:name')} onBlur={seal} />
      </div>
      <div className="field">
        <label htmlFor={fieldDomId(SCOPE, 'description')}>Description</label>
        <textarea
          id={fieldDomId(SCOPE, 'description')}
          rows={3}
          maxLength={MAX_DESCRIPTION}
          value={meta.description ?? ''}
          readOnly={readOnly}
          {...ro}
          onChange={(e) => {
            const description = e.target.value;
            set(({ description: _d, ...m }) => (description === '' ? m : { ...m, description }), 'fragment:description');
          }}
          onBlur={seal}
        />
      </div>
      <fieldset className="field field--group">
        <legend>Exits</legend>
        <p className="field__desc">Each exit is a port of every subflow node that uses the fragment. Changing them changes those nodes: their workflows must follow before a publish is accepted.</p>
        <ul className="exits" aria-label="Exits">
          {exits.map((exit, i) => (
            <li key={exit.name} className="exits__item">
              <code>{exit.name}</code>
              <input
                type="text"
                aria-label={`Description of exit ${exit.name}`}
                placeholder="what it means"
                maxLength={MAX_EXIT_DESCRIPTION}
                value={exit.description ?? ''}
                readOnly={readOnly}
                {...ro}
                onChange={(e) => setExits(exits.map((x, j) => (j === i ? (e.target.value === '' ? { name: x.name } : { name: x.name, description: e.target.value }) : x)), `fragment:exit:${exit.name}`)}
                onBlur={seal}
              />
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove exit ${exit.name}`}
                disabled={readOnly || exits.length === 1}
                title={readOnly ? readOnlyReason : exits.length === 1 ? 'A fragment has at least one exit' : undefined}
                onClick={() => {
                  setExits(exits.filter((_, j) => j !== i));
                  say(`Removed the exit "${exit.name}" and its edges`);
                }}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <form
          className="exits__add"
          onSubmit={(e) => {
            e.preventDefault();
            if (newExit === '' || addError || clash) return;
            setExits([...exits, { name: newExit }]);
            say(`Added the exit "${newExit}": wire an edge to it`);
            setNewExit('');
          }}
        >
          <input type="text" aria-label="New exit name" placeholder="new exit, e.g. denied" maxLength={32} value={newExit} readOnly={readOnly} {...ro} spellCheck={false} onChange={(e) => setNewExit(e.target.value.toLowerCase())} aria-invalid={addError !== undefined || clash !== undefined || undefined} />
          <button type="submit" className="small" disabled={readOnly || newExit === '' || addError !== undefined || clash !== undefined || exits.length >= MAX_EXITS}>
            Add exit
          </button>
        </form>
        {(addError ?? clash) && <p className="field__error">{addError ?? clash}</p>}
      </fieldset>
      <section aria-label="Versions of the fragment">
        <h3>Versions</h3>
        {view.versions.length === 0 ? (
          <p className="muted">Not published yet: workflows can use it once it is.</p>
        ) : (
          <ul className="used-by">
            {view.versions
              .toSorted((a, b) => b.version - a.version)
              .map((v) => (
                <li key={v.version}>
                  v{v.version} {v.version === view.active && <span className="chip chip--active">active</span>} <span className="muted small">{v.note ?? ''}</span>
                  {v.version !== view.active && (
                    <button type="button" className="small" disabled={!mayPublish} title={publishReason ?? `Make version ${v.version} active again; the workflows following the fragment are checked first`} aria-description={publishReason} onClick={() => onRollback(v.version)}>
                      Roll back to v{v.version}
                    </button>
                  )}
                </li>
              ))}
          </ul>
        )}
      </section>
      <section aria-label="Used by">
        <h3>Used by</h3>
        <UsedBy uses={view.usedBy} label={`Workflows using ${view.id}`} />
      </section>
    </section>
  );
}
