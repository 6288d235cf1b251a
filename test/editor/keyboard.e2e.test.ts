/**
 * A workflow built with the keyboard alone, in a real Chromium: sign in, a new workflow, two nodes
 * from the palette (Enter), a field typed in the inspector, a node selected on the canvas, its port
 * wired from the inspector's menu, saved, published — and the gateway serves it. No mouse event.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, watchErrors } from './support/browser.ts';

const PUBLISHER = 'keyboard-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('building with the keyboard alone', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: false, settings: { SLUICE_ADMIN_TOKENS: `kim:publisher:${PUBLISHER}` } }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gateway?.close();
  });

  /** The accessible name of the focused element, as far as the test needs it: its label, or its text. */
  const focusedName = () =>
    page.evaluate(() => {
      const el = document.activeElement as (HTMLElement & { labels?: NodeListOf<HTMLLabelElement> }) | null;
      if (!el) return '';
      return (el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
    });

  /** Presses Tab (or Shift+Tab) until the focused element's name matches, as a keyboard user moves through the page. */
  async function tabTo(name: RegExp, back = false): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if (name.test(await focusedName())) return;
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    }
    await screenshot(page, 'keyboard-lost');
    throw new Error(`no focusable element named ${name} (last: ${await focusedName()})`);
  }

  it('signs in, creates, builds, wires, saves and publishes a workflow without a mouse', async () => {
    const errors = watchErrors(page);
    let clicks = 0;
    await page.exposeFunction('countClick', () => clicks++);
    await page.addInitScript(() => window.addEventListener('mousedown', (e) => e.isTrusted && (window as unknown as { countClick(): void }).countClick(), true));
    await page.goto(`${gateway.url}/editor/`);

    await tabTo(/^Admin token/);
    await page.keyboard.type(PUBLISHER);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();

    // a new, empty workflow
    await tabTo(/^New workflow$/);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New workflow' });
    await dialog.waitFor();
    await tabTo(/^Workflow id$/);
    await page.keyboard.type('kb-built');
    await tabTo(/^Name$/);
    await page.keyboard.type('Built by keyboard');
    await tabTo(/^Route path$/);
    await page.keyboard.press('Control+a');
    await page.keyboard.type('/api/kb');
    await tabTo(/^Create workflow$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Built by keyboard' }).waitFor();

    // two nodes from the palette: "/" searches it, Tab reaches the kind, Enter adds it
    await page.keyboard.press('/');
    await page.keyboard.type('transform request');
    await page.keyboard.press('Tab');
    expect(await focusedName()).toMatch(/^Add Transform request/);
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Inspector: transform-request' }).waitFor();
    await page.keyboard.press('/');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('respond');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Inspector: respond' }).waitFor();
    // the second node went after the first (selected) one, not on top of it
    const [a, b] = await Promise.all(['transform-request', 'respond'].map((id) => page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox()));
    expect(b!.x).toBeGreaterThan(a!.x + a!.width);

    // a field typed in the inspector
    await tabTo(/^Status/);
    await page.keyboard.press('Control+a');
    await page.keyboard.type('201');

    // the first node selected on the canvas: Tab to it, Enter
    await tabTo(/^transform-request \(transform-request\)$/, true);
    await page.keyboard.press('Enter');
    await page.getByRole('region', { name: 'Inspector: transform-request' }).waitFor();
    // its "ok" port wired from the inspector
    await tabTo(/^Port ok leads to/);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(1);
    await expect.poll(() => page.locator('.react-flow__edge').getAttribute('data-testid')).toBe('rf__edge-transform-request:ok->respond');
    await screenshot(page, 'keyboard-built');

    // saved and published from the keyboard
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.getByRole('status').filter({ hasText: /Saved draft revision/ }).count()).toBe(1);
    await tabTo(/^Publish…$/);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: /^Publish kb-built/ }).waitFor();
    await tabTo(/^Publish now$/);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.statusline').textContent(), { timeout: 10_000 }).toContain('Published version 1');

    const served = await gateway.fetch('/api/kb');
    expect(served.status).toBe(201);
    expect(clicks).toBe(0);
    expect(errors).toEqual([]);
  }, 90_000);
});
