/*
 * A partner's client certificate as an operator hands it over: a pasted PEM, read in the browser
 * (nothing of it is sent: only the fingerprint computed from it, with WebCrypto), or a match typed
 * by hand. Checked here in words before the API's own schema checks it again.
 */

export type MatchKind = 'fingerprint' | 'subject' | 'san';
export const SAN_TYPES = ['DNS', 'URI', 'email', 'IP Address'] as const;
export type SanType = (typeof SAN_TYPES)[number];

/** What a pasted certificate says about itself: shown before saving, so the operator sees it is the right one. */
export interface CertificateFacts {
  /** SHA-256 of the DER, lower-case hex without colons: what the gateway compares. */
  fingerprint: string;
  subject?: string | undefined;
  sans: string[];
  notAfter?: Date | undefined;
  /** Whether it had expired when it was read: the gateway refuses an expired certificate. */
  expired: boolean;
  /** How many certificates the PEM held; the first (the leaf of a chain) is the one read. */
  count: number;
}

const MAX_PEM = 64 * 1024;
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)(?:-----END \1-----|$)/g;

/** The bytes of one DER element: its tag, where its contents start and end. */
type Tlv = { tag: number; start: number; end: number };

function tlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error('cut short');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  if (start + length > limit) throw new Error('cut short');
  return { tag, start, end: start + length };
}

/** The elements inside a constructed element. */
function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = tlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const text = (der: Uint8Array, t: Tlv) => new TextDecoder().decode(der.subarray(t.start, t.end));
const same = (der: Uint8Array, t: Tlv, bytes: readonly number[]) => t.end - t.start === bytes.length && bytes.every((b, i) => der[t.start + i] === b);
const OID_CN = [0x55, 0x04, 0x03];
const OID_SAN = [0x55, 0x1d, 0x11];

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function time(der: Uint8Array, t: Tlv): Date | undefined {
  const s = text(der, t);
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const year = t.tag === 0x17 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** The last CN of a Name (SEQUENCE of SET of SEQUENCE { OID, value }). */
function commonName(der: Uint8Array, name: Tlv): string | undefined {
  let cn: string | undefined;
  for (const rdn of children(der, name))
    for (const attribute of children(der, rdn)) {
      const [oid, value] = children(der, attribute);
      if (oid && value && same(der, oid, OID_CN)) cn = text(der, value);
    }
  return cn;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).toUpperCase());
  return groups.join(':');
}

/** The subjectAltName entries as the API names them: DNS:…, URI:…, email:…, IP Address:…. */
function altNames(der: Uint8Array, extensions: Tlv): string[] {
  const names: string[] = [];
  for (const list of children(der, extensions))
    for (const extension of children(der, list)) {
      const parts = children(der, extension);
      if (!parts[0] || !same(der, parts[0], OID_SAN)) continue;
      const octets = parts[parts.length - 1]!;
      const general = tlv(der, octets.start, octets.end);
      for (const name of children(der, general)) {
        const kind = name.tag & 0x1f;
        if (kind === 1) names.push(`email:${text(der, name)}`);
        else if (kind === 2) names.push(`DNS:${text(der, name)}`);
        else if (kind === 6) names.push(`URI:${text(der, name)}`);
        else if (kind === 7) names.push(`IP Address:${ipText(der.subarray(name.start, name.end))}`);
      }
    }
  return names;
}

/** Subject CN, SANs and expiry of an X.509 certificate's DER; throws when it is not one. */
function readDer(der: Uint8Array): Omit<CertificateFacts, 'fingerprint' | 'count' | 'expired'> {
  const certificate = tlv(der, 0, der.length);
  if (certificate.tag !== 0x30 || certificate.end !== der.length) throw new Error('not a certificate');
  const [tbs, algorithm, signature] = children(der, certificate);
  if (tbs?.tag !== 0x30 || algorithm?.tag !== 0x30 || signature?.tag !== 0x03) throw new Error('not a certificate');
  const fields = children(der, tbs);
  if (fields[0]?.tag === 0xa0) fields.shift(); // the version
  const [serial, , , validity, subject, key] = fields;
  if (serial?.tag !== 0x02 || validity?.tag !== 0x30 || subject?.tag !== 0x30 || key?.tag !== 0x30) throw new Error('not a certificate');
  const extensions = fields.find((f) => f.tag === 0xa3);
  const notAfter = children(der, validity)[1];
  return { subject: commonName(der, subject), sans: extensions ? altNames(der, extensions) : [], notAfter: notAfter ? time(der, notAfter) : undefined };
}

