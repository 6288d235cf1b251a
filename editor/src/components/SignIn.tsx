import { useState } from 'react';

/** Sign in with an admin token; it is kept in this tab only (sessionStorage). */
export function SignIn({ onSignIn, message }: { onSignIn(token: string): Promise<string | undefined>; message: string | undefined }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="signin">
      <form
        className="signin__card"
        aria-labelledby="signin-title"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(await onSignIn(token));
          setBusy(false);
        }}
      >
        <div className="brand brand--large" aria-hidden="true">
          ≋ Sluice
        </div>
        <h1 id="signin-title">Sign in to the workflow editor</h1>
        {message && <p className="banner banner--info">{message}</p>}
        <div className="field">
          <label htmlFor="token">Admin token</label>
          <input id="token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} aria-invalid={error !== undefined || undefined} aria-describedby="token-help" autoFocus />
          <p id="token-help" className="field__desc">
            One of the tokens in <code>SLUICE_ADMIN_TOKENS</code>, or the one a fresh gateway wrote to <code>$SLUICE_DATA/admin-token</code>. It is kept for this tab only.
          </p>
        </div>
        {error && (
          <p className="field__error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
