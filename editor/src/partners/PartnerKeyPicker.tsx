import type { PartnerCredential } from '../api/credentials.ts';
import { can } from '../api/roles.ts';
import { useSessionContext } from '../editor-context.ts';
import { useResource } from '../hooks/useResource.ts';

type Match = 'fingerprint' | 'subject' | 'san';

/** Which partner credentials the workflow's identity nodes take. */
interface AcceptedCredentials {
  /** An api-key node reads registered partners' keys (source "partners"). */
  apiKey: boolean;
  /** What client-cert nodes match certificates by; empty: no client-cert node. */
  certificates: ReadonlySet<Match>;
  hmac: boolean;
  introspected: boolean;
}

const ALL_MATCHES: readonly Match[] = ['fingerprint', 'san', 'subject'];

/**
 * The credentials a document's identity nodes accept. A subflow's nodes are not in the document:
 * with one, every kind is offered (the run says when none takes it).
 */
function acceptedCredentials(document: Record<string, unknown>): AcceptedCredentials {
  const nodes = Array.isArray(document.nodes) ? (document.nodes as Array<{ kind?: unknown; config?: Record<string, unknown> }>) : [];
  const subflow = nodes.some((n) => n.kind === 'subflow');
  const certificates = new Set<Match>(subflow ? ALL_MATCHES : []);
  for (const node of nodes) if (node.kind === 'client-cert') for (const m of Array.isArray(node.config?.match) ? (node.config.match as Match[]) : ALL_MATCHES) certificates.add(m);
  return {
    apiKey: subflow || nodes.some((n) => n.kind === 'api-key' && n.config?.source === 'partners'),
    certificates,
    hmac: subflow || nodes.some((n) => n.kind === 'hmac-verify'),
    introspected: subflow || nodes.some((n) => n.kind === 'introspect'),
  };
}

/** Whether a request runs as a registered partner's credential (a key of the store, a certificate, a signature, an introspected token). */
const asPartner = (credential: PartnerCredential | undefined) => credential !== undefined && (credential.apiKey?.key !== undefined || credential.clientCert !== undefined || credential.hmac !== undefined || credential.introspected !== undefined);

/**
 * Whether this role must mock the upstream when running as this credential: running as a
 * registered partner against the real upstream is for the roles that manage partners (the API
 * refuses an editor with 403 otherwise).
 */
export function useMustMock(credential: PartnerCredential | undefined): boolean {
  const { identity } = useSessionContext();
  return asPartner(credential) && !can(identity.role, 'publish');
}

const INLINE = '\u0000inline';

/** The picker's value for a reference: `key:<id>`, `cert:<partner>:<certificate id>`, `hmac:<partner>`, `introspected:<partner>`. */
function valueOf(credential: PartnerCredential | undefined): string {
  if (credential?.apiKey) return credential.apiKey.key !== undefined ? `key:${credential.apiKey.key}` : INLINE;
  if (credential?.clientCert) return `cert:${credential.clientCert.partner}:${credential.clientCert.certificate ?? ''}`;
  if (credential?.hmac) return `hmac:${credential.hmac.partner}`;
  if (credential?.introspected) return `introspected:${credential.introspected.partner}`;
  return '';
}

/** The reference a picker value stands for (partner ids hold no colon). */
function referenceOf(value: string, scopes: string[]): PartnerCredential | undefined {
  const colon = value.indexOf(':');
  const [kind, rest] = [value.slice(0, colon), value.slice(colon + 1)];
  if (kind === 'key') return { apiKey: { key: rest } };
  if (kind === 'hmac') return { hmac: { partner: rest } };
  if (kind === 'introspected') return { introspected: { partner: rest, scopes } };
  if (kind === 'cert') {
    const [partner, certificate] = [rest.slice(0, rest.indexOf(':')), rest.slice(rest.indexOf(':') + 1)];
    return { clientCert: { partner, ...(certificate === '' ? {} : { certificate }) } };
  }
  return undefined;
}

const shortValue = (match: Match, value: string) => (match === 'fingerprint' ? `${value.replaceAll(':', '').slice(0, 8).toLowerCase()}…` : value.length > 40 ? `${value.slice(0, 40)}…` : value);

/** What the help line says of the picked credential. */
function explain(credential: PartnerCredential | undefined): string {
  if (credential?.clientCert) return 'The run presents a verified client certificate matching this registered one; the request keeps only a reference to it.';
  if (credential?.hmac) return 'The request is signed as the workflow\'s hmac-verify node expects, with a secret made for this run only (never the partner\'s own); the request keeps only a reference to the partner.';
  if (credential?.introspected) return 'For this run the introspect nodes ask a stand-in authorization server that finds the token active for this partner\'s client id, with these scopes; the real one is never called.';
  return 'A key of this partner, with its scopes, is made for each run; the request keeps only a reference to it.';
}

