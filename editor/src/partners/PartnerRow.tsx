import type { PartnerView, ProductRecord } from '../../../shared/schema/partners.ts';
import type { PartnerStats } from '../api/client.ts';
import { trafficHref } from '../traffic/traffic-model.ts';
import { limitText } from './LimitsFields.tsx';
import { PartnerCredentials, type CredentialActions } from './PartnerCredentials.tsx';

/** How long ago, in words, or "never". */
const since = (iso: string | null) => {
  if (iso === null) return 'never used';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'used just now';
  if (s < 3600) return `used ${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `used ${Math.round(s / 3600)} h ago`;
  return `used ${new Date(iso).toLocaleDateString()}`;
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** The outcomes other than ok and limited, as "2 denied, 1 invalid credentials". */
const refusals = (s: PartnerStats) =>
  Object.entries(s.outcomes)
    .filter(([outcome, n]) => n > 0 && outcome !== 'ok' && outcome !== 'limited')
    .map(([outcome, n]) => `${n} ${outcome.replace(/_/g, ' ')}`)
    .join(', ');

/** What a row can ask the page to do; the page asks for reasons and confirmations. */
export interface PartnerActions {
  edit(p: PartnerView): void;
  createKey(p: PartnerView): void;
  rotate(p: PartnerView, key: string): void;
  revoke(p: PartnerView, key: string): void;
  setStatus(p: PartnerView, action: 'suspend' | 'reactivate'): void;
  /** Shows or hides the partner's client certificates and HMAC secrets. */
  toggleCredentials(p: PartnerView): void;
}

export interface PartnerRowProps {
  partner: PartnerView;
  stats: PartnerStats | undefined;
  products: ReadonlyMap<string, ProductRecord>;
  planNames: ReadonlyMap<string, string>;
  /** Why changes are disabled (the role), or undefined when they are allowed. */
  readOnly: string | undefined;
  busy: boolean;
  actions: PartnerActions & CredentialActions;
  /** Whether its client certificates and HMAC secrets are shown, in a row below it. */
  expanded?: boolean;
}

/** One partner: who, status, plan, products, keys with their scopes, the last hour, and the actions on it. */
export function PartnerRow({ partner: p, stats: s, products, planNames, readOnly, busy, actions, expanded = false }: PartnerRowProps) {
  const suspended = p.status === 'suspended';
  const off = readOnly !== undefined || busy;
  const overrides = Object.entries(p.limits);
  const certificates = p.certificates?.length ?? 0;
  const secrets = (p.hmacSecrets ?? []).filter((k) => k.state === 'active').length;
  const detail = `credentials-${p.id}`;
  return (
    <>
      <tr aria-label={`Partner ${p.id}`} className={expanded ? 'partners__row--open' : undefined}>
        <td>
          <strong>{p.name}</strong>
          <div className="muted small">{p.id}</div>
          {p.clientIds.length > 0 && <div className="muted small">client ids: {p.clientIds.join(', ')}</div>}
          {p.contacts.length > 0 && <div className="muted small">contacts: {p.contacts.join(', ')}</div>}
          <button type="button" className="link partners__toggle" aria-expanded={expanded} aria-controls={expanded ? detail : undefined} onClick={() => actions.toggleCredentials(p)}>
            <span aria-hidden="true">{expanded ? '▾' : '▸'} </span>
            {plural(certificates, 'certificate')}, {plural(secrets, 'HMAC secret')}
          </button>
        </td>
        <td>
          <span className={`chip chip--${suspended ? 'suspended' : 'active'}`}>{p.status}</span>
          {suspended && p.statusChangedBy && <div className="muted small">by {p.statusChangedBy}</div>}
        </td>
        <td>
          {p.plan ? (planNames.get(p.plan) ?? p.plan) : <span className="muted">none</span>}
          {overrides.length > 0 && <div className="muted small">overrides: {overrides.map(([id, l]) => `${products.get(id)?.name ?? id} ${limitText(l, true)}`).join('; ')}</div>}
        </td>
        <td>
          {p.products.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="partners__list">
              {p.products.map((id) => (
                <li key={id} title={`Workflows: ${products.get(id)?.workflows.join(', ') || 'none'}`}>
                  {products.get(id)?.name ?? id}
                </li>
              ))}
            </ul>
          )}
        </td>
        <td>
          <ul className="partners__list partners__keys">
            {p.keys.map((k) => (
              <li key={k.id} aria-label={`Key ${k.prefix}`}>
                <code>sk_{k.prefix}_…</code> <span className={`chip chip--key-${k.state}`}>{k.state}</span> <span className="muted small">{since(k.lastUsedAt)}</span>
                <div className="muted small">scopes: {k.scopes.length > 0 ? k.scopes.join(', ') : 'none'}</div>
                {k.state === 'active' && k.expiresAt && <div className="muted small">expires {new Date(k.expiresAt).toLocaleString()}</div>}
                {k.state === 'active' && (
                  <button type="button" className="link" disabled={off} title={readOnly ?? `A new key with the same scopes; ${k.prefix} keeps working for 24 hours`} onClick={() => actions.rotate(p, k.id)}>
                    Rotate
                  </button>
                )}
                {k.state !== 'revoked' && (
                  <button type="button" className="link" disabled={off} title={readOnly ?? `Revoke key ${k.prefix}`} onClick={() => actions.revoke(p, k.id)}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
            {p.keys.length === 0 && <li className="muted">no keys</li>}
          </ul>
          <button type="button" disabled={off} title={readOnly} aria-description={readOnly} onClick={() => actions.createKey(p)}>
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
          <a className="partners__traffic small" href={trafficHref({ range: '24h', filters: { partner: p.id } })}>
            Traffic<span className="sr-only"> of {p.id}</span>
          </a>
        </td>
        <td className="partners__actions">
          <button type="button" disabled={off} title={readOnly} aria-description={readOnly} onClick={() => actions.edit(p)}>
            Edit
          </button>
          <button type="button" className={suspended ? 'primary' : 'danger'} disabled={off} title={readOnly} aria-description={readOnly} onClick={() => actions.setStatus(p, suspended ? 'reactivate' : 'suspend')}>
            {suspended ? 'Reactivate' : 'Suspend'}
          </button>
        </td>
      </tr>
      {expanded && (
        <tr id={detail} className="partners__detail" aria-label={`Credentials of ${p.id}`}>
          <td colSpan={7}>
            <PartnerCredentials partner={p} canChange={readOnly === undefined} busy={busy} actions={actions} />
          </td>
        </tr>
      )}
    </>
  );
}
