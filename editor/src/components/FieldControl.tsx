import { jsonataError } from '../forms/jsonata-check.ts';
import { withField } from '../forms/schema-form.ts';
import { describedBy, Field, fieldDomId, placeholderOf, Problems, type FieldControlProps, type FramedControlProps } from './FieldFrame.tsx';
import { JsonControl } from './JsonFieldControl.tsx';
import { ErrorPicker } from '../catalog/ErrorPicker.tsx';
import { FragmentPicker } from '../fragments/FragmentPicker.tsx';
import { JsonataInput } from './JsonataInput.tsx';
import { KeyValueControl, StringListControl } from './ListFieldControls.tsx';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * The control for one config field, chosen by schema-form.ts from the field's JSON Schema.
 * Values are the config's own: an emptied field is removed so its default applies.
 */
export function FieldControl({ spec, path, value, onChange, ctx }: FieldControlProps) {
  const id = fieldDomId(ctx.scope, path);
  const group = `${ctx.scope}:${path}`;
  const exact = spec.control !== 'object-list' && spec.control !== 'object' && spec.control !== 'string-list' && spec.control !== 'key-value';
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
    case 'catalog-error':
      // a choice of the catalog's ids (the schema's format hint), not free text
      return (
        <Field id={id} spec={spec} problems={problems}>
          <ErrorPicker id={id} value={text} onChange={set} onBlur={ctx.seal} readOnly={ctx.readOnly} readOnlyReason={ctx.readOnlyReason} describedBy={common['aria-describedby']} invalid={problems.length > 0} required={spec.required} hasProblems={problems.length > 0} />
        </Field>
      );
    case 'fragment':
      // a choice of the published fragments; choosing one fills the node's exits (its ports) too
      return (
        <Field id={id} spec={spec} problems={problems}>
          <FragmentPicker value={text} exits={ctx.config?.exits} common={common} readOnly={ctx.readOnly} onChange={(fragment, exits) => (ctx.setFields ? ctx.setFields({ [spec.name]: fragment, exits, version: undefined }, `${group}:pick`) : set(fragment))} />
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
    case 'jsonata': {
      // The input says its own syntax error as it is typed; the check's word for the same error is not repeated.
      const shown = jsonataError(text) === undefined ? problems : problems.filter((p) => p.code !== 'expression_syntax');
      return (
        <Field id={id} spec={spec} problems={shown}>
          <JsonataInput
            id={id}
            label={spec.title}
            value={text}
            readOnly={ctx.readOnly}
            readOnlyReason={ctx.readOnlyReason}
            describedBy={describedBy(id, spec, shown)}
            invalid={problems.length > 0}
            placeholder={placeholderOf(spec)}
            onChange={(v) => set(v === '' ? undefined : v)}
            onBlur={ctx.seal}
          />
        </Field>
      );
    }
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
    case 'object':
      return <ObjectControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
    case 'key-value':
      return <KeyValueControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
    case 'json':
      return <JsonControl spec={spec} path={path} value={value} onChange={onChange} ctx={ctx} id={id} problems={problems} />;
  }
}

/** "Circuit breaker" -> "Use circuit breaker": the switch of an optional group of fields. */
const switchLabel = (title: string) => `Use ${title.charAt(0).toLowerCase()}${title.slice(1)}`;

/**
 * An object of named fields (a proxy's breaker or health check): its fields in a group. An
 * optional one is switched on as a whole, since being there can mean something of itself (a
 * breaker with every default); switched off, it is removed from the config.
 */
function ObjectControl({ spec, path, value, onChange, ctx, id, problems }: FramedControlProps) {
  const object = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const group = `${ctx.scope}:${path}`;
  return (
    <Field id={id} spec={spec} problems={problems.filter((p) => p.field === path)} asGroup>
      {!spec.required && (
        <label className="object-use">
          <input id={id} type="checkbox" checked={object !== undefined} disabled={ctx.readOnly} title={ctx.readOnly ? ctx.readOnlyReason : undefined} onChange={(e) => onChange(e.target.checked ? {} : undefined, `${group}:use`)} />
          {switchLabel(spec.title)}
        </label>
      )}
      {(object !== undefined || spec.required) && (
        <div className="object-fields" id={spec.required ? id : undefined}>
          {spec.fields!.map((sub) => (
            <FieldControl key={sub.name} spec={sub} path={`${path}.${sub.name}`} value={object?.[sub.name]} ctx={ctx} onChange={(v, g) => onChange(withField(object ?? {}, sub.name, v), g)} />
          ))}
        </div>
      )}
    </Field>
  );
}

/** A list of objects (a switch's cases): each item a group of fields, movable and removable. */
function ObjectListControl({ spec, path, value, onChange, ctx, id, problems }: FramedControlProps) {
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
