import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { PartnerOverview, PartnerSession, RotatedOwnKey } from '../../../../shared/portal/partner.ts';
import { ShownOnceActions } from '../../components/ShownOnceActions.tsx';
import { partnerApi } from './partner-client.ts';
import { durationSeconds, formatSeconds, formatTime } from './format.ts';

type Key = PartnerOverview['keys'][number];

/** A modal dialog on the platform's <dialog>: focus moves in and comes back, Escape closes it. */
function Modal({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className="partner-dialog" aria-labelledby={`${id}-title`} onCancel={(e) => (e.preventDefault(), onClose())}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </dialog>
  );
}

/** Asks how long the old key keeps working, then rotates: the new key is made, the old one stops when the overlap ends. */
function RotateDialog({ session, keyRecord, maxOverlapSeconds, onClose, onRotated }: { session: PartnerSession; keyRecord: Key; maxOverlapSeconds: number; onClose(): void; onRotated(rotated: RotatedOwnKey): void }) {
  const longest = formatSeconds(maxOverlapSeconds);
  const [overlap, setOverlap] = useState(longest);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const id = useId();
  const seconds = durationSeconds(overlap);
  const problem = seconds === undefined ? 'must be a duration like 30m, 2h or 1d' : seconds > maxOverlapSeconds ? `must be at most ${longest}` : undefined;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (problem !== undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      onRotated(await partnerApi.rotate(session, keyRecord.id, overlap.trim()));
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title={`Rotate key ${keyRecord.prefix}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <p>
          A new key with the same scopes is made and shown once. The key <code>{keyRecord.prefix}</code> keeps working beside it until the overlap ends, then it is refused
          {keyRecord.current ? '; this session, opened with it, ends then too' : ''}.
        </p>
        <label htmlFor={`${id}-overlap`}>Overlap</label>
        <input id={`${id}-overlap`} type="text" value={overlap} onChange={(e) => setOverlap(e.target.value)} aria-invalid={problem ? true : undefined} aria-describedby={`${id}-hint`} />
        <p id={`${id}-hint`} className={problem ? 'portal-error small' : 'muted small'}>
          {problem ? `The overlap ${problem}.` : `How long the old key keeps working: at most ${longest}.`}
        </p>
        {error ? (
          <p className="portal-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="partner-dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || problem !== undefined}>
            {busy ? 'Rotating…' : 'Rotate key'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The new key, shown this once: copy it now, it cannot be read again. */
function NewKeyDialog({ rotated, onDone }: { rotated: RotatedOwnKey; onDone(): void }) {
  const id = useId();
  return (
    <Modal title="Your new key" onClose={onDone}>
      <p>
        <strong>Copy it now: it is shown this once.</strong> Neither you nor anyone else can read it again.
      </p>
      <label htmlFor={`${id}-key`}>New key {rotated.prefix}</label>
      <input id={`${id}-key`} className="partner-secret" type="text" readOnly value={rotated.key} onFocus={(e) => e.target.select()} />
      <p className="small">
        The key <code>{rotated.replaced.id}</code> works until {formatTime(rotated.replaced.expiresAt)}.{rotated.expiresAt ? <> The new key expires {formatTime(rotated.expiresAt)}, as the old one would have.</> : null}
      </p>
      <ShownOnceActions value={rotated.key} onDone={onDone} className="partner-dialog__actions" />
    </Modal>
  );
}

const STATE_CHIP: Record<Key['state'], string> = { active: 'active', expired: 'retired', revoked: 'retired' };

/** The partner's keys: prefix, scopes, dates, state and last use, never the key; active keys can be rotated. */
export function PartnerKeys({ session, overview, onChanged }: { session: PartnerSession; overview: PartnerOverview; onChanged(): void }) {
  const [rotating, setRotating] = useState<Key | undefined>();
  const [rotated, setRotated] = useState<RotatedOwnKey | undefined>();
  return (
    <section aria-labelledby="partner-keys">
      <h2 id="partner-keys">Your API keys</h2>
      <p className="muted small">Keys are shown by their prefix: the key itself was shown once, when it was made. Rotate a key to replace it without a gap.</p>
      {overview.keys.length === 0 ? (
        <p className="muted">You have no API keys.</p>
      ) : (
        <table className="portal-table partner-keys">
          <caption className="sr-only">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {overview.keys.map((key) => (
              <tr key={key.id}>
                <th scope="row">
                  <code>{`sk_${key.prefix}_…`}</code>
                  {key.current ? <span className="small muted"> (this session)</span> : null}
                </th>
                <td>{key.scopes.length === 0 ? <span className="muted">none</span> : key.scopes.map((s) => <span key={s} className="portal-scope">{s}</span>)}</td>
                <td>{formatTime(key.createdAt)}</td>
                <td>{key.expiresAt ? formatTime(key.expiresAt) : <span className="muted">never</span>}</td>
                <td>
                  <span className={`chip chip--${STATE_CHIP[key.state]}`}>{key.state === 'active' && key.expiresAt ? 'active, expiring' : key.state}</span>
                </td>
                <td>{key.lastUsedAt ? formatTime(key.lastUsedAt) : <span className="muted">not seen</span>}</td>
                <td>
                  {key.state === 'active' ? (
                    <button type="button" className="small" onClick={() => setRotating(key)} aria-label={`Rotate key ${key.prefix}`}>
                      Rotate
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rotating ? (
        <RotateDialog
          session={session}
          keyRecord={rotating}
          maxOverlapSeconds={overview.rotation.maxOverlapSeconds}
          onClose={() => setRotating(undefined)}
          onRotated={(answer) => {
            setRotating(undefined);
            setRotated(answer);
          }}
        />
      ) : null}
      {rotated ? (
        <NewKeyDialog
          rotated={rotated}
          onDone={() => {
            setRotated(undefined);
            onChanged();
          }}
        />
      ) : null}
    </section>
  );
}
