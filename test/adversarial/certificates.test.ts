/**
 * Hostile client certificates (client-cert), through a trusted TLS-terminating proxy's header:
 * certificates a partner could get signed (several CNs, a name smuggled into another field),
 * certificates that are not what they claim, malformed and oversized headers, and a flood of
 * them. Each case asserts the exact status and problem type; a bystander partner keeps calling
 * throughout, and the served versions and the audit chain must be as they were.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartners } from '../../engine/admin/commands/partners.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/certificates.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { startGateway, workflow } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, SOAK, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('certificates');

/** The proxy's address: the only peer SLUICE_TRUST_PROXY trusts. */
const PROXY = '127.0.0.2';
const HEADER = 'x-client-cert';
/** As nginx's $ssl_client_escaped_cert writes it. */
const escaped = (cert: TestCertificate | string) => encodeURIComponent(typeof cert === 'string' ? cert : cert.cert);

let pki: TestPki;
let gw: TestGateway;
let issuer: TestIssuer;
let upstream: TestUpstream;
let before: Snapshot;
let bystander: ReturnType<typeof startBystander>;
let certs: Record<'acme' | 'twoNames' | 'twoNamesLast' | 'smuggled' | 'stranger', TestCertificate>;

/** A GET from the trusted proxy's address, carrying the certificate header(s) as given. */
function viaProxy(headers: Record<string, string | string[]>): Promise<Response> {
  const url = new URL('/adv/cert', gw.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', agent: false, localAddress: PROXY, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers: { 'content-type': String(res.headers['content-type'] ?? '') } })));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  pki = createTestPki();
  certs = {
    acme: pki.issue('acme', { cn: 'acme-client' }),
    // a CA that signs what a CSR asks for: a partner adds initech's CN beside its own, first or last
    twoNames: pki.issue('two-names', { subject: '/CN=initech-gateway/CN=mallory' }),
    twoNamesLast: pki.issue('two-names-last', { subject: '/CN=mallory/CN=initech-gateway' }),
    // initech's CN inside another field, after a newline (Node escapes it as \0A)
    smuggled: pki.issue('smuggled', { subject: '/O=evil\nCN=initech-gateway/CN=mallory' }),
    stranger: pki.issue('stranger', { cn: 'initech-gateway', by: 'stranger' }),
  };
  issuer = await createIssuer('adv-certs');
  upstream = await startUpstream();
  gw = await startGateway(
    [
      workflow('adv-cert', { path: '/adv/cert' }, [{ id: 'cert', kind: 'client-cert' }, { id: 'who', kind: 'respond', config: { bodyExpression: '{ "partner": partner, "subject": subject }' } }], [['cert', 'ok', 'who']]),
      workflow('adv-bystander', { path: '/adv/bystander' }, [{ id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'call']]),
    ],
    { env: { UPSTREAM: upstream.url }, settings: { SLUICE_TRUST_PROXY: PROXY, SLUICE_TLS_CLIENT_CA: pki.ca.certFile, SLUICE_TLS_CLIENT_CERT_HEADER: HEADER, SLUICE_MAX_HEADER: '64kb' } },
  );
  const changes = createPartners({ store: gw.sluice.store });
  const actor = { name: 'test', role: 'admin' };
  for (const id of ['acme', 'initech']) await changes.createPartner(actor, id, { name: id, contacts: [], products: [], clientIds: [], limits: {} });
  await changes.addCertificate(actor, 'acme', { match: 'fingerprint', value: certs.acme.fingerprint });
  await changes.addCertificate(actor, 'initech', { match: 'subject', value: 'initech-gateway' });
  await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  before = await snapshotOf(gw);
  bystander = startBystander(gw, '/adv/bystander', await bystanderToken(issuer));
});

afterAll(async () => {
  await bystander?.stopAndCheck();
  expect(await snapshotOf(gw)).toEqual(before);
  await gw?.close();
  await upstream?.close();
  pki?.close();
});

describe('hostile client certificates (client-cert, from a trusted proxy)', () => {
  it('the registered partner is served (the cases below differ from it only in what they break)', async () => {
    const res = await viaProxy({ [HEADER]: escaped(certs.acme) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partner: 'acme', subject: 'acme-client' });
  });

  it.each<[name: string, headers: () => Record<string, string | string[]>, detail: string]>([
    ['two CNs, the first a partner\'s registered subject', () => ({ [HEADER]: escaped(certs.twoNames) }), 'identifies no registered partner'],
    ['two CNs, the last a partner\'s registered subject', () => ({ [HEADER]: escaped(certs.twoNamesLast) }), 'identifies no registered partner'],
    ['a partner\'s CN smuggled after a newline in another field', () => ({ [HEADER]: escaped(certs.smuggled) }), 'identifies no registered partner'],
    ['a partner\'s CN from an untrusted CA', () => ({ [HEADER]: escaped(certs.stranger) }), 'not issued by a trusted CA'],
    ['an untrusted certificate first, a registered one after it', () => ({ [HEADER]: escaped(`${certs.stranger.cert}\n${certs.acme.cert}`) }), 'not issued by a trusted CA'],
    ['the registered certificate with its signature bytes changed', () => ({ [HEADER]: escaped(certs.acme.cert.replace(/(.{8})-----END/s, (_m, tail: string) => `${tail.split('').reverse().join('')}-----END`)) }), 'not'],
    ['a 20 KB header', () => ({ [HEADER]: 'A'.repeat(20 * 1024) }), 'too large'],
    ['broken percent-encoding', () => ({ [HEADER]: '%E0%A4%A' }), 'not a PEM certificate'],
    ['a PEM of a private key', () => ({ [HEADER]: escaped(certs.acme.key) }), 'not a PEM certificate'],
    ['the header twice, junk first', () => ({ [HEADER]: ['junk', escaped(certs.acme)] }), 'not a PEM certificate'],
  ])('%s: 401 invalid-client-certificate', async (_name, headers, detail) => {
    await group.refused(await viaProxy(headers()), 401, 'invalid-client-certificate', new RegExp(detail));
  });

  it(`a flood of ${200 * SOAK} junk certificates from the proxy: each refused, the bystander served throughout`, async () => {
    const statuses = new Map<number, number>();
    for (let round = 0; round < 20 * SOAK; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => viaProxy({ [HEADER]: escaped(`-----BEGIN CERTIFICATE-----\n${Buffer.from(`junk ${round} ${i}`).toString('base64')}\n-----END CERTIFICATE-----`) })));
      for (const res of answers) {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await res.arrayBuffer();
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 200 * SOAK });
    group.counted();
  });
});
