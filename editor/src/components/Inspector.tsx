import { useContext, useEffect, useMemo, useState } from 'react';
import { article } from '../../../shared/compile/index.ts';
import type { ValidationProblem } from '../api/types.ts';
import { KindsContext } from '../editor-context.ts';
import { connectionProblem } from '../graph/connection.ts';
import type { FlowModel, FlowNode } from '../graph/convert.ts';
import { NODE_ID } from '../graph/ids.ts';
import { connect, disconnect, rename, updateData, updateMeta } from '../graph/operations.ts';
import { portsOf, unwiredText } from '../graph/ports.ts';
import { fieldsOf, withField } from '../forms/schema-form.ts';
import { FieldControl } from './FieldControl.tsx';
import { fieldDomId, type FieldContext } from './FieldFrame.tsx';

export interface InspectorProps {
  node: FlowNode;
  model: FlowModel;
  start: string | undefined;
  problems: ValidationProblem[];
  readOnly: boolean;
  readOnlyReason: string | undefined;
  commit(change: (m: FlowModel) => FlowModel, group?: string): void;
  seal(): void;
  onDuplicate(): void;
  onDelete(): void;
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** Problems of one scope by field path: exactly the field, or (for lists) anything inside it. */
function problemFinder(problems: ValidationProblem[]) {
  return (path: string, exact: boolean) => problems.filter((p) => p.field === path || (!exact && p.field?.startsWith(`${path}.`)));
}

/** The selected node: its id, label, start flag, config form (from its kind's JSON Schema) and ports. */
export function Inspector({ node, model, start, problems, readOnly, readOnlyReason, commit, seal, onDuplicate, onDelete }: InspectorProps) {
  const kinds = useContext(KindsContext);
  const info = kinds.get(node.data.kind);
  const fields = useMemo(() => (info ? fieldsOf(info.configSchema) : []), [info]);
  const mine = useMemo(() => problems.filter((p) => p.node === node.id), [problems, node.id]);
  const ctx: FieldContext = { scope: node.id, readOnly, readOnlyReason, problemsAt: problemFinder(mine), seal, config: node.data.config, setFields: (values, group) => commit((m) => withFields(m, node.id, values), group) };
  const config = node.data.config;
  const ports = portsOf(node.data.kind, config);
  const shown = new Set<string>([...fields.map((f) => `config.${f.name}`), ...ports.map((p) => `ports.${p.name}`)]);
  const other = mine.filter((p) => !p.field || ![...shown].some((f) => p.field === f || p.field!.startsWith(`${f}.`)));
  const ro = readOnly ? { title: readOnlyReason, 'aria-description': readOnlyReason } : {};

  return (
    <section className="inspector" aria-label={`Inspector: ${node.id}`}>
      <header className="inspector__head">
        <div>
          <h2>{info?.title ?? node.data.kind}</h2>
          <p className="muted">{info?.description ?? `Unknown kind "${node.data.kind}": this gateway has no such node kind.`}</p>
        </div>
      </header>

      {other.length > 0 && (
        <ul className="inspector__problems" aria-label="Problems of this node">
          {other.map((p, i) => (
            <li key={i} className="field__error">
              {p.message}
            </li>
          ))}
        </ul>
      )}

      <IdField node={node} model={model} readOnly={readOnly} readOnlyReason={readOnlyReason} commit={commit} problems={ctx.problemsAt('id', true)} />
      <div className="field">
        <label htmlFor={fieldDomId(node.id, 'label')}>Label</label>
        <input
          id={fieldDomId(node.id, 'label')}
          type="text"
          value={node.data.label ?? ''}
          readOnly={readOnly}
          placeholder="What this step is for"
          {...ro}
          onChange={(e) => {
            const label = e.target.value;
            commit((m) => updateData(m, node.id, ({ label: _old, ...rest }) => (label === '' ? rest : { ...rest, label })), `${node.id}:label`);
          }}
          onBlur={seal}
        />
      </div>
      <div className="field field--checkbox">
        <label>
          <input
            type="checkbox"
            checked={model.meta.start === node.id}
            disabled={readOnly}
            {...ro}
            onChange={(e) => {
              const on = e.target.checked;
              commit((m) => updateMeta(m, ({ start: _s, ...rest }) => (on ? { ...rest, start: node.id } : rest)));
            }}
          />
          Requests start here
        </label>
        <p className="field__desc">{start === node.id && model.meta.start !== node.id ? 'This is the start already: the only node nothing leads into.' : 'Without it, the start is the one node nothing leads into.'}</p>
      </div>

      {fields.length > 0 && (
        <fieldset className="inspector__config">
          <legend>Configuration</legend>
          {fields.map((spec) => (
            <FieldControl
              key={spec.name}
              spec={spec}
              path={`config.${spec.name}`}
              value={config[spec.name]}
              ctx={ctx}
              onChange={(value, group) => commit((m) => updateData(m, node.id, (d) => ({ ...d, config: withField(d.config, spec.name, value) })), group)}
            />
          ))}
        </fieldset>
      )}

      {ports.length > 0 && (
        <fieldset className="inspector__ports">
          <legend>Ports</legend>
          {info?.terminal ? (
            <p className="muted">
              {capitalized(article(info.title))} {info.title.toLowerCase()} node ends the request: nothing follows it.
            </p>
          ) : (
            ports.map((port) => {
              const edge = model.edges.find((e) => e.source === node.id && e.sourceHandle === port.name);
              const id = fieldDomId(node.id, `ports.${port.name}`);
              const portProblems = ctx.problemsAt(`ports.${port.name}`, true);
              const graph = { nodes: model.nodes, edges: model.edges.filter((e) => e !== edge), start: model.meta.start };
              const targets = model.nodes.filter((n) => n.id === edge?.target || connectionProblem({ source: node.id, sourceHandle: port.name, target: n.id }, graph, kinds.isTerminal) === undefined);
              return (
                <div key={port.name} className={portProblems.length > 0 ? 'field field--problem' : 'field'}>
                  <label htmlFor={id}>
                    Port <code>{port.name}</code> leads to
                  </label>
                  <select
                    id={id}
                    value={edge?.target ?? ''}
                    disabled={readOnly}
                    {...ro}
                    aria-invalid={portProblems.length > 0 || undefined}
                    aria-describedby={`${id}-desc`}
                    onChange={(e) => {
                      const to = e.target.value;
                      commit((m) => (to === '' ? disconnect(m, node.id, port.name) : connect(disconnect(m, node.id, port.name), node.id, port.name, to)));
                    }}
                  >
                    <option value="">{port.unwired === 'required' ? 'not wired (must be wired)' : `not wired: ${unwiredText(port)}`}</option>
                    {targets.map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.data.label ? `${t.data.label} (${t.id})` : t.id}
                      </option>
                    ))}
                  </select>
                  <p id={`${id}-desc`} className="field__desc">
                    {port.description}
                  </p>
                  {portProblems.map((p, i) => (
                    <p key={i} className="field__error">
                      {p.message}
                    </p>
                  ))}
                </div>
              );
            })
          )}
        </fieldset>
      )}

      <div className="inspector__actions">
        <button type="button" onClick={onDuplicate} disabled={readOnly} {...ro}>
          Duplicate node
        </button>
        <button type="button" className="danger" onClick={onDelete} disabled={readOnly} {...ro}>
          Delete node
        </button>
      </div>
    </section>
  );
}

