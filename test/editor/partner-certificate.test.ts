/**
 * The partners page reads a pasted certificate in the browser (editor/src/partners/certificate.ts):
 * its SHA-256 fingerprint must be the one the gateway computes (node's X509Certificate, as
 * openssl's), its subject and SANs the ones openssl wrote; anything else pasted is refused in words.
 * Certificates are made by openssl for the test (test/helpers/certificates.ts).
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMatch, colonFingerprint, readCertificate, type CertificateFacts } from '../../editor/src/partners/certificate.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/certificates.ts';

let pki: TestPki;
let acme: TestCertificate;
let bare: TestCertificate;
let expired: TestCertificate;
beforeAll(() => {
  pki = createTestPki();
  acme = pki.issue('acme', { cn: 'acme-client', sans: ['DNS:acme.partners.example', 'URI:spiffe://partners/acme', 'email:api@acme.example', 'IP:10.1.2.3', 'IP:2001:db8::1'] });
  bare = pki.issue('bare');
  expired = pki.issue('expired', { days: -1 });
});
afterAll(() => pki?.close());

const facts = async (pem: string) => {
  const read = await readCertificate(pem);
  if (typeof read === 'string') throw new Error(read);
  return read;
};

describe('a pasted certificate, read in the browser', () => {
  it('gives the fingerprint the gateway computes, the subject CN and SANs as the API names them, and the expiry', async () => {
    const read: CertificateFacts = await facts(acme.cert);
    expect(read.fingerprint).toBe(acme.fingerprint);
    expect(colonFingerprint(read.fingerprint)).toBe(new X509Certificate(acme.cert).fingerprint256);
    expect(read.subject).toBe('acme-client');
    expect(read.sans.join(', ')).toBe(new X509Certificate(acme.cert).subjectAltName); // as the gateway reads them
    expect(read.sans).toEqual(['DNS:acme.partners.example', 'URI:spiffe://partners/acme', 'email:api@acme.example', 'IP Address:10.1.2.3', 'IP Address:2001:DB8:0:0:0:0:0:1']);
    expect(read.notAfter?.toISOString()).toBe(new Date(new X509Certificate(acme.cert).validTo).toISOString());
    expect(read.count).toBe(1);
  });

  it('reads the first of a chain, with text around it, CRLF line ends and no extensions', async () => {
    const chain = `subject=CN=bare\r\n${bare.cert.replace(/\n/g, '\r\n')}\r\n${pki.ca.cert}`;
    expect(await facts(chain)).toMatchObject({ fingerprint: bare.fingerprint, subject: 'bare', sans: [], count: 2 });
    expect(await facts(expired.cert)).toMatchObject({ expired: true, notAfter: expect.any(Date) });
    expect((await facts(bare.cert)).expired).toBe(false);
  });

  it.each<[string, () => string, RegExp]>([
    ['a private key', () => acme.key, /private key: it must never leave the partner/],
    ['a certificate with its key', () => `${acme.cert}${acme.key}`, /private key/],
    ['a signing request', () => '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', /signing request \(CSR\)/],
    ['a public key', () => '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n', /public key, not a certificate/],
    ['plain text', () => 'hello', /not a PEM certificate/],
    ['a certificate cut off at the end', () => acme.cert.slice(0, acme.cert.indexOf('-----END')), /cut off/],
    ['a line missing', () => acme.cert.split('\n').filter((_, i) => i !== 3).join('\n'), /damaged/],
    ['a changed character', () => acme.cert.replace(/\n(.)/, (_, c: string) => `\n${c === 'A' ? '*' : 'A'}`), /damaged/],
    ['a huge paste', () => `${acme.cert}${'x'.repeat(70_000)}`, /a certificate is a few KB at most/],
  ])('refuses %s, saying why', async (_name, pem, message) => {
    expect(await readCertificate(pem())).toMatch(message);
  });
});

describe('a match typed by hand', () => {
  it.each<[string, Parameters<typeof checkMatch>, ReturnType<typeof checkMatch>]>([
    ['a fingerprint with colons, upper case', ['fingerprint', 'AB:'.repeat(31) + 'AB', 'DNS'], { value: 'ab'.repeat(32) }],
    ['a fingerprint too short', ['fingerprint', 'abcd', 'DNS'], { error: 'must be 64 hexadecimal digits (a SHA-256 fingerprint); this has 4' }],
    ['a SHA-1 fingerprint', ['fingerprint', 'ab'.repeat(20), 'DNS'], { error: expect.stringMatching(/SHA-1/) as unknown as string }],
    ['not hex', ['fingerprint', 'zz'.repeat(32), 'DNS'], { error: expect.stringMatching(/hexadecimal/) as unknown as string }],
    ['nothing', ['fingerprint', ' ', 'DNS'], { error: expect.stringMatching(/^is required/) as unknown as string }],
    ['a CN', ['subject', ' acme-client ', 'DNS'], { value: 'acme-client' }],
    ['a CN with CN=', ['subject', 'CN=acme-client', 'DNS'], { error: expect.stringMatching(/without "CN="/) as unknown as string }],
    ['a DNS name', ['san', 'acme.partners.example', 'DNS'], { value: 'DNS:acme.partners.example' }],
    ['a DNS name typed with its type', ['san', 'DNS:acme.partners.example', 'DNS'], { value: 'DNS:acme.partners.example' }],
    ['a DNS name with a space', ['san', 'acme partners', 'DNS'], { error: expect.stringMatching(/DNS name/) as unknown as string }],
    ['a URI', ['san', 'spiffe://partners/acme', 'URI'], { value: 'URI:spiffe://partners/acme' }],
    ['an e-mail address without @', ['san', 'api.acme.example', 'email'], { error: expect.stringMatching(/e-mail/) as unknown as string }],
    ['an IP address', ['san', '10.1.2.3', 'IP Address'], { value: 'IP Address:10.1.2.3' }],
  ])('%s', (_name, args, expected) => {
    expect(checkMatch(...args)).toEqual(expected);
  });
});
