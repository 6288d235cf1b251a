import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { PARTNER_CSRF_HEADER, partnerOverviewSchema, partnerSessionSchema, rotatedOwnKeySchema } from '../../../shared/portal/partner.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { portNode, workflow, expectPort, expectProblem } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, type Admin } from '../admin/support.ts';
import { portalClient, serveJwks, type PortalClient } from './support.ts';

/*
 * The partner view of the portal against a real gateway: partners and keys made through the admin
 * API, sign-in with a key or a jose-signed token whose keys a local JWKS server serves, the
 * gateway called with the keys. Each test signs in from its own client address (a trusted proxy's
 * X-Forwarded-For), so the failed sign-in bound of one test does not touch another.
 */

const PORTAL_AUDIENCE = 'sluice-portal';

const keyed = (id: string, path: string, extra: Array<{ id: string; kind: string; config?: Record<string, unknown> }> = []) => {
  const nodes = [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, ...extra, portNode('answer', id)];
  const chain = [{ id: 'key' }, ...extra, { id: 'answer' }];
  return workflow(id, { path }, nodes, chain.slice(0, -1).map((n, i) => [n.id, 'ok', chain[i + 1]!.id] as [string, string, string]));
};

describe('partner portal API', () => {
  let gw: TestGateway;
  let admin: Admin;
  let issuer: TestIssuer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let address = 0;
  /** A partner's browser from an address of its own. */
  const browser = (): PortalClient => portalClient(gw.url, { forwardedFor: `198.51.100.${++address}` });
  /** Every key handed out: none may appear in a portal answer but the one that creates it. */
  const secrets: string[] = [];

  const createKey = async (partner: string, body: Record<string, unknown> = {}) => {
    const answer = await admin('publisher', 'POST', `/partners/${partner}/keys`, { scopes: ['orders:read'], ...body });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    secrets.push(answer.body.key as string);
    return answer.body as { key: string; id: string };
  };
  const call = (path: string, key: string) => gw.fetch(path, { headers: { 'x-api-key': key } });
  const portalToken = (claims: Record<string, unknown> = {}) => issuer.sign({ aud: PORTAL_AUDIENCE, azp: 'acme-client', ...claims });
  const signedIn = async (credential: { apiKey: string } | { token: string }) => {
    const client = browser();
    const answer = await client.signIn(credential);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return client;
  };

  beforeAll(async () => {
    issuer = await createIssuer();
    jwks = await serveJwks(issuer.jwks);
    gw = await startTestGateway({
      demo: false,
      settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_TRUST_PROXY: 'loopback', SLUICE_PORTAL_MAX_OVERLAP: '1h', SLUICE_ADMIN_MAX_FAILURES: '1000' },
      workflows: [
        keyed('orders', '/orders'),
        keyed('limited', '/limited', [{ id: 'limit', kind: 'rate-limit', config: { limit: 'plan', window: '1m' } }]),
        keyed('billing', '/billing'),
        workflow('jwt-orders', { path: '/jwt/orders' }, [{ id: 'verify', kind: 'jwt-verify', config: { jwksUri: jwks.url, issuer: TEST_ISSUER, audience: 'orders' } }, portNode('answer', 'jwt-orders')], [['verify', 'ok', 'answer']]),
      ],
    });
    admin = adminOf(gw.url);
    const put = async (path: string, body: unknown) => {
      const answer = await admin('publisher', 'PUT', path, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    };
    await put('/products/orders-api', { name: 'Orders API', description: 'Orders of Acme', workflows: ['orders', 'limited', 'jwt-orders'] });
    await put('/products/billing-api', { name: 'Billing API', workflows: ['billing'] });
    await put('/plans/gold', { name: 'Gold', limits: { 'orders-api': { limit: 50, window: '1m' } } });
    for (const [id, body] of [
      ['acme', { name: 'Acme', plan: 'gold', products: ['orders-api'], clientIds: ['acme-client'] }],
      ['globex', { name: 'Globex', products: ['billing-api'], clientIds: ['globex-client'] }],
      ['initech', { name: 'Initech', products: [], clientIds: ['initech-client'] }],
    ] as const) {
      const answer = await admin('publisher', 'POST', '/partners', { id, ...body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await gw?.close();
    await jwks?.close();
  });

  it('a key signs in: an HttpOnly, SameSite=Strict session cookie under /portal, the session with its CSRF token', async () => {
    const { key, id } = await createKey('acme');
    const client = browser();
    const answer = await client.signIn({ apiKey: key });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^sluice_partner=[A-Za-z0-9_-]{43}; Path=\/portal; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    expect(Number(/Max-Age=(\d+)/.exec(cookie)![1])).toBeLessThanOrEqual(30 * 60);
    const session = partnerSessionSchema.parse(answer.body);
    expect(session).toMatchObject({ partner: { id: 'acme', name: 'Acme' }, credential: { kind: 'api-key', keyId: id } });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect((await client.call('GET', '/session')).body).toMatchObject({ partner: { id: 'acme' } });
    // no cookie, no session
    expect((await browser().call('GET', '/overview')).status).toBe(401);
    // over TLS (here: as the trusted proxy in front says) the cookie is Secure
    const tls = await browser().call('POST', '/session', { apiKey: key }, { 'x-forwarded-proto': 'https' });
    expect(tls.status).toBe(201);
    expect(tls.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('the rest of the portal knows the partner by its session; an admin token sent with it is asked instead', async () => {
    const { key } = await createKey('acme');
    const client = await signedIn({ apiKey: key });
    const session = async (headers: Record<string, string>) => (await fetch(`${gw.url}/portal/api/session`, { headers: { cookie: client.cookie!, ...headers } })).json();
    expect((await session({})).viewer).toEqual({ kind: 'partner', id: 'acme', name: 'Acme' });
    expect((await session({ authorization: 'Bearer viewer-token-0123456789abcdef' })).viewer).toMatchObject({ kind: 'admin', name: 'vera' });
    expect((await (await fetch(`${gw.url}/portal/api/session`)).json()).viewer).toEqual({ kind: 'anonymous' });
  });

  it('a partner sees its own subscriptions, plan, limits and keys, and nothing of another partner', async () => {
    const acme = await createKey('acme');
    const globex = await createKey('globex');
    const client = await signedIn({ apiKey: acme.key });
    await expectPort(await call('/limited', acme.key), 'limited');
    await expectPort(await call('/limited', acme.key), 'limited');
    const answer = await client.call('GET', '/overview');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const overview = partnerOverviewSchema.parse(answer.body);
    expect(overview.partner).toMatchObject({ id: 'acme', name: 'Acme', status: 'active' });
    expect(overview.plan).toEqual({ id: 'gold', name: 'Gold' });
    expect(overview.subscriptions.map((s) => s.id)).toEqual(['orders-api']);
    const limited = overview.subscriptions[0]!.workflows.find((w) => w.id === 'limited')!;
    expect(limited).toMatchObject({ route: { methods: ['GET'], path: '/limited' }, state: 'active', version: 1, limit: { limit: 50, window: '1m', source: 'plan' } });
    expect(limited.usage!.requests).toBeGreaterThanOrEqual(2);
    expect(overview.usage.source).toBe('metrics');
    expect(overview.keys.some((k) => k.id === acme.id && k.current)).toBe(true);
    const text = JSON.stringify(answer.body);
    expect(text).not.toContain(globex.id);
    expect(text).not.toContain('globex');
    expect(text).not.toContain('billing');
    expect(text).not.toContain('sha256:');
    for (const secret of secrets) expect(text).not.toContain(secret.slice(12));
  });

  it('every refused sign-in reads the same: unknown, wrong, revoked or expired key, suspended partner, malformed key', async () => {
    const good = await createKey('initech');
    const revoked = await createKey('initech');
    expect((await admin('publisher', 'POST', `/partners/initech/keys/${revoked.id}/revoke`, {})).status).toBe(200);
    const suspendedKey = await createKey('globex');
    const bodies = [];
    for (const apiKey of [`${good.key.slice(0, -3)}abc`, 'sk_00000000_thereisnosuchkeyatallinthisgateway', revoked.key, 'not-a-key']) {
      const answer = await browser().signIn({ apiKey });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.headers.get('set-cookie')).toBeNull();
      bodies.push(answer.body);
    }
    expect((await admin('publisher', 'POST', '/partners/globex/suspend', { reason: 'portal test' })).status).toBe(200);
    try {
      const answer = await browser().signIn({ apiKey: suspendedKey.key });
      expect(answer.status).toBe(401);
      bodies.push(answer.body);
    } finally {
      expect((await admin('publisher', 'POST', '/partners/globex/reactivate', {})).status).toBe(200);
    }
    const said = new Set(bodies.map((b) => `${b.type} ${b.title} ${b.detail}`));
    expect(said.size).toBe(1);
    expect([...said][0]).toMatch(/unauthorized Unauthorized the credential is not valid/);
    // the good key still signs in
    await signedIn({ apiKey: good.key });
  });

  it('failed sign-ins from one address are refused with 429 past the bound, even with a good key, while other addresses sign in', async () => {
    const { key } = await createKey('acme');
    const attacker = browser();
    for (let i = 0; i < 10; i++) expect((await attacker.signIn({ apiKey: `sk_0000000${i}_guess` })).status).toBe(401);
    const refused = await attacker.signIn({ apiKey: key });
    expect(refused.status).toBe(429);
    expect(refused.body.type).toMatch(/\/too-many-attempts$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    await signedIn({ apiKey: key });
  });

  it('a change without the session\'s CSRF token, with another session\'s, or from another origin is refused and changes nothing', async () => {
    const { key, id } = await createKey('acme');
    const client = await signedIn({ apiKey: key });
    const other = await signedIn({ apiKey: key });
    const keysBefore = (await admin('viewer', 'GET', '/partners/acme')).body.keys.length;
    const own = client.csrf!;
    client.csrf = undefined;
    expect((await client.call('POST', `/keys/${id}/rotate`, {})).status).toBe(403);
    client.csrf = other.csrf;
    expect((await client.call('POST', `/keys/${id}/rotate`, {})).status).toBe(403);
    client.csrf = own;
    const foreign = await client.call('POST', `/keys/${id}/rotate`, {}, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.type).toMatch(/\/forbidden$/);
    expect((await client.call('POST', `/keys/${id}/rotate`, {}, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await client.call('DELETE', '/session', undefined, { [PARTNER_CSRF_HEADER]: 'wrong' })).status).toBe(403);
    // a sign-in from another origin, or as a form would send it, is refused too
    expect((await browser().signIn({ apiKey: key })).status).toBe(201);
    expect((await browser().call('POST', '/session', { apiKey: key }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await browser().call('POST', '/session', `apiKey=${key}`, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect((await admin('viewer', 'GET', '/partners/acme')).body.keys.length).toBe(keysBefore);
    // the session still works with its own token
    expect((await client.call('GET', '/session')).status).toBe(200);
  });

  it('a partner cannot rotate another partner\'s key: 404, and that key is untouched', async () => {
    const acme = await createKey('acme');
    const globex = await createKey('globex');
    const client = await signedIn({ apiKey: acme.key });
    const answer = await client.call('POST', `/keys/${globex.id}/rotate`, {});
    expect(answer.status).toBe(404);
    expect(JSON.stringify(answer.body)).not.toContain('globex');
    const stored = (await admin('viewer', 'GET', '/partners/globex')).body.keys.find((k: { id: string }) => k.id === globex.id);
    expect(stored.expiresAt).toBeUndefined();
    await expectPort(await call('/billing', globex.key), 'billing');
  });

  it('rotation shows the new key once, keeps the scopes, audits as the partner; the old key works until the overlap ends, then stops', async () => {
    const old = await createKey('acme', { scopes: ['orders:read', 'orders:list'] });
    const client = await signedIn({ apiKey: old.key });
    const answer = await client.call('POST', `/keys/${old.id}/rotate`, { overlap: '2s' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const rotated = rotatedOwnKeySchema.parse(answer.body);
    expect(rotated.key).toMatch(/^sk_[0-9a-f]{8}_/);
    expect(rotated.scopes).toEqual(['orders:read', 'orders:list']);
    expect(rotated.replaced.id).toBe(old.id);
    // the new key works at once; both work during the overlap
    await expectPort(await call('/orders', rotated.key), 'orders');
    await expectPort(await call('/orders', old.key), 'orders');
    // never again: not in the overview, not in the admin API, not in the audit log
    const later = JSON.stringify((await client.call('GET', '/overview')).body);
    expect(later).toContain(rotated.id);
    expect(later).not.toContain(rotated.key.slice(12));
    expect(JSON.stringify((await admin('viewer', 'GET', '/partners/acme')).body)).not.toContain(rotated.key.slice(12));
    const audit = await admin('auditor', 'GET', '/audit');
    expect(JSON.stringify(audit.body)).not.toContain(rotated.key.slice(12));
    expect(audit.body.entries.at(-1)).toMatchObject({ action: 'key.rotate', partner: 'acme', actor: 'partner:acme', role: 'partner', detail: expect.stringContaining(`key ${old.id} replaced by ${rotated.id}`) });
    // the old key stops once the overlap has passed: polled, not slept for
    await vi.waitFor(async () => expect((await call('/orders', old.key)).status).toBe(401), { timeout: 15_000, interval: 200 });
    await expectProblem(await call('/orders', old.key), 401, 'invalid-api-key');
    await expectPort(await call('/orders', rotated.key), 'orders');
    // the session opened with the old key ended with it
    expect((await client.call('GET', '/overview')).status).toBe(401);
  });

  it('a rotation never outlives what the admin granted, never beyond the overlap bound, never of an expired key', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const bounded = await createKey('acme', { expiresAt });
    const client = await signedIn({ apiKey: bounded.key });
    const tooLong = await client.call('POST', `/keys/${bounded.id}/rotate`, { overlap: '2h' });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail).toContain('SLUICE_PORTAL_MAX_OVERLAP');
    const answer = await client.call('POST', `/keys/${bounded.id}/rotate`, {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(Date.parse(answer.body.expiresAt)).toBe(Date.parse(expiresAt));
    // the default overlap is the bound (1h here), cut at the old key's own expiry
    expect(Date.parse(answer.body.replaced.expiresAt)).toBeLessThanOrEqual(Date.parse(expiresAt));
    const expired = await createKey('acme', { expiresAt: new Date(Date.now() + 1_500).toISOString() });
    await vi.waitFor(async () => expect((await call('/orders', expired.key)).status).toBe(401), { timeout: 15_000, interval: 200 });
    const again = await client.call('POST', `/keys/${expired.id}/rotate`, {});
    expect(again.status).toBe(409);
  });

  it('revoking the key a session was opened with ends the session: no overview, no rotation', async () => {
    const { key, id } = await createKey('acme');
    const other = await createKey('acme');
    const client = await signedIn({ apiKey: key });
    expect((await client.call('GET', '/overview')).status).toBe(200);
    expect((await admin('publisher', 'POST', `/partners/acme/keys/${id}/revoke`, { reason: 'leaked' })).status).toBe(200);
    expect((await client.call('GET', '/overview')).status).toBe(401);
    expect((await client.call('POST', `/keys/${other.id}/rotate`, {})).status).toBe(401);
    expect((await client.signIn({ apiKey: key })).status).toBe(401);
  });

  it('suspending a partner ends its sessions; it cannot sign in until reactivated', async () => {
    const { key } = await createKey('globex');
    const client = await signedIn({ apiKey: key });
    expect((await admin('publisher', 'POST', '/partners/globex/suspend', { reason: 'abuse' })).status).toBe(200);
    try {
      expect((await client.call('GET', '/overview')).status).toBe(401);
      expect((await browser().signIn({ apiKey: key })).status).toBe(401);
    } finally {
      expect((await admin('publisher', 'POST', '/partners/globex/reactivate', {})).status).toBe(200);
    }
    await signedIn({ apiKey: key });
  });

  it('signing out ends the session and clears the cookie', async () => {
    const { key } = await createKey('acme');
    const client = await signedIn({ apiKey: key });
    const out = await client.call('DELETE', '/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^sluice_partner=; Path=\/portal; Max-Age=0/);
    expect(client.cookie).toBeUndefined();
    expect((await client.call('GET', '/overview')).status).toBe(401);
  });

  it('a deprecation of a workflow in the partner\'s products shows with its sunset', async () => {
    const { key } = await createKey('acme');
    const sunset = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const answer = await admin('publisher', 'POST', '/workflows/orders/deprecate', { version: 1, sunset });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const client = await signedIn({ apiKey: key });
    const overview = partnerOverviewSchema.parse((await client.call('GET', '/overview')).body);
    expect(overview.deprecations).toEqual([expect.objectContaining({ workflow: 'orders', products: ['orders-api'], state: 'deprecated', version: 1, sunset })]);
  });

  it('a partner signs in at most 30 times in five minutes: a valid credential cannot fill the session store', async () => {
    const { key } = await createKey('initech');
    // initech signed in once above; its 30th sign-in is the last
    for (let i = 1; i < 30; i++) expect((await browser().signIn({ apiKey: key })).status).toBe(201);
    const refused = await browser().signIn({ apiKey: key });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
  });

  describe('sign-in with a token from the partner\'s identity provider', () => {
    it('a jose-signed token for the portal audience, from an issuer a served jwt-verify node trusts, maps its azp to the partner', async () => {
      const client = browser();
      const answer = await client.signIn({ token: await portalToken() });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body).toMatchObject({ partner: { id: 'acme' }, credential: { kind: 'token', issuer: TEST_ISSUER, clientId: 'acme-client' } });
      const overview = partnerOverviewSchema.parse((await client.call('GET', '/overview')).body);
      expect(overview.subscriptions.map((s) => s.id)).toEqual(['orders-api']);
      expect(overview.keys.every((k) => !k.current)).toBe(true);
    });

    it('the session lasts no longer than the token', async () => {
      const exp = Math.floor(Date.now() / 1000) + 90;
      const answer = await browser().signIn({ token: await portalToken({ exp }) });
      expect(answer.status).toBe(201);
      expect(Date.parse(answer.body.expiresAt)).toBeLessThanOrEqual(exp * 1000);
    });

    it.each([
      ['minted for an API, not the portal', { aud: 'orders' }],
      ['expired', { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }],
      ['from an issuer no node trusts', { iss: 'https://elsewhere.test' }],
      ['of a client id no partner has', { azp: 'nobody-client' }],
      ['of a partner the issuer is not trusted for (no subscribed workflow verifies it)', { azp: 'initech-client' }],
      ['without a partner claim', { azp: undefined }],
    ])('a token %s is refused like a wrong key', async (_what, claims) => {
      const answer = await browser().signIn({ token: await portalToken(claims) });
      expect(answer.status).toBe(401);
      expect(answer.body.detail).toMatch(/^the credential is not valid/);
    });

    it('a token signed by another key, or with an algorithm the node does not allow, is refused', async () => {
      const stranger = await createIssuer(issuer.kid);
      expect((await browser().signIn({ token: await stranger.sign({ aud: PORTAL_AUDIENCE, azp: 'acme-client' }) })).status).toBe(401);
      const { privateKey } = await generateKeyPair('ES256');
      const es = await new SignJWT({ aud: PORTAL_AUDIENCE, azp: 'acme-client', iss: TEST_ISSUER }).setProtectedHeader({ alg: 'ES256', kid: issuer.kid }).setExpirationTime('5m').sign(privateKey);
      expect((await browser().signIn({ token: es })).status).toBe(401);
    });

    it('removing the client id from the partner ends a token session', async () => {
      const client = await signedIn({ token: await portalToken() });
      const put = (clientIds: string[]) => admin('publisher', 'PUT', '/partners/acme', { name: 'Acme', plan: 'gold', products: ['orders-api'], clientIds });
      expect((await put([])).status).toBe(200);
      try {
        expect((await client.call('GET', '/overview')).status).toBe(401);
      } finally {
        expect((await put(['acme-client'])).status).toBe(200);
      }
    });
  });
});

describe('a sign-in portal (SLUICE_PORTAL=sign-in)', () => {
  it('reads its catalog to a signed-in partner, and to nobody once the partner\'s key is revoked', async () => {
    const gw = await startTestGateway({ demo: false, workflows: [keyed('orders', '/orders')], settings: { SLUICE_PORTAL: 'sign-in', SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
    try {
      const admin = adminOf(gw.url);
      expect((await admin('publisher', 'PUT', '/products/orders-api', { name: 'Orders API', workflows: ['orders'] })).status).toBe(200);
      expect((await admin('publisher', 'POST', '/partners', { id: 'acme', name: 'Acme', products: ['orders-api'] })).status).toBe(201);
      const { key, id } = (await admin('publisher', 'POST', '/partners/acme/keys', {})).body as { key: string; id: string };
      const client = portalClient(gw.url);
      expect((await client.signIn({ apiKey: key })).status).toBe(201);
      const catalog = (cookie?: string) => fetch(`${gw.url}/portal/api/catalog`, { headers: cookie === undefined ? {} : { cookie } });
      expect((await catalog()).status).toBe(401);
      const read = await catalog(client.cookie);
      expect(read.status).toBe(200);
      expect(JSON.stringify(await read.json())).toContain('Orders API');
      expect((await admin('publisher', 'POST', `/partners/acme/keys/${id}/revoke`, {})).status).toBe(200);
      expect((await catalog(client.cookie)).status).toBe(401);
    } finally {
      await gw.close();
    }
  });
});

describe('partner portal API with SLUICE_PORTAL=off', () => {
  it('is not there: sign-in answers 404', async () => {
    const gw = await startTestGateway({ demo: false, workflows: [keyed('orders', '/orders')], settings: { SLUICE_PORTAL: 'off' } });
    try {
      const answer = await gw.fetch('/portal/api/partner/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: 'sk_00000000_x' }) });
      expect(answer.status).toBe(404);
      expect(answer.headers.get('set-cookie')).toBeNull();
    } finally {
      await gw.close();
    }
  });
});
