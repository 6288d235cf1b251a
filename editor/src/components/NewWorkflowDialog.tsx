import { useState } from 'react';
import { HTTP_METHODS } from '../../../shared/schema/index.ts';
import { describeError } from '../api/client.ts';
import { useSessionContext } from '../editor-context.ts';
import { NODE_ID } from '../graph/ids.ts';
import { TEMPLATES } from '../graph/templates.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { Dialog } from './Dialog.tsx';

/** Creates a workflow from a template: its id, name and route, then the editor opens on it. */
export function NewWorkflowDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  const { api } = useSessionContext();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [methods, setMethods] = useState<string[]>(['GET']);
  const [path, setPath] = useState('/api/');
  const [template, setTemplate] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const idError = id !== '' && !NODE_ID.test(id) ? 'a-z, 0-9, "-" and "_", starting with a letter or digit' : undefined;

  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const document = TEMPLATES[template]!.build({ id, name: name || id, methods, path });
      await api.create(document);
      onClose();
      window.location.hash = workflowHref(id);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title="New workflow" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div className={idError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-id">Workflow id</label>
          <input id="new-id" required value={id} onChange={(e) => setId(e.target.value.toLowerCase())} aria-invalid={idError !== undefined || undefined} aria-describedby="new-id-desc" spellCheck={false} autoFocus />
          <p id="new-id-desc" className={idError ? 'field__error' : 'field__desc'}>
            {idError ?? 'Stable and url-safe, e.g. orders. It cannot change later.'}
          </p>
        </div>
        <div className="field">
          <label htmlFor="new-name">Name</label>
          <input id="new-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Orders API" />
        </div>
        <fieldset className="field field--group">
          <legend>Methods</legend>
          <div className="checks">
            {HTTP_METHODS.map((m) => (
              <label key={m} className="check">
                <input type="checkbox" checked={methods.includes(m)} onChange={(e) => setMethods(HTTP_METHODS.filter((x) => (x === m ? e.target.checked : methods.includes(x))))} />
                {m}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="field">
          <label htmlFor="new-path">Route path</label>
          <input id="new-path" required value={path} onChange={(e) => setPath(e.target.value)} spellCheck={false} />
        </div>
        <fieldset className="field field--group templates">
          <legend>Start from</legend>
          {TEMPLATES.map((t, i) => (
            <label key={t.name} className="template">
              <input type="radio" name="template" checked={template === i} onChange={() => setTemplate(i)} />
              <span>
                <strong>{t.name}</strong>
                <span className="muted"> — {t.description}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {error && (
          <p className="field__error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || id === '' || idError !== undefined || methods.length === 0}>
            Create workflow
          </button>
        </div>
      </form>
    </Dialog>
  );
}
