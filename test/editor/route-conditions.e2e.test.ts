/**
 * The workflow settings' route conditions: hosts and header values typed in the side panel reach
 * the saved draft, a bad host is pinned on its field, and emptying a field removes the condition.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'route-conditions-token-0123456789';

describe.runIf(chromiumAvailable())('route conditions in the workflow settings', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lea:publisher:${PUBLISHER}` } }), launchChromium()]);
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
    await openWorkflow(page, gateway.url, 'orders');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  const draftRoute = async () => ((await (await gateway.fetch('/admin/api/workflows/orders', { headers: { authorization: `Bearer ${PUBLISHER}` } })).json()) as { draft: { document: { route: Record<string, unknown> } } }).draft.document.route;
  const save = async () => {
    const before = await page.locator('.statusline').textContent();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('.statusline').textContent()).toMatch(/Saved draft revision/);
    await expect.poll(() => page.locator('.statusline').textContent()).not.toBe(before);
  };

  it('saves hosts and header conditions typed in the settings, and pins a bad host on its field', async () => {
    const settings = page.getByRole('region', { name: 'Workflow settings' });
    await settings.getByLabel('Hosts (optional)').fill('api.example.com:8443');
    await settings.getByLabel('Header conditions (optional)').click();
    await expect.poll(() => settings.locator('.field--problem').filter({ hasText: 'Hosts' }).textContent()).toContain('without a port');

    await settings.getByLabel('Hosts (optional)').fill('api.example.com, *.eu.example.com');
    await settings.getByLabel('Header conditions (optional)').fill('X-API-Version: 2');
    await settings.getByLabel('Route path').click();
    await expect.poll(() => settings.locator('.field--problem').count()).toBe(0);
    await save();
    expect(await draftRoute()).toEqual({ methods: ['GET'], path: '/api/orders', hosts: ['api.example.com', '*.eu.example.com'], headers: { 'x-api-version': '2' } });

    await settings.getByLabel('Hosts (optional)').fill('');
    await settings.getByLabel('Header conditions (optional)').fill('');
    await settings.getByLabel('Route path').click();
    await save();
    expect(await draftRoute()).toEqual({ methods: ['GET'], path: '/api/orders' });
    expect(errors).toEqual([]);
  }, 60_000);
});
