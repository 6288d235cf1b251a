/**
 * Differential replay in a real Chromium: real traffic through the served orders workflow (demo
 * tokens, some with the scope a draft will require), a draft that requires another scope, and
 * the publish dialog saying how many of the recorded requests would be refused, and which.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeProblems } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'replay-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('replay: the publish dialog lists the recorded requests the draft would answer differently', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);
  const token = async (scopes: string[]) => (await admin('POST', '/demo-token', { sub: `user-${scopes.length}`, scopes, partner: 'acme' })).token as string;
  const get = async (path: string, bearer: string) => {
    const res = await gateway.fetch(path, { headers: { authorization: `Bearer ${bearer}` } });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lee:publisher:${PUBLISHER}`, SLUICE_REPLAY_PER_SECOND: '10000' } }), launchChromium()]);
    const start = await admin('GET', '/workflows/orders');
    if (start.active === null) await admin('POST', '/workflows/orders/publish');
    const page1 = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await page1.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('records traffic, and after a scope change in the draft the publish dialog says which requests would get 403', async () => {
    const [readOnly, readWrite] = [await token(['orders:read']), await token(['orders:read', 'orders:write'])];
    for (let i = 0; i < 3; i++) expect(await get(`/api/orders?page=${i}`, readOnly)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await get('/api/orders?mine=1', readWrite)).toBe(200);
    await expect.poll(async () => (await gateway.sluice.samples!.list('orders')).length).toBe(5);

    const workflow = await admin('GET', '/workflows/orders');
    const base = workflow.draft?.document ?? (await admin('GET', `/workflows/orders/versions/${workflow.active}`)).document;
    const document = { ...base, nodes: base.nodes.map((n: { id: string; config: object }) => (n.id === 'scopes' ? { ...n, config: { all: ['orders:write'] } } : n)) };
    await admin('PUT', '/workflows/orders/draft', { document, baseRevision: workflow.draft?.revision ?? 0 });

    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('button', { name: 'Publish…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Publish orders' });
    const replayed = dialog.getByRole('region', { name: 'Replayed requests' });
    await expect.poll(() => replayed.textContent(), { timeout: 20_000 }).toMatch(/would change/);
    await expect.poll(() => replayed.locator('summary').textContent()).toMatch(/^Replayed 5 recent requests and \d+ tests?: 3 would change: 200 -> 403 at scopes\.denied$/);
    await replayed.locator('summary').click();
    const list = replayed.getByRole('list', { name: /^Requests: 200 ok → 403 denied at scopes\.denied/ });
    expect((await list.getByRole('listitem').allTextContents()).map((t) => t.split(' · ')[0]).sort()).toEqual(['GET /api/orders?page=0', 'GET /api/orders?page=1', 'GET /api/orders?page=2']);
    expect(await replayed.textContent()).not.toContain('mine=1');
    await screenshot(page, 'replay-publish-dialog');
    expect(await seriousAxeProblems(page, '.replay-compare')).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(errors).toEqual([]);
  }, 90_000);
});
