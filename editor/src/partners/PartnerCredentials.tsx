import type { PartnerView } from '../../../shared/schema/partners.ts';
import { colonFingerprint } from './certificate.ts';

type Certificate = NonNullable<PartnerView['certificates']>[number];
type HmacSecret = NonNullable<PartnerView['hmacSecrets']>[number];

/** What the credentials panel can ask the page to do; the page asks for reasons and confirmations. */
export interface CredentialActions {
  addCertificate(p: PartnerView): void;
  removeCertificate(p: PartnerView, certificate: Certificate): void;
  createSecret(p: PartnerView): void;
  rotateSecret(p: PartnerView, secret: string): void;
  revokeSecret(p: PartnerView, secret: string): void;
}

const MATCH_WORDS: Record<Certificate['match'], string> = { fingerprint: 'fingerprint', subject: 'subject CN', san: 'SAN' };

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A certificate's value as an operator compares it: a fingerprint in openssl's AB:CD:… form. */
export const certificateValue = (c: Pick<Certificate, 'match' | 'value'>) => (c.match === 'fingerprint' ? colonFingerprint(c.value) : c.value);

/**
 * A partner's client certificates (client-cert nodes) and HMAC signing secrets (hmac-verify): what
 * identifies it besides keys and tokens. Only a role that may change partners (`canChange`) gets
 * the buttons; every other role reads the same lists. A secret itself is never here: the API shows
 * it only in the answer that creates it.
 */
export function PartnerCredentials({ partner: p, canChange, busy, actions }: { partner: PartnerView; canChange: boolean; busy: boolean; actions: CredentialActions }) {
  const certificates = p.certificates ?? [];
  const secrets = p.hmacSecrets ?? [];
  return (
    <div className="credentials">
      <section className="credentials__panel" aria-labelledby={`certificates-${p.id}`}>
        <div className="credentials__head">
          <h3 id={`certificates-${p.id}`}>Client certificates</h3>
          {canChange && (
            <button type="button" disabled={busy} onClick={() => actions.addCertificate(p)} aria-label={`Add certificate for ${p.name}`}>
              Add certificate
            </button>
          )}
        </div>
        <ul className="credentials__list" aria-label={`Client certificates of ${p.id}`}>
          {certificates.map((c) => (
            <li key={c.id} aria-label={`Certificate ${c.id}`}>
              <div className="credentials__line">
                <span className="chip chip--match">{MATCH_WORDS[c.match]}</span> <code className="credentials__value">{certificateValue(c)}</code>
              </div>
              <div className="credentials__line">
                <span className="muted small">
                  added by {c.createdBy} · {when(c.createdAt)}
                </span>
                {canChange && (
                  <button type="button" className="link" disabled={busy} aria-label={`Remove certificate ${c.id}`} title={`Stop this certificate identifying ${p.id}`} onClick={() => actions.removeCertificate(p, c)}>
                    Remove
                  </button>
                )}
              </div>
            </li>
          ))}
          {certificates.length === 0 && <li className="muted small">No client certificates: client-cert nodes do not identify {p.id}.</li>}
        </ul>
      </section>
      <section className="credentials__panel" aria-labelledby={`hmac-${p.id}`}>
        <div className="credentials__head">
          <h3 id={`hmac-${p.id}`}>HMAC secrets</h3>
          {canChange && (
            <button type="button" disabled={busy} onClick={() => actions.createSecret(p)} aria-label={`Create secret for ${p.name}`}>
              Create secret
            </button>
          )}
        </div>
        <ul className="credentials__list" aria-label={`HMAC secrets of ${p.id}`}>
          {secrets.map((s: HmacSecret) => (
            <li key={s.id} aria-label={`HMAC secret ${s.id}`}>
              <div className="credentials__line">
                <code>{s.id}</code> <span className={`chip chip--key-${s.state}`}>{s.state}</span>
              </div>
              <div className="credentials__line">
                <span className="muted small">
                  created by {s.createdBy} · {when(s.createdAt)}
                  {s.state === 'revoked' && s.revokedAt ? ` · revoked${s.revokedBy ? ` by ${s.revokedBy}` : ''} ${when(s.revokedAt)}` : s.expiresAt ? ` · ${s.state === 'expired' ? 'expired' : 'expires'} ${when(s.expiresAt)}` : ' · no expiry'}
                </span>
                {canChange && s.state === 'active' && (
                  <button type="button" className="link" disabled={busy} aria-label={`Rotate HMAC secret ${s.id}`} title={`A new secret; ${s.id} keeps working for 24 hours`} onClick={() => actions.rotateSecret(p, s.id)}>
                    Rotate
                  </button>
                )}
                {canChange && s.state !== 'revoked' && (
                  <button type="button" className="link" disabled={busy} aria-label={`Revoke HMAC secret ${s.id}`} title={`Refuse signatures made with ${s.id}`} onClick={() => actions.revokeSecret(p, s.id)}>
                    Revoke
                  </button>
                )}
              </div>
            </li>
          ))}
          {secrets.length === 0 && <li className="muted small">No HMAC secrets: hmac-verify nodes do not identify {p.id}.</li>}
        </ul>
      </section>
    </div>
  );
}
