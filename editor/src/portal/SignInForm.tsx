import { useId, useState, type FormEvent } from 'react';

/** Sign in to the portal with an admin token (sign-in mode, or a publisher's preview). */
export function SignInForm({ onSignIn, why }: { onSignIn(token: string): Promise<string | undefined>; why: string }) {
  const [token, setToken] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(await onSignIn(token));
    setBusy(false);
  };
  return (
    <form className="portal-signin" onSubmit={(e) => void submit(e)} aria-label="Sign in">
      <h1>Sign in</h1>
      <p>{why}</p>
      <label htmlFor={`${id}-token`}>Admin token</label>
      <input id={`${id}-token`} type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} aria-invalid={message ? true : undefined} aria-describedby={message ? `${id}-message` : undefined} />
      {message ? (
        <p id={`${id}-message`} role="alert" className="portal-error">
          {message}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy || token.trim() === ''}>
        Sign in
      </button>
    </form>
  );
}
