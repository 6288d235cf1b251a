/**
 * Preview runs as a registered partner's credential beyond API keys, over the admin API: a client
 * certificate, an HMAC signature and an introspected token. Each maps to the partner, a suspended
 * partner is refused as the catalog says, an editor asking for the real upstream gets 403, and no
 * answer, trace or audit entry carries a secret or a signature.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, startAdminGateway, type Admin } from '../admin/support.ts';

const FINGERPRINT = 'ab'.repeat(32);
const SHADY_FINGERPRINT = 'cd'.repeat(32);

/** A workflow whose one identity node (`kind`, `config`) leads to an answer. */
const documentWith = (id: string, kind: string, config: Record<string, unknown>) => ({
  id,
  name: `Preview ${id}`,
  route: { methods: ['GET', 'POST'], path: `/pc/${id}` },
  nodes: [
    { id: 'who', kind, config },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { answered: true } } },
  ],
  edges: [{ from: 'who', port: 'ok', to: 'answer' }],
});

type Step = { node: string; port: string; input: any; changes: Array<{ field: string; after: unknown }> };
type Run = { ok: boolean; response: { status: number; body: any }; trace: Step[]; problems?: Array<{ field?: string; message: string }> };

describe('preview as a partner credential', () => {
  let gw: TestGateway;
  let admin: Admin;
  /** The authorization server the introspect node names: a preview must never call it. */
  let authServer: Server;
  let authCalls = 0;
  let authUrl = '';
  const secrets: string[] = [];
  let certificateId = '';
  let subjectCertificateId = '';

  beforeAll(async () => {
    authServer = createServer((req, res) => {
      authCalls++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ active: true, client_id: 'acme-client', scope: 'real' }));
    });
    await new Promise<void>((resolve) => authServer.listen(0, '127.0.0.1', resolve));
    authUrl = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}/introspect`;
    gw = await startAdminGateway({ settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1' } });
    admin = adminOf(gw.url);
    for (const id of ['acme', 'shady', 'bare']) expect((await admin('publisher', 'POST', '/partners', { id, name: id, clientIds: id === 'bare' ? [] : [`${id}-client`] })).status).toBe(201);
    const cert = await admin('publisher', 'POST', '/partners/acme/certificates', { match: 'fingerprint', value: FINGERPRINT });
    expect(cert.status, JSON.stringify(cert.body)).toBe(201);
    certificateId = cert.body.id;
    const subject = await admin('publisher', 'POST', '/partners/acme/certificates', { match: 'subject', value: 'acme-billing' });
    subjectCertificateId = subject.body.id;
    expect((await admin('publisher', 'POST', '/partners/shady/certificates', { match: 'fingerprint', value: SHADY_FINGERPRINT })).status).toBe(201);
    for (const partner of ['acme', 'shady']) {
      const created = await admin('publisher', 'POST', `/partners/${partner}/hmac-secrets`, {});
      expect(created.status).toBe(201);
      secrets.push(created.body.secret as string);
    }
    expect((await admin('publisher', 'POST', '/partners/shady/suspend', { reason: 'preview test' })).status).toBe(200);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  });
  afterAll(async () => {
    await gw?.close();
    authServer?.close();
  });

  const KINDS = {
    clientCert: { kind: 'client-cert', config: {}, reference: (partner: string) => ({ partner }) },
    hmac: { kind: 'hmac-verify', config: { header: 'x-signature' }, reference: (partner: string) => ({ partner }) },
    introspected: { kind: 'introspect', config: () => ({ endpoint: authUrl, clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_PREVIEW_AS' }), reference: (partner: string) => ({ partner, scopes: ['orders:read'], sub: 'alice' }) },
  } as const;
  type Kind = keyof typeof KINDS;
  const docFor = (kind: Kind) => {
    const k = KINDS[kind];
    return documentWith(`pc-${k.kind}`, k.kind, typeof k.config === 'function' ? k.config() : k.config);
  };
  const simulateAs = (role: 'editor' | 'publisher', kind: Kind, reference: Record<string, unknown>, options: { upstream?: boolean; method?: string; body?: unknown; path?: string } = {}) =>
    admin<Run>(role, 'POST', '/simulate', {
      document: docFor(kind),
      request: { method: options.method ?? 'GET', path: options.path ?? `/pc/pc-${KINDS[kind].kind}`, ...(options.body === undefined ? {} : { body: options.body }), [kind]: reference },
      ...(options.upstream === false ? {} : { upstream: { status: 200, body: { mocked: true } } }),
    });

  /** Nothing secret in what the admin API answered. */
  const expectNoSecret = (answer: unknown) => {
    const text = JSON.stringify(answer);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/sig=[0-9a-f]{16}/);
    expect(text).not.toMatch(/Bearer preview_/);
    expect(text).not.toContain('preview_');
  };

  it.each(['clientCert', 'hmac', 'introspected'] as const)('%s: runs as the partner (the trace shows it) and carries no credential', async (kind) => {
    const answer = await simulateAs('editor', kind, KINDS[kind].reference('acme'), kind === 'hmac' ? { method: 'POST', body: { order: 7 }, path: `/pc/pc-hmac-verify?x=1` } : {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const run = answer.body;
    expect(run.ok, JSON.stringify(run)).toBe(true);
    expect(run.response).toMatchObject({ status: 200, body: { answered: true } });
    const who = run.trace[0]!;
    expect(who).toMatchObject({ node: 'who', port: 'ok' });
    expect(who.changes.find((c) => c.field === 'partner')?.after).toBe('acme');
    expectNoSecret(answer.body);
    if (kind === 'hmac') expect(who.input.request.headers['x-signature']).toBe('[redacted]');
    if (kind === 'introspected') {
      expect(who.input.request.headers.authorization).toBe('[redacted]');
      expect(who.changes.find((c) => c.field === 'scopes')?.after).toEqual(['orders:read']);
      expect(who.changes.find((c) => c.field === 'subject')?.after).toBe('alice');
      expect(who.changes.find((c) => c.field === 'claims')?.after).toMatchObject({ client_id: 'acme-client', active: true });
    }
  });

  it.each(['clientCert', 'hmac', 'introspected'] as const)('%s: a suspended partner is refused as the catalog says (403 partner-suspended)', async (kind) => {
    const run = (await simulateAs('editor', kind, KINDS[kind].reference('shady'))).body;
    expect(run.ok, JSON.stringify(run)).toBe(true);
    expect(run.trace[0]).toMatchObject({ node: 'who', port: 'suspended' });
    expect(run.response.status).toBe(403);
    expect(run.response.body.type).toMatch(/partner-suspended$/);
    expect(run.response.body.detail).toContain('shady');
  });

  it.each(['clientCert', 'hmac', 'introspected'] as const)('%s: an editor asking for the real upstream gets 403 (audited); a publisher may', async (kind) => {
    const refused = await simulateAs('editor', kind, KINDS[kind].reference('acme'), { upstream: false });
    expect(refused.status).toBe(403);
    expect(refused.body.problems).toEqual([expect.objectContaining({ field: `request.${kind}.partner`, message: expect.stringContaining('mocked upstream') })]);
    const audit = await admin('admin', 'GET', '/audit?limit=500');
    expect(JSON.stringify(audit.body)).toMatch(/as partner acme's [a-zA-Z ]+ against the real upstream/);
    const allowed = await simulateAs('publisher', kind, KINDS[kind].reference('acme'), { upstream: false });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ ok: true, response: { status: 200 } });
    expectNoSecret(allowed.body);
    expectNoSecret(audit.body);
  });

  it('the authorization server the workflow names is never called, and its client secret is never needed', async () => {
    expect(authCalls).toBe(0);
    // without the reference the same document cannot even be prepared: the secret is bound to no host (and not set) on this gateway
    const plain = await admin<Run>('editor', 'POST', '/simulate', { document: docFor('introspected'), request: { method: 'GET', path: '/pc/pc-introspect', headers: { authorization: 'Bearer opaque-token-123' } }, upstream: { status: 200 } });
    expect(plain.body.ok).toBe(false);
    expect(plain.body.problems).toEqual([expect.objectContaining({ field: 'config.endpoint', message: expect.stringMatching(/SLUICE_SECRET_PREVIEW_AS may not be sent anywhere: SLUICE_SECRET_HOSTS/) })]);
    expect(authCalls).toBe(0);
  });

  it('a client certificate by its id; the problems name the field: unknown partner or certificate, no certificate, no node of the kind, a certificate the nodes do not match', async () => {
    const byId = (await simulateAs('editor', 'clientCert', { partner: 'acme', certificate: subjectCertificateId })).body;
    expect(byId.trace[0]).toMatchObject({ port: 'ok' });
    expect(byId.trace[0]!.changes.find((c) => c.field === 'subject')?.after).toBe('acme-billing');
    expect((await simulateAs('editor', 'clientCert', { partner: 'acme', certificate: certificateId })).body.trace[0]!.changes.find((c) => c.field === 'subject')?.after).toBe(FINGERPRINT);

    const problems = async (request: Record<string, unknown>, document: unknown = docFor('clientCert')) => {
      const answer = await admin<Run>('editor', 'POST', '/simulate', { document, request: { method: 'GET', path: '/pc/pc-client-cert', ...request }, upstream: { status: 200 } });
      return { status: answer.status, ok: answer.body.ok, problems: answer.body.problems };
    };
    const refusedWith = (field: string, message: RegExp) => ({ status: 200, ok: false, problems: [expect.objectContaining({ field, message: expect.stringMatching(message) })] });
    expect(await problems({ clientCert: { partner: 'nobody' } })).toEqual(refusedWith('request.clientCert.partner', /no registered partner "nobody"/));
    expect(await problems({ clientCert: { partner: 'bare' } })).toEqual(refusedWith('request.clientCert.partner', /has no client certificate/));
    expect(await problems({ clientCert: { partner: 'acme', certificate: 'cert-nope' } })).toEqual(refusedWith('request.clientCert.certificate', /no certificate "cert-nope"/));
    const byFingerprintOnly = documentWith('pc-client-cert', 'client-cert', { match: ['fingerprint'] });
    expect(await problems({ clientCert: { partner: 'acme', certificate: subjectCertificateId } }, byFingerprintOnly)).toEqual(refusedWith('request.clientCert.certificate', /registered by subject.*fingerprint only/));
    expect(await problems({ clientCert: { partner: 'acme' } }, docFor('hmac'))).toEqual(refusedWith('request.clientCert', /no client-cert node/));
    expect(await problems({ hmac: { partner: 'acme' } }, docFor('clientCert'))).toEqual(refusedWith('request.hmac', /no hmac-verify node/));
    expect(await problems({ hmac: { partner: 'bare' } }, docFor('hmac'))).toEqual(refusedWith('request.hmac.partner', /no active HMAC secret/));
    expect(await problems({ introspected: { partner: 'acme' } }, docFor('clientCert'))).toEqual(refusedWith('request.introspected', /no introspect node/));
    expect(await problems({ introspected: { partner: 'nobody' } }, docFor('introspected'))).toEqual(refusedWith('request.introspected.partner', /no registered partner/));
    // the shape is checked by the schema, field by field
    const shape = await admin('editor', 'POST', '/simulate', { document: docFor('hmac'), request: { method: 'GET', path: '/pc/x', hmac: { partner: 'acme', secret: 'mine' } } });
    expect(shape.status).toBe(400);
    expect(JSON.stringify(shape.body)).toContain('request.hmac');
  });

  it('a typed signature gets nothing: refused, and redacted in the trace', async () => {
    const run = (await simulateAs('editor', 'hmac', { partner: 'acme' })).body;
    expect(run.trace[0]!.port).toBe('ok');
    // an editor typing a signature header cannot obtain anything: the value is redacted whether it is good or not
    const typed = await admin<Run>('editor', 'POST', '/simulate', { document: docFor('hmac'), request: { method: 'GET', path: '/pc/pc-hmac-verify', headers: { 'x-signature': `keyId=hk_00000000,ts=${Math.floor(Date.now() / 1000)},sig=${'0'.repeat(64)}` } }, upstream: { status: 200 } });
    expect(typed.body.trace[0]).toMatchObject({ port: 'invalid' });
    expect(typed.body.trace[0]!.input.request.headers['x-signature']).toBe('[redacted]');
  });

  it('a signature a document extracts from its run is worth nothing: a key id of the run, refused by the gateway', async () => {
    // an editor's document that echoes the signature it was sent: the run's signature is all it can get
    const echo = { ...docFor('hmac'), id: 'pc-echo', route: { methods: ['GET'], path: '/pc/echo' } };
    echo.nodes = [echo.nodes[0]!, { id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: '{ "sig": request.headers."x-signature" }' } as never }];
    expect((await admin('editor', 'POST', '/workflows', { document: echo })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/pc-echo/publish')).status).toBe(200);
    const run = (await admin<Run>('editor', 'POST', '/simulate', { document: echo, request: { method: 'GET', path: '/pc/echo', hmac: { partner: 'acme' } }, upstream: { status: 200 } })).body;
    expect(run.trace[0]!.port).toBe('ok');
    const extracted = run.response.body.sig as string;
    const keyId = /^keyId=(hk_[0-9a-f]{8}),ts=\d+,sig=[0-9a-f]{64}$/.exec(extracted)?.[1];
    expect(keyId, extracted).toBeDefined();
    const registered = ((await admin('viewer', 'GET', '/partners/acme')).body.hmacSecrets as Array<{ id: string }>).map((s) => s.id);
    expect(registered).not.toContain(keyId);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    const replayed = await gw.fetch('/pc/echo', { headers: { 'x-signature': extracted } });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { type: string }).type).toMatch(/invalid-signature$/);
  });

  it('workflow tests keep only the references; an editor\'s test run refuses the real upstream per kind, a publisher\'s passes', async () => {
    const document = { ...docFor('hmac'), id: 'pc-tests', route: { methods: ['GET'], path: '/pc/tests' } };
    const tests = [
      { name: 'signed, mocked', request: { method: 'GET', path: '/pc/tests', hmac: { partner: 'acme' } }, upstream: { status: 200 }, expect: { status: 200 } },
      { name: 'signed, real upstream', request: { method: 'GET', path: '/pc/tests', hmac: { partner: 'acme' } }, expect: { status: 200 } },
      { name: 'suspended', request: { method: 'GET', path: '/pc/tests', hmac: { partner: 'shady' } }, upstream: { status: 200 }, expect: { status: 403, type: 'partner-suspended' } },
    ];
    expect((await admin('editor', 'POST', '/workflows', { document: { ...document, tests } })).status).toBe(201);
    const stored = await admin('viewer', 'GET', '/workflows/pc-tests');
    expect(JSON.stringify(stored.body)).toContain('"hmac":{"partner":"acme"}');
    expectNoSecret(stored.body);
    const asEditor = await admin('editor', 'POST', '/workflows/pc-tests/test', {});
    expect(asEditor.body.tests).toEqual([
      expect.objectContaining({ name: 'signed, mocked', passed: true }),
      expect.objectContaining({ name: 'signed, real upstream', passed: false, failures: [expect.objectContaining({ what: 'request.hmac.partner', actual: expect.stringContaining('needs the publisher role') })] }),
      expect.objectContaining({ name: 'suspended', passed: true }),
    ]);
    const asPublisher = await admin('publisher', 'POST', '/workflows/pc-tests/test', {});
    expect(asPublisher.body.passed, JSON.stringify(asPublisher.body)).toBe(true);
    expectNoSecret(asPublisher.body);
  });
});
