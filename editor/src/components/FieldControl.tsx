import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ValidationProblem } from '../api/types.ts';
import type { FieldSpec } from '../forms/schema-form.ts';
import { withField } from '../forms/schema-form.ts';
import { JsonataInput } from './JsonataInput.tsx';

/** The DOM id of a field, so a problem in the problems panel can move focus to it. */
export function fieldDomId(scope: string, path: string): string {
  return `field-${scope}-${path}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface FieldContext {
  /** Node id (or "workflow"), for DOM ids and undo groups. */
  scope: string;
  readOnly: boolean;
  readOnlyReason: string | undefined;
  /** Problems whose field is this path or inside it. */
  problemsAt(path: string, exact: boolean): ValidationProblem[];
  /** Ends the typing group (the field lost focus). */
  seal(): void;
}

export interface FieldControlProps {
  spec: FieldSpec;
  /** Problem path of the field, e.g. `config.cases.0.when`. */
  path: string;
  value: unknown;
  /** A change; `group` merges keystrokes in one field into one undo step. */
  onChange(value: unknown, group: string): void;
  ctx: FieldContext;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** zod says "expected string, received undefined" for a missing field; a person reads "Required". */
const readable = (message: string) => (/received undefined$/.test(message) ? 'Required.' : message);

function Problems({ id, problems }: { id: string; problems: ValidationProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <ul id={id} className="field__problems">
      {problems.map((p, i) => (
        <li key={i} className="field__error">
          {readable(p.message)}
        </li>
      ))}
    </ul>
  );
}

/** Label, description and problems around one control. */
function Field({ id, spec, problems, children, asGroup }: { id: string; spec: FieldSpec; problems: ValidationProblem[]; children: ReactNode; asGroup?: boolean }) {
  const title = (
    <>
      {spec.title}
      {spec.required && <span className="field__required" aria-hidden="true"> *</span>}
    </>
  );
  const hint = spec.description ? <p id={`${id}-desc`} className="field__desc">{spec.description}</p> : null;
  if (asGroup)
    return (
      <fieldset className={problems.length > 0 ? 'field field--group field--problem' : 'field field--group'} aria-describedby={spec.description ? `${id}-desc` : undefined}>
        <legend>{title}</legend>
        {hint}
        {children}
        <Problems id={`${id}-problems`} problems={problems} />
      </fieldset>
    );
  return (
    <div className={problems.length > 0 ? 'field field--problem' : 'field'}>
      <label htmlFor={id}>{title}</label>
      {children}
      {hint}
      <Problems id={`${id}-problems`} problems={problems} />
    </div>
  );
}

const describedBy = (id: string, spec: FieldSpec, problems: ValidationProblem[]) =>
  [spec.description ? `${id}-desc` : '', problems.length > 0 ? `${id}-problems` : ''].filter(Boolean).join(' ') || undefined;

const placeholderOf = (spec: FieldSpec) =>
  spec.default !== undefined && typeof spec.default !== 'object' ? `default: ${String(spec.default)}` : spec.control === 'duration' ? 'e.g. 500ms, 10s, 1m' : undefined;

/**
 * The control for one config field, chosen by schema-form.ts from the field's JSON Schema.
 * Values are the config's own: an emptied field is removed so its default applies.
 */
export function FieldControl({ spec, path, value, onChange, ctx }: FieldControlProps) {
  const id = fieldDomId(ctx.scope, path);
  const group = `${ctx.scope}:${path}`;
  const exact = spec.control !== 'object-list' && spec.control !== 'string-list' && spec.control !== 'key-value';
  const problems = ctx.problemsAt(path, exact);
  const common = {
    id,
    'aria-describedby': describedBy(id, spec, problems),
    'aria-invalid': problems.length > 0 || undefined,
    'aria-required': spec.required || undefined,
    title: ctx.readOnly ? ctx.readOnlyReason : undefined,
    'aria-description': ctx.readOnly ? ctx.readOnlyReason : undefined,
    onBlur: ctx.seal,
  };
  const set = (v: unknown) => onChange(v, group);
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);

  switch (spec.control) {
    case 'text':
    case 'url':
      return (
        <Field id={id} spec={spec} problems={problems}>
          <input {...common} type={spec.control === 'url' ? 'url' : 'text'} value={text} readOnly={ctx.readOnly} placeholder={placeholderOf(spec)} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)} />
        </Field>
      );
    case 'secret-env':
      return (
        <Field id={id} spec={spec} problems={problems}>
          <div className="input-affix">
            <span aria-hidden="true">$</span>
            <input
              {...common}
              type="text"
              autoComplete="off"
              spellCheck={false}
              value={text}
              readOnly={ctx.readOnly}
              placeholder="ENV_VAR_NAME"
              onChange={(e) => set(e.target.value === '' ? undefined : e.target.value.toUpperCase().replace(/[^A-Z0-9_]/g, '_'))}
            />
          </div>
          <p className="field__note">The name of an environment variable of the gateway. Never paste the secret itself: workflows are stored and audited in clear.</p>
        </Field>
      );
    case 'duration': {
      const bad = text !== '' && !DURATION.test(text);
      return (
        <Field id={id} spec={spec} problems={problems}>
          <input {...common} type="text" inputMode="text" value={text} readOnly={ctx.readOnly} placeholder={placeholderOf(spec)} aria-invalid={bad || problems.length > 0 || undefined} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value.trim())} />
          {bad && problems.length === 0 && <p className="field__error">A duration is a number and a unit: 500ms, 10s, 1m, 1h or 1d.</p>}
        </Field>
      );
    }
    case 'integer':
    case 'number':
      return (
        <Field id={id} spec={spec} problems={problems}>
          <input
            {...common}
            type="number"
            step={spec.control === 'integer' ? 1 : 'any'}
            min={spec.minimum}
            max={spec.maximum}
            value={typeof value === 'number' ? value : ''}
            readOnly={ctx.readOnly}
            placeholder={placeholderOf(spec)}
            onChange={(e) => set(e.target.value === '' || Number.isNaN(e.target.valueAsNumber) ? undefined : e.target.valueAsNumber)}
          />
        </Field>
      );
    case 'integer-or-word': {
      // a number, or one of the words the schema allows (rate-limit's "plan")
      const shown = typeof value === 'number' ? String(value) : text;
      return (
        <Field id={id} spec={spec} problems={problems}>
          <input {...common} type="text" inputMode="numeric" list={`${id}-words`} value={shown} readOnly={ctx.readOnly} placeholder={`a number or ${spec.options!.map((w) => `"${w}"`).join(', ')}`} onChange={(e) => set(e.target.value === '' ? undefined : /^\d+$/.test(e.target.value.trim()) ? Number(e.target.value.trim()) : e.target.value.trim())} />
          <datalist id={`${id}-words`}>{spec.options!.map((w) => <option key={w} value={w} />)}</datalist>
        </Field>
      );
    }
    case 'checkbox': {
      const checked = typeof value === 'boolean' ? value : spec.default === true;
      return (
        <div className="field field--checkbox">
          <label>
            <input {...common} type="checkbox" checked={checked} disabled={ctx.readOnly} onChange={(e) => set(e.target.checked)} />
            {spec.title}
          </label>
          {spec.description && <p id={`${id}-desc`} className="field__desc">{spec.description}</p>}
          <Problems id={`${id}-problems`} problems={problems} />
        </div>
      );
    }
    case 'select':
      return (
        <Field id={id} spec={spec} problems={problems}>
          <select {...common} value={text} disabled={ctx.readOnly} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)}>
            {!spec.required && <option value="">{spec.default !== undefined ? `default (${String(spec.default)})` : '—'}</option>}
            {spec.required && text === '' && <option value="">Choose…</option>}
            {spec.options!.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Field>
      );
    case 'jsonata':
      return (
        <Field id={id} spec={spec} problems={problems}>
          <JsonataInput
            id={id}
            value={text}
            readOnly={ctx.readOnly}
            readOnlyReason={ctx.readOnlyReason}
            describedBy={describedBy(id, spec, problems)}
            invalid={problems.length > 0}
            placeholder={placeholderOf(spec)}
            onChange={(v) => set(v === '' ? undefined : v)}
            onBlur={ctx.seal}
          />
        </Field>
      );
    case 'multi-select': {
      const chosen = Array.isArray(value) ? (value as string[]) : Array.isArray(spec.default) ? (spec.default as string[]) : [];
      return (
        <Field id={id} spec={spec} problems={problems} asGroup>
          <div className="checks" id={id}>
            {spec.options!.map((o) => (
              <label key={o} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(o)}
                  disabled={ctx.readOnly}
                  title={ctx.readOnly ? ctx.readOnlyReason : undefined}
                  onChange={(e) => set(e.target.checked ? spec.options!.filter((x) => x === o || chosen.includes(x)) : chosen.filter((x) => x !== o))}
                />
                {o}
              </label>
            ))}
          </div>
        </Field>
      );
    }
    case 'string-list':
      return <StringListControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
    case 'object-list':
      return <ObjectListControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
    case 'key-value':
      return <KeyValueControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
    case 'json':
      return <JsonControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
  }
}

type ListProps = FieldControlProps & { id: string; problems: ValidationProblem[] };

function StringListControl({ spec, path, value, onChange, ctx, id, problems }: ListProps) {
  const items = Array.isArray(value) ? (value as unknown[]).map((v) => (typeof v === 'string' ? v : String(v))) : [];
  const group = `${ctx.scope}:${path}`;
  return (
    <Field id={id} spec={spec} problems={problems} asGroup>
      <ul className="list" id={id}>
        {items.map((item, i) => {
          const itemProblems = ctx.problemsAt(`${path}.${i}`, true);
          return (
            <li key={i} className="list__row">
              <input
                id={fieldDomId(ctx.scope, `${path}.${i}`)}
                type="text"
                aria-label={`${spec.title} ${i + 1}`}
                aria-invalid={itemProblems.length > 0 || undefined}
                value={item}
                readOnly={ctx.readOnly}
                title={ctx.readOnly ? ctx.readOnlyReason : itemProblems.map((p) => p.message).join('\n') || undefined}
                onChange={(e) => onChange(items.map((x, j) => (j === i ? e.target.value : x)), `${group}.${i}`)}
                onBlur={ctx.seal}
              />
              <button type="button" className="icon-button" aria-label={`Remove ${spec.title} ${i + 1}`} disabled={ctx.readOnly} onClick={() => onChange(items.filter((_, j) => j !== i), `${group}:remove`)}>
                ×
              </button>
            </li>
          );
        })}
      </ul>
      <button type="button" className="small" disabled={ctx.readOnly} title={ctx.readOnly ? ctx.readOnlyReason : undefined} onClick={() => onChange([...items, ''], `${group}:add`)}>
        Add to {spec.title}
      </button>
    </Field>
  );
}

function ObjectListControl({ spec, path, value, onChange, ctx, id, problems }: ListProps) {
  const items = Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
  const group = `${ctx.scope}:${path}`;
  const setItem = (i: number, item: Record<string, unknown>, g: string) => onChange(items.map((x, j) => (j === i ? item : x)), g);
  const move = (i: number, by: number) => {
    const next = [...items];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    onChange(next, `${group}:move`);
  };
  const singular = spec.title.replace(/s$/, '');
  return (
    <Field id={id} spec={spec} problems={problems.filter((p) => p.field === path)} asGroup>
      <ol className="object-list" id={id}>
        {items.map((item, i) => (
          <li key={i} className="object-list__item">
            <div className="object-list__head">
              <span>
                {singular} {i + 1}
              </span>
              <span className="object-list__actions">
                <button type="button" className="icon-button" aria-label={`Move ${singular} ${i + 1} up`} disabled={ctx.readOnly || i === 0} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button type="button" className="icon-button" aria-label={`Remove ${singular} ${i + 1}`} disabled={ctx.readOnly} onClick={() => onChange(items.filter((_, j) => j !== i), `${group}:remove`)}>
                  ×
                </button>
              </span>
            </div>
            {spec.fields!.map((sub) => (
              <FieldControl
                key={sub.name}
                spec={{ ...sub, title: `${sub.title}` }}
                path={`${path}.${i}.${sub.name}`}
                value={item?.[sub.name]}
                ctx={ctx}
                onChange={(v, g) => setItem(i, withField(item ?? {}, sub.name, v), g)}
              />
            ))}
          </li>
        ))}
      </ol>
      <button type="button" className="small" disabled={ctx.readOnly} title={ctx.readOnly ? ctx.readOnlyReason : undefined} onClick={() => onChange([...items, {}], `${group}:add`)}>
        Add {singular.toLowerCase()}
      </button>
    </Field>
  );
}

type Row = { key: string; value: string };
const rowsOf = (value: unknown): Row[] => (typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : JSON.stringify(v) })) : []);
const objectOf = (rows: Row[]) => Object.fromEntries(rows.filter((r) => r.key !== '').map((r) => [r.key, r.value]));

function KeyValueControl({ spec, path, value, onChange, ctx, id, problems }: ListProps) {
  // Rows are kept locally: while a key is being typed it may be empty or repeat another.
  const [rows, setRows] = useState<Row[]>(() => rowsOf(value));
  const last = useRef(JSON.stringify(objectOf(rows)));
  useEffect(() => {
    const text = JSON.stringify(value ?? {});
    if (text !== last.current) {
      last.current = text;
      setRows(rowsOf(value));
    }
  }, [value]);
  const group = `${ctx.scope}:${path}`;
  const update = (next: Row[], g: string) => {
    setRows(next);
    const object = objectOf(next);
    last.current = JSON.stringify(object);
    onChange(Object.keys(object).length === 0 ? undefined : object, g);
  };
  return (
    <Field id={id} spec={spec} problems={problems} asGroup>
      <ul className="list" id={id}>
        {rows.map((row, i) => (
          <li key={i} className="list__row list__row--pair">
            <input type="text" aria-label={`${spec.title} name ${i + 1}`} value={row.key} readOnly={ctx.readOnly} placeholder="name" onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, key: e.target.value } : r)), `${group}.${i}.key`)} onBlur={ctx.seal} />
            <input type="text" aria-label={`${spec.title} value ${i + 1}`} value={row.value} readOnly={ctx.readOnly} placeholder="value" onChange={(e) => update(rows.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)), `${group}.${i}.value`)} onBlur={ctx.seal} />
            <button type="button" className="icon-button" aria-label={`Remove ${spec.title} ${i + 1}`} disabled={ctx.readOnly} onClick={() => update(rows.filter((_, j) => j !== i), `${group}:remove`)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="small" disabled={ctx.readOnly} title={ctx.readOnly ? ctx.readOnlyReason : undefined} onClick={() => setRows([...rows, { key: '', value: '' }])}>
        Add to {spec.title}
      </button>
    </Field>
  );
}

function JsonControl({ spec, path, value, onChange, ctx, id, problems }: ListProps) {
  const format = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  const [text, setText] = useState(() => format(value));
  const [error, setError] = useState<string | undefined>();
  const last = useRef(JSON.stringify(value));
  useEffect(() => {
    const current = JSON.stringify(value);
    if (current !== last.current) {
      last.current = current;
      setText(format(value));
      setError(undefined);
    }
  }, [value]);
  const group = `${ctx.scope}:${path}`;
  return (
    <Field id={id} spec={spec} problems={problems}>
      <textarea
        id={id}
        className="code"
        spellCheck={false}
        rows={Math.min(10, Math.max(3, text.split('\n').length))}
        value={text}
        readOnly={ctx.readOnly}
        title={ctx.readOnly ? ctx.readOnlyReason : undefined}
        aria-invalid={error !== undefined || problems.length > 0 || undefined}
        aria-describedby={describedBy(id, spec, problems)}
        placeholder="JSON"
        onBlur={ctx.seal}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setError(undefined);
            last.current = JSON.stringify(undefined);
            onChange(undefined, group);
            return;
          }
          try {
            const parsed: unknown = JSON.parse(e.target.value);
            setError(undefined);
            last.current = JSON.stringify(parsed);
            onChange(parsed, group);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      />
      {error && <p className="field__error">Not JSON yet: {error}</p>}
    </Field>
  );
}
