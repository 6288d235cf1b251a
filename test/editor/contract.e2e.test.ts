/**
 * The contract view in a real Chromium, for a product owner: every answer with status, problem
 * type, why in words (an error node says why by the edges into it), the path by node names and
 * an example body; the change against the active version in words; a Markdown download with the
 * same words; a print layout without the app's chrome; no serious or critical axe violation.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'contract-publisher-token-0123456789';
const TIER_WHY = "the condition `` request.headers.`x-tier` = 'gold' `` is false";
/** The same words as the page shows them: the expression as code, without the Markdown's backticks. */
const TIER_SHOWN = "the condition request.headers.`x-tier` = 'gold' is false";
const JWT_WHY = 'the JWT is missing or invalid (malformed, expired, badly signed or for someone else)';

describe.runIf(chromiumAvailable())('the contract view', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);
  const answer = (name: string) => page.getByRole('list', { name: 'Answers in detail' }).getByRole('listitem', { name });

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lee:publisher:${PUBLISHER}` } }), launchChromium()]);
    // The draft answers a missing or invalid token at one error node, and only the gold tier gets through.
    const workflow = await admin('GET', '/workflows/orders');
    if (workflow.active === null) await admin('POST', '/workflows/orders/publish');
    const active = await admin('GET', '/workflows/orders/versions/' + (await admin('GET', '/workflows/orders')).active);
    const v1 = active.document;
    const document = {
      ...v1,
      nodes: [
        ...v1.nodes,
        { id: 'who', kind: 'error', label: 'Who are you?', config: { error: 'invalid_token' } },
        { id: 'tier', kind: 'condition', label: 'Gold tier?', config: { when: "request.headers.`x-tier` = 'gold'" } },
        { id: 'not-gold', kind: 'error', label: 'Gold only', config: { error: 'insufficient_scope' } },
      ],
      edges: [
        ...v1.edges.filter((e: { from: string }) => e.from !== 'scopes'),
        { from: 'verify', port: 'missing', to: 'who' },
        { from: 'verify', port: 'invalid', to: 'who' },
        { from: 'scopes', port: 'ok', to: 'tier' },
        { from: 'tier', port: 'true', to: 'limit' },
        { from: 'tier', port: 'false', to: 'not-gold' },
      ],
      layout: { ...v1.layout, who: { x: 0, y: 220 }, tier: { x: 390, y: 220 }, 'not-gold': { x: 390, y: 420 } },
    };
    const current = await admin('GET', '/workflows/orders');
    await admin('PUT', '/workflows/orders/draft', { document, baseRevision: current.draft?.revision ?? 0 });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('lists every answer with status, type, why in words, the path by node names and an example', async () => {
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('tab', { name: 'Contract' }).click();
    await page.getByRole('link', { name: 'Open the contract view' }).click();
    await page.getByRole('heading', { name: 'Orders API: the answers it gives' }).waitFor();
    expect(page.url()).toContain('#/workflows/orders/contract');

    const gold = answer('403 Insufficient Scope').filter({ hasText: 'Gold only' });
    await gold.waitFor();
    const goldText = await gold.textContent();
    expect(goldText).toContain(`Why${TIER_SHOWN}`);
    await expect.poll(() => gold.locator('dd code').first().textContent()).toBe("request.headers.`x-tier` = 'gold'");
    expect(goldText).toContain('Path on the canvasVerify token → Needs orders:read → Gold tier? → Gold only');
    expect(goldText).toContain('https://problems.sluice.example/insufficient-scope');
    expect(JSON.parse((await gold.locator('pre').textContent())!)).toMatchObject({ status: 403, instance: '/api/orders' });

    const who = answer('401 Invalid Token').filter({ hasText: 'Who are you?' });
    await expect.poll(() => who.textContent()).toContain(`Why${JWT_WHY}`);
    expect(await page.getByRole('list', { name: 'Answers in detail' }).textContent()).not.toContain('the request reaches this node');
    await expect.poll(() => answer('403 Insufficient Scope').filter({ hasText: 'Whyscope orders:read is missing' }).count()).toBe(1);
    const rows = await page.getByRole('table', { name: 'Answers' }).getByRole('row').allTextContents();
    expect(rows).toContain(`403Insufficient Scopehttps://problems.sluice.example/insufficient-scope${TIER_SHOWN}`);

    const change = page.getByRole('note', { name: 'Change against the active version' });
    await expect.poll(() => change.textContent()).toContain(`adds 403 Insufficient Scope at not-gold.raise (when ${TIER_SHOWN})`);
    await screenshot(page, 'contract-view');
    // no sideways scrolling at 1440 or 1024 px
    for (const width of [1440, 1024]) {
      await page.setViewportSize({ width, height: width === 1440 ? 900 : 768 });
      expect(await page.evaluate(() => [...document.querySelectorAll('*')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible' && getComputedStyle(e).overflowX !== 'hidden').map((e) => e.className).concat(document.documentElement.scrollWidth > window.innerWidth ? ['page'] : []))).toEqual([]);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    const axe = await axeScan(page).include('.contract-view').analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);

  it('downloads the contract as Markdown with the same words', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Markdown' }).click()]);
    expect(download.suggestedFilename()).toBe('orders-contract.md');
    const markdown = readFileSync(await download.path(), 'utf8');
    expect(markdown).toContain('# Orders API: the answers it gives');
    expect(markdown).toContain(`| 403 | Insufficient Scope | https://problems.sluice.example/insufficient-scope | ${TIER_WHY} |`);
    expect(markdown).toContain(`- **Why:** ${JWT_WHY}`);
    expect(markdown).toContain('- **Path on the canvas:** Verify token → Needs orders:read → Gold tier? → Gold only');
    expect(markdown).toMatch(/\*\*Change against the active version:\*\* this change .*adds 403 Insufficient Scope at not-gold\.raise/);
    expect(markdown).toContain('```json\n{\n  "type": "https://problems.sluice.example/insufficient-scope"');
  }, 30_000);

  it('prints without the app bar and the buttons, the answers in full', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      await expect.poll(() => page.locator('.appbar').isVisible()).toBe(false);
      await expect.poll(() => page.getByRole('button', { name: 'Print / save as PDF' }).isVisible()).toBe(false);
      await expect.poll(() => page.getByRole('heading', { name: 'Orders API: the answers it gives' }).isVisible()).toBe(true);
      await expect.poll(() => answer('403 Insufficient Scope').filter({ hasText: 'Gold only' }).isVisible()).toBe(true);
      await screenshot(page, 'contract-print');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
    await expect.poll(() => page.locator('.appbar').isVisible()).toBe(true);
    // the button calls the browser's print (save as PDF is one of its destinations)
    await page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => void ((window as unknown as { printed: number }).printed += 1);
    });
    await page.getByRole('button', { name: 'Print / save as PDF' }).click();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    expect(errors).toEqual([]);
  }, 30_000);
});
