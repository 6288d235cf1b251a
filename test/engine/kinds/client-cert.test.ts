import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartners } from '../../../engine/admin/commands/partners.ts';
import { loadSettings } from '../../../engine/config.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../../helpers/certificates.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, type Admin } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';

describeKind('client-cert', {
  minimal: { config: {}, parsed: { match: ['fingerprint', 'san', 'subject'] } },
  accepts: [
    ['fingerprints only', { match: ['fingerprint'] }],
    ['the subject before the SAN', { match: ['subject', 'san'] }],
  ],
  refuses: [
    ['no way to match', { match: [] }, ['match']],
    ['an unknown way to match', { match: ['issuer'] }, ['match.0']],
    ['a way listed twice', { match: ['san', 'san'] }, ['match']],
    ['a header of its own (the header is a setting, read only from a trusted proxy)', { header: 'x-client-cert' }, ['header']],
  ],
});

/** Answers {"port":"ok"} with the partner the certificate identified. */
const whoNode: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "partner": partner, "subject": subject }' } };
const PORTS = ['missing', 'invalid', 'suspended', 'unsubscribed'];
const portsWorkflow = (id: string, path: string, config: Record<string, unknown> = {}) =>
  workflow(id, { path }, [{ id: 'cert', kind: 'client-cert', config }, whoNode, ...PORTS.map((p) => portNode(p))], [['cert', 'ok', 'who'], ...PORTS.map((p): [string, string, string] => ['cert', p, p])]);
const defaultWorkflow = (id: string, path: string) => workflow(id, { path }, [{ id: 'cert', kind: 'client-cert' }, whoNode], [['cert', 'ok', 'who']]);

/**
 * A GET over a connection of its own (no keep-alive), over TLS trusting the test CA when the URL
 * is https, presenting `cert` if given, from `localAddress` if given; the answer as a fetch Response.
 */
function get(base: string, path: string, options: { cert?: TestCertificate; ca?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<Response> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const common = { method: 'GET', agent: false as const, headers: options.headers ?? {}, ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const onAnswer = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers }));
      });
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { ...common, ca: options.ca, ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}) }, onAnswer)
        : httpRequest(url, common, onAnswer);
    req.on('error', reject);
    req.end();
  });
}

let pki: TestPki;
/** Certificates of the CA: partners registered by fingerprint, SAN and subject, and some that are refused. */
let certs: Record<'acme' | 'globex' | 'initech' | 'umbrella' | 'hooli' | 'nobody' | 'expired' | 'stranger' | 'twoNames', TestCertificate>;

beforeAll(() => {
  pki = createTestPki();
  certs = {
    acme: pki.issue('acme', { cn: 'acme-client', sans: ['DNS:acme.partners.example'] }),
    globex: pki.issue('globex', { cn: 'globex-client', sans: ['URI:spiffe://partners/globex', 'DNS:globex.partners.example'] }),
    initech: pki.issue('initech', { cn: 'initech-gateway' }),
    umbrella: pki.issue('umbrella'),
    hooli: pki.issue('hooli'),
    nobody: pki.issue('nobody', { sans: ['DNS:nobody.example'] }),
    // acme's names, registered by fingerprint too: refused only because it expired
    expired: pki.issue('expired', { cn: 'acme-client', sans: ['DNS:acme.partners.example'], days: -1 }),
    // acme's names, issued by a CA the gateway does not trust
    stranger: pki.issue('stranger', { cn: 'acme-client', sans: ['DNS:acme.partners.example'], by: 'stranger' }),
    // initech's registered subject as the first of two CNs: which one counts differs between tools, so neither does
    twoNames: pki.issue('two-names', { subject: '/CN=initech-gateway/CN=mallory' }),
  };
});
afterAll(() => pki?.close());

