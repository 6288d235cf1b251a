import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, createApi } from '../api/client.ts';
import type { Identity } from '../api/types.ts';
import type { Session } from '../editor-context.ts';

/** sessionStorage: the token lives as long as the tab, never in localStorage or a cookie. */
const TOKEN_KEY = 'sluice.adminToken';

export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out'; message?: string }
  | { status: 'signed-in'; session: Session };

/**
 * Signing in with an admin token: the token is checked with GET /admin/api/whoami, which also
 * says the role the UI follows. A 401 from any later call ends the session.
 */
export function useSession(): { state: SessionState; signIn(token: string): Promise<string | undefined> } {
  const [token, setToken] = useState<string | undefined>(() => sessionStorage.getItem(TOKEN_KEY) ?? undefined);
  const [identity, setIdentity] = useState<Identity | undefined>();
  const [message, setMessage] = useState<string | undefined>();

  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(undefined);
    setIdentity(undefined);
    setMessage(reason);
  }, []);

  const api = useMemo(() => (token ? createApi(token, () => signOut('The admin token is no longer accepted; sign in again.')) : undefined), [token, signOut]);

  // A token kept from earlier in this tab is checked again on load.
  useEffect(() => {
    if (!api || identity) return;
    let live = true;
    api.whoami().then(
      (who) => live && setIdentity(who),
      (error: unknown) => live && signOut(error instanceof ApiError && error.status === 401 ? 'The admin token is no longer accepted; sign in again.' : `Cannot reach the admin API: ${(error as Error).message}`),
    );
    return () => {
      live = false;
    };
  }, [api, identity, signOut]);

  const signIn = useCallback(async (candidate: string) => {
    const trimmed = candidate.trim();
    if (trimmed === '') return 'Enter an admin token.';
    try {
      const who = await createApi(trimmed).whoami();
      sessionStorage.setItem(TOKEN_KEY, trimmed);
      setToken(trimmed);
      setIdentity(who);
      setMessage(undefined);
      return undefined;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return 'That admin token is not valid.';
      return `Cannot sign in: ${(error as Error).message}`;
    }
  }, []);

  const session = useMemo(() => (api && identity ? { api, identity, signOut } : undefined), [api, identity, signOut]);
  const state: SessionState = session ? { status: 'signed-in', session } : token ? { status: 'checking' } : { status: 'signed-out', ...(message ? { message } : {}) };
  return { state, signIn };
}
