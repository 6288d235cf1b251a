/**
 * The canvas in a real Chromium: a workflow opens at a zoom where node titles are readable
 * (12 px or more; the canvas pans instead of shrinking), and a wire dropped anywhere on a node's
 * body connects to that node's input (defect 8).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';
import { settled } from '../helpers/axe.ts';

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
  /** A node's box on the screen. */
  const box = async (id: string) => (await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox())!;
  /** Whether a node is wholly inside the canvas's pane. */
  const inView = async (id: string) => {
    const [pane, node] = [(await page.locator('.canvas').boundingBox())!, await box(id)];
    return node.x >= pane.x && node.y >= pane.y && node.x + node.width <= pane.x + pane.width && node.y + node.height <= pane.y + pane.height;
  };
  /** The rendered height of a node title's font, in screen pixels. */
  const titlePx = () => page.locator('.kind-node__name').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize) * new DOMMatrix(getComputedStyle(el.closest('.react-flow__viewport')!).transform).a);

  it('opens a 9-node workflow with node titles of 12 px or more, and the fit button and the F key keep them', async () => {
    await openWorkflow(page, gateway.url, 'order-detail');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(9);
    await settled(page); // the view's fit to the opened workflow
    expect(await titlePx()).toBeGreaterThanOrEqual(11.99);
    expect(await zoom()).toBeLessThanOrEqual(1);
    // too big to fit at that zoom, the view opens on the start node rather than the middle
    expect(await inView('verify')).toBe(true);
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

  it('lays out port-aware, left to right or top to bottom, keeps titles readable and remembers the direction', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await openWorkflow(page, gateway.url, 'order-detail');
    await settled(page); // the view's fit to the opened workflow
    // ports keep their order: who's "admin" port is above its "default" port, so is call-admin above call
    expect(await box('call-admin').then((b) => b.y)).toBeLessThan(await box('call').then((b) => b.y));
    expect(await box('public').then((b) => b.y)).toBeLessThan(await box('hidden').then((b) => b.y));
    expect(await box('scopes').then((b) => b.x)).toBeGreaterThan(await box('verify').then((b) => b.x));
    // each edge is labelled with its port
    await expect.poll(() => page.locator('.react-flow__edge-text').allTextContents()).toEqual(expect.arrayContaining(['ok', 'missing', 'admin', 'default', 'true', 'false']));

    await page.getByLabel('Layout direction').selectOption('TB');
    await expect.poll(async () => (await box('scopes')).y - (await box('verify')).y).toBeGreaterThan(100);
    await expect.poll(() => page.locator('.statusline').textContent()).toBe('Laid out top to bottom');
    expect(await box('call-admin').then((b) => b.x)).toBeLessThan(await box('call').then((b) => b.x));
    expect(await box('public').then((b) => b.x)).toBeLessThan(await box('hidden').then((b) => b.x));
    // ports on the bottom edge, the input on the top
    await expect.poll(() => page.locator('.react-flow__node[data-id="who"] .react-flow__handle-bottom').count()).toBe(2);
    await expect.poll(() => page.locator('.react-flow__node[data-id="who"] .react-flow__handle-top').count()).toBe(1);
    await expect.poll(titlePx).toBeGreaterThanOrEqual(11.99);
    expect(await inView('verify')).toBe(true);
    await screenshot(page, 'canvas-top-to-bottom');
    // the direction is the workflow's in this browser: a reload draws it top to bottom again
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.chip--saved').count()).toBe(1);
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor();
    await expect.poll(() => page.getByLabel('Layout direction').inputValue()).toBe('TB');
    await expect.poll(() => page.locator('.react-flow__node[data-id="who"] .react-flow__handle-bottom').count()).toBe(2);
    await page.getByLabel('Layout direction').selectOption('LR');
    await expect.poll(async () => (await box('scopes')).x - (await box('verify')).x).toBeGreaterThan(200);
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.chip--saved').count()).toBe(1);
  });

  it('folds the palette and the side panel and hides the minimap, and remembers it', async () => {
    const canvasWidth = async () => (await page.locator('.canvas').boundingBox())!.width;
    const wide = await canvasWidth();
    await page.getByRole('button', { name: 'Hide the node palette' }).click();
    await page.getByRole('button', { name: 'Hide the side panel' }).click();
    await page.getByRole('button', { name: 'Minimap' }).click();
    await expect.poll(() => page.locator('.react-flow__minimap').count()).toBe(0);
    expect(await canvasWidth()).toBeGreaterThan(wide + 450);
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor();
    await expect.poll(() => page.locator('.react-flow__minimap').count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'Minimap' }).getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => page.getByRole('searchbox', { name: 'Search node kinds' }).count()).toBe(0);
    await expect.poll(() => page.getByRole('tablist', { name: 'Side panel' }).count()).toBe(0);
    await screenshot(page, 'canvas-panels-folded');
    // "/" (search the palette) opens a folded palette
    await page.keyboard.press('/');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('palette-search');
    await page.getByRole('button', { name: 'Show the side panel' }).click();
    await page.getByRole('button', { name: 'Minimap' }).click();
    await expect.poll(() => page.locator('.react-flow__minimap').count()).toBe(1);
    await expect.poll(() => page.getByRole('tablist', { name: 'Side panel' }).count()).toBe(1);
  });

  it('connects a wire dropped on the middle of a node body to that node (defect 8)', async () => {
    // a window wide enough to show both ends of the wire without panning
    await page.setViewportSize({ width: 2400, height: 1000 });
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor();
    await page.getByRole('button', { name: 'Zoom Out' }).click();
    await settled(page); // the zoom's move
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
    await expect.poll(() => page.locator('.statusline').textContent()).toContain('Wired call-admin.ok to public');
    await screenshot(page, 'canvas-wire-on-body');
    expect(errors).toEqual([]);
  });
});