/** Registers the test partners in a gateway's store, as the admin API would, and waits until it serves them. */
async function registerCertificatePartners(gw: TestGateway, guarded: string[]) {
  const changes = createPartners({ store: gw.sluice.store });
  const actor = { name: 'test', role: 'admin' };
  await changes.putProduct(actor, 'orders', { name: 'orders', description: '', workflows: guarded });
  const partner = (id: string, products: string[]) => changes.createPartner(actor, id, { name: id, contacts: [], products, clientIds: [], limits: {} });
  for (const id of ['acme', 'globex', 'initech', 'umbrella']) await partner(id, ['orders']);
  await partner('hooli', []);
  await changes.addCertificate(actor, 'acme', { match: 'fingerprint', value: certs.acme.fingerprint });
  await changes.addCertificate(actor, 'acme', { match: 'fingerprint', value: certs.expired.fingerprint });
  await changes.addCertificate(actor, 'globex', { match: 'san', value: 'URI:spiffe://partners/globex' });
  await changes.addCertificate(actor, 'initech', { match: 'subject', value: 'initech-gateway' });
  await changes.addCertificate(actor, 'umbrella', { match: 'fingerprint', value: certs.umbrella.fingerprint });
  await changes.addCertificate(actor, 'hooli', { match: 'fingerprint', value: certs.hooli.fingerprint });
  await changes.suspend(actor, 'umbrella');
  await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  return changes;
}

describe('client-cert on the gateway\'s own TLS listener (mTLS)', () => {
  let gw: TestGateway;
  let changes: Awaited<ReturnType<typeof registerCertificatePartners>>;
  const call = (path: string, cert?: TestCertificate) => get(gw.url, path, { ca: pki.ca.cert, ...(cert ? { cert } : {}) });

  beforeAll(async () => {
    const server = pki.issue('server', { cn: 'localhost', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
    gw = await startGateway([portsWorkflow('cert-ports', '/cert/ports'), defaultWorkflow('cert-default', '/cert/default'), portsWorkflow('cert-fingerprint', '/cert/fingerprint', { match: ['fingerprint'] })], {
      settings: { SLUICE_TLS_CERT: server.certFile, SLUICE_TLS_KEY: server.keyFile, SLUICE_TLS_CLIENT_CA: pki.ca.certFile },
    });
    changes = await registerCertificatePartners(gw, ['cert-ports', 'cert-default']);
  });
  afterAll(() => gw?.close());

  it('listens on https and maps a verified certificate to its partner by fingerprint, SAN or subject', async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await call('/cert/ports', certs.acme)).json()).toEqual({ port: 'ok', partner: 'acme', subject: 'acme-client' });
    expect(await (await call('/cert/ports', certs.globex)).json()).toEqual({ port: 'ok', partner: 'globex', subject: 'globex-client' });
    expect(await (await call('/cert/default', certs.initech)).json()).toEqual({ port: 'ok', partner: 'initech', subject: 'initech-gateway' });
  });

  it.each<[name: string, port: string, cert: keyof typeof certs | undefined]>([
    ['no certificate', 'missing', undefined],
    ['a certificate of another CA, with a partner\'s names,', 'invalid', 'stranger'],
    ['an expired certificate, registered by fingerprint,', 'invalid', 'expired'],
    ['a verified certificate no partner registered', 'invalid', 'nobody'],
    ['a certificate with two CNs, the first a registered subject,', 'invalid', 'twoNames'],
    ['a suspended partner\'s certificate', 'suspended', 'umbrella'],
    ['the certificate of a partner without the product', 'unsubscribed', 'hooli'],
  ])('wired, %s takes the %s port', async (_name, port, cert) => {
    await expectPort(await call('/cert/ports', cert === undefined ? undefined : certs[cert]), port);
  });

  it.each<[name: string, status: number, slug: string, cert: keyof typeof certs | undefined, detail: string | RegExp]>([
    ['no certificate', 401, 'missing-client-certificate', undefined, 'client certificate'],
    ['a certificate of another CA', 401, 'invalid-client-certificate', 'stranger', 'not issued by a trusted CA'],
    ['an expired certificate', 401, 'invalid-client-certificate', 'expired', 'expired'],
    ['a certificate no partner registered', 401, 'invalid-client-certificate', 'nobody', 'identifies no registered partner'],
    ['a suspended partner\'s certificate', 403, 'partner-suspended', 'umbrella', 'umbrella'],
    ['a partner without the product', 403, 'product-not-subscribed', 'hooli', /hooli.*orders/],
  ])('unwired, %s answers %i %s', async (_name, status, slug, cert, detail) => {
    await expectProblem(await call('/cert/default', cert === undefined ? undefined : certs[cert]), status, slug, detail);
  });

  it('matches only the configured ways: a partner registered by SAN is unknown to a fingerprint-only node', async () => {
    await expectPort(await call('/cert/fingerprint', certs.globex), 'invalid');
    expect(await (await call('/cert/fingerprint', certs.acme)).json()).toMatchObject({ partner: 'acme' });
  });

  it('a removed certificate is refused from the next revision on', async () => {
    const acme = changes.requirePartner(await gw.sluice.store.state(), 'acme');
    const record = acme.certificates!.find((c) => c.value === certs.acme.fingerprint)!;
    await changes.removeCertificate({ name: 'test', role: 'admin' }, 'acme', record.id, 'rotated');
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    await expectPort(await call('/cert/ports', certs.acme), 'invalid');
    await changes.addCertificate({ name: 'test', role: 'admin' }, 'acme', { match: 'fingerprint', value: certs.acme.fingerprint });
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    await expectPort(await call('/cert/ports', certs.acme), 'ok');
  });
});

