import { useLayoutEffect, useMemo, useRef } from 'react';
import { jsonataError } from '../forms/jsonata-check.ts';

export interface JsonataInputProps {
  id: string;
  value: string;
  onChange(value: string): void;
  onBlur(): void;
  readOnly: boolean;
  describedBy: string | undefined;
  invalid: boolean;
  readOnlyReason: string | undefined;
  placeholder: string | undefined;
}

/**
 * A JSONata expression field that parses as you type (in the browser, with the same jsonata
 * package the gateway uses) and marks where parsing failed: the text sits over a backdrop that
 * highlights the offending character.
 */
export function JsonataInput(props: JsonataInputProps) {
  const { id, value } = props;
  const error = useMemo(() => jsonataError(value), [value]);
  const backdrop = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    if (backdrop.current && area.current) backdrop.current.scrollTop = area.current.scrollTop;
  });
  // JSONata reports the position after the token it choked on; mark that token's last character.
  const at = error?.position === undefined ? undefined : Math.max(0, Math.min(value.length, error.position) - 1);
  const errorId = `${id}-syntax`;
  const describedBy = [props.describedBy, error ? errorId : undefined].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'jsonata jsonata--error' : 'jsonata'}>
      <div className="jsonata__box">
        <div className="jsonata__backdrop" ref={backdrop} aria-hidden="true">
          {at === undefined ? (
            value
          ) : (
            <>
              {value.slice(0, at)}
              <mark>{value.slice(at, at + 1) || ' '}</mark>
              {value.slice(at + 1)}
            </>
          )}
          {'\n'}
        </div>
        <textarea
          id={id}
          ref={area}
          className="jsonata__text"
          spellCheck={false}
          rows={Math.min(8, Math.max(2, value.split('\n').length))}
          value={value}
          readOnly={props.readOnly}
          title={props.readOnly ? props.readOnlyReason : undefined}
          aria-invalid={error !== undefined || props.invalid}
          aria-describedby={describedBy}
          placeholder={props.placeholder}
          onChange={(e) => props.onChange(e.target.value)}
          onScroll={(e) => backdrop.current && (backdrop.current.scrollTop = e.currentTarget.scrollTop)}
          onBlur={props.onBlur}
        />
      </div>
      {error && (
        <p id={errorId} className="field__error" role="alert">
          JSONata syntax: {error.message}
          {error.position === undefined ? '' : ` (at character ${error.position})`}
        </p>
      )}
    </div>
  );
}
