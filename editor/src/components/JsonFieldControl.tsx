import { useEffect, useRef, useState } from 'react';
import { describedBy, Field, type FramedControlProps } from './FieldFrame.tsx';

const format = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));

/** Any JSON value, as text: kept as typed until it parses, with the parse error shown meanwhile. */
export function JsonControl({ spec, path, value, onChange, ctx, id, problems }: FramedControlProps) {
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
