import { useCallback, useEffect, useState } from 'react';
import type { PartnerOverview, PartnerSession } from '../../../../shared/portal/partner.ts';
import { partnerApi } from './partner-client.ts';
import { PartnerKeys } from './PartnerKeys.tsx';
import { PartnerSignIn } from './PartnerSignIn.tsx';
import { PartnerSubscriptions } from './PartnerSubscriptions.tsx';
import { formatTime } from './format.ts';
import './partner.css';

type State = { status: 'checking' } | { status: 'signed-out'; message?: string } | { status: 'signed-in'; session: PartnerSession; overview: PartnerOverview | undefined; error?: string };

/**
 * The partner's own view at /portal/partner: sign-in with one of its credentials, then its
 * subscriptions with limits and usage, the deprecations that concern it, and its keys, which it
 * may rotate. A session that ends on the server (a revoked key, a suspension) shows the sign-in again.
 */
export function PartnerPage() {
  const [state, setState] = useState<State>({ status: 'checking' });

  const load = useCallback(async (session: PartnerSession) => {
    try {
      const overview = await partnerApi.overview();
      setState({ status: 'signed-in', session, overview });
    } catch (error) {
      if ((error as { status?: number }).status === 401) setState({ status: 'signed-out', message: 'Your session has ended. Sign in again.' });
      else setState({ status: 'signed-in', session, overview: undefined, error: (error as Error).message });
    }
  }, []);

  useEffect(() => {
    let live = true;
    partnerApi.session().then(
      (session) => {
        if (!live) return;
        if (session === undefined) setState({ status: 'signed-out' });
        else void load(session);
      },
      (error: Error) => live && setState({ status: 'signed-out', message: error.message }),
    );
    return () => {
      live = false;
    };
  }, [load]);

  if (state.status === 'checking') return <p className="loading">Checking your session…</p>;
  if (state.status === 'signed-out')
    return (
      <main className="portal-main partner">
        <PartnerSignIn message={state.message} onSignedIn={(session) => void load(session)} />
      </main>
    );

  const { session, overview } = state;
  const signOut = async () => {
    await partnerApi.signOut(session).catch(() => undefined);
    setState({ status: 'signed-out', message: 'You have signed out.' });
  };
  return (
    <main className="portal-main partner">
      <div className="partner__head">
        <div>
          <h1>{session.partner.name}</h1>
          <p className="muted small">
            Signed in with {session.credential.kind === 'api-key' ? <>the key <code>{session.credential.keyId}</code></> : <>a token of <code>{session.credential.clientId}</code></>} until {formatTime(session.expiresAt)}.
          </p>
        </div>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
      {state.error ? (
        <p className="portal-error" role="alert">
          {state.error}
        </p>
      ) : null}
      {overview === undefined ? (
        <p className="loading">Loading your products and keys…</p>
      ) : (
        <>
          <PartnerStatus overview={overview} />
          <PartnerSubscriptions overview={overview} />
          <PartnerKeys session={session} overview={overview} onChanged={() => void load(session)} />
        </>
      )}
    </main>
  );
}

function PartnerStatus({ overview }: { overview: PartnerOverview }) {
  return (
    <dl className="portal-facts">
      <dt>Partner</dt>
      <dd>
        <code>{overview.partner.id}</code> <span className={`chip chip--${overview.partner.status === 'active' ? 'active' : 'retired'}`}>{overview.partner.status}</span>
      </dd>
      <dt>Plan</dt>
      <dd>{overview.plan === null ? <span className="muted">none</span> : overview.plan.name}</dd>
      {overview.partner.contacts.length > 0 ? (
        <>
          <dt>Contacts</dt>
          <dd>{overview.partner.contacts.join(', ')}</dd>
        </>
      ) : null}
    </dl>
  );
}
