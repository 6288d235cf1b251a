import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { PresentedCertificate } from '../kinds/types.ts';
import type { ClientAddress } from './client-address.ts';

/** The longest certificate header read (URL-encoded PEM); SLUICE_MAX_HEADER bounds the head before this. */
const MAX_HEADER_CERTIFICATE = 16 * 1024;

/** Finds the client certificate of a request, verified: from the TLS connection, or from a trusted proxy's header. */
export interface ClientCertificates {
  /**
   * Removes the certificate header from the request, whoever sent it (nodes and upstreams never
   * see it), and returns its value for `of`.
   */
  take(req: IncomingMessage): string | undefined;
  /** The request's certificate; `headerValue` is what `take` returned. */
  of(req: IncomingMessage, headerValue: string | undefined): PresentedCertificate | undefined;
}

/** `AB:CD:…` as Node prints a fingerprint -> `abcd…`. */
const plainHex = (fingerprint: string) => fingerprint.replaceAll(':', '').toLowerCase();

/** `DNS:a.example, URI:spiffe://x` -> its entries, as written. A value holding ", " is quoted by Node and kept whole. */
function sansOf(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const out: string[] = [];
  for (const match of text.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
    out.push(`${match[1]}:${value}`);
  }
  return out;
}

const firstOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * The subject's one CN, from Node's subject (an array when repeated). A subject with several CNs
 * identifies no one by subject: which of them is "the" name differs between tools, and a CA that
 * signs whatever a CSR asks for would let a partner add another partner's CN beside its own.
 */
const onlyOf = (value: string | string[] | undefined) => (Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value);

/** The subject's one CN from Node's multi-line subject text (`C=DE\nCN=acme`; a newline inside a value is escaped as \0A). */
function commonNameOf(subject: string): string | undefined {
  const names = subject.split('\n').filter((line) => line.startsWith('CN=')).map((line) => line.slice(3));
  return onlyOf(names.length === 0 ? undefined : names);
}

/** A certificate a TLS handshake presented: its verification by the listener, and what identifies it. */
function fromSocket(socket: TLSSocket): PresentedCertificate | undefined {
  const cert = socket.getPeerCertificate(false) as PeerCertificate | Record<string, never>;
  if (cert === null || !('fingerprint256' in cert) || cert.fingerprint256 === undefined) return undefined;
  if (!socket.authorized) {
    const error = String(socket.authorizationError ?? '');
    return { verified: false, reason: error === 'CERT_HAS_EXPIRED' ? 'expired' : error === 'CERT_NOT_YET_VALID' ? 'not yet valid' : 'not issued by a trusted CA' };
  }
  return { verified: true, fingerprint: plainHex(cert.fingerprint256), subject: onlyOf(cert.subject?.CN), sans: sansOf(cert.subjectaltname) };
}

/** A certificate a proxy passed on (PEM, URL-encoded): verified here against the client CAs, directly issued by one of them. */
function fromHeader(text: string, cas: readonly X509Certificate[], now: number): PresentedCertificate | undefined {
  if (text === '' || text === '(null)') return undefined;
  if (text.length > MAX_HEADER_CERTIFICATE) return { verified: false, reason: 'too large' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(decodeURIComponent(text));
  } catch {
    return { verified: false, reason: 'not a PEM certificate' };
  }
  if (cert.ca || !cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return { verified: false, reason: 'not issued by a trusted CA' };
  if (Date.parse(cert.validTo) < now) return { verified: false, reason: 'expired' };
  if (Date.parse(cert.validFrom) > now) return { verified: false, reason: 'not yet valid' };
  return { verified: true, fingerprint: plainHex(cert.fingerprint256), subject: commonNameOf(cert.subject), sans: sansOf(cert.subjectAltName) };
}

/** The CA certificates of a PEM bundle. */
export function readCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in the client CA file');
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * Where client certificates come from: the TLS connection (verified by the listener against the
 * client CAs), else, when a header is configured and the socket's peer is a proxy SLUICE_TRUST_PROXY
 * trusts, that header, verified here. The header from any other peer is ignored.
 */
export function createClientCertificates(options: { cas: readonly X509Certificate[]; header: string | undefined; clients: ClientAddress }): ClientCertificates {
  const { cas, header, clients } = options;
  return {
    take(req) {
      if (header === undefined) return undefined;
      const value = req.headers[header];
      if (value === undefined) return undefined;
      delete req.headers[header];
      return firstOf(value);
    },
    of(req, headerValue) {
      const socket = req.socket as Partial<TLSSocket>;
      if (typeof socket.getPeerCertificate === 'function') {
        const presented = fromSocket(socket as TLSSocket);
        if (presented !== undefined) return presented;
      }
      if (headerValue === undefined || !clients.fromTrustedHop(req)) return undefined;
      return fromHeader(headerValue, cas, Date.now());
    },
  };
}
