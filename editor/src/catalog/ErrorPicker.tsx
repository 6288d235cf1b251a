import { useState } from 'react';
import { useCatalog } from './useCatalog.ts';

export interface ErrorPickerProps {
  id: string;
  value: string;
  onChange(value: string | undefined): void;
  onBlur(): void;
  readOnly: boolean;
  readOnlyReason: string | undefined;
  describedBy: string | undefined;
  invalid: boolean;
  required: boolean;
  /** The field has problems of its own (the server's "not in the error catalog"): the picker does not say it again. */
  hasProblems: boolean;
}

/** Most options listed at once; typing narrows them. */
const SHOWN = 50;

/**
 * A catalog error id, chosen from the catalog: a combobox that lists the ids (with status and
 * title) matching what is typed. Arrow keys move through the list, Enter picks, Escape closes,
 * Tab moves on. Any text can still be typed; an id the catalog lacks is said under the field.
 */
export function ErrorPicker(props: ErrorPickerProps) {
  const { id, value } = props;
  const catalog = useCatalog();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const entries = catalog ? Object.entries(catalog.errors) : [];
  const query = value.toLowerCase();
  const exact = entries.some(([k]) => k === value);
  // with a known id chosen, the whole list is offered; while typing, what matches
  const matches = (exact ? entries : entries.filter(([k, e]) => `${k} ${e.status} ${e.title}`.toLowerCase().includes(query))).slice(0, SHOWN);
  const listId = `${id}-choices`;
  const chosen = catalog?.errors[value];
  const pick = (choice: string) => {
    props.onChange(choice);
    setOpen(false);
  };
  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (props.readOnly) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) return setOpen(true);
      setActive((a) => (matches.length === 0 ? 0 : (a + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length));
    } else if (e.key === 'Enter' && open && matches[active]) {
      e.preventDefault();
      pick(matches[active][0]);
    } else if (e.key === 'Escape' && open) {
      e.stopPropagation();
      setOpen(false);
    } else if (e.key === 'Tab') setOpen(false);
  };
  const shownList = open && !props.readOnly && matches.length > 0;
  const noteId = `${id}-entry`;
  return (
    <div className="picker">
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        aria-autocomplete="list"
        aria-expanded={shownList}
        aria-controls={listId}
        aria-activedescendant={shownList ? `${listId}-${active}` : undefined}
        aria-describedby={[props.describedBy, noteId].filter(Boolean).join(' ')}
        aria-invalid={props.invalid || (catalog !== undefined && value !== '' && !exact) || undefined}
        aria-required={props.required || undefined}
        title={props.readOnly ? props.readOnlyReason : undefined}
        readOnly={props.readOnly}
        placeholder={catalog ? 'Search the catalog: id, status or title' : 'error_id'}
        value={value}
        onChange={(e) => {
          props.onChange(e.target.value === '' ? undefined : e.target.value.trim());
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setActive(0)}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={onKeyDown}
        onBlur={() => {
          setOpen(false);
          props.onBlur();
        }}
      />
      {shownList && (
        <ul id={listId} role="listbox" className="picker__list" aria-label="Catalog errors">
          {matches.map(([k, entry], i) => (
            <li
              key={k}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'picker__option picker__option--active' : 'picker__option'}
              // keeps the focus in the input, so its blur does not close the list before the click
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(k)}
            >
              <code>{k}</code> <span className="picker__status">{entry.status}</span> {entry.title}
            </li>
          ))}
        </ul>
      )}
      <p id={noteId} className="field__note">
        {chosen ? (
          <>
            Answers {chosen.status} {chosen.title}
            {chosen.detail ? `: ${chosen.detail}` : ''}
          </>
        ) : catalog && value !== '' && !props.hasProblems ? (
          <span className="field__error">"{value}" is not in the error catalog (see Errors in the top bar).</span>
        ) : null}
      </p>
    </div>
  );
}
