import { useContext } from 'react';
import { describeError } from '../api/client.ts';
import { fragmentHref } from '../hooks/useHashRoute.ts';
import { FragmentsContext } from './fragments-context.ts';

export interface FragmentPickerProps {
  value: string;
  /** The node's exits now, compared with the chosen fragment's. */
  exits: unknown;
  /** The field's shared attributes (its DOM id, described-by, invalid, required, read-only reason). */
  common: Record<string, unknown>;
  readOnly: boolean;
  /** A fragment chosen, with its exits: the node's ports. */
  onChange(fragment: string, exits: string[]): void;
}

/**
 * A subflow node's fragment: a choice of the published fragments (a draft-only one cannot be
 * inlined yet), and a link that opens the chosen one in its own editor.
 */
export function FragmentPicker({ value, exits, common, readOnly, onChange }: FragmentPickerProps) {
  const fragments = useContext(FragmentsContext);
  const list = fragments.status === 'ready' ? fragments.value : [];
  const published = list.filter((f) => f.activeVersion !== null);
  const known = value === '' || published.some((f) => f.id === value);
  // A fragment published since with other exits: the node takes them in one step (its workflow must then wire them).
  const chosen = published.find((f) => f.id === value);
  const theirs = chosen?.exits.map((x) => x.name) ?? [];
  const differ = chosen !== undefined && (!Array.isArray(exits) || exits.length !== theirs.length || theirs.some((name) => !exits.includes(name)));
  return (
    <>
      <div className="fragment-picker">
        <select
          {...common}
          value={value}
          disabled={readOnly}
          onChange={(e) => {
            const chosen = published.find((f) => f.id === e.target.value);
            if (chosen) onChange(chosen.id, chosen.exits.map((x) => x.name));
          }}
        >
          {value === '' && <option value="">{fragments.status === 'loading' ? 'Loading fragments…' : 'Choose a fragment…'}</option>}
          {!known && <option value={value}>{value} (not published)</option>}
          {published.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name ? `${f.name} (${f.id})` : f.id}
            </option>
          ))}
        </select>
        {value !== '' && (
          <a className="button-link" href={fragmentHref(value)}>
            Open fragment
          </a>
        )}
      </div>
      {differ && (
        <p className="field__note">
          Its active version leaves by {theirs.join(', ')}.{' '}
          <button type="button" className="small" disabled={readOnly} onClick={() => onChange(chosen.id, theirs)}>
            Use its exits
          </button>
        </p>
      )}
      {fragments.status === 'error' && <p className="field__error">Cannot list the fragments. {describeError(fragments.error)}</p>}
      {fragments.status === 'ready' && published.length === 0 && <p className="field__note">No fragment is published yet: publish one on the Fragments page first.</p>}
    </>
  );
}
