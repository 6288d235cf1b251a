import { useEffect, useState } from 'react';
import type { PartnerView } from '../../../shared/schema/partners.ts';
import { describeError, type PartnerStats } from '../api/client.ts';
import { can } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { useAsk } from '../hooks/useAsk.ts';
import { useResource } from '../hooks/useResource.ts';
import { AskDialog, Dialog } from './Dialog.tsx';

/** How long ago, in words, or "never". */
const since = (iso: string | null) => {
  if (iso === null) return 'never used';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'used just now';
  if (s < 3600) return `used ${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `used ${Math.round(s / 3600)} h ago`;
  return `used ${new Date(iso).toLocaleDateString()}`;
};

const STATS_WINDOW = '1h';
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** The outcomes other than ok and limited, as "2 denied, 1 invalid credentials". */
const refusals = (s: PartnerStats) =>
  Object.entries(s.outcomes)
    .filter(([outcome, n]) => n > 0 && outcome !== 'ok' && outcome !== 'limited')
    .map(([outcome, n]) => `${n} ${outcome.replace(/_/g, ' ')}`)
    .join(', ');
const noPublish = (role: string) => `The ${role} role cannot change partners (needs publisher or admin)`;

/**
 * Partners: status, plan, products, keys (prefix, state, last use in this gateway process) and
 * the last hour's requests and limit hits; publishers suspend, reactivate, create and revoke keys.
 * A new key is shown once, in a dialog: the store keeps only its hash.
 */
export function PartnersPage() {
  const { api, identity } = useSessionContext();
  const { resource, reload } = useResource(() => Promise.all([api.partners(), api.products(), api.plans()]), 'partners');
  const [stats, setStats] = useState<Record<string, PartnerStats | undefined>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [created, setCreated] = useState<{ partner: string; id: string; key: string; replaced?: string } | undefined>();
  const ask = useAsk();
  const mayChange = can(identity.role, 'publish');
  const reason = mayChange ? undefined : noPublish(identity.role);

  const partners = resource.status === 'ready' ? resource.value[0].partners : [];
  const productNames = new Map(resource.status === 'ready' ? resource.value[1].products.map((p) => [p.id, p]) : []);
  const planNames = new Map(resource.status === 'ready' ? resource.value[2].plans.map((p) => [p.id, p.name]) : []);

  useEffect(() => {
    let live = true;
    // metrics may be off (404): the column then says so, the page still works
    Promise.all(partners.map((p) => api.partnerStats(p.id, STATS_WINDOW).then((s) => [p.id, s] as const, () => [p.id, undefined] as const))).then((pairs) => live && setStats(Object.fromEntries(pairs)));
    return () => {
      live = false;
    };
    // oxlint-disable-next-line react/exhaustive-deps -- `partners` is made anew each render from `resource`: the stats are read once per load
  }, [resource]);

  const act = (label: string, action: () => Promise<unknown>, after?: (value: unknown) => void) => {
    setBusy(label);
    setError(undefined);
    action().then(
      (value) => {
        setBusy(undefined);
        after?.(value);
        reload();
      },
      (e: unknown) => {
        setBusy(undefined);
        setError(describeError(e));
      },
    );
  };

  const row = (p: PartnerView) => {
    const s = stats[p.id];
    const suspended = p.status === 'suspended';
    return (
      <tr key={p.id} aria-label={`Partner ${p.id}`}>
        <td>
          <strong>{p.name}</strong>
          <div className="muted small">{p.id}</div>
          {p.clientIds.length > 0 && <div className="muted small">client ids: {p.clientIds.join(', ')}</div>}
        </td>
        <td>
          <span className={`chip chip--${suspended ? 'suspended' : 'active'}`}>{p.status}</span>
          {suspended && p.statusChangedBy && <div className="muted small">by {p.statusChangedBy}</div>}
        </td>
        <td>{p.plan ? (planNames.get(p.plan) ?? p.plan) : <span className="muted">none</span>}</td>
        <td>
          {p.products.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="partners__list">
              {p.products.map((id) => (
                <li key={id} title={`Workflows: ${productNames.get(id)?.workflows.join(', ') || 'none'}`}>
                  {productNames.get(id)?.name ?? id}
                </li>
              ))}
            </ul>
          )}
        </td>
        <td>
          <ul className="partners__list partners__keys">
            {p.keys.map((k) => (
              <li key={k.id}>
                <code>sk_{k.prefix}_…</code> <span className={`chip chip--key-${k.state}`}>{k.state}</span> <span className="muted small">{since(k.lastUsedAt)}</span>
                {k.state === 'active' && k.expiresAt && <span className="muted small"> · expires {new Date(k.expiresAt).toLocaleString()}</span>}
                {k.state === 'active' && (
                  <button type="button" className="link" disabled={!mayChange || busy !== undefined} title={reason ?? `A new key; ${k.prefix} keeps working for 24 hours`} onClick={() => act('rotate', () => api.rotateKey(p.id, k.id), (value) => setCreated(value as { partner: string; id: string; key: string; replaced: string }))}>
                    Rotate
                  </button>
                )}
                {k.state !== 'revoked' && (
                  <button type="button" className="link" disabled={!mayChange || busy !== undefined} title={reason ?? `Revoke key ${k.prefix}`} onClick={() => void ask.confirm({ title: `Revoke key ${k.prefix}?`, text: `Requests of ${p.id} with it are refused at once.`, confirm: 'Revoke key', danger: true }).then((yes) => yes && act('revoke', () => api.revokeKey(p.id, k.id)))}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
            {p.keys.length === 0 && <li className="muted">no keys</li>}
          </ul>
          <button type="button" disabled={!mayChange || busy !== undefined} title={reason} aria-description={reason} onClick={() => act('key', () => api.createKey(p.id), (value) => setCreated(value as { partner: string; id: string; key: string }))}>
            Create key
          </button>
        </td>
        <td aria-label={`Requests of ${p.id} in the last hour`}>
          {s === undefined ? (
            <span className="muted">—</span>
          ) : (
            <>
              <div>{plural(s.requests, 'request')}</div>
              <div className={s.limited > 0 ? 'partners__limited' : 'muted small'}>{s.limited} limited</div>
              {refusals(s) && <div className="muted small">{refusals(s)}</div>}
              {s.workflows.length > 0 && (
                <div className="muted small" title={s.workflows.map((w) => `${w.workflow}: ${w.requests} (${w.limited} limited)`).join('\n')}>
                  {s.workflows.map((w) => w.workflow).join(', ')}
                </div>
              )}
            </>
          )}
        </td>
        <td>
          <button
            type="button"
            className={suspended ? 'primary' : 'danger'}
            disabled={!mayChange || busy !== undefined}
            title={reason}
            aria-description={reason}
            onClick={() =>
              void (suspended ? Promise.resolve(true) : ask.confirm({ title: `Suspend ${p.name}?`, text: `Every request of ${p.id} is refused within a second, on every gateway.`, confirm: 'Suspend', danger: true })).then(
                (yes) => yes && act('status', () => api.setPartnerStatus(p.id, suspended ? 'reactivate' : 'suspend')),
              )
            }
          >
            {suspended ? 'Reactivate' : 'Suspend'}
          </button>
        </td>
      </tr>
    );
  };

  return (
    <main className="page">
      <div className="page__head">
        <h1>Partners</h1>
        <div className="page__actions">
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      {!mayChange && (
        <div className="banner banner--readonly" role="note">
          <strong>Read-only.</strong> {noPublish(identity.role)}.
        </div>
      )}
      {error && (
        <p className="field__error" role="alert">
          {error}
        </p>
      )}
      {resource.status === 'loading' && <p className="loading">Loading partners…</p>}
      {resource.status === 'error' && (
        <p className="field__error" role="alert">
          {describeError(resource.error)}
        </p>
      )}
      {resource.status === 'ready' && (
        <table className="workflows partners">
          <caption className="sr-only">Partners</caption>
          <thead>
            <tr>
              <th scope="col">Partner</th>
              <th scope="col">Status</th>
              <th scope="col">Plan</th>
              <th scope="col">Products</th>
              <th scope="col">API keys</th>
              <th scope="col">Last hour</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {partners.map(row)}
            {partners.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No partners yet. Register one with <code>sluice partner create</code> or POST /admin/api/partners.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <Dialog open={created !== undefined} title={`New API key for ${created?.partner ?? ''}`} onClose={() => setCreated(undefined)}>
        <p>
          Copy the key now: it is shown <strong>only this once</strong>. Sluice stores only its hash.
        </p>
        {created?.replaced && <p>The key {created.replaced} it replaces keeps working for 24 hours, then is refused.</p>}
        <input className="partners__secret" readOnly aria-label="New API key" value={created?.key ?? ''} onFocus={(e) => e.target.select()} />
        <div className="dialog__actions">
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created?.key ?? '')}>
            Copy
          </button>
          <button type="button" className="primary" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      </Dialog>
      <AskDialog question={ask.question} onAnswer={ask.answer} />
    </main>
  );
}
