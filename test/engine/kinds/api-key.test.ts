import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../engine/kinds/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, registerPartners, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

/** A well-formed key hash (of no key), for the config cases. */
const KEY_HASH = `sha256:${'ab'.repeat(32)}`;

describeKind('api-key', {
  minimal: { config: {}, parsed: { header: 'x-api-key', source: 'inline', keys: [] } },
  accepts: [
    ['keys, a header and a query parameter', { header: 'X-Key', query: 'key', keys: [{ hash: KEY_HASH, partner: 'acme', scopes: ['a'] }] }],
  ],
  refuses: [
    ['a key stored in clear', { keys: [{ hash: 'secret', partner: 'acme' }] }, ['keys.0.hash']],
    ['one key listed twice', { keys: [{ hash: KEY_HASH, partner: 'acme' }, { hash: KEY_HASH, partner: 'globex' }] }, ['keys.1.hash']],
    ['a key without partner', { keys: [{ hash: KEY_HASH }] }, ['keys.0.partner']],
  ],
});

const ACME_KEY = 'acme-live-key-0001';
const GLOBEX_KEY = 'globex-live-key-0002';
const keys = [
  { hash: hashApiKey(ACME_KEY), partner: 'acme', scopes: ['orders:read', 'orders:write'] },
  { hash: hashApiKey(GLOBEX_KEY), partner: 'globex', scopes: ['orders:read'] },
];

/** Answers {"port":"ok"} with the partner and scopes the key granted. */
const whoNode: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "partner": partner, "scopes": scopes }' } };

describe('api-key', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      workflow(
        'key-default',
        { path: '/keys/default' },
        [{ id: 'key', kind: 'api-key', config: { keys } }, { id: 'scopes', kind: 'scope-check', config: { all: ['orders:write'] } }, whoNode],
        [['key', 'ok', 'scopes'], ['scopes', 'ok', 'who']],
      ),
      workflow(
        'key-ports',
        { path: '/keys/ports' },
        [{ id: 'key', kind: 'api-key', config: { keys, header: 'X-Partner-Key', query: 'api_key' } }, whoNode, portNode('missing'), portNode('invalid')],
        [['key', 'ok', 'who'], ['key', 'missing', 'missing'], ['key', 'invalid', 'invalid']],
      ),
    ]);
  });
  afterAll(() => gw?.close());

  it('identifies the partner by its key; partner and scopes reach scope-check', async () => {
    const res = await gw.fetch('/keys/default', { headers: { 'x-api-key': ACME_KEY } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ port: 'ok', partner: 'acme', scopes: ['orders:read', 'orders:write'] });
    // globex's key is valid but lacks orders:write
    await expectProblem(await gw.fetch('/keys/default', { headers: { 'x-api-key': GLOBEX_KEY } }), 403, 'insufficient-scope', 'orders:write');
  });

  it.each<{ name: string; headers: Record<string, string>; status: number; slug: string; port: string }>([
    { name: 'no key', headers: {}, status: 401, slug: 'missing-api-key', port: 'missing' },
    { name: 'an empty key', headers: { 'x-api-key': '' }, status: 401, slug: 'missing-api-key', port: 'missing' },
    { name: 'an unknown key', headers: { 'x-api-key': 'guessed-key' }, status: 401, slug: 'invalid-api-key', port: 'invalid' },
    { name: 'the hash instead of the key', headers: { 'x-api-key': hashApiKey(ACME_KEY) }, status: 401, slug: 'invalid-api-key', port: 'invalid' },
  ])('unwired, $name answers $slug', async ({ headers, status, slug }) => {
    await expectProblem(await gw.fetch('/keys/default', { headers }), status, slug);
  });

  it.each<{ name: string; path: string; headers: Record<string, string>; port: string }>([
    { name: 'no key', path: '/keys/ports', headers: {}, port: 'missing' },
    { name: 'an unknown key', path: '/keys/ports', headers: { 'x-partner-key': 'guessed-key' }, port: 'invalid' },
    { name: 'an unknown key in the query', path: '/keys/ports?api_key=guessed-key', headers: {}, port: 'invalid' },
    { name: 'the key in the default header, not the configured one', path: '/keys/ports', headers: { 'x-api-key': ACME_KEY }, port: 'missing' },
  ])('wired, $name takes the $port port', async ({ path, headers, port }) => {
    await expectPort(await gw.fetch(path, { headers }), port);
  });

  it('reads the configured header, case-insensitively, and the query parameter variant', async () => {
    const byHeader = await gw.fetch('/keys/ports', { headers: { 'X-Partner-Key': GLOBEX_KEY } });
    expect(await byHeader.json()).toEqual({ port: 'ok', partner: 'globex', scopes: ['orders:read'] });
    const byQuery = await gw.fetch(`/keys/ports?api_key=${encodeURIComponent(ACME_KEY)}`);
    expect(await byQuery.json()).toEqual({ port: 'ok', partner: 'acme', scopes: ['orders:read', 'orders:write'] });
    // the header wins over the query parameter
    const both = await gw.fetch(`/keys/ports?api_key=${encodeURIComponent(ACME_KEY)}`, { headers: { 'x-partner-key': GLOBEX_KEY } });
    expect(await both.json()).toMatchObject({ partner: 'globex' });
  });

  it("gives its keys' partners a metric label of their own, those of a workflow published later too", async () => {
    const known = gw.sluice.metrics!.partners.known;
    expect([...known]).toEqual(expect.arrayContaining(['acme', 'globex']));
    expect(known.has('initech')).toBe(false);
    const initech = [{ hash: hashApiKey('initech-live-key-0003'), partner: 'initech', scopes: [] }];
    await gw.putWorkflow(workflow('key-later', { path: '/keys/later' }, [{ id: 'key', kind: 'api-key', config: { keys: initech } }, whoNode], [['key', 'ok', 'who']]));
    expect(gw.sluice.registry.active.has('key-later')).toBe(true);
    expect(known.has('initech')).toBe(true);
  });
});

