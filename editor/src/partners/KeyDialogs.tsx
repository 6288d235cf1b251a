import { useEffect, useState } from 'react';
import type { PartnerView } from '../../../shared/schema/partners.ts';
import { Dialog } from '../components/Dialog.tsx';
import { ShownOnceActions } from '../components/ShownOnceActions.tsx';
import { useSessionContext } from '../editor-context.ts';
import { ChipsField, TextField } from './fields.tsx';
import { FormDialog, useForm } from './FormDialog.tsx';
import { errorAt, localInput, type FieldErrors } from './form.ts';
import { workflowScopes } from './scopes.ts';

/** A key as the API answers its creation: the only time the key itself is seen. */
export type CreatedKey = { partner: string; id: string; key: string; scopes: string[]; expiresAt?: string | undefined; replaced?: string | undefined };

const MAX_SCOPES = 100;
const MAX_SCOPE = 200;

function checkKey(scopes: readonly string[], expires: string): FieldErrors {
  const errors: FieldErrors = {};
  if (scopes.length > MAX_SCOPES) errors.scopes = `are too many: at most ${MAX_SCOPES} are allowed`;
  const long = scopes.find((s) => s.length > MAX_SCOPE);
  if (long) errors.scopes = `"${long.slice(0, 20)}…" is too long: at most ${MAX_SCOPE} characters are allowed`;
  if (expires !== '') {
    const at = new Date(expires).getTime();
    if (Number.isNaN(at)) errors.expiresAt = 'must be a date and time';
    else if (at <= Date.now()) errors.expiresAt = 'must be in the future';
  }
  return errors;
}

/**
 * Creates an API key for a partner: the scopes it grants (the scopes the workflows' scope-check
 * nodes ask for are offered) and an optional expiry. The key itself is shown once, after.
 */
export function CreateKeyDialog({ partner, onClose, onCreated }: { partner: PartnerView; onClose(): void; onCreated(key: CreatedKey): void }) {
  const { api } = useSessionContext();
  const [scopes, setScopes] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [suggested, setSuggested] = useState<string[]>([]);
  const [now] = useState(() => localInput(new Date()));
  useEffect(() => {
    let live = true;
    workflowScopes(api).then((s) => live && setSuggested(s), () => undefined);
    return () => {
      live = false;
    };
  }, [api]);
  const form = useForm(checkKey(scopes, expires), true);
  const where = `key-${partner.id}`;
  const save = () =>
    void form.submit(async () => {
      onCreated(await api.createKey(partner.id, { scopes, ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}) }));
    });
  return (
    <FormDialog title={`New API key for ${partner.name}`} label="Create key" busy={form.busy} message={form.message} onClose={onClose} save={save}>
      <ChipsField
        id={`${where}-scopes`}
        label="Scopes"
        item="scope"
        values={scopes}
        onChange={setScopes}
        suggestions={suggested}
        suggestLabel="Asked for by the workflows' scope checks:"
        error={errorAt(form.shown, 'scopes')}
        placeholder="orders:read"
        hint={scopes.length === 0 ? 'With no scope the key passes no scope-check node.' : 'Scope-check nodes let the key through when it has the scopes they ask for.'}
      />
      <TextField id={`${where}-expires`} label="Expires" type="datetime-local" value={expires} min={now} onChange={setExpires} error={form.shown.expiresAt} hint="Optional: after this the key is refused. Empty: it works until revoked." />
    </FormDialog>
  );
}

/** The new key, shown this once with a copy button: Sluice keeps only its hash. */
export function NewKeyDialog({ created, onClose }: { created: CreatedKey | undefined; onClose(): void }) {
  return (
    <Dialog open={created !== undefined} title={`New API key for ${created?.partner ?? ''}`} onClose={onClose}>
      <p>
        Copy the key now: it is shown <strong>only this once</strong>. Sluice stores only its hash.
      </p>
      {created?.replaced && <p>The key {created.replaced} it replaces keeps working for 24 hours, then is refused.</p>}
      <input className="partners__secret" readOnly aria-label="New API key" value={created?.key ?? ''} onFocus={(e) => e.target.select()} />
      <p className="muted small">
        Scopes: {created?.scopes.length ? created.scopes.join(', ') : 'none'}
        {created?.expiresAt ? ` · expires ${new Date(created.expiresAt).toLocaleString()}` : ''}
      </p>
      <ShownOnceActions value={created?.key} onDone={onClose} />
    </Dialog>
  );
}