/** Lower-case hex of bytes. */
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A fingerprint as `openssl x509 -fingerprint -sha256` prints it: AB:CD:…, easier to compare by eye. */
export const colonFingerprint = (value: string) => (value.toUpperCase().match(/../g) ?? []).join(':');

/**
 * Reads a pasted PEM certificate in the browser: its SHA-256 fingerprint (WebCrypto), subject CN,
 * subjectAltName entries and expiry. Answers a sentence saying what is wrong instead: a private
 * key, a signing request, a cut-off or damaged paste.
 * @example const facts = await readCertificate(pem); if (typeof facts === 'string') showError(facts);
 */
export async function readCertificate(pem: string): Promise<CertificateFacts | string> {
  if (pem.length > MAX_PEM) return `This is ${Math.round(pem.length / 1024)} KB: a certificate is a few KB at most. Paste only the partner's certificate.`;
  const blocks = [...pem.matchAll(BLOCK)].map((m) => ({ label: m[1]!, body: m[2]!, closed: m[0].includes('-----END ') }));
  if (blocks.some((b) => b.label.includes('PRIVATE KEY'))) return 'This is a private key: it must never leave the partner. Paste the certificate instead (the part between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----).';
  const certificates = blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  if (certificates.length === 0) {
    if (blocks.some((b) => b.label.includes('REQUEST'))) return 'This is a certificate signing request (CSR), not a certificate: paste the certificate the CA issued from it.';
    if (blocks.some((b) => b.label.includes('PUBLIC KEY'))) return 'This is a public key, not a certificate: paste the certificate itself.';
    return 'This is not a PEM certificate: paste the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.';
  }
  const first = certificates[0]!;
  if (!first.closed) return 'The certificate is cut off: the -----END CERTIFICATE----- line is missing.';
  const body = first.body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 === 1) return 'The certificate is damaged: the text between its BEGIN and END lines is not base64.';
  let der: Uint8Array<ArrayBuffer>;
  let facts: Omit<CertificateFacts, 'fingerprint' | 'count' | 'expired'>;
  try {
    der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
    facts = readDer(der);
  } catch {
    return 'The certificate is damaged: its contents are not an X.509 certificate (a line missing or changed?).';
  }
  if (!globalThis.crypto?.subtle) return 'This page cannot compute a fingerprint (the browser offers WebCrypto only over HTTPS): run openssl x509 -noout -fingerprint -sha256 -in cert.pem and type the fingerprint instead.';
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return { ...facts, fingerprint: hex(digest), count: certificates.length, expired: facts.notAfter !== undefined && facts.notAfter.getTime() < Date.now() };
}

/** A match as the API takes it, or what is wrong with it in words (for the value field). */
export function checkMatch(kind: MatchKind, value: string, sanType: SanType): { value: string } | { error: string } {
  const typed = value.trim();
  if (kind === 'fingerprint') {
    const digits = typed.replace(/[\s:]/g, '').toLowerCase();
    if (digits === '') return { error: 'is required: paste the certificate above, or type its fingerprint' };
    if (!/^[0-9a-f]+$/.test(digits)) return { error: 'must be hexadecimal digits (0-9, a-f), colons allowed' };
    if (digits.length === 40) return { error: 'looks like a SHA-1 fingerprint (40 digits): Sluice matches the SHA-256 fingerprint (64 digits)' };
    if (digits.length !== 64) return { error: `must be 64 hexadecimal digits (a SHA-256 fingerprint); this has ${digits.length}` };
    return { value: digits };
  }
  if (typed === '') return { error: kind === 'subject' ? 'is required: the common name (CN) of the certificate\'s subject' : 'is required' };
  if (/[\r\n]/.test(typed)) return { error: 'must be one line' };
  if (kind === 'subject') {
    if (/^(CN|cn)\s*=/.test(typed)) return { error: 'must be the common name only (e.g. acme-client), without "CN="' };
    if (typed.length > 256) return { error: 'is too long: at most 256 characters' };
    return { value: typed };
  }
  const bare = typed.startsWith(`${sanType}:`) ? typed.slice(sanType.length + 1).trim() : typed;
  if (bare === '') return { error: 'is required' };
  if (bare.length > 500) return { error: 'is too long: at most 500 characters' };
  if (sanType === 'DNS' && !/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(bare)) return { error: 'must be a DNS name such as partner.example.com' };
  if (sanType === 'email' && !/^[^\s@]+@[^\s@]+$/.test(bare)) return { error: 'must be an e-mail address such as api@partner.example' };
  if (sanType === 'URI' && !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(bare)) return { error: 'must be a URI such as spiffe://partners/acme' };
  if (sanType === 'IP Address' && !/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/.test(bare)) return { error: 'must be an IPv4 or IPv6 address' };
  return { value: `${sanType}:${bare}` };
}