describe('client-cert behind a TLS-terminating proxy: the certificate header, from a trusted hop only', () => {
  let gw: TestGateway;
  let admin: Admin;
  /** The proxy's address: the only peer SLUICE_TRUST_PROXY trusts (127.0.0.1, where the tests run, is not). */
  const PROXY = '127.0.0.2';
  const HEADER = 'X-Client-Cert';
  /** As nginx's $ssl_client_escaped_cert writes it. */
  const escaped = (cert: TestCertificate) => encodeURIComponent(cert.cert);
  const viaProxy = (path: string, value: string, from = PROXY) => get(gw.url, path, { headers: { [HEADER]: value }, localAddress: from });

  beforeAll(async () => {
    const seen: NodeDoc = { id: 'seen', kind: 'respond', config: { bodyExpression: '{ "seen": $exists(request.headers."x-client-cert") }' } };
    gw = await startGateway([portsWorkflow('cert-ports', '/cert/ports'), defaultWorkflow('cert-default', '/cert/default'), workflow('cert-seen', { path: '/cert/seen' }, [seen])], {
      settings: { SLUICE_TRUST_PROXY: PROXY, SLUICE_TLS_CLIENT_CA: pki.ca.certFile, SLUICE_TLS_CLIENT_CERT_HEADER: HEADER, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS },
    });
    admin = adminOf(gw.url);
    await registerCertificatePartners(gw, ['cert-ports', 'cert-default']);
  });
  afterAll(() => gw?.close());

  it('from the trusted proxy, the header\'s certificate is verified and mapped', async () => {
    expect(gw.url).toMatch(/^http:/);
    expect(await (await viaProxy('/cert/ports', escaped(certs.acme))).json()).toEqual({ port: 'ok', partner: 'acme', subject: 'acme-client' });
    expect(await (await viaProxy('/cert/ports', escaped(certs.globex))).json()).toMatchObject({ partner: 'globex' });
  });

  it('the header is taken off the request, whoever sent it: no node (and no upstream) sees it', async () => {
    expect(await (await viaProxy('/cert/seen', escaped(certs.acme))).json()).toEqual({ seen: false });
    expect(await (await viaProxy('/cert/seen', escaped(certs.acme), '127.0.0.1')).json()).toEqual({ seen: false });
    expect(await (await viaProxy('/cert/seen', '')).json()).toEqual({ seen: false });
  });

  it('from an untrusted peer, the header is ignored: no certificate', async () => {
    await expectPort(await viaProxy('/cert/ports', escaped(certs.acme), '127.0.0.1'), 'missing');
    await expectProblem(await viaProxy('/cert/default', escaped(certs.acme), '127.0.0.1'), 401, 'missing-client-certificate');
  });

  it.each<[name: string, port: string, value: () => string, detail: string]>([
    ['a certificate of another CA', 'invalid', () => escaped(certs.stranger), 'not issued by a trusted CA'],
    ['an expired certificate', 'invalid', () => escaped(certs.expired), 'expired'],
    ['the CA\'s own certificate', 'invalid', () => escaped(pki.ca), 'not issued by a trusted CA'],
    ['junk', 'invalid', () => 'not%20a%20certificate', 'not a PEM certificate'],
    ['an empty header (nginx without a certificate)', 'missing', () => '', 'client certificate'],
  ])('from the trusted proxy, %s takes the %s port', async (_name, port, value, detail) => {
    await expectPort(await viaProxy('/cert/ports', value()), port);
    await expectProblem(await viaProxy('/cert/default', value()), 401, `${port}-client-certificate`, detail);
  });

  it('partners\' certificates are added and removed through the admin API by a publisher, audited', async () => {
    await expectPort(await viaProxy('/cert/ports', escaped(certs.nobody)), 'invalid');
    const colons = certs.nobody.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect((await admin('editor', 'POST', '/partners/initech/certificates', { match: 'fingerprint', value: colons })).status).toBe(403);
    expect((await admin('publisher', 'POST', '/partners/initech/certificates', { match: 'fingerprint', value: 'abc' })).status).toBe(400);
    expect((await admin('publisher', 'POST', '/partners/initech/certificates', { match: 'san', value: 'nobody.example' })).status).toBe(400);
    const added = await admin('publisher', 'POST', '/partners/initech/certificates', { match: 'fingerprint', value: colons });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ match: 'fingerprint', value: certs.nobody.fingerprint, createdBy: 'pia' });
    // one certificate, one partner
    expect((await admin('publisher', 'POST', '/partners/acme/certificates', { match: 'fingerprint', value: certs.nobody.fingerprint })).status).toBe(409);
    expect((await admin('viewer', 'GET', '/partners/initech')).body.certificates).toEqual([expect.objectContaining({ match: 'subject' }), expect.objectContaining({ id: added.body.id })]);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    expect(await (await viaProxy('/cert/ports', escaped(certs.nobody))).json()).toMatchObject({ port: 'ok', partner: 'initech' });

    const removed = await admin('publisher', 'POST', `/partners/initech/certificates/${added.body.id as string}/remove`, { reason: 'device retired' });
    expect(removed.status).toBe(200);
    expect((await admin('publisher', 'POST', `/partners/initech/certificates/${added.body.id as string}/remove`, {})).status).toBe(404);
    const audit = await admin('auditor', 'GET', '/audit');
    const entries = (audit.body.entries as Array<Record<string, unknown>>).filter((e) => e.partner === 'initech' && e.actor === 'pia' && String(e.action).startsWith('certificate.'));
    expect(entries.map((e) => [e.action, e.actor, e.detail])).toEqual([
      ['certificate.add', 'pia', `certificate ${added.body.id as string} added: fingerprint ${certs.nobody.fingerprint}`],
      ['certificate.remove', 'pia', `certificate ${added.body.id as string} removed (fingerprint ${certs.nobody.fingerprint}): device retired`],
    ]);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    await expectPort(await viaProxy('/cert/ports', escaped(certs.nobody)), 'invalid');
  });
});

