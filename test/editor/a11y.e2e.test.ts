/**
 * Accessibility in a real Chromium: axe-core scans every page of the editor (sign-in, workflow
 * list, the editor with each side tab, the problems panel, folded panels, the partners page, the
 * fragments page and a fragment's editor) at
 * the two window sizes people use, and no serious or critical violation may remain. None of the
 * pages may scroll sideways.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, settled, trackRequests } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'a11y-publisher-token-0123456789';
const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 768 },
];

describe.runIf(chromiumAvailable())('accessibility of every page', () => {
  let gateway: TestGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lea:publisher:${PUBLISHER}` } }), launchChromium()]);
    // a fragment for the fragments page and its editor
    const created = await gateway.fetch('/admin/api/fragments', {
      method: 'POST',
      headers: { authorization: `Bearer ${PUBLISHER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ document: { id: 'gate', name: 'Gate', exits: [{ name: 'ok' }, { name: 'denied' }], nodes: [{ id: 'check', kind: 'condition', config: { when: 'true' } }], edges: [{ from: 'check', port: 'true', to: 'ok' }, { from: 'check', port: 'false', to: 'denied' }] } }),
    });
    expect(created.status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await gateway?.close();
  });

  /**
   * The serious and critical violations axe finds on the page once it is still (helpers/axe.ts),
   * one line each (rule, the elements, what to fix), and how far the page scrolls sideways.
   */
  async function scan(page: Page, what: string): Promise<string[]> {
    await settled(page);
    const result = await axeScan(page).analyze();
    const found = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${what}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')} — ${v.nodes[0]?.failureSummary?.replace(/\s+/g, ' ') ?? v.help}`);
    const sideways = await page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);
    if (sideways > 0) found.push(`${what}: the page scrolls sideways by ${sideways} px`);
    return found;
  }

  for (const size of SIZES) {
    it(`finds no serious or critical violation at ${size.width}x${size.height}`, async () => {
      const context = await browser.newContext({ viewport: size });
      contexts.push(context);
      const page = await context.newPage();
      trackRequests(page);
      const errors = watchErrors(page);
      const found: string[] = [];

      await page.goto(`${gateway.url}/editor/`);
      await page.getByLabel('Admin token').waitFor();
      found.push(...(await scan(page, 'sign-in')));
      await signIn(page, gateway.url, PUBLISHER);
      found.push(...(await scan(page, 'workflow list')));

      await openWorkflow(page, gateway.url, 'orders');
      found.push(...(await scan(page, 'editor, workflow settings')));
      await page.getByRole('group', { name: /(^| — )verify \(/ }).click();
      await page.getByRole('region', { name: 'Inspector: verify' }).waitFor();
      found.push(...(await scan(page, 'editor, inspector')));
      for (const tab of ['Versions', 'Preview', 'Contract']) {
        await page.getByRole('tab', { name: new RegExp(`^${tab}`) }).click();
        found.push(...(await scan(page, `editor, ${tab.toLowerCase()} tab`)));
      }
      await page.getByRole('tab', { name: 'Inspector' }).click();
      // A node just added has problems: the problems panel lists them
      await page.getByRole('button', { name: 'Add Proxy' }).press('Enter');
      await expect.poll(() => page.locator('.problems__list .problem').count()).toBeGreaterThan(0);
      found.push(...(await scan(page, 'editor, problems')));
      // Folded palette and side panel, minimap hidden
      await page.getByRole('button', { name: 'Hide the node palette' }).click();
      await page.getByRole('button', { name: 'Hide the side panel' }).click();
      await page.getByRole('button', { name: 'Minimap' }).click();
      found.push(...(await scan(page, 'editor, panels folded')));
      await screenshot(page, `a11y-editor-folded-${size.width}`);
      await page.getByRole('button', { name: 'Show the node palette' }).click();
      await page.getByRole('button', { name: 'Show the side panel' }).click();
      await page.getByRole('button', { name: 'Minimap' }).click();

      await page.goto(`${gateway.url}/editor/#/partners`);
      // the added proxy is an unsaved edit: leaving asks first (scanned too), and Discard goes
      await page.getByRole('dialog', { name: 'Unsaved changes' }).waitFor();
      found.push(...(await scan(page, 'unsaved changes question')));
      await page.getByRole('button', { name: 'Discard' }).click();
      await page.getByRole('heading', { name: 'Partners' }).waitFor();
      found.push(...(await scan(page, 'partners')));

      await page.goto(`${gateway.url}/editor/#/errors`);
      await page.getByRole('heading', { name: 'Error catalog' }).waitFor();
      found.push(...(await scan(page, 'error catalog')));
      await page.goto(`${gateway.url}/editor/#/fragments`);
      await page.getByRole('link', { name: 'Gate' }).waitFor();
      found.push(...(await scan(page, 'fragments')));
      await page.getByRole('button', { name: 'New fragment' }).click();
      await page.getByRole('dialog', { name: 'New fragment' }).waitFor();
      found.push(...(await scan(page, 'new fragment dialog')));
      await page.keyboard.press('Escape');
      await page.goto(`${gateway.url}/editor/#/fragments/gate`);
      await page.getByRole('img', { name: 'Into exit denied' }).waitFor();
      found.push(...(await scan(page, 'fragment editor')));
      await page.goto(`${gateway.url}/editor/#/workflows/orders/contract`);
      await page.getByRole('heading', { name: /the answers it gives/ }).waitFor();
      found.push(...(await scan(page, 'contract view')));

      expect(found).toEqual([]);
      expect(errors).toEqual([]);
    }, 400_000);
  }
});
