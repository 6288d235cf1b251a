import { useState } from 'react';
import { describeError } from '../api/client.ts';
import { Dialog } from '../components/Dialog.tsx';
import { useSessionContext } from '../editor-context.ts';
import { NODE_ID } from '../graph/ids.ts';
import { fragmentHref } from '../hooks/useHashRoute.ts';
import { exitNamesProblem, newFragmentDocument } from './fragment-model.ts';

/** The fragment schema's limits (shared/schema/fragment.ts), checked here so the dialog says them in words. */
const MAX_ID = 64;
const MAX_NAME = 200;
const MAX_EXITS_TEXT = 600;

const exitsOfText = (text: string) => text.split(/[\s,]+/).filter((e) => e !== '');

/** Creates a fragment (id, name, exits) with a first body that validates, then its editor opens. */
export function NewFragmentDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const { api } = useSessionContext();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [exitsText, setExitsText] = useState('ok');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const idError = id === '' ? undefined : id.length > MAX_ID ? `At most ${MAX_ID} characters.` : NODE_ID.test(id) ? undefined : 'Only a-z, 0-9, "-" and "_", starting with a letter or digit.';
  const nameError = name.length > MAX_NAME ? `At most ${MAX_NAME} characters: this name has ${name.length}.` : undefined;
  const exits = exitsOfText(exitsText);
  const exitsError = exitNamesProblem(exits);
  const invalid = id === '' || idError !== undefined || nameError !== undefined || exitsError !== undefined;

  const create = async () => {
    if (invalid) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.createFragment(newFragmentDocument({ id, name: name.trim() || id, exits }));
      onClose();
      window.location.hash = fragmentHref(id);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title="New fragment" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className={idError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-fragment-id">Fragment id</label>
          <input id="new-fragment-id" type="text" required maxLength={MAX_ID + 1} value={id} onChange={(e) => setId(e.target.value.toLowerCase())} aria-invalid={idError !== undefined || undefined} aria-describedby="new-fragment-id-desc" spellCheck={false} autoFocus />
          <p id="new-fragment-id-desc" className={idError ? 'field__error' : 'field__desc'}>
            {idError ?? 'Stable and url-safe, e.g. auth. Subflow nodes name the fragment by it; it cannot change later.'}
          </p>
        </div>
        <div className={nameError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-fragment-name">Name</label>
          <input id="new-fragment-name" type="text" maxLength={MAX_NAME + 1} value={name} onChange={(e) => setName(e.target.value)} placeholder="Partner authentication" aria-invalid={nameError !== undefined || undefined} aria-describedby={nameError ? 'new-fragment-name-error' : undefined} />
          {nameError && (
            <p id="new-fragment-name-error" className="field__error">
              {nameError}
            </p>
          )}
        </div>
        <div className={exitsError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-fragment-exits">Exits</label>
          <input id="new-fragment-exits" type="text" maxLength={MAX_EXITS_TEXT} value={exitsText} onChange={(e) => setExitsText(e.target.value)} aria-invalid={exitsError !== undefined || undefined} aria-describedby="new-fragment-exits-desc" spellCheck={false} />
          <p id="new-fragment-exits-desc" className={exitsError ? 'field__error' : 'field__desc'}>
            {exitsError ?? 'Where the fragment ends, separated by commas, e.g. ok, denied. Each is a port of the subflow nodes that use it.'}
          </p>
        </div>
        {error && (
          <p className="field__error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={invalid || busy}>
            Create fragment
          </button>
        </div>
      </form>
    </Dialog>
  );
}
