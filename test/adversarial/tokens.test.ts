/**
 * Hostile tokens and key servers. Each case asserts the exact status and problem type; a
 * bystander partner keeps calling throughout, and the served versions and the audit chain
 * must be as they were.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { exportSPKI, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPartners } from '../../engine/admin/commands/partners.ts';
import { canonicalString } from '../../engine/kinds/hmac-verify.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, unsignedToken, type TestIssuer } from '../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { startGateway, workflow } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, SOAK, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('tokens');

/** A key jose never signs with: tokens with headers jose refuses to produce are signed by hand. */
const rogue = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ROGUE_JWK = { ...(rogue.publicKey.export({ format: 'jwk' }) as JWK), kid: 'hand-key', alg: 'RS256', use: 'sig' };
function handSigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'hand-key', ...header })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), rogue.privateKey).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

/** A JWKS server whose behaviour the test switches: serve keys, hang, refuse, or answer garbage. */
function keyServer(jwks: { keys: JWK[] }) {
  let mode: 'ok' | 'down' | 'garbage' | 'slow' = 'ok';
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if (mode === 'down') return void req.socket.destroy();
    if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": "nope"');
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    if (mode === 'slow') setTimeout(answer, 300);
    else answer();
  });
  return {
    server,
    set: (next: typeof mode) => (mode = next),
    get hits() {
      return hits;
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

describe('hostile tokens', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let upstream: TestUpstream;
  let keys: ReturnType<typeof keyServer>;
  let neverKeys: ReturnType<typeof keyServer>;
  let garbageKeys: ReturnType<typeof keyServer>;
  let before: Snapshot;
  let bystander: ReturnType<typeof startBystander>;

  beforeAll(async () => {
    issuer = await createIssuer('adv-key');
    upstream = await startUpstream();
    keys = keyServer(issuer.jwks);
    neverKeys = keyServer(issuer.jwks);
    neverKeys.set('down');
    garbageKeys = keyServer(issuer.jwks);
    garbageKeys.set('garbage');
    const verify = (extra: Record<string, unknown>) => ({ id: 'verify', kind: 'jwt-verify', config: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, maxTokenAge: '1d', maxLifetime: '1d', ...extra } });
    const chain = (id: string, path: string, keySource: Record<string, unknown>) =>
      workflow(id, { path }, [verify(keySource), { id: 'scopes', kind: 'scope-check', config: { all: ['orders:read'] } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'scopes'], ['scopes', 'ok', 'call']]);
    gw = await startGateway(
      [
        chain('adv-inline', '/adv/inline', { jwks: { keys: [...issuer.jwks.keys, ROGUE_JWK] } }),
        chain('adv-remote', '/adv/remote', { jwksUri: `${await keys.listen()}/jwks.json` }),
        chain('adv-never', '/adv/never', { jwksUri: `${await neverKeys.listen()}/jwks.json` }),
        chain('adv-garbage', '/adv/garbage', { jwksUri: `${await garbageKeys.listen()}/jwks.json` }),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
    before = await snapshotOf(gw);
    bystander = startBystander(gw, '/adv/inline', await bystanderToken(issuer));
  });

  afterAll(async () => {
    await bystander?.stopAndCheck();
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
    await upstream?.close();
    for (const k of [keys, neverKeys, garbageKeys]) k?.server.close();
  });

  const call = (token: string, path = '/adv/inline') => gw.fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const claims = { sub: 'mallory', azp: 'mallory', scope: 'orders:read' };

  it.each([
    ['alg none', () => unsignedToken({ alg: 'none', typ: 'JWT', kid: 'adv-key' }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now() + 600, ...claims }), /algorithm is not allowed|malformed/],
    ['alg none without a signature dot', () => unsignedToken({ alg: 'none' }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now() + 600 }).slice(0, -1), /malformed|not allowed/],
    ['an unknown kid', () => issuer.sign(claims, { kid: 'who-is-this' }), /no known key/],
    ['a path as kid', () => issuer.sign(claims, { kid: '../../../../etc/passwd' }), /no known key/],
    ['SQL as kid', () => issuer.sign(claims, { kid: "' OR 1=1; DROP TABLE keys; --" }), /no known key/],
    ['a 10 KB kid', () => issuer.sign(claims, { kid: 'k'.repeat(10 * 1024) }), /no known key|too large/],
    ['an expired token', () => issuer.sign({ ...claims, iat: now() - 7200, exp: now() - 3600 }), /expired/],
    ['nbf in the future', () => issuer.sign({ ...claims, nbf: now() + 3600 }), /nbf/],
    ['iat far in the future', () => issuer.sign({ ...claims, iat: now() + 86_400 * 30, exp: now() + 86_400 * 31 }), /iat/],
    ['no exp', () => issuer.sign({ ...claims, exp: undefined }), /no "exp"/],
    ['a lifetime over the maximum', () => issuer.sign({ ...claims, iat: now(), exp: now() + 86_400 * 365 }), /lifetime/],
    ['a wrong issuer', () => issuer.sign({ ...claims, iss: 'https://evil.test' }), /iss/],
    ['a wrong audience', () => issuer.sign({ ...claims, aud: 'someone-else' }), /aud/],
    ['an unknown crit header', () => handSigned({ crit: ['x-must-understand'], 'x-must-understand': true }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now(), exp: now() + 600, ...claims }), /unsupported/],
    ['malformed base64', () => 'eyJhbGciOiJSUzI1NiJ9.@@@@.####', /malformed|needs a kid/],
    ['a header that is not JSON', () => `${Buffer.from('{"alg":"RS256",').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c2ln`, /malformed/],
    ['two parts only', () => 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', /malformed/],
    ['a token from another key with the same kid', async () => (await createIssuer('adv-key')).sign(claims), /signature/],
  ])('%s: 401 invalid-token', async (_name, token, detail) => {
    await group.refused(await call(await token()), 401, 'invalid-token', detail);
  });

  it('the hand-signing key itself is trusted (so the crit case fails on crit alone)', async () => {
    expect((await call(handSigned({}, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now(), exp: now() + 600, ...claims }))).status).toBe(200);
  });

  it('HS256 signed with the RS256 public key: 401 invalid-token', async () => {
    const publicKey = await importJWK(issuer.jwks.keys[0]!, 'RS256');
    const pem = await exportSPKI(publicKey as CryptoKey);
    const forged = await new SignJWT({ ...claims, iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now() + 600 }).setProtectedHeader({ alg: 'HS256', kid: 'adv-key' }).sign(new TextEncoder().encode(pem));
    await group.refused(await call(forged), 401, 'invalid-token', /algorithm is not allowed/);
  });

  it.each([
    ['no Authorization header', {}],
    ['a Basic scheme', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ['Bearer with nothing after it', { authorization: 'Bearer ' }],
  ])('%s: 401 missing-token', async (_name, headers) => {
    await group.refused(await gw.fetch('/adv/inline', { headers }), 401, 'missing-token');
  });

  it('a 64 KB token: 431 headers-too-large, and the connection is closed cleanly', async () => {
    await group.refused(await call('a'.repeat(64 * 1024)), 431, 'headers-too-large');
    // on a socket: the whole answer, announced as the last (connection: close), then the server's FIN, no reset
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    let text = '';
    let failure: unknown;
    let ended = false;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => (ended = true));
    socket.on('error', (error) => (failure = error));
    const closed = new Promise<boolean>((resolve) => socket.on('close', resolve));
    socket.write(`GET /adv/inline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    const hadError = await closed;
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(Buffer.byteLength(body)).toBe(Number(/content-length: (\d+)/i.exec(head)![1]));
    expect((JSON.parse(body) as { type: string }).type).toMatch(/\/headers-too-large$/);
    expect({ ended, hadError, failure }).toEqual({ ended: true, hadError: false, failure: undefined });
  });

  it('a flood of unknown kids fetches the key set at most once per cooldown', async () => {
    expect((await call(await issuer.sign(claims), '/adv/remote')).status).toBe(200); // first use fetches
    const hitsBefore = keys.hits;
    const forged = await Promise.all(Array.from({ length: 40 * SOAK }, (_, i) => issuer.sign(claims, { kid: `flood-${i}` })));
    const answers = await Promise.all(forged.map((token) => call(token, '/adv/remote')));
    for (const res of answers) await group.refused(res, 401, 'invalid-token', /no known key/);
    expect(keys.hits - hitsBefore).toBeLessThanOrEqual(1);
  });

  it('a key server never reached answers 503 keys-unavailable, not 401', async () => {
    await group.refused(await call(await issuer.sign(claims), '/adv/never'), 503, 'keys-unavailable');
  });

  it('a key server answering garbage answers 503 keys-unavailable', async () => {
    await group.refused(await call(await issuer.sign(claims), '/adv/garbage'), 503, 'keys-unavailable');
  });

  it('identity headers sent by the client never reach the upstream', async () => {
    const token = await issuer.sign({ sub: 'alice', azp: 'acme', scope: 'orders:read' });
    const res = await gw.fetch('/adv/inline', { headers: { authorization: `Bearer ${token}`, 'x-partner': 'admin-partner', 'x-user': 'root', 'x-subject': 'root', 'x-scopes': 'everything', forwarded: 'for=1.2.3.4' } });
    expect(res.status).toBe(200);
    const received = upstream.received.find((r) => r.headers['x-user'] !== undefined || r.headers['x-subject'] === 'alice')!.headers;
    expect(received['x-partner']).toBe('acme');
    expect(received['x-subject']).toBe('alice');
    expect(received['x-user']).toBeUndefined();
    expect(received['x-scopes']).toBeUndefined();
    expect(received.forwarded).toBeUndefined();
    group.counted();
  });
});

describe('a key server after its keys are known: slow, down, answering garbage', () => {
  // the gateway's clock is frozen and moved by the test (only Date is faked), past the key set's maximum age (10 min) and cooldown (30 s)
  let gw: TestGateway;
  let issuer: TestIssuer;
  let rotated: TestIssuer;
  let keys: ReturnType<typeof keyServer>;
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  const PAST_MAX_AGE = 11 * 60_000;
  let n = 0;
  /** A fresh token each time (no verified-token cache), signed by `by`. */
  const call = async (by: TestIssuer = issuer) => gw.fetch('/adv/keys', { headers: { authorization: `Bearer ${await by.sign({ sub: `user-${++n}`, azp: 'acme', scope: 'orders:read' })}` } });

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    issuer = await createIssuer('adv-known');
    rotated = await createIssuer('adv-rotated'); // a kid the key server never serves
    keys = keyServer(issuer.jwks);
    const jwksUri = `${await keys.listen()}/jwks.json`;
    gw = await startGateway([
      workflow('adv-keys', { path: '/adv/keys' }, [{ id: 'verify', kind: 'jwt-verify', config: { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri } }, { id: 'ok', kind: 'respond', config: { body: { ok: true } } }], [['verify', 'ok', 'ok']]),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
    keys?.server.close();
    vi.useRealTimers();
  });

  it('a slow key server still serves keys: the first use waits for its answer', async () => {
    keys.set('slow');
    expect(keys.hits).toBe(0);
    expect((await call()).status).toBe(200);
    expect(keys.hits).toBe(1);
    keys.set('ok');
    group.counted();
  });

  it.each([['goes down', 'down'], ['answers garbage', 'garbage']] as const)('a key server that %s once the keys are known: it is asked again, and the known keys keep working', async (_name, mode) => {
    expect((await call()).status).toBe(200);
    keys.set(mode);
    const hits = keys.hits;
    // past the maximum age: the next request is served with the known keys and starts a refresh in the background
    advance(PAST_MAX_AGE);
    expect((await call()).status).toBe(200);
    await vi.waitFor(() => expect(keys.hits).toBe(hits + 1), { timeout: 15_000 });
    expect((await call()).status).toBe(200);
    // past the cooldown, an unknown kid asks again: still a bad token (401), not missing keys (503)
    advance(31_000);
    await group.refused(await call(rotated), 401, 'invalid-token', /no known key/);
    expect(keys.hits).toBe(hits + 2);
    expect((await call()).status).toBe(200);
    keys.set('ok');
    // once it answers again, the next refresh is served and used
    advance(PAST_MAX_AGE);
    expect((await call()).status).toBe(200);
    await vi.waitFor(() => expect(keys.hits).toBe(hits + 3), { timeout: 15_000 });
    expect((await call()).status).toBe(200);
  });
});

/** An authorization server whose introspection answers the test chooses, recording what it is sent. */
function authorizationServer() {
  let answer: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '{"active":false}' };
  const forms: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
    });
  });
  return {
    server,
    forms,
    answer: (status: number, body: unknown, headers?: Record<string, string>) => (answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body), ...(headers ? { headers } : {}) }),
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

describe('hostile tokens and authorization servers for introspect', () => {
  const SECRET = 'introspection-client-secret-never-echoed-0123456789';
  let gw: TestGateway;
  let as: ReturnType<typeof authorizationServer>;
  let before: Snapshot;
  const call = (token: string) => gw.fetch('/adv/introspect', { headers: { authorization: `Bearer ${token}` } });
  let n = 0;
  /** A token not seen before, so no cached answer decides. */
  const fresh = () => `adv-opaque-${++n}-${Date.now()}`;

  beforeAll(async () => {
    as = authorizationServer();
    const endpoint = `${await as.listen()}/introspect`;
    gw = await startGateway(
      [workflow('adv-introspect', { path: '/adv/introspect' }, [{ id: 'check', kind: 'introspect', config: { endpoint, clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_ADV_AS', timeout: '1s' } }, { id: 'ok', kind: 'respond', config: { body: { ok: true } } }], [['check', 'ok', 'ok']])],
      { env: { SLUICE_SECRET_ADV_AS: SECRET }, settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1', SLUICE_SECRET_HOSTS: 'SLUICE_SECRET_ADV_AS=127.0.0.1' } },
    );
    before = await snapshotOf(gw);
  });

  afterAll(async () => {
    expect(await snapshotOf(gw)).toEqual(before);
    // every request's line is written once a later one's is (in order): that one waited for, then the secret looked for
    const marker = '4bf92f3577b34da6a3ce929d0e0e4711';
    await gw.fetch('/adv/introspect', { headers: { traceparent: `00-${marker}-00f067aa0ba902b7-01` } });
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.traceId === marker)).toBe(true), { timeout: 15_000 });
    expect(JSON.stringify(gw.logs)).not.toContain(SECRET);
    await gw?.close();
    as?.server.close();
  });

  const inAnHour = () => now() + 3600;
  it.each<[string, number, unknown, number, string, RegExp | undefined]>([
    ['active as a string', 200, { active: 'true', client_id: 'acme' }, 503, 'introspection-unavailable', undefined],
    ['active as a number', 200, { active: 1, client_id: 'acme' }, 503, 'introspection-unavailable', undefined],
    ['no active member', 200, { client_id: 'acme', scope: 'everything' }, 503, 'introspection-unavailable', undefined],
    ['an array', 200, [{ active: true }], 503, 'introspection-unavailable', undefined],
    ['not JSON', 200, '{"active": tru', 503, 'introspection-unavailable', undefined],
    ['a 2 MB answer', 200, JSON.stringify({ active: true, pad: 'x'.repeat(2 * 1024 * 1024) }), 503, 'introspection-unavailable', undefined],
    ['a 500', 500, { error: 'server_error' }, 503, 'introspection-unavailable', undefined],
    ['a redirect (never followed)', 302, '', 503, 'introspection-unavailable', undefined],
    ['active but expired', 200, { active: true, client_id: 'acme', exp: now() - 60 }, 401, 'invalid-token', /expired/],
    ['active with exp as a string', 200, { active: true, client_id: 'acme', exp: '9999999999' }, 401, 'invalid-token', /"exp"/],
    ['active but not valid yet', 200, { active: true, client_id: 'acme', exp: inAnHour(), nbf: inAnHour() - 60 }, 401, 'invalid-token', /not valid yet/],
    ['inactive with claims beside it', 200, { active: false, client_id: 'acme', scope: 'admin' }, 401, 'invalid-token', /not active/],
  ])('the server answers %s: %i %s', async (_name, status, body, expected, slug, detail) => {
    as.answer(status, body, status === 302 ? { location: 'http://169.254.169.254/latest/meta-data/' } : undefined);
    const answer = await group.refused(await call(fresh()), expected, slug, detail);
    expect(JSON.stringify(answer)).not.toContain(SECRET);
  });

  it('a token carrying form syntax reaches the server as one token, never as extra parameters', async () => {
    as.answer(200, { active: false });
    const token = 'abc&token=other&client_secret=x&token_type_hint=refresh_token';
    await group.refused(await call(token), 401, 'invalid-token');
    const form = as.forms.at(-1)!;
    expect(form.getAll('token')).toEqual([token]);
    expect(form.getAll('token_type_hint')).toEqual(['access_token']);
    expect(form.has('client_secret')).toBe(false); // client_secret_basic: the secret is in the Authorization header only
  });

  it('a flood of made-up tokens calls the server once per token, and never again while the negative answer holds', async () => {
    as.answer(200, { active: false });
    const tokens = Array.from({ length: 40 * SOAK }, () => fresh());
    const calls = as.forms.length;
    for (const res of await Promise.all(tokens.map(call))) await group.refused(res, 401, 'invalid-token', /not active/);
    expect(as.forms.length - calls).toBe(tokens.length);
    for (const res of await Promise.all(tokens.map(call))) await group.refused(res, 401, 'invalid-token', /not active/);
    expect(as.forms.length - calls).toBe(tokens.length);
  });
});

describe('hostile request signatures (hmac-verify)', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let upstream: TestUpstream;
  let before: Snapshot;
  let bystander: ReturnType<typeof startBystander>;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    issuer = await createIssuer('adv-hmac');
    upstream = await startUpstream();
    gw = await startGateway(
      [
        workflow('adv-signed', { path: '/adv/signed', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['sig', 'ok', 'call']]),
        workflow('adv-bystander', { path: '/adv/bystander' }, [{ id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'call']]),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
    const changes = createPartners({ store: gw.sluice.store });
    await changes.createPartner({ name: 'test', role: 'admin' }, 'acme', { name: 'acme', contacts: [], products: [], clientIds: [], limits: {} });
    key = await changes.createHmacSecret({ name: 'test', role: 'admin' }, 'acme');
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    before = await snapshotOf(gw);
    bystander = startBystander(gw, '/adv/bystander', await bystanderToken(issuer));
  });

  afterAll(async () => {
    await bystander?.stopAndCheck();
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
    await upstream?.close();
  });

  const call = (signature: string) => gw.fetch('/adv/signed', { method: 'POST', headers: { signature } });
  const signed = (ts: string, digest = 'sha256') => createHmac(digest, key.secret).update(canonicalString('POST', '/adv/signed', ts, Buffer.alloc(0))).digest('hex');

  it.each<[string, () => string]>([
    ['an 8 KB header', () => `keyId=${key.id},ts=${now()},sig=${'a'.repeat(8 * 1024)}`],
    ['a Stripe-like scheme', () => `t=${now()},v1=${signed(String(now()))}`],
    ['the fields in another order', () => `ts=${now()},keyId=${key.id},sig=${signed(String(now()))}`],
    ['a repeated field', () => `keyId=${key.id},ts=${now()},sig=${signed(String(now()))},sig=${signed(String(now()))}`],
    ['a non-hex signature', () => `keyId=${key.id},ts=${now()},sig=${'g'.repeat(64)}`],
    ['an upper-case hex signature', () => `keyId=${key.id},ts=${now()},sig=${signed(String(now())).toUpperCase()}`],
    ['a base64 signature', () => `keyId=${key.id},ts=${now()},sig=${Buffer.from(signed(String(now())), 'hex').toString('base64')}`],
    ['an SHA-1 length signature', () => `keyId=${key.id},ts=${now()},sig=${'a'.repeat(40)}`],
    ['sha512 where only sha256 is allowed', () => `keyId=${key.id},ts=${now()},sig=${signed(String(now()), 'sha512')}`],
    ['a negative timestamp', () => `keyId=${key.id},ts=-${now()},sig=${signed(`-${now()}`)}`],
    ['a 40-digit timestamp', () => `keyId=${key.id},ts=${'9'.repeat(40)},sig=${signed('9'.repeat(40))}`],
    ['a timestamp in milliseconds', () => `keyId=${key.id},ts=${Date.now()},sig=${signed(String(Date.now()))}`],
    ['a path as key id', () => `keyId=../../etc/passwd,ts=${now()},sig=${signed(String(now()))}`],
    ['__proto__ as key id', () => `keyId=__proto__,ts=${now()},sig=${signed(String(now()))}`],
    ['trailing text after the signature', () => `keyId=${key.id},ts=${now()}, sig=${signed(String(now()))} x`],
  ])('%s: 401 invalid-signature', async (_name, signature) => {
    await group.refused(await call(signature()), 401, 'invalid-signature');
  });

  it('a flood of forged signatures is refused one by one, and the genuine one still passes once', async () => {
    const forged = Array.from({ length: 50 * SOAK }, (_, i) => `keyId=${key.id},ts=${now()},sig=${i.toString(16).padStart(64, '0')}`);
    for (const res of await Promise.all(forged.map(call))) await group.refused(res, 401, 'invalid-signature');
    const genuine = `keyId=${key.id},ts=${now()},sig=${signed(String(now()))}`;
    expect((await call(genuine)).status).toBe(200);
    await group.refused(await call(genuine), 401, 'replayed-signature');
  });
});
