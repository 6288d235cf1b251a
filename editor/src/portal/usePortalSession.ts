import { useCallback, useEffect, useState } from 'react';
import type { PortalSession } from '../../../shared/portal/index.ts';
import { portalGet, PortalError, TOKEN_KEY } from './portal-client.ts';

export type SessionState = { status: 'checking' } | { status: 'ready'; session: PortalSession; token: string | undefined; message?: string | undefined };

/**
 * The portal's mode and who reads it. A reader may sign in with an admin token (sign-in mode,
 * and a publisher's preview); it is kept in this tab only and checked with /portal/api/session.
 */
export function usePortalSession(): { state: SessionState; signIn(token: string): Promise<string | undefined>; signOut(): void } {
  const [token, setToken] = useState<string | undefined>(() => sessionStorage.getItem(TOKEN_KEY) ?? undefined);
  const [state, setState] = useState<SessionState>({ status: 'checking' });

  const check = useCallback(async (candidate: string | undefined): Promise<PortalSession> => portalGet<PortalSession>('/session', { token: candidate }), []);

  useEffect(() => {
    let live = true;
    check(token).then(
      (session) => live && setState({ status: 'ready', session, token }),
      async (error: unknown) => {
        // a stored token no longer accepted: read on without it
        sessionStorage.removeItem(TOKEN_KEY);
        const session = await check(undefined).catch(() => ({ mode: 'public' as const, viewer: { kind: 'anonymous' as const } }));
        if (live) setState({ status: 'ready', session, token: undefined, message: error instanceof PortalError ? error.message : undefined });
      },
    );
    return () => {
      live = false;
    };
  }, [token, check]);

  const signIn = useCallback(
    async (candidate: string) => {
      const trimmed = candidate.trim();
      try {
        await check(trimmed);
      } catch (error) {
        return error instanceof PortalError ? error.message : 'The token could not be checked.';
      }
      sessionStorage.setItem(TOKEN_KEY, trimmed);
      setToken(trimmed);
      return undefined;
    },
    [check],
  );
  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(undefined);
  }, []);
  return { state, signIn, signOut };
}
