import { useEffect, useRef, useState } from 'react';
import type { PartnerView } from '../../../shared/schema/partners.ts';
import { Dialog } from '../components/Dialog.tsx';
import { useSessionContext } from '../editor-context.ts';
import { checkMatch, colonFingerprint, readCertificate, SAN_TYPES, type CertificateFacts, type MatchKind, type SanType } from './certificate.ts';
import { sentence, TextField } from './fields.tsx';
import { FormDialog } from './FormDialog.tsx';
import { refusal, type FieldErrors } from './form.ts';
import { ShownOnceActions } from '../components/ShownOnceActions.tsx';

/** An HMAC secret as the API answers its creation: the only time the secret itself is seen. */
export type CreatedSecret = { partner: string; id: string; secret: string; replaced?: string | undefined };

const KINDS: Array<{ kind: MatchKind; label: string; hint: string }> = [
  { kind: 'fingerprint', label: 'SHA-256 fingerprint', hint: 'This one certificate: a renewed certificate needs adding again.' },
  { kind: 'subject', label: 'Subject CN', hint: 'Any certificate your client CA issues with this common name, renewals included.' },
  { kind: 'san', label: 'Subject alternative name', hint: 'Any certificate your client CA issues with this DNS name, URI, e-mail or IP address.' },
];

const when = (iso: Date) => iso.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** What a pasted certificate is, in a line the operator checks before saving. */
function Facts({ facts }: { facts: CertificateFacts }) {
  const { expired } = facts;
  return (
    <div className="credentials__facts">
      <div>
        <span className="muted">Read in your browser:</span> {facts.subject ? <>CN <code>{facts.subject}</code></> : 'no subject CN'}
        {facts.sans.map((s, i) => (
          <span key={s}>
            {i === 0 ? ' · ' : ', '}
            <code>{s}</code>
          </span>
        ))}
        {facts.notAfter && <> · {expired ? 'expired' : 'valid until'} {when(facts.notAfter)}</>}
      </div>
      {facts.count > 1 && <div className="muted small">The PEM holds {facts.count} certificates: the first (the partner's own, before its CA's) is the one used.</div>}
      {expired && <div className="field__error">This certificate has expired: the gateway refuses it even when it is registered. Ask the partner for its current one.</div>}
    </div>
  );
}

/**
 * Gives the focus back to what had it (the button that opened the dialog) when a dialog that is
 * mounted only while open goes: the native <dialog> cannot, as it leaves the page with it. Taken
 * on the first render, before the dialog opens and moves the focus inside; given back once the
 * modal is gone, as everything outside an open modal is inert.
 */
function useReturnFocus() {
  const [opener] = useState(() => document.activeElement);
  useEffect(() => () => void setTimeout(() => opener instanceof HTMLElement && opener.isConnected && opener.focus(), 0), [opener]);
}

/**
 * Lets a client certificate identify a partner: by its SHA-256 fingerprint (typed, or computed
 * here from a pasted PEM with WebCrypto: the PEM itself is never sent), its subject CN or a
 * subjectAltName entry. Checked as typed; what the API refuses (a certificate another partner has)
 * is said in the dialog.
 */
