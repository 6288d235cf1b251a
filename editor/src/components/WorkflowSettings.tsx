import { HTTP_METHODS } from '../../../shared/schema/index.ts';
import type { ValidationProblem } from '../api/types.ts';
import type { FlowModel, WorkflowMeta } from '../graph/convert.ts';
import { updateMeta } from '../graph/operations.ts';
import type { ServedGraph } from '../hooks/useLiveMode.ts';
import { fieldDomId } from './FieldFrame.tsx';
import { RouteConditions } from './RouteConditions.tsx';

export interface WorkflowSettingsProps {
  model: FlowModel;
  start: string | undefined;
  problems: ValidationProblem[];
  readOnly: boolean;
  readOnlyReason: string | undefined;
  commit(change: (m: FlowModel) => FlowModel, group?: string): void;
  seal(): void;
}

const SCOPE = 'workflow';

/** The workflow itself, shown when no node is selected: name, route, description, start. */
export function WorkflowSettings({ model, start, problems: draftProblems, readOnly, readOnlyReason, commit, seal }: WorkflowSettingsProps) {
  const meta = model.meta;
  // In live mode the side panel is given the served version's model (useLiveMode's ServedGraph, which carries its
  // version): its settings are shown read-only, and the draft's problems are not pinned on them.
  const servedVersion = (model as Partial<ServedGraph>).version;
  const problems = servedVersion === undefined ? draftProblems : [];
  const at = (field: string) => problems.filter((p) => p.node === undefined && (p.field === field || p.field?.startsWith(`${field}.`)));
  const set = (update: (meta: WorkflowMeta) => WorkflowMeta, group?: string) => commit((m) => updateMeta(m, update), group);
  const methods = meta.route?.methods ?? [];
  const ro = readOnly ? { title: readOnlyReason, 'aria-description': readOnlyReason } : {};
  const errors = (field: string) =>
    at(field).map((p, i) => (
      <p key={i} className="field__error">
        {p.message}
      </p>
    ));
  const shown = ['name', 'description', 'route', 'start', 'id'];
  const rest = problems.filter((p) => p.node === undefined && !shown.some((f) => p.field === f || p.field?.startsWith(`${f}.`)));

  return (
    <section className="inspector" aria-label="Workflow settings">
      <header className="inspector__head">
        <div>
          <h2>Workflow{servedVersion === undefined ? '' : ` — version ${servedVersion}, as served`}</h2>
          {servedVersion === undefined ? (
            <p className="muted">Select a node to configure it. These settings are the workflow&apos;s own.</p>
          ) : (
            <p className="banner banner--live" role="note">
              Live: these are the settings of version {servedVersion}, the version serving now (read-only). The draft may differ: turn Live off to see and edit it.
            </p>
          )}
        </div>
      </header>
      {rest.length > 0 && (
        <ul className="inspector__problems" aria-label="Problems of the workflow">
          {rest.map((p, i) => (
            <li key={i} className="field__error">
              {p.field ? <code>{p.field}</code> : null} {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="field">
        <label htmlFor={fieldDomId(SCOPE, 'id')}>Workflow id</label>
        <input id={fieldDomId(SCOPE, 'id')} type="text" value={meta.id} readOnly aria-describedby="workflow-id-desc" />
        <p id="workflow-id-desc" className="field__desc">
          Fixed when the workflow is created; versions, logs and metrics are keyed by it.
        </p>
        {errors('id')}
      </div>
      <div className={at('name').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'name')}>Name</label>
        <input id={fieldDomId(SCOPE, 'name')} type="text" value={meta.name ?? ''} readOnly={readOnly} {...ro} onChange={(e) => set((m) => ({ ...m, name: e.target.value }), 'workflow:name')} onBlur={seal} />
        {errors('name')}
      </div>
      <fieldset className={at('route.methods').length > 0 ? 'field field--group field--problem' : 'field field--group'}>
        <legend>Methods</legend>
        <div className="checks">
          {HTTP_METHODS.map((method) => (
            <label key={method} className="check">
              <input
                type="checkbox"
                checked={methods.includes(method)}
                disabled={readOnly}
                {...ro}
                onChange={(e) => {
                  const on = e.target.checked;
                  set((m) => ({ ...m, route: { ...m.route, methods: HTTP_METHODS.filter((x) => (x === method ? on : (m.route?.methods ?? []).includes(x))) } }));
                }}
              />
              {method}
            </label>
          ))}
        </div>
        {errors('route.methods')}
      </fieldset>
      <div className={at('route.path').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'route.path')}>Route path</label>
        <input
          id={fieldDomId(SCOPE, 'route.path')}
          type="text"
          value={meta.route?.path ?? ''}
          readOnly={readOnly}
          {...ro}
          spellCheck={false}
          placeholder="/api/orders/:id"
          aria-describedby="workflow-path-desc"
          onChange={(e) => set((m) => ({ ...m, route: { ...m.route, path: e.target.value } }), 'workflow:route.path')}
          onBlur={seal}
        />
        <p id="workflow-path-desc" className="field__desc">
          <code>:name</code> captures a segment into request.params; a trailing <code>/*</code> matches the rest.
        </p>
        {errors('route.path')}
        {errors('route')}
      </div>
      <RouteConditions
        route={meta.route}
        problems={at}
        readOnly={readOnly}
        readOnlyReason={readOnlyReason}
        change={(field, value) =>
          set((m) => {
            const { [field]: _old, ...route } = m.route ?? {};
            return { ...m, route: value === undefined ? route : { ...route, [field]: value } };
          })
        }
      />
      <div className={at('start').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'start')}>Start node</label>
        <select
          id={fieldDomId(SCOPE, 'start')}
          value={meta.start ?? ''}
          disabled={readOnly}
          {...ro}
          onChange={(e) => {
            const id = e.target.value;
            set(({ start: _s, ...m }) => (id === '' ? m : { ...m, start: id }));
          }}
        >
          <option value="">{start ? `automatic (${start})` : 'automatic: the one node nothing leads into'}</option>
          {model.nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.data.label ? `${n.data.label} (${n.id})` : n.id}
            </option>
          ))}
        </select>
        {errors('start')}
      </div>
      <div className={at('description').length > 0 ? 'field field--problem' : 'field'}>
        <label htmlFor={fieldDomId(SCOPE, 'description')}>Description</label>
        <textarea
          id={fieldDomId(SCOPE, 'description')}
          rows={3}
          value={meta.description ?? ''}
          readOnly={readOnly}
          {...ro}
          onChange={(e) => {
            const text = e.target.value;
            set(({ description: _d, ...m }) => (text === '' ? m : { ...m, description: text }), 'workflow:description');
          }}
          onBlur={seal}
        />
        {errors('description')}
      </div>
      <p className="muted">
        {(meta.tests ?? []).length} sample request test{(meta.tests ?? []).length === 1 ? '' : 's'} (run before every publish; edit them in the exported JSON).
      </p>
    </section>
  );
}