/** The node with several config fields set (undefined removes one); edges from ports the new config no longer has are dropped. */
function withFields(model: FlowModel, id: string, values: Record<string, unknown>): FlowModel {
  const next = updateData(model, id, (d) => ({ ...d, config: Object.entries(values).reduce((config, [name, value]) => withField(config, name, value), d.config) }));
  const node = next.nodes.find((n) => n.id === id);
  if (!node) return next;
  const ports = new Set(portsOf(node.data.kind, node.data.config).map((p) => p.name));
  const edges = next.edges.filter((e) => e.source !== id || ports.has(e.sourceHandle ?? ''));
  return edges.length === next.edges.length ? next : { ...next, edges };
}

/** Renaming a node is applied when the field is left (or Enter): ids are referenced by edges. */
function IdField({ node, model, readOnly, readOnlyReason, commit, problems }: { node: FlowNode; model: FlowModel; readOnly: boolean; readOnlyReason: string | undefined; commit: InspectorProps['commit']; problems: ValidationProblem[] }) {
  const [text, setText] = useState(node.id);
  useEffect(() => setText(node.id), [node.id]);
  const taken = text !== node.id && model.nodes.some((n) => n.id === text);
  const error = !NODE_ID.test(text) ? 'An id is 1-64 characters of a-z, 0-9, "-" or "_", starting with a letter or digit.' : taken ? `"${text}" is the id of another node.` : undefined;
  const id = fieldDomId(node.id, 'id');
  const apply = () => {
    if (error || text === node.id) return setText(node.id);
    commit((m) => rename(m, node.id, text));
  };
  return (
    <div className={error || problems.length > 0 ? 'field field--problem' : 'field'}>
      <label htmlFor={id}>Node id</label>
      <input
        id={id}
        type="text"
        value={text}
        readOnly={readOnly}
        title={readOnly ? readOnlyReason : undefined}
        aria-invalid={error !== undefined || problems.length > 0 || undefined}
        aria-describedby={`${id}-desc`}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => e.key === 'Enter' && apply()}
      />
      <p id={`${id}-desc`} className="field__desc">
        Names this step in problems, logs and traces.
      </p>
      {(error ? [error] : problems.map((p) => p.message)).map((m, i) => (
        <p key={i} className="field__error">
          {m}
        </p>
      ))}
    </div>
  );
}