describe('the TLS listener keeps the plain listener\'s bounds', () => {
  let gw: TestGateway;
  let upstream: Server;
  const ANSWER_BYTES = 64 * 1024 * 1024;

  beforeAll(async () => {
    // an upstream that streams a large answer as fast as the gateway takes it
    upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(ANSWER_BYTES) });
      const piece = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = () => {
        while (sent < ANSWER_BYTES) {
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const server = pki.issue('bounds-server', { cn: 'localhost', sans: ['IP:127.0.0.1'] });
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway([workflow('big', { path: '/big' }, [{ id: 'call', kind: 'proxy', config: { url } }])], {
      settings: { SLUICE_TLS_CERT: server.certFile, SLUICE_TLS_KEY: server.keyFile, SLUICE_TLS_CLIENT_CA: pki.ca.certFile, SLUICE_SEND_TIMEOUT: '300ms' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  it('a TLS client that never reads its answer is closed at the send timeout (SLUICE_SEND_TIMEOUT)', async () => {
    const port = Number(new URL(gw.url).port);
    const socket = connectTls({ host: '127.0.0.1', port, ca: pki.ca.cert, cert: certs.acme.cert, key: certs.acme.key });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.on('error', () => {});
    socket.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    let received = 0;
    socket.once('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.pause(); // from here on, nothing is read
    });
    const closedBySendTimeout = () => gw.logs.filter((l) => l.msg === 'closed connections that did not read their answers' && l.reason === 'send_timeout').reduce((n, l) => n + Number(l.connections), 0);
    // the paused client sees no close; the gateway's log says when it closed the connection
    while (closedBySendTimeout() === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toBeGreaterThan(0);
    expect(closedBySendTimeout()).toBe(1);
    // the request's own line follows once the response is given up
    while (!gw.logs.some((l) => l.msg === 'request' && l.workflow === 'big')) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gw.logs.find((l) => l.msg === 'request' && l.workflow === 'big')).toMatchObject({ status: 499 });
    socket.destroy();
  }, 20_000);
});

describe('the TLS settings, checked together', () => {
  it.each<[name: string, env: Record<string, string>, message: RegExp]>([
    ['a certificate without its key', { SLUICE_TLS_CERT: 'server.pem' }, /SLUICE_TLS_CERT and SLUICE_TLS_KEY: set both or neither/],
    ['a certificate header without a CA to verify it', { SLUICE_TRUST_PROXY: '1', SLUICE_TLS_CLIENT_CERT_HEADER: 'x-client-cert' }, /needs SLUICE_TLS_CLIENT_CA/],
    ['a certificate header without a trusted proxy', { SLUICE_TLS_CLIENT_CA: 'ca.pem', SLUICE_TLS_CLIENT_CERT_HEADER: 'x-client-cert' }, /needs SLUICE_TRUST_PROXY/],
    ['a client CA with neither TLS nor a header', { SLUICE_TLS_CLIENT_CA: 'ca.pem' }, /SLUICE_TLS_CLIENT_CA: needs SLUICE_TLS_CERT/],
    ['a header name that is no header name', { SLUICE_TRUST_PROXY: '1', SLUICE_TLS_CLIENT_CA: 'ca.pem', SLUICE_TLS_CLIENT_CERT_HEADER: 'x cert' }, /SLUICE_TLS_CLIENT_CERT_HEADER: a header name/],
  ])('refuses %s', (_name, env, message) => {
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('a missing or mismatched TLS file stops the start, naming the setting', async () => {
    await expect(startGateway([], { settings: { SLUICE_TLS_CERT: '/nonexistent/server.pem', SLUICE_TLS_KEY: pki.ca.keyFile } })).rejects.toThrow(/SLUICE_TLS_CERT: cannot read \/nonexistent\/server.pem/);
    // a key that is not the certificate's, and a client CA file without a certificate
    await expect(startGateway([], { settings: { SLUICE_TLS_CERT: certs.acme.certFile, SLUICE_TLS_KEY: pki.ca.keyFile } })).rejects.toThrow(/SLUICE_TLS_CERT, SLUICE_TLS_KEY: .*key values mismatch/);
    await expect(startGateway([], { settings: { SLUICE_TLS_CERT: certs.acme.certFile, SLUICE_TLS_KEY: certs.acme.keyFile, SLUICE_TLS_CLIENT_CA: certs.acme.keyFile } })).rejects.toThrow(/SLUICE_TLS_CLIENT_CA: no PEM certificate/);
  });
});