/**
 * "Run as partner": picks, per registered partner, a credential the workflow's identity nodes
 * accept: an active API key, a registered client certificate, an HMAC-signed request or an
 * introspected token. The request then carries a reference (`apiKey: { key }`, `clientCert`,
 * `hmac`, `introspected`), never a credential: each run makes one from the partner's record, and
 * a saved test or sample keeps the reference.
 */
export function PartnerKeyPicker({ credential, document, onPick, onMustMock }: { credential: PartnerCredential | undefined; document(): Record<string, unknown>; onPick(credential: PartnerCredential | undefined): void; onMustMock(): void }) {
  const { api, identity } = useSessionContext();
  const { resource } = useResource(() => api.partners(), 'preview-partner-keys');
  const mayRunReal = can(identity.role, 'publish');
  const accepts = acceptedCredentials(document());
  const partners = resource.status === 'ready' ? resource.value.partners : [];
  const groups = partners
    .map((p) => {
      const suspended = p.status === 'suspended' ? ' — partner suspended' : '';
      const options: Array<{ value: string; label: string }> = [];
      if (accepts.apiKey) for (const k of p.keys.filter((k) => k.state === 'active')) options.push({ value: `key:${k.id}`, label: `${p.id} — key sk_${k.prefix}… (scopes: ${k.scopes.join(' ') || 'none'})${suspended}` });
      for (const c of p.certificates ?? []) if (accepts.certificates.has(c.match)) options.push({ value: `cert:${p.id}:${c.id}`, label: `${p.id} — certificate (${c.match} ${shortValue(c.match, c.value)})${suspended}` });
      if (accepts.hmac && (p.hmacSecrets ?? []).some((s) => s.state === 'active')) options.push({ value: `hmac:${p.id}`, label: `${p.id} — HMAC-signed request${suspended}` });
      if (accepts.introspected) options.push({ value: `introspected:${p.id}`, label: `${p.id} — introspected token (client ${p.clientIds[0] ?? p.id})${suspended}` });
      return { partner: p.id, options };
    })
    .filter((g) => g.options.length > 0);
  const value = valueOf(credential);
  const known = value === '' || value === INLINE || groups.some((g) => g.options.some((o) => o.value === value));
  const scopes = credential?.introspected?.scopes ?? [];
  const none = resource.status === 'ready' && groups.length === 0;
  const accepted = [accepts.apiKey && 'API keys', accepts.certificates.size > 0 && 'client certificates', accepts.hmac && 'HMAC signatures', accepts.introspected && 'introspected tokens'].filter(Boolean);
  return (
    <div className="field preview__partner">
      <label htmlFor="preview-partner-key">Run as partner</label>
      <select
        id="preview-partner-key"
        value={value}
        aria-describedby="preview-partner-key-help"
        onChange={(e) => {
          const picked = e.target.value;
          if (picked === INLINE) return;
          const reference = referenceOf(picked, scopes);
          onPick(reference);
          if (asPartner(reference) && !mayRunReal) onMustMock();
        }}
      >
        <option value="">no partner credential (the headers as typed)</option>
        {credential?.apiKey?.hash && <option value={INLINE}>the sample's inline key (by its hash)</option>}
        {!known && <option value={value}>the saved {value.slice(0, value.indexOf(':'))} reference {value.slice(value.indexOf(':') + 1)} (no longer offered)</option>}
        {groups.map((g) => (
          <optgroup key={g.partner} label={g.partner}>
            {g.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      {credential?.introspected && (
        <label className="preview__partner-scopes">
          Scopes the token grants
          <input
            aria-label="Introspected token scopes"
            value={scopes.join(' ')}
            onChange={(e) => onPick({ introspected: { ...credential.introspected!, scopes: e.target.value.split(/[\s,]+/).filter(Boolean) } })}
          />
        </label>
      )}
      <p id="preview-partner-key-help" className={!mayRunReal && value !== '' ? 'preview__partner-note' : 'field__desc'}>
        {mayRunReal
          ? none
            ? accepted.length === 0
              ? 'This workflow has no identity node that takes a partner\'s credential (api-key from partners, client-cert, hmac-verify, introspect).'
              : `No partner has a credential this workflow takes (${accepted.join(', ')}) yet: add one on the Partners page.`
            : explain(credential)
          : `The ${identity.role} role runs a partner's ${credential?.apiKey || !asPartner(credential) ? 'key' : 'credential'} against a mocked upstream only (the real upstream needs the publisher or admin role): the mocked answer below is used.`}
      </p>
    </div>
  );
}
