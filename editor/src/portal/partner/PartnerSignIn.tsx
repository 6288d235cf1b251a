import { useId, useState, type FormEvent } from 'react';
import type { PartnerSession } from '../../../../shared/portal/partner.ts';
import { partnerApi } from './partner-client.ts';

type Kind = 'apiKey' | 'token';

const LABELS: Record<Kind, { choice: string; field: string; hint: string }> = {
  apiKey: { choice: 'API key', field: 'Your API key', hint: 'One of your keys, as you send it in requests (sk_…). It is checked, never kept.' },
  token: { choice: 'Token from your identity provider', field: 'Your access token', hint: 'A JWT your identity provider issued to your client for this portal\'s audience.' },
};

/** Sign-in with one of the partner's own credentials: an API key, or a token from its identity provider. */
export function PartnerSignIn({ message, onSignedIn }: { message?: string | undefined; onSignedIn(session: PartnerSession): void }) {
  const [kind, setKind] = useState<Kind>('apiKey');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const id = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (value.trim() === '') {
      setError(`${LABELS[kind].field} is empty.`);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await partnerApi.signIn(kind === 'apiKey' ? { apiKey: value.trim() } : { token: value.trim() });
      setValue('');
      onSignedIn(session);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="portal-signin partner-signin" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`} noValidate>
      <h1 id={`${id}-title`}>Partner sign-in</h1>
      <p className="muted small">See your subscriptions, limits, usage and keys, and rotate your keys.</p>
      {message ? (
        <p className="small" role="status">
          {message}
        </p>
      ) : null}
      <fieldset className="partner-signin__kinds">
        <legend>Sign in with</legend>
        {(Object.keys(LABELS) as Kind[]).map((k) => (
          <label key={k}>
            <input type="radio" name={`${id}-kind`} value={k} checked={kind === k} onChange={() => setKind(k)} /> {LABELS[k].choice}
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${id}-value`}>{LABELS[kind].field}</label>
      <input
        id={`${id}-value`}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
      />
      <p id={`${id}-hint`} className="muted small">
        {LABELS[kind].hint}
      </p>
      {error ? (
        <p id={`${id}-error`} className="portal-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