export function AddCertificateDialog({ partner, partners, onClose, onAdded }: { partner: PartnerView; partners: readonly PartnerView[]; onClose(): void; onAdded(): void }) {
  const { api } = useSessionContext();
  useReturnFocus();
  const [kind, setKind] = useState<MatchKind>('fingerprint');
  const [pem, setPem] = useState('');
  const [read, setRead] = useState<CertificateFacts | string | undefined>();
  const [typed, setTyped] = useState({ fingerprint: '', subject: '', san: '' });
  const [sanType, setSanType] = useState<SanType>('DNS');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [server, setServer] = useState<{ message: string; fields: FieldErrors } | undefined>();
  useEffect(() => {
    let live = true;
    if (pem.trim() === '') setRead(undefined);
    else readCertificate(pem).then((r) => live && setRead(r), (e: unknown) => live && setRead(String(e)));
    return () => {
      live = false;
    };
  }, [pem]);

  const where = `certificate-${partner.id}`;
  const facts = kind === 'fingerprint' && typeof read === 'object' ? read : undefined;
  const pemError = kind === 'fingerprint' && typeof read === 'string' ? read : undefined;
  const fromPem = kind === 'fingerprint' && pem.trim() !== '';
  const checked = fromPem ? (facts ? { value: facts.fingerprint } : undefined) : checkMatch(kind, typed[kind], sanType);
  const owner = checked && 'value' in checked ? partners.find((p) => (p.certificates ?? []).some((c) => c.match === kind && c.value === checked.value)) : undefined;
  const valueError = checked && 'error' in checked ? ((typed[kind].trim() === '' && !tried) ? undefined : checked.error) : owner ? (owner.id === partner.id ? `is registered for ${partner.name} already` : `is registered for partner "${owner.id}" already: one certificate identifies one partner`) : undefined;
  const shownValueError = server?.fields.value ?? valueError;
  const blocked = pemError !== undefined || !checked || 'error' in checked || owner !== undefined;

  const save = () => {
    setTried(true);
    if (blocked || !checked || !('value' in checked)) return;
    setBusy(true);
    setServer(undefined);
    api.addCertificate(partner.id, { match: kind, value: checked.value }).then(
      () => onAdded(),
      (e: unknown) => {
        setBusy(false);
        setServer(refusal(e));
      },
    );
  };
  const message = server?.message ?? (tried && blocked ? (fromPem && !facts && !pemError ? 'Reading the certificate…' : 'Fix the field marked in red, then add again.') : undefined);
  const valueLabel = kind === 'fingerprint' ? 'SHA-256 fingerprint' : kind === 'subject' ? 'Subject CN' : 'Name';
  const set = (value: string) => {
    setServer(undefined);
    setTyped({ ...typed, [kind]: value });
  };

  return (
    <FormDialog title={`Add a client certificate for ${partner.name}`} label="Add certificate" busy={busy} message={message} onClose={onClose} save={save}>
      <fieldset className="field field--group">
        <legend>Match the certificate by</legend>
        <div className="credentials__kinds">
          {KINDS.map((k) => (
            <label key={k.kind} className="credentials__kind">
              <input type="radio" name={`${where}-kind`} value={k.kind} checked={kind === k.kind} autoFocus={k.kind === 'fingerprint'} onChange={() => (setKind(k.kind), setServer(undefined))} />
              <span>
                <strong>{k.label}</strong>
                <span className="field__desc">{k.hint}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      {kind === 'fingerprint' && (
        <div className={pemError ? 'field field--problem' : 'field'}>
          <label htmlFor={`${where}-pem`}>Certificate (PEM)</label>
          <textarea
            id={`${where}-pem`}
            className="credentials__pem"
            rows={5}
            spellCheck={false}
            value={pem}
            placeholder={'-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----'}
            aria-invalid={pemError ? true : undefined}
            aria-describedby={`${where}-pem-help`}
            onChange={(e) => (setPem(e.target.value), setServer(undefined))}
          />
          <p id={`${where}-pem-help`} className={pemError ? 'field__error' : 'field__desc'}>
            {pemError ?? 'Paste the partner\'s certificate (never its key): the fingerprint is computed here, in your browser, and only the fingerprint is saved. Or type the fingerprint below.'}
          </p>
        </div>
      )}
      {kind === 'san' && (
        <div className="field">
          <label htmlFor={`${where}-san-type`}>Type</label>
          <select id={`${where}-san-type`} value={sanType} onChange={(e) => (setSanType(e.target.value as SanType), setServer(undefined))}>
            {SAN_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      )}
      {fromPem ? (
        <div className={shownValueError ? 'field field--problem' : 'field'}>
          <label htmlFor={`${where}-value`}>SHA-256 fingerprint</label>
          <textarea id={`${where}-value`} readOnly rows={2} className="credentials__value credentials__computed" value={facts ? colonFingerprint(facts.fingerprint) : ''} placeholder={pemError ? 'no certificate read' : 'reading…'} aria-invalid={shownValueError ? true : undefined} aria-describedby={`${where}-value-help`} />
          <p id={`${where}-value-help`} className={shownValueError ? 'field__error' : 'field__desc'} role="status">
            {sentence('SHA-256 fingerprint', shownValueError) ?? (facts ? 'Computed from the certificate above: this is what will be saved.' : 'Computed from the certificate above.')}
          </p>
          {facts && <Facts facts={facts} />}
        </div>
      ) : (
        <TextField
          id={`${where}-value`}
          label={valueLabel}
          value={typed[kind]}
          onChange={set}
          error={shownValueError}
          placeholder={kind === 'fingerprint' ? 'AB:CD:…  (64 hex digits)' : kind === 'subject' ? 'acme-client' : sanType === 'DNS' ? 'acme.partners.example' : sanType === 'URI' ? 'spiffe://partners/acme' : sanType === 'email' ? 'api@acme.example' : '203.0.113.7'}
          hint={kind === 'fingerprint' ? 'As openssl x509 -noout -fingerprint -sha256 -in cert.pem prints it; colons and case do not matter.' : kind === 'subject' ? 'The CN only, without "CN=". Only certificates your client CA verified are matched.' : `Saved as ${sanType}:${checked && 'value' in checked ? checked.value.slice(sanType.length + 1) : '…'}`}
        />
      )}
    </FormDialog>
  );
}

/** The new HMAC secret, shown this once with a copy button: the admin API never answers it again. */
export function NewSecretDialog({ created, onClose }: { created: CreatedSecret | undefined; onClose(): void }) {
  const secret = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // the dialog opens (showModal) after this effect: focus the secret, selected, once it is open
    const timer = created ? setTimeout(() => secret.current?.focus(), 0) : undefined;
    return () => clearTimeout(timer);
  }, [created]);
  return (
    <Dialog open={created !== undefined} title={`New HMAC secret for ${created?.partner ?? ''}`} onClose={onClose}>
      <p>
        Copy the secret now and hand it to the partner over a safe channel: it is shown <strong>only this once</strong>. You will not see it again — not on this page, not in the API, not in the audit log.
      </p>
      {created?.replaced && <p>The secret {created.replaced} it replaces keeps working for 24 hours, then is refused.</p>}
      <label className="sr-only" htmlFor="new-hmac-secret">
        New HMAC secret
      </label>
      <input ref={secret} id="new-hmac-secret" className="partners__secret" readOnly value={created?.secret ?? ''} onFocus={(e) => e.target.select()} />
      <p className="muted small">
        Key id <code>{created?.id}</code>: the partner signs with <code>Signature: keyId={created?.id},ts=&lt;unix seconds&gt;,sig=&lt;hex HMAC-SHA256&gt;</code> (see the README's "How a partner signs").
      </p>
      <ShownOnceActions value={created?.secret} onDone={onClose} />
    </Dialog>
  );
}
