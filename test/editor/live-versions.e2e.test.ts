/**
 * Live mode and versions in a real Chromium: the counts of the served version are drawn on that
 * version's own graph (not on a draft that differs from it), and a rollback asks first, naming both
 * versions.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDemoToken } from '../../engine/demo/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'live-versions-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('live traffic and versions', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lee:publisher:${PUBLISHER}` } }), launchChromium()]);
    // v2 puts a second check between limit and call; then v1 serves again while the draft stays v2.
    const workflow = await admin('GET', '/workflows/orders');
    const v1 = workflow.draft?.document ?? (await admin('GET', `/workflows/orders/versions/${workflow.active}`)).document;
    const edges = v1.edges.filter((e: { from: string }) => e.from !== 'limit');
    const document = {
      ...v1,
      nodes: [...v1.nodes, { id: 'recheck', kind: 'scope-check', label: 'Checks again', config: { all: ['orders:read'] } }],
      edges: [...edges, { from: 'limit', port: 'ok', to: 'recheck' }, { from: 'recheck', port: 'ok', to: 'call' }],
      layout: { ...v1.layout, recheck: { x: 650, y: 200 } },
    };
    await admin('PUT', '/workflows/orders/draft', { document, baseRevision: workflow.draft?.revision ?? 0 });
    const { version } = await admin('POST', '/workflows/orders/publish');
    await admin('POST', '/workflows/orders/rollback', { version: version - 1 });
    const reader = await signDemoToken(gateway.dataDir, { sub: 'alice', scopes: ['orders:read'], partner: 'acme' });
    for (let i = 0; i < 3; i++) expect((await gateway.fetch('/api/orders', { headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('draws the served version’s counts on its own graph, not on a draft that differs from it', async () => {
    await signIn(page, gateway.url, PUBLISHER);
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('button', { name: 'Live' }).click();
    const summary = page.getByRole('status', { name: 'Live outcomes' });
    const edgeLabels = () => page.locator('.react-flow__edge').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    await expect.poll(edgeLabels).toContain('Edge limit ok to call: 3 requests');
    await expect.poll(() => summary.textContent()).toContain('The canvas shows version 1 as it serves');
    const labels = await edgeLabels();
    expect(labels.filter((l) => l.includes('recheck'))).toEqual([]);
    await expect.poll(() => page.locator('.react-flow__node[data-id="recheck"]').count()).toBe(0);
    await screenshot(page, 'live-served-version');

    // Live off: the draft (v2's graph) is back and editable
    await page.getByRole('button', { name: 'Live' }).click();
    await expect.poll(() => page.locator('.react-flow__node[data-id="recheck"]').count()).toBe(1);
    expect(errors).toEqual([]);
  }, 60_000);

  it('asks before a rollback, naming both versions, and does nothing on Cancel', async () => {
    await page.getByRole('tab', { name: /Versions/ }).click();
    const versions = page.getByRole('region', { name: 'Versions' });
    await versions.getByRole('button', { name: 'Make version 2 active' }).click();
    const dialog = page.getByRole('dialog', { name: 'Serve version 2 instead of version 1?' });
    await expect.poll(() => dialog.count()).toBe(1);
    await screenshot(page, 'rollback-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await admin('GET', '/workflows/orders')).active).toBe(1);
    await versions.getByRole('button', { name: 'Make version 2 active' }).click();
    await dialog.getByRole('button', { name: 'Serve version 2' }).click();
    await expect.poll(async () => (await admin('GET', '/workflows/orders')).active).toBe(2);
    expect(errors).toEqual([]);
  }, 60_000);
});