describe('api-key and registered partners: suspension and products, checked per request', () => {
  let gw: TestGateway;
  const partnerPorts = (id: string, path: string) =>
    workflow(id, { path }, [{ id: 'key', kind: 'api-key', config: { keys } }, whoNode, portNode('suspended'), portNode('unsubscribed')], [['key', 'ok', 'who'], ['key', 'suspended', 'suspended'], ['key', 'unsubscribed', 'unsubscribed']]);
  beforeAll(async () => {
    gw = await startGateway([
      partnerPorts('key-access', '/keys/access'),
      workflow('key-access-default', { path: '/keys/access-default' }, [{ id: 'key', kind: 'api-key', config: { keys } }, whoNode], [['key', 'ok', 'who']]),
    ]);
    // acme (an inline key's partner) is registered and suspended; globex subscribes to nothing
    await registerPartners(gw, { orders: ['key-access', 'key-access-default'] }, { acme: { products: ['orders'], suspended: true }, globex: { products: [] } });
  });
  afterAll(() => gw?.close());

  it('a suspended partner exits by "suspended"; one without the product by "unsubscribed"', async () => {
    await expectPort(await gw.fetch('/keys/access', { headers: { 'x-api-key': ACME_KEY } }), 'suspended');
    await expectPort(await gw.fetch('/keys/access', { headers: { 'x-api-key': GLOBEX_KEY } }), 'unsubscribed');
  });

  it('unwired, they answer partner_suspended and product_not_subscribed (403), naming partner and product', async () => {
    await expectProblem(await gw.fetch('/keys/access-default', { headers: { 'x-api-key': ACME_KEY } }), 403, 'partner-suspended', 'acme');
    await expectProblem(await gw.fetch('/keys/access-default', { headers: { 'x-api-key': GLOBEX_KEY } }), 403, 'product-not-subscribed', /globex.*orders/);
  });
});

describe('api-key with source "partners": keys of registered partners', () => {
  let gw: TestGateway;
  /** acme's live key, and the one it replaced with no overlap (expired at once). */
  let live: string;
  let replaced: string;
  beforeAll(async () => {
    const registered = { source: 'partners', header: 'X-Partner-Key', query: 'api_key' };
    gw = await startGateway([
      workflow('key-registered', { path: '/keys/registered' }, [{ id: 'key', kind: 'api-key', config: registered }, whoNode, portNode('missing'), portNode('invalid')], [['key', 'ok', 'who'], ['key', 'missing', 'missing'], ['key', 'invalid', 'invalid']]),
      // inline keys only: the partner directory is not asked
      workflow('key-inline-only', { path: '/keys/inline-only' }, [{ id: 'key', kind: 'api-key', config: { keys } }, whoNode, portNode('invalid')], [['key', 'ok', 'who'], ['key', 'invalid', 'invalid']]),
    ]);
    await registerPartners(gw, { orders: ['key-registered', 'key-inline-only'] }, { acme: { products: ['orders'] } });
    const { createPartners } = await import('../../../engine/admin/commands/partners.ts');
    const changes = createPartners({ store: gw.sluice.store });
    const actor = { name: 'test', role: 'admin' };
    const first = await changes.createKey(actor, 'acme', { scopes: ['orders:read'] });
    replaced = first.key;
    live = (await changes.rotateKey(actor, 'acme', first.id, '0s', ['orders:read', 'orders:write'])).key;
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  });
  afterAll(() => gw?.close());

  it('identifies the partner by its live key, in the header or (the header empty) the query', async () => {
    expect(live).toMatch(/^sk_[A-Za-z0-9]{8}_/);
    expect(await (await gw.fetch('/keys/registered', { headers: { 'x-partner-key': live } })).json()).toEqual({ port: 'ok', partner: 'acme', scopes: ['orders:read', 'orders:write'] });
    expect(await (await gw.fetch(`/keys/registered?api_key=${encodeURIComponent(live)}`, { headers: { 'x-partner-key': '' } })).json()).toMatchObject({ port: 'ok', partner: 'acme' });
  });

  it.each([
    ['the key it replaced with no overlap (expired)', () => replaced],
    ['the live key with its secret changed', () => `${live.slice(0, -1)}${live.endsWith('a') ? 'b' : 'a'}`],
    ['the live key without its sk_', () => live.slice(3)],
    ['a key of the partner form whose prefix no key has', () => `sk_ZZZZZZZZ_${live.slice(12)}`],
  ])('refuses %s by the invalid port', async (_, key) => {
    await expectPort(await gw.fetch('/keys/registered', { headers: { 'x-partner-key': key() } }), 'invalid');
  });

  it('a workflow with inline keys only does not take a registered key', async () => {
    await expectPort(await gw.fetch('/keys/inline-only', { headers: { 'x-api-key': live } }), 'invalid');
  });
});
