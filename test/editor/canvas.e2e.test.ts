/**
 * The canvas in a real Chromium: a workflow opens at a zoom where node titles are readable
 * (12 px or more; the canvas pans instead of shrinking), and a wire dropped anywhere on a node's
 * body connects to that node's input (defect 8).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'canvas-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('the canvas', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lea:publisher:${PUBLISHER}` } }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(8000);
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gateway?.close();
  });

  /** The viewport's zoom, from React Flow's transform. */
  const zoom = () => page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
  /** The rendered height of a node title's font, in screen pixels. */
  const titlePx = () => page.locator('.kind-node__name').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize) * new DOMMatrix(getComputedStyle(el.closest('.react-flow__viewport')!).transform).a);

  it('opens a 9-node workflow with node titles of 12 px or more, and the fit button and the F key keep them', async () => {
    await openWorkflow(page, gateway.url, 'order-detail');
    expect(await page.locator('.react-flow__node').count()).toBe(9);
    await page.waitForTimeout(400);
    expect(await titlePx()).toBeGreaterThanOrEqual(11.99);
    expect(await zoom()).toBeLessThanOrEqual(1);
    await screenshot(page, 'canvas-default-zoom');
    // zoomed far out by hand, the fit button brings the titles back to a readable size
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Zoom Out' }).click();
    expect(await zoom()).toBeLessThan(0.7);
    await page.getByRole('button', { name: 'Fit View' }).click();
    await expect.poll(titlePx).toBeGreaterThanOrEqual(11.99);
    // the F shortcut fits readably too, and shows where requests start rather than the middle
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Zoom Out' }).click();
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('f');
    await expect.poll(titlePx).toBeGreaterThanOrEqual(11.99);
    const pane = (await page.locator('.canvas').boundingBox())!;
    await expect.poll(async () => (await page.getByRole('group', { name: /(^| — )verify \(/ }).boundingBox())!.x).toBeGreaterThan(pane.x);
  });

  it('connects a wire dropped on the middle of a node body to that node (defect 8)', async () => {
    // a window wide enough to show both ends of the wire without panning
    await page.setViewportSize({ width: 2400, height: 1000 });
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor();
    await page.getByRole('button', { name: 'Zoom Out' }).click();
    await page.waitForTimeout(400);
    const before = await page.locator('.react-flow__edge').count();
    const source = page.getByLabel('Port ok of call-admin');
    const target = page.getByRole('group', { name: /(^| — )public \(/ });
    const a = (await source.boundingBox())!;
    const b = (await target.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    // the middle of the node's body, far from its input handle on the left edge
    await page.mouse.move(b.x + b.width / 2, b.y + b.height * 0.7, { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(before + 1);
    expect(await page.locator('.statusline').textContent()).toContain('Wired call-admin.ok to public');
    await screenshot(page, 'canvas-wire-on-body');
    expect(errors).toEqual([]);
  });
});
