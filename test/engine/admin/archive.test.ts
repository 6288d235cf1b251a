import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminOf, expectProblem, stamped, stampOf, startAdminGateway, untilStamp, type Admin } from './support.ts';

/*
 * Archiving, restoring and deleting workflows over the admin API, against a real gateway on the
 * file store and on Redis (a key prefix of its own): an archived workflow stops serving within
 * the change's own acknowledgement, frees its route, keeps its versions, takes no edit; a restore
 * serves again only where the route is still free; only a draft-only workflow can be deleted.
 */

const redisUp = await sharedRedisAvailable();

describe.each([
  { store: 'file', redis: false },
  { store: 'redis', redis: true },
])('archive and restore on the $store store', ({ redis }) => {
  let gw: TestGateway;
  let admin: Admin;
  const prefix = testPrefix('archive');
  const skip = redis && !redisUp;

  beforeAll(async () => {
    if (skip) return;
    gw = await startAdminGateway(redis ? { settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } } : {});
    admin = adminOf(gw.url);
    expect(gw.sluice.store.kind).toBe(redis ? 'redis' : 'file');
  });
  afterAll(async () => {
    if (skip) return;
    await gw.close();
    if (redis) await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  const publishNew = async (id: string, path: string, stamp: string) => {
    expect((await admin('editor', 'POST', '/workflows', { document: stamped(id, path, stamp) })).status).toBe(201);
    expect((await admin('publisher', 'POST', `/workflows/${id}/publish`)).body).toMatchObject({ unchanged: false });
    await untilStamp(gw.url, path, stamp);
  };

  it.skipIf(skip)('archiving stops serving at once, keeps draft and versions, and frees the route', async () => {
    await publishNew('old-orders', '/arch/orders', 'old');
    // A second workflow cannot take the route while the first serves it.
    await admin('editor', 'POST', '/workflows', { document: stamped('new-orders', '/arch/orders', 'new') });
    const clash = await admin('publisher', 'POST', '/workflows/new-orders/publish');
    expectProblem(clash, 422, 'validation-failed');

    const archived = await admin('publisher', 'POST', '/workflows/old-orders/archive', { reason: 'replaced by new-orders' });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ id: 'old-orders', active: null, archived: { by: 'pia', reason: 'replaced by new-orders', version: 1 } });
    // Acknowledged once this gateway serves the change: the route answers 404 now, like an unknown route.
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('404');

    const read = await admin('viewer', 'GET', '/workflows/old-orders');
    expect(read.body).toMatchObject({ active: null, archived: { by: 'pia' }, versions: [{ version: 1 }], draft: { revision: 1 } });
    const list = await admin('viewer', 'GET', '/workflows');
    expect(list.body.workflows.find((w: { id: string }) => w.id === 'old-orders')).toMatchObject({ archived: { reason: 'replaced by new-orders' }, activeVersion: null });
    expect((await admin('viewer', 'GET', '/workflows/old-orders/versions/1')).status).toBe(200);

    // The route is free: the other workflow publishes on it.
    expect((await admin('publisher', 'POST', '/workflows/new-orders/publish')).body).toEqual({ version: 1, unchanged: false });
    await untilStamp(gw.url, '/arch/orders', 'new');
  });

  it.skipIf(skip)('an archived workflow takes no edit, publish, rollback or second archive (409 naming the action)', async () => {
    const save = await admin('editor', 'PUT', '/workflows/old-orders/draft', { document: stamped('old-orders', '/arch/orders', 'x'), baseRevision: 1 });
    expect(expectProblem(save, 409, 'conflict').detail).toBe('workflow "old-orders" is archived: restore it first (cannot save its draft)');
    expect(expectProblem(await admin('publisher', 'POST', '/workflows/old-orders/publish'), 409, 'conflict').detail).toContain('is archived: restore it first (cannot publish)');
    expect(expectProblem(await admin('publisher', 'POST', '/workflows/old-orders/rollback', { version: 1 }), 409, 'conflict').detail).toContain('(cannot roll back)');
    expect(expectProblem(await admin('publisher', 'POST', '/workflows/old-orders/archive', {}), 409, 'conflict').detail).toContain('archived already');
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('new');
  });

  it.skipIf(skip)('restore while the route is taken comes back inactive and says why; once free, a restore serves again', async () => {
    const restored = await admin('publisher', 'POST', '/workflows/old-orders/restore');
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ active: null, inactiveBecause: expect.stringContaining('version 1 cannot serve now') });
    expect(restored.body.problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'route_clash' })]));
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('new');
    expect((await admin('viewer', 'GET', '/workflows/old-orders')).body).toMatchObject({ archived: null, active: null });
    // Editable again.
    expect((await admin('editor', 'PUT', '/workflows/old-orders/draft', { document: stamped('old-orders', '/arch/orders', 'old'), baseRevision: 1 })).status).toBe(200);
    expect(expectProblem(await admin('publisher', 'POST', '/workflows/old-orders/restore'), 409, 'conflict').detail).toContain('is not archived');

    // The new one is archived, the old one archived and restored: its version serves again on the free route.
    await admin('publisher', 'POST', '/workflows/new-orders/archive');
    await admin('publisher', 'POST', '/workflows/old-orders/rollback', { version: 1 });
    await untilStamp(gw.url, '/arch/orders', 'old');
    await admin('publisher', 'POST', '/workflows/old-orders/archive');
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('404');
    expect((await admin('publisher', 'POST', '/workflows/old-orders/restore')).body).toEqual({ active: 1 });
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('old');
  });

  it.skipIf(skip)('delete: a draft-only workflow goes for good; one with versions or serving is refused', async () => {
    await admin('editor', 'POST', '/workflows', { document: stamped('scratch', '/arch/scratch', 's') });
    const served = await admin('publisher', 'DELETE', '/workflows/old-orders');
    expect(expectProblem(served, 409, 'conflict').detail).toContain('it serves traffic (version 1): archive it first');
    const versioned = await admin('publisher', 'DELETE', '/workflows/new-orders');
    expect(expectProblem(versioned, 409, 'conflict').detail).toContain('versions are kept for audit: archive it instead');
    // A product naming it keeps it: deleting would leave the product pointing at nothing.
    expect((await admin('publisher', 'PUT', '/products/scratchy', { name: 'Scratchy', workflows: ['scratch'] })).status).toBeLessThan(300);
    expect(expectProblem(await admin('publisher', 'DELETE', '/workflows/scratch'), 409, 'conflict').detail).toContain('API product(s) scratchy include it');
    expect((await admin('publisher', 'PUT', '/products/scratchy', { name: 'Scratchy', workflows: [] })).status).toBeLessThan(300);
    const deleted = await admin('publisher', 'DELETE', '/workflows/scratch');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: 'scratch' });
    expectProblem(await admin('viewer', 'GET', '/workflows/scratch'), 404, 'not-found');
    expectProblem(await admin('publisher', 'DELETE', '/workflows/scratch'), 404, 'not-found');
    // The id is free again.
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('scratch', '/arch/scratch', 's2') })).status).toBe(201);
  });

  it.skipIf(skip)('roles: an editor or viewer may not archive, restore or delete (403, audited); nothing changes', async () => {
    for (const who of ['editor', 'viewer'] as const) {
      expectProblem(await admin(who, 'POST', '/workflows/old-orders/archive', { reason: 'x' }), 403, 'forbidden');
      expectProblem(await admin(who, 'POST', '/workflows/new-orders/restore'), 403, 'forbidden');
      expectProblem(await admin(who, 'DELETE', '/workflows/scratch'), 403, 'forbidden');
    }
    expect(await stampOf(`${gw.url}/arch/orders`)).toBe('old');
    expect((await admin('viewer', 'GET', '/workflows/new-orders')).body.archived).toMatchObject({ by: 'pia' });
    expect((await admin('viewer', 'GET', '/workflows/scratch')).status).toBe(200);
    const bodyField = await admin('publisher', 'POST', '/workflows/old-orders/archive', { reason: 'x', active: 3 });
    expectProblem(bodyField, 400, 'bad-request');
  });

  it.skipIf(skip)('every archive, restore and delete is one audit entry, and the chain verifies', async () => {
    const { body } = await admin('auditor', 'GET', '/audit?limit=500');
    const mine = (body.entries as Array<Record<string, unknown>>).filter((e) => ['workflow.archive', 'workflow.restore', 'workflow.delete'].includes(e.action as string));
    expect(mine.map((e) => [e.action, e.workflow, e.actor])).toEqual([
      ['workflow.archive', 'old-orders', 'pia'],
      ['workflow.restore', 'old-orders', 'pia'],
      ['workflow.archive', 'new-orders', 'pia'],
      ['workflow.archive', 'old-orders', 'pia'],
      ['workflow.restore', 'old-orders', 'pia'],
      ['workflow.delete', 'scratch', 'pia'],
    ]);
    expect(mine[0]).toMatchObject({ version: 1, detail: 'stopped serving version 1; reason: replaced by new-orders' });
    expect(mine[1]!.detail).toMatch(/^inactive: version 1 cannot serve now/);
    expect(mine[4]).toMatchObject({ version: 1, detail: 'version 1 serves again' });
    const refused = (body.entries as Array<Record<string, unknown>>).filter((e) => e.action === 'refused' && String(e.detail).includes('/archive'));
    expect(refused.length).toBeGreaterThan(0);
    expect((await admin('auditor', 'GET', '/audit/verify')).body).toMatchObject({ ok: true });
  });
});
