/** Small pieces the portal's pages share: lifecycle notes, credentials, dates, load states. */
import type { PortalCredential, PortalLifecycle, PortalWorkflowSummary } from '../../../shared/portal/index.ts';
import type { Resource } from '../hooks/useResource.ts';
import { PortalError } from './portal-client.ts';

const CREDENTIAL_WORDS: Record<PortalCredential['kind'], string> = {
  jwt: 'JWT bearer token',
  'oauth-token': 'OAuth access token',
  'api-key': 'API key',
  'client-certificate': 'Client certificate',
  'hmac-signature': 'HMAC request signature',
};

/** A date as people read it, in UTC (the Sunset header's zone). */
export function when(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toUTCString().replace(' GMT', ' UTC');
}

export function LifecycleChip({ lifecycle }: { lifecycle: PortalLifecycle }) {
  return <span className={`chip chip--${lifecycle.state}`}>{lifecycle.state}</span>;
}

/** The version's deprecation or retirement in words, with the headers the gateway sends. */
export function LifecycleNote({ lifecycle }: { lifecycle: PortalLifecycle }) {
  if (lifecycle.state === 'active') return null;
  const headers = Object.entries(lifecycle.headers);
  return (
    <div className={`portal-note portal-note--${lifecycle.state}`} role="note" aria-label={lifecycle.state === 'retired' ? 'Retired' : 'Deprecated'}>
      {lifecycle.state === 'retired' ? (
        <p>
          <strong>Retired</strong>
          {lifecycle.retiredAt ? ` on ${when(lifecycle.retiredAt)}` : ''}: every request to this route is answered with <code>410 Gone</code>.
        </p>
      ) : (
        <p>
          <strong>Deprecated</strong>
          {lifecycle.deprecatedAt ? ` since ${when(lifecycle.deprecatedAt)}` : ''}.{' '}
          {lifecycle.sunset ? (
            <>
              Sunset: <time dateTime={lifecycle.sunset}>{when(lifecycle.sunset)}</time>; it will not be served after that.
            </>
          ) : (
            'No sunset date is set yet.'
          )}
        </p>
      )}
      {headers.length > 0 ? (
        <p className="small">
          Every answer carries{' '}
          {headers.map(([name, value], i) => (
            <span key={name}>
              {i > 0 ? ' and ' : ''}
              <code>
                {name}: {value}
              </code>
            </span>
          ))}
          .
        </p>
      ) : null}
    </div>
  );
}

/** Which credential the caller sends and which scopes it must hold. */
export function Access({ workflow }: { workflow: PortalWorkflowSummary }) {
  const { credentials, scopes } = workflow;
  return (
    <>
      <dt>Credential</dt>
      <dd>
        {credentials.length === 0
          ? 'none'
          : credentials.map((c, i) => (
              <span key={`${c.kind}-${i}`}>
                {i > 0 ? ' or ' : ''}
                {CREDENTIAL_WORDS[c.kind]} (<code>{c.sent}</code>)
              </span>
            ))}
      </dd>
      <dt>Scopes</dt>
      <dd>
        {scopes.all.length === 0 && scopes.any.length === 0 ? (
          'none'
        ) : (
          <>
            {scopes.all.map((s) => (
              <code key={s} className="portal-scope">
                {s}
              </code>
            ))}
            {scopes.any.length > 0 ? (
              <>
                {scopes.all.length > 0 ? ' and ' : ''}one of{' '}
                {scopes.any.map((s) => (
                  <code key={s} className="portal-scope">
                    {s}
                  </code>
                ))}
              </>
            ) : null}
          </>
        )}
      </dd>
    </>
  );
}

/** A route as `GET, POST /api/orders/:id`. */
export const routeText = (w: Pick<PortalWorkflowSummary, 'methods' | 'path'>) => `${w.methods.join(', ')} ${w.path}`;

/** What a page shows while it loads or when it cannot: undefined once ready. */
export function loadState<T>(resource: Resource<T>, what: string) {
  if (resource.status === 'loading') return <p className="loading">Loading {what}…</p>;
  if (resource.status === 'error') {
    const error = resource.error;
    return (
      <p role="alert" className="portal-error">
        {error instanceof PortalError && error.status === 404 ? `No published ${what} here.` : `The ${what} cannot be shown: ${(error as Error).message}`}
      </p>
    );
  }
  return undefined;
}
