import { useEffect, useRef, useState } from 'react';
import { Field, fieldDomId, type FramedControlProps } from './FieldFrame.tsx';

/** A list of strings: a text box per item, each removable, and one to add. */
export function StringListControl({ spec, path, value, onChange, ctx, id, problems }: FramedControlProps) {
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

type Row = { key: string; value: string };
const rowsOf = (value: unknown): Row[] => (typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value).map(([key, v]) => ({ key, value: typeof v === 'string' ? v : JSON.stringify(v) })) : []);
const objectOf = (rows: Row[]) => Object.fromEntries(rows.filter((r) => r.key !== '').map((r) => [r.key, r.value]));

/** Names and values (headers, variables): a pair of text boxes per row. */
export function KeyValueControl({ spec, path, value, onChange, ctx, id, problems }: FramedControlProps) {
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
