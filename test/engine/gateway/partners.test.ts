import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, type TestIssuer } from '../../helpers/issuer.ts';
import { ADMIN_TOKENS, adminOf, type Admin } from '../admin/support.ts';
import { expectPort, expectProblem, portNode, workflow, bearer } from '../../helpers/workflow.ts';

/*
 * Partners, API products and plans end to end: keys created through the admin API, requests
 * through the real gateway, access decided from the partner directory of the store's revision.
 */

const keyed = (id: string, path: string, extra: Array<{ id: string; kind: string; config?: Record<string, unknown> }> = []) => {
  const nodes = [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, ...extra, portNode('answer', id)];
  const chain = [{ id: 'key' }, ...extra, { id: 'answer' }];
  return workflow(id, { path }, nodes, chain.slice(0, -1).map((n, i) => [n.id, 'ok', chain[i + 1]!.id] as [string, string, string]));
};

/** Every file under a directory, as text. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [readFileSync(path, 'utf8')];
  });
}

describe('partners, products and plans at the gateway', () => {
  let gw: TestGateway;
  let admin: Admin;
  let issuer: TestIssuer;
  /** Every key secret handed out: none may appear anywhere afterwards. */
  const secrets: string[] = [];

  const createKey = async (partner: string, body: Record<string, unknown> = {}) => {
    const answer = await admin('publisher', 'POST', `/partners/${partner}/keys`, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.key).toMatch(/^sk_[0-9a-f]{8}_/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    secrets.push(answer.body.key as string);
    return answer.body as { key: string; id: string };
  };
  const call = (path: string, key: string) => gw.fetch(path, { headers: { 'x-api-key': key } });

  beforeAll(async () => {
    issuer = await createIssuer();
    gw = await startTestGateway({
      demo: false,
      settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'info' },
      workflows: [
        keyed('orders', '/orders'),
        keyed('billing', '/billing'),
        keyed('public', '/public'),
        keyed('limited', '/limited', [{ id: 'limit', kind: 'rate-limit', config: { limit: 'plan', window: '1m' } }]),
        keyed('limited-fallback', '/limited/fallback', [{ id: 'limit', kind: 'rate-limit', config: { limit: 'plan', fallbackLimit: 2, window: '1m' } }]),
        workflow('jwt-orders', { path: '/jwt/orders' }, [{ id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: 'https://issuer.test', audience: 'orders' } }, portNode('answer', 'jwt-orders')], [['verify', 'ok', 'answer']]),
      ],
    });
    admin = adminOf(gw.url);
    const put = async (path: string, body: unknown) => {
      const answer = await admin('publisher', 'PUT', path, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    };
    await put('/products/orders-api', { name: 'Orders', workflows: ['orders', 'limited', 'limited-fallback', 'jwt-orders'] });
    await put('/products/billing-api', { name: 'Billing', workflows: ['billing'] });
    await put('/plans/gold', { name: 'Gold', limits: { 'orders-api': { limit: 5, window: '1m' } } });
    await put('/plans/bronze', { name: 'Bronze', limits: { 'orders-api': { limit: 2, window: '1m' } } });
    for (const [id, body] of [
      ['acme', { name: 'Acme', plan: 'gold', products: ['orders-api'], clientIds: ['acme-client'] }],
      ['beta', { name: 'Beta', plan: 'bronze', products: ['orders-api', 'billing-api'] }],
      ['cargo', { name: 'Cargo', plan: 'bronze', products: ['orders-api'], limits: { 'orders-api': { limit: 3, window: '1m' } } }],
      ['dyna', { name: 'Dyna', products: ['orders-api'] }],
    ] as const) {
      const answer = await admin('publisher', 'POST', '/partners', { id, ...body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a key grants exactly its partner\'s products; a workflow in no product is open to every known key', async () => {
    const { key } = await createKey('acme');
    await expectPort(await call('/orders', key), 'orders');
    await expectPort(await call('/public', key), 'public');
    const refused = await expectProblem(await call('/billing', key), 403, 'product-not-subscribed', 'billing-api');
    expect(refused.detail).toContain('acme');
    const beta = await createKey('beta');
    await expectPort(await call('/billing', beta.key), 'billing');
    await expectPort(await call('/orders', beta.key), 'orders');
  });

  it('an unknown, malformed or missing key is 401; the request log names the partner of a known one', async () => {
    const { key } = await createKey('acme');
    await expectProblem(await call('/orders', `${key.slice(0, -2)}xx`), 401, 'invalid-api-key');
    await expectProblem(await call('/orders', 'sk_00000000_nope'), 401, 'invalid-api-key');
    await expectProblem(await gw.fetch('/orders'), 401, 'missing-api-key');
    await expectPort(await call('/orders', key), 'orders');
    // request lines are batched: waited for, not slept for
    await vi.waitFor(() => expect(gw.logs.some((l) => l.workflow === 'orders' && l.partner === 'acme' && l.status === 200)).toBe(true), { timeout: 15_000 });
  });

  it('a revoked key is 401 from the next request on, and the revocation is audited', async () => {
    const { key, id } = await createKey('acme');
    await expectPort(await call('/orders', key), 'orders');
    const revoked = await admin('publisher', 'POST', `/partners/acme/keys/${id}/revoke`, {});
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    await expectProblem(await call('/orders', key), 401, 'invalid-api-key');
    const audit = await admin('auditor', 'GET', '/audit');
    expect(audit.body.entries.at(-1)).toMatchObject({ action: 'key.revoke', partner: 'acme', actor: 'pia', detail: `key ${id} revoked` });
  });

  it('an expired key is 401', async () => {
    const { key } = await createKey('acme', { expiresAt: new Date(Date.now() + 600).toISOString() });
    await expectPort(await call('/orders', key), 'orders');
    await new Promise((resolve) => setTimeout(resolve, 700));
    await expectProblem(await call('/orders', key), 401, 'invalid-api-key');
    const listed = await admin('viewer', 'GET', '/partners/acme');
    expect(listed.body.keys.find((k: { prefix: string }) => key.startsWith(`sk_${k.prefix}_`)).state).toBe('expired');
  });

  it('rotation: both keys work during the overlap, then only the new one', async () => {
    const old = await createKey('acme');
    const rotated = await admin('publisher', 'POST', `/partners/acme/keys/${old.id}/rotate`, { overlap: '1s' });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    const fresh = rotated.body as { key: string; id: string; replaced: string };
    secrets.push(fresh.key);
    expect(fresh.replaced).toBe(old.id);
    await expectPort(await call('/orders', old.key), 'orders');
    await expectPort(await call('/orders', fresh.key), 'orders');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expectProblem(await call('/orders', old.key), 401, 'invalid-api-key');
    await expectPort(await call('/orders', fresh.key), 'orders');
  });

  it('jwt-verify maps the token\'s azp through client ids to the partner, and checks its products', async () => {
    const token = await issuer.sign({ sub: 'u1', azp: 'acme-client' });
    await expectPort(await gw.fetch('/jwt/orders', { headers: bearer(token) }), 'jwt-orders');
    const stranger = await issuer.sign({ sub: 'u2', azp: 'somebody-else' });
    await expectProblem(await gw.fetch('/jwt/orders', { headers: bearer(stranger) }), 403, 'product-not-subscribed', 'orders-api');
  });

  it('suspension refuses every request of the partner at once, by api-key and by jwt-verify (cached token too); reactivation restores it', async () => {
    const { key } = await createKey('acme');
    const token = await issuer.sign({ sub: 'u1', azp: 'acme-client' });
    await expectPort(await gw.fetch('/jwt/orders', { headers: bearer(token) }), 'jwt-orders'); // now cached
    const suspended = await admin('publisher', 'POST', '/partners/acme/suspend', { reason: 'abuse report 17' });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    await expectProblem(await call('/orders', key), 403, 'partner-suspended', 'acme');
    await expectProblem(await call('/public', key), 403, 'partner-suspended');
    await expectProblem(await gw.fetch('/jwt/orders', { headers: bearer(token) }), 403, 'partner-suspended');
    const audit = await admin('auditor', 'GET', '/audit');
    expect(audit.body.entries.at(-1)).toMatchObject({ action: 'partner.suspend', partner: 'acme', actor: 'pia', detail: 'active -> suspended: abuse report 17' });
    await admin('publisher', 'POST', '/partners/acme/reactivate', {});
    await expectPort(await call('/orders', key), 'orders');
    await expectPort(await gw.fetch('/jwt/orders', { headers: bearer(token) }), 'jwt-orders');
  });

  it('limit "plan": gold, bronze and an override get different limits on one workflow', async () => {
    const results: Record<string, number[]> = {};
    const limits: Record<string, string | null> = {};
    for (const partner of ['acme', 'beta', 'cargo']) {
      const { key } = await createKey(partner);
      results[partner] = [];
      for (let i = 0; i < 7; i++) {
        const res = await call('/limited', key);
        await res.arrayBuffer();
        results[partner].push(res.status);
        limits[partner] = res.headers.get('ratelimit-limit');
      }
    }
    expect(results).toEqual({
      acme: [200, 200, 200, 200, 200, 429, 429],
      beta: [200, 200, 429, 429, 429, 429, 429],
      cargo: [200, 200, 200, 429, 429, 429, 429],
    });
    expect(limits).toEqual({ acme: '5', beta: '2', cargo: '3' });
  });

  it('limit "plan" without a plan limit: the fallback limit, or refused with RateLimit-Limit 0 when there is none', async () => {
    const { key } = await createKey('dyna');
    const refused = await call('/limited', key);
    expect(refused.headers.get('ratelimit-limit')).toBe('0');
    await expectProblem(refused, 429, 'rate-limited');
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await call('/limited/fallback', key);
      await res.arrayBuffer();
      statuses.push(`${res.status} ${res.headers.get('ratelimit-limit')}`);
    }
    expect(statuses).toEqual(['200 2', '200 2', '429 2']);
  });

  it('the per-partner view counts requests, outcomes and limit hits per workflow', async () => {
    const stats = await admin('viewer', 'GET', '/partners/beta/stats?window=5m');
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.partner).toBe('beta');
    const limited = stats.body.workflows.find((w: { workflow: string }) => w.workflow === 'limited');
    expect(limited).toMatchObject({ requests: 7, limited: 5, outcomes: { ok: 2, limited: 5 } });
    expect(stats.body.limited).toBeGreaterThanOrEqual(5);
    const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(await metrics.text()).toMatch(/partner="beta"/);
  });

  it('roles: a viewer and an editor read partners but cannot change them', async () => {
    expect((await admin('viewer', 'GET', '/partners')).status).toBe(200);
    expect((await admin('auditor', 'GET', '/products')).status).toBe(200);
    expect((await admin('viewer', 'POST', '/partners/acme/suspend', {})).status).toBe(403);
    expect((await admin('editor', 'POST', '/partners/acme/keys', {})).status).toBe(403);
    expect((await admin('editor', 'PUT', '/plans/gold', { name: 'x' })).status).toBe(403);
  });

  it('refuses references to what does not exist, naming the field', async () => {
    const answer = await admin('publisher', 'POST', '/partners', { id: 'delta', name: 'Delta', plan: 'platinum', products: ['nope'] });
    expect(answer.status).toBe(422);
    expect(answer.body.problems.map((p: { field: string }) => p.field).sort()).toEqual(['plan', 'products.0']);
    const product = await admin('publisher', 'PUT', '/products/ghost', { name: 'Ghost', workflows: ['no-such-workflow'] });
    expect(product.status).toBe(422);
  });

  it('the key secret appears nowhere after creation: store files, logs, admin answers, audit', async () => {
    expect(secrets.length).toBeGreaterThan(5);
    // every request so far is logged once a later one's line is there (lines are written in order): wait for that, not a fixed time
    const marker = '4bf92f3577b34da6a3ce929d0e0e4799';
    await expectProblem(await gw.fetch('/orders', { headers: { traceparent: `00-${marker}-00f067aa0ba902b7-01` } }), 401, 'missing-api-key');
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.traceId === marker)).toBe(true), { timeout: 15_000 });
    const haystacks = [
      ...filesUnder(gw.dataDir),
      JSON.stringify(gw.logs),
      JSON.stringify((await admin('admin', 'GET', '/partners')).body),
      JSON.stringify((await admin('admin', 'GET', '/partners/acme')).body),
      JSON.stringify((await admin('admin', 'GET', '/audit')).body),
    ];
    for (const secret of secrets) {
      const tail = secret.slice(12); // the secret part, without the public prefix
      for (const text of haystacks) expect(text.includes(tail)).toBe(false);
    }
    // and no key hash leaves the store either
    expect(JSON.stringify((await admin('admin', 'GET', '/partners')).body)).not.toContain('sha256:');
  });
});
