import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice as runSluice, type CliRun } from '../helpers/cli.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminOf, PEOPLE, startAdminGateway } from './admin/support.ts';
import { portNode, workflow } from '../helpers/workflow.ts';

/* `sluice partner|product|plan` against a running gateway's admin API, as an operator types them. */

/** The first test starts ten `sluice` processes: it gets a minute on a loaded machine, not the default 20 s. */
describe('sluice partner, product and plan', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  const sluice = (...args: string[]): Promise<CliRun> => runSluice(args, { env: { ...process.env, SLUICE_URL: gw.url, SLUICE_TOKEN: PEOPLE.publisher.token, LOG_LEVEL: 'silent' } });
  const call = async (key: string) => {
    const res = await gw.fetch('/cli/orders', { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    gw = await startAdminGateway();
    const admin = adminOf(gw.url);
    const document = workflow('cli-orders', { path: '/cli/orders' }, [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, portNode('answer')], [['key', 'ok', 'answer']]);
    expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/cli-orders/publish')).status).toBe(200);
  });
  afterAll(() => gw?.close());

  it('creates a product, a plan, a partner and a key; the key is accepted; suspend and revoke take it away', async () => {
    expect(await sluice('product', 'put', 'orders-api', '--name', 'Orders', '--workflow', 'cli-orders')).toMatchObject({ code: 0, stdout: 'product orders-api: cli-orders\n' });
    expect(await sluice('plan', 'put', 'gold', '--name', 'Gold', '--limit', 'orders-api=100/1m')).toMatchObject({ code: 0, stdout: 'plan gold: orders-api 100/1m\n' });
    expect(await sluice('partner', 'create', 'acme', '--name', 'Acme', '--plan', 'gold', '--product', 'orders-api', '--client-id', 'acme-web')).toMatchObject({
      code: 0,
      stdout: 'partner acme (active): products orders-api, plan gold\n',
    });
    const created = await sluice('partner', 'key', 'create', 'acme');
    expect(created.code, created.stderr).toBe(0);
    const [key, note] = created.stdout.trim().split('\n');
    expect(key).toMatch(/^sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(note).toContain('shown once');
    expect(await call(key!)).toBe(200);

    expect(await sluice('partner', 'suspend', 'acme', '--reason', 'abuse')).toMatchObject({ code: 0, stdout: 'partner acme is suspended\n' });
    expect(await call(key!)).toBe(403);
    expect(await sluice('partner', 'reactivate', 'acme')).toMatchObject({ code: 0, stdout: 'partner acme is active\n' });
    expect(await call(key!)).toBe(200);

    const keyId = key!.slice(3, 11);
    const listed = await sluice('partner', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^acme\\s+active\\s+plan gold\\s+products orders-api\\s+keys ${keyId}:active \\(used `, 'm'));
    expect(listed.stdout).not.toContain(key!.slice(12));
    expect(await sluice('partner', 'key', 'revoke', 'acme', keyId)).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^key ${keyId} revoked at `)) });
    expect(await call(key!)).toBe(401);
  });

  it('creates, rotates and revokes an HMAC secret; the secret is printed once and never listed', async () => {
    const created = await sluice('partner', 'hmac-secret', 'create', 'acme');
    expect(created.code, created.stderr).toBe(0);
    const [secret, note] = created.stdout.trim().split('\n');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = /HMAC secret (hk_[0-9a-f]{8}) of acme/.exec(note!)?.[1];
    expect(note).toContain('shown once');
    const rotated = await sluice('partner', 'hmac-secret', 'rotate', 'acme', id!, '--overlap', '1h');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`replacing ${id}`);
    expect(await sluice('partner', 'hmac-secret', 'revoke', 'acme', id!)).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^HMAC secret ${id} revoked at `)) });
    expect((await sluice('partner', 'list')).stdout).not.toContain(secret);
  });

  it('a refusal names the field and exits 1; a usage error exits 2', async () => {
    const refused = await sluice('partner', 'create', 'ghost', '--name', 'Ghost', '--product', 'nope');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('products.0: no product "nope"');
    expect((await sluice('partner', 'create', 'nameless')).code).toBe(2);
    expect((await sluice('plan', 'put', 'x', '--name', 'X', '--limit', 'lots')).code).toBe(2);
    // a token budget goes with a product's request limit
    const orphan = await sluice('plan', 'put', 'x', '--name', 'X', '--tokens', 'orders-api=5000/1h');
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('needs a --limit for orders-api');
  });

  it('puts a plan with a token budget per product', async () => {
    const put = await sluice('plan', 'put', 'ai-gold', '--name', 'AI Gold', '--limit', 'orders-api=100/1m', '--tokens', 'orders-api=50000/1h', '--models', 'orders-api=gpt-4o-mini,claude-*');
    expect(put, put.stderr).toMatchObject({ code: 0, stdout: 'plan ai-gold: orders-api 100/1m and 50000 tokens/1h (models gpt-4o-mini, claude-*)\n' });
    expect((await adminOf(gw.url)('viewer', 'GET', '/plans')).body.plans.find((p: { id: string }) => p.id === 'ai-gold').limits).toEqual({ 'orders-api': { limit: 100, window: '1m', tokens: { limit: 50000, window: '1h' }, models: ['gpt-4o-mini', 'claude-*'] } });
  });
});
