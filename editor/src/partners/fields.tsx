import { useState, type ReactNode } from 'react';

/** Its message under a field, tied to the input by aria-describedby, or the hint when all is well. */
function Help({ id, error, hint }: { id: string; error: string | undefined; hint: ReactNode | undefined }) {
  if (error) return <p id={`${id}-help`} className="field__error">{error}</p>;
  return hint ? <p id={`${id}-help`} className="field__desc">{hint}</p> : null;
}

/** What a field's message says, with the field named: "Name must not be empty." */
export const sentence = (label: string, message: string | undefined) => {
  if (!message) return undefined;
  const end = /[.!?]$/.test(message) ? '' : '.';
  // "must not be empty" reads after the field's name; a whole sentence ('client id "x" identifies partner "y" already') stands alone
  return /^(must|is|are|needs|has|does|should|cannot)\b/.test(message) ? `${label} ${message}${end}` : `${message.charAt(0).toUpperCase()}${message.slice(1)}${end}`;
};

export interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string | undefined;
  hint?: ReactNode;
  type?: 'text' | 'number' | 'datetime-local';
  disabled?: boolean;
  autoFocus?: boolean;
  placeholder?: string;
  min?: string;
}

/** A labelled input with its message: red and announced when the value is refused. */
export function TextField({ id, label, value, onChange, error, hint, type = 'text', disabled, autoFocus, placeholder, min }: TextFieldProps) {
  const message = sentence(label, error);
  return (
    <div className={message ? 'field field--problem' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={value} min={min} disabled={disabled} autoFocus={autoFocus} placeholder={placeholder} spellCheck={false} aria-invalid={message ? true : undefined} aria-describedby={message || hint ? `${id}-help` : undefined} onChange={(e) => onChange(e.target.value)} />
      <Help id={id} error={message} hint={hint} />
    </div>
  );
}

export interface ChipsFieldProps {
  id: string;
  /** The field's name, e.g. "Scopes"; one entry is named by `item`, e.g. "scope". */
  label: string;
  item: string;
  values: readonly string[];
  onChange(values: string[]): void;
  suggestions?: readonly string[];
  /** What the suggestions are, e.g. "Used by workflows:". */
  suggestLabel?: string;
  error?: string | undefined;
  hint?: ReactNode;
  placeholder?: string;
}

/**
 * A list of short texts as chips: type one and press Enter (or Add), remove one with its ×,
 * or take a suggestion. Duplicates are ignored.
 */
export function ChipsField({ id, label, item, values, onChange, suggestions = [], suggestLabel = 'Suggested:', error, hint, placeholder }: ChipsFieldProps) {
  const [text, setText] = useState('');
  const add = (value: string) => {
    const v = value.trim();
    if (v !== '' && !values.includes(v)) onChange([...values, v]);
    setText('');
  };
  const offered = suggestions.filter((s) => !values.includes(s));
  const message = sentence(label, error);
  return (
    <div className={message ? 'field field--problem' : 'field'} role="group" aria-labelledby={`${id}-label`}>
      <label id={`${id}-label`} htmlFor={id}>
        {label}
      </label>
      {values.length > 0 && (
        <ul className="chips" aria-label={`${label} chosen`}>
          {values.map((v) => (
            <li key={v} className="chip chip--entry">
              <span>{v}</span>
              <button type="button" className="chips__remove" aria-label={`Remove ${item} ${v}`} onClick={() => onChange(values.filter((x) => x !== v))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="chips__entry">
        <input
          id={id}
          type="text"
          value={text}
          placeholder={placeholder}
          spellCheck={false}
          aria-invalid={message ? true : undefined}
          aria-describedby={message || hint ? `${id}-help` : undefined}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' || e.key === ',') {
              e.preventDefault();
              add(text);
            }
          }}
          onBlur={() => add(text)}
        />
        <button type="button" onClick={() => add(text)} disabled={text.trim() === ''}>
          Add
        </button>
      </div>
      {offered.length > 0 && (
        <div className="chips__suggest">
          <span className="muted small">{suggestLabel}</span>
          {offered.map((s) => (
            <button key={s} type="button" className="small" aria-label={`Add ${item} ${s}`} onClick={() => add(s)}>
              + {s}
            </button>
          ))}
        </div>
      )}
      <Help id={id} error={message} hint={hint} />
    </div>
  );
}

/** The refusal of a dialog's form, in words: what the API or the checks said. */
export function FormError({ message }: { message: string | undefined }) {
  return message ? (
    <p className="field__error" role="alert">
      {message}
    </p>
  ) : null;
}
