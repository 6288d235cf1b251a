import { useState } from 'react';
import { HTTP_METHODS, routeSchema } from '../../../shared/schema/index.ts';
import { describeError } from '../api/client.ts';
import { useSessionContext } from '../editor-context.ts';
import { NODE_ID } from '../graph/ids.ts';
import { TEMPLATES } from '../graph/templates.ts';
import { workflowHref } from '../hooks/useHashRoute.ts';
import { Dialog } from './Dialog.tsx';

/** The document schema's limits (shared/schema/workflow.ts), checked here so the dialog says them in words. */
const MAX_NAME = 200;
const MAX_ID = 64;
const MAX_PATH = 512;

function checkId(id: string): string | undefined {
  if (id.length > MAX_ID) return `At most ${MAX_ID} characters: this id has ${id.length}.`;
  if (!NODE_ID.test(id)) return 'Only a-z, 0-9, "-" and "_", starting with a letter or digit.';
  return undefined;
}

function checkPath(path: string): string | undefined {
  if (path.length > MAX_PATH) return `At most ${MAX_PATH} characters: this path has ${path.length}.`;
  const issue = routeSchema.shape.path.safeParse(path).error?.issues[0];
  return issue ? `The path ${issue.message}.` : undefined;
}

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
  const idError = id === '' ? undefined : checkId(id);
  const nameError = name.length > MAX_NAME ? `At most ${MAX_NAME} characters: this name has ${name.length}.` : undefined;
  const [pathTouched, setPathTouched] = useState(false);
  const pathError = checkPath(path);
  // The unfinished default path ("/api/") is not an error to shout before the user got to it.
  const showPathError = pathError !== undefined && (pathTouched || id !== '');
  const invalid = id === '' || idError !== undefined || nameError !== undefined || pathError !== undefined || methods.length === 0;

  const create = async () => {
    if (invalid) return;
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
          <input id="new-id" type="text" required value={id} onChange={(e) => setId(e.target.value.toLowerCase())} aria-invalid={idError !== undefined || undefined} aria-describedby="new-id-desc" spellCheck={false} autoFocus />
          <p id="new-id-desc" className={idError ? 'field__error' : 'field__desc'}>
            {idError ?? 'Stable and url-safe, up to 64 characters, e.g. orders. It cannot change later.'}
          </p>
        </div>
        <div className={nameError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-name">Name</label>
          <input id="new-name" type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="Orders API" aria-invalid={nameError !== undefined || undefined} aria-describedby={nameError ? 'new-name-error' : undefined} />
          {nameError && (
            <p id="new-name-error" className="field__error">
              {nameError}
            </p>
          )}
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
        <div className={showPathError ? 'field field--problem' : 'field'}>
          <label htmlFor="new-path">Route path</label>
          <input
            id="new-path"
            type="text"
            required
            value={path}
            onChange={(e) => {
              setPath(e.target.value);
              setPathTouched(true);
            }}
            spellCheck={false}
            aria-invalid={showPathError || undefined}
            aria-describedby={showPathError ? 'new-path-error' : undefined}
          />
          {showPathError && (
            <p id="new-path-error" className="field__error">
              {pathError}
            </p>
          )}
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
          <button type="submit" className="primary" disabled={busy || invalid}>
            Create workflow
          </button>
        </div>
      </form>
    </Dialog>
  );
}
