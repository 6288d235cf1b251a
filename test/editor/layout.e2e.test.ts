/**
 * The editor's frame in a real Chromium at the two window sizes people use (1440x900, 1024x768):
 * nothing scrolls sideways, long names stay inside their boxes, the header keeps its chips, the
 * hash route opens the workflow it names, and the New workflow dialog checks lengths itself.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settled, trackRequests } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'layout-publisher-token-0123456789';
const LONG_NAME = 'Q'.repeat(120);
const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 768 },
];

describe.runIf(chromiumAvailable())('the editor frame at 1440 and 1024 px', () => {
  let gateway: TestGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[][] = [];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lea:publisher:${PUBLISHER}` } }), launchChromium()]);
    // A workflow with a long unbroken name, as an import or the API can make one
    const made = await gateway.fetch('/admin/api/workflows', {
      method: 'POST',
      headers: { authorization: `Bearer ${PUBLISHER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ document: { id: 'long-name', name: LONG_NAME, route: { methods: ['GET'], path: '/api/long-name' }, nodes: [], edges: [], layout: {} } }),
    });
    expect(made.status).toBe(201);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await gateway?.close();
  });

  /** A signed-in page with a window of `size`. */
  async function pageAt(size: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport: size });
    contexts.push(context);
    const page = await context.newPage();
    trackRequests(page);
    errors.push(watchErrors(page));
    await signIn(page, gateway.url, PUBLISHER);
    return page;
  }

  /** How far the page scrolls sideways, and where the palette's left edge is. */
  const sideways = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);
  const nodeIds = (page: Page) => page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')).sort());
  const heading = (page: Page) => page.locator('.editor__title h1');

  it('opens the workflow the hash names, also on back and forward (defect 2)', async () => {
    const page = await pageAt(SIZES[0]!);
    await openWorkflow(page, gateway.url, 'orders');
    await expect.poll(() => heading(page).textContent()).toBe('Orders API');
    await page.evaluate(() => (window.location.hash = '#/workflows/order-detail'));
    await expect.poll(() => heading(page).textContent()).toBe('Order detail');
    await expect.poll(() => nodeIds(page)).toEqual(['call', 'call-admin', 'hidden', 'key', 'owned', 'public', 'scopes', 'verify', 'who']);
    await expect.poll(() => page.locator('.editor__title .muted').first().textContent()).toContain('order-detail');
    await page.goBack();
    await expect.poll(() => heading(page).textContent()).toBe('Orders API');
    await expect.poll(() => nodeIds(page)).toEqual(['call', 'limit', 'scopes', 'shape', 'verify']);
    await page.goForward();
    await expect.poll(() => heading(page).textContent()).toBe('Order detail');
    // the draft is the other workflow's, so no problem says the document's id is wrong: judged once
    // the page is still (its draft loaded and checked), never after a guessed pause
    await settled(page);
    expect(await page.getByRole('region', { name: 'Problems' }).textContent()).not.toContain("document's id");
    expect(errors.flat()).toEqual([]);
  });

  it('the New workflow dialog checks the lengths before sending, in words (defect 6)', async () => {
    const page = await pageAt(SIZES[0]!);
    let posted = 0;
    page.on('request', (r) => void (r.method() === 'POST' && r.url().endsWith('/admin/api/workflows') && posted++));
    await page.getByRole('button', { name: 'New workflow' }).click();
    const dialog = page.getByRole('dialog', { name: 'New workflow' });
    // the default path is unfinished, but not an error before the user got to it
    await expect.poll(() => dialog.getByLabel('Route path').getAttribute('aria-invalid')).toBeNull();
    await dialog.getByLabel('Workflow id').fill('x'.repeat(65));
    await expect.poll(() => dialog.getByLabel('Workflow id').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => dialog.locator('#new-id-desc').textContent()).toMatch(/at most 64 characters/i);
    await dialog.getByLabel('Workflow id').fill('long-name');
    await dialog.getByLabel('Name').fill('N'.repeat(452));
    await expect.poll(() => dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => dialog.getByText(/at most 200 characters/i).textContent()).toMatch(/452/);
    await expect.poll(() => dialog.getByRole('button', { name: 'Create workflow' }).isDisabled()).toBe(true);
    await expect.poll(() => dialog.locator('#new-path-error').textContent()).toBe('The path must look like /api/orders/:id (literal or :param segments, optional trailing /*).');
    await dialog.getByLabel('Route path').fill('/api/long-name-2');
    await expect.poll(() => dialog.getByRole('button', { name: 'Create workflow' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Name').press('Enter');
    await settled(page); // nothing in flight and the page still: an Enter that posted would show by now
    expect(posted).toBe(0);
    await screenshot(page, 'layout-new-workflow-too-long');
    // 120 characters is a name: it is created and opened
    await dialog.getByLabel('Workflow id').fill('long-name-2');
    await dialog.getByLabel('Name').fill(LONG_NAME);
    await dialog.getByLabel(/Empty canvas/).check();
    await dialog.getByRole('button', { name: 'Create workflow' }).click();
    await heading(page).waitFor();
    expect(posted).toBe(1);
    await expect.poll(() => heading(page).textContent()).toBe(LONG_NAME);
  });

  for (const size of SIZES) {
    it(`nothing scrolls sideways at ${size.width}x${size.height}; the palette's left edge shows (defect 4)`, async () => {
      const page = await pageAt(size);
      expect(await sideways(page)).toBeLessThanOrEqual(0);
      await page.goto(`${gateway.url}/editor/#/partners`);
      await page.getByRole('heading', { name: 'Partners' }).waitFor();
      expect(await sideways(page), 'partners').toBeLessThanOrEqual(0);
      await screenshot(page, `layout-partners-${size.width}`);
      await openWorkflow(page, gateway.url, 'orders');
      expect(await sideways(page)).toBeLessThanOrEqual(0);
      for (const tab of ['Versions', 'Preview', 'Contract', 'Inspector']) {
        await page.getByRole('tab', { name: new RegExp(`^${tab}`) }).click();
        expect(await sideways(page), tab).toBeLessThanOrEqual(0);
      }
      const tabs = (await page.getByRole('tablist', { name: 'Side panel' }).boundingBox())!;
      expect(tabs.x + tabs.width).toBeLessThanOrEqual(size.width);
      await page.evaluate(() => window.scrollTo(10_000, 0));
      const palette = (await page.locator('.palette').boundingBox())!;
      expect(palette.x).toBeGreaterThanOrEqual(0);
      await screenshot(page, `layout-editor-${size.width}`);
    });

    it(`a 120-character name stays inside the workflow list at ${size.width}x${size.height} (defect 5)`, async () => {
      const page = await pageAt(size);
      const name = page.getByRole('link', { name: LONG_NAME }).first();
      await name.waitFor();
      expect(await sideways(page)).toBeLessThanOrEqual(0);
      const table = (await page.locator('table.workflows').boundingBox())!;
      expect(table.x + table.width).toBeLessThanOrEqual(size.width);
      // the other columns keep their room
      const route = (await page.getByRole('columnheader', { name: 'Route' }).boundingBox())!;
      expect(route.width).toBeGreaterThan(120);
      expect((await name.boundingBox())!.width).toBeLessThanOrEqual(size.width / 2);
      await screenshot(page, `layout-list-${size.width}`);
    });
  }

  it('at 1024 px the header keeps the version and saved chips and a readable name (defect 13)', async () => {
    const page = await pageAt(SIZES[1]!);
    const visible = async (selector: string) => {
      const box = await page.locator(selector).first().boundingBox();
      const bar = (await page.locator('.editor__title').boundingBox())!;
      return box !== null && box.width > 20 && box.x >= bar.x && box.x + box.width <= bar.x + bar.width + 0.5;
    };
    for (const id of ['order-detail', 'long-name']) {
      // the header is what this checks: wait for it (a workflow without nodes shows no node to wait for)
      await page.goto(`${gateway.url}/editor/#/workflows/${encodeURIComponent(id)}`);
      await heading(page).waitFor();
      await expect.poll(() => page.locator('.editor__title .muted').first().textContent()).toContain(id);
      expect(await visible('.editor__title .chip--saved'), `${id}: saved chip`).toBe(true);
      expect(await visible('.editor__title [class*="chip--"]:not(.chip--saved):not(.chip--product)'), `${id}: version chip`).toBe(true);
      const title = (await heading(page).boundingBox())!;
      const full = await heading(page).evaluate((h) => h.scrollWidth);
      // the whole name, or at least about 20 characters of it
      expect(title.width, `${id}: name width`).toBeGreaterThanOrEqual(Math.min(full, 160) - 1);
      expect(await sideways(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `layout-header-1024-${id}`);
    }
  });

  it('the minimap shows the graph while comparing versions (defect 11)', async () => {
    const page = await pageAt(SIZES[0]!);
    await openWorkflow(page, gateway.url, 'orders');
    const minimapNodes = () => page.locator('.react-flow__minimap .react-flow__minimap-node').count();
    await expect.poll(minimapNodes).toBe(5);
    // a draft to compare with the active version
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('.statusline').textContent()).toContain('Saved draft');
    await page.getByRole('tab', { name: /^Versions/ }).click();
    await page.getByRole('region', { name: 'Versions' }).getByRole('button', { name: 'Draft vs active' }).click();
    await page.getByRole('region', { name: 'Comparison' }).waitFor();
    await expect.poll(minimapNodes).toBe(5);
    await screenshot(page, 'layout-compare-minimap');
    await page.getByRole('region', { name: 'Comparison' }).getByRole('button', { name: 'Close comparison' }).click();
    await expect.poll(minimapNodes).toBe(5);
  });
});
