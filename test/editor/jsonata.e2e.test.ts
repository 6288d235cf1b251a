/**
 * JSONata fields as a code editor, in a real Chromium against a real gateway: a syntax error is
 * marked inline where it is and said in words, `request.` completes the request context (and the
 * preview's header names), Tab still leaves the field, and "Evaluate" shows the expression's value
 * against the preview's sample request, computed by the gateway.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const EDITOR = 'jsonata-editor-token-0123456789';
const VIEWER = 'jsonata-viewer-token-0123456789';

const DOCUMENT = {
  id: 'tiers',
  name: 'Tiers',
  route: { methods: ['POST'], path: '/api/tiers/:tier' },
  nodes: [
    { id: 'check', kind: 'condition', config: { when: 'request.params.tier = "gold"' } },
    { id: 'deny', kind: 'error', config: { error: 'forbidden' } },
    { id: 'answer', kind: 'respond', config: { body: { ok: true } } },
  ],
  edges: [
    { from: 'check', port: 'true', to: 'answer' },
    { from: 'check', port: 'false', to: 'deny' },
  ],
};

describe.runIf(chromiumAvailable())('JSONata fields as a code editor', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, workflows: [], settings: { SLUICE_ADMIN_TOKENS: `eddie:editor:${EDITOR},vera:viewer:${VIEWER}` } }), launchChromium()]);
    const created = await gateway.fetch('/admin/api/workflows', { method: 'POST', headers: { authorization: `Bearer ${EDITOR}`, 'content-type': 'application/json' }, body: JSON.stringify({ document: DOCUMENT }) });
    expect(created.status, await created.clone().text()).toBe(201);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  async function open(token: string) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, token);
    await openWorkflow(page, gateway.url, 'tiers');
    await page.locator('.react-flow__node[data-id="check"]').click();
    await inspector().waitFor();
  }
  const inspector = () => page.getByRole('region', { name: 'Inspector: check' });
  const condition = () => inspector().getByRole('textbox', { name: 'Condition' });
  const text = async () => (await condition().textContent()) ?? '';

  it('marks a syntax error inline and says it in words', async () => {
    await open(EDITOR);
    await expect.poll(() => inspector().locator('.cm-editor').count()).toBe(1);
    await condition().fill('request.params.tier = ');
    await expect.poll(() => inspector().locator('.cm-lintRange-error').count()).toBe(1);
    await expect.poll(() => inspector().getByRole('alert').textContent()).toMatch(/^JSONata syntax: .*end of expression/);
    await expect.poll(() => condition().getAttribute('aria-invalid')).toBe('true');
    await inspector().locator('.cm-lintRange-error').hover();
    await expect.poll(() => page.locator('.cm-tooltip-lint').textContent()).toMatch(/JSONata syntax/);
    await screenshot(page, 'jsonata-inline-error');
    await condition().fill('request.params.tier = "gold"');
    await expect.poll(() => inspector().locator('.cm-lintRange-error').count()).toBe(0);
    await expect.poll(() => inspector().getByRole('alert').count()).toBe(0);
  });

  it('completes request. with the context an expression reads, and the preview\'s header names', async () => {
    await condition().fill('');
    await condition().pressSequentially('request.');
    const list = page.getByRole('listbox');
    await expect.poll(async () => (await list.getByRole('option').allTextContents()).map((o) => o.replace(/(text|object|list|number)$/, '')).sort()).toEqual(['body', 'headers', 'method', 'params', 'path', 'query']);
    await screenshot(page, 'jsonata-autocomplete');
    await condition().pressSequentially('me');
    await page.keyboard.press('Enter');
    await expect.poll(text).toBe('request.method');

    // a header typed in the preview is offered, quoted as JSONata needs
    await page.getByRole('tab', { name: 'Preview' }).click();
    await page.getByLabel('Headers', { exact: true }).fill('x-tier: gold');
    await page.getByRole('tab', { name: 'Inspector' }).click();
    // the Inspector's editor comes back with the field's value: cleared before it shows it, the
    // value would land around what is typed next (seen once in CI under load)
    await expect.poll(text).toBe('request.method');
    await condition().fill('');
    await expect.poll(text).toBe('');
    await condition().pressSequentially('request.headers.');
    await page.getByRole('option', { name: /^x-tier/ }).click();
    await expect.poll(text).toBe('request.headers.`x-tier`');
  });

  it('Tab leaves the field for the next control', async () => {
    await condition().fill('request.headers.`x-tier` = "gold"');
    await condition().click();
    await page.keyboard.press('End');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))).toMatch(/aria-label="Evaluate Condition"/);
    expect(await text()).toBe('request.headers.`x-tier` = "gold"');
  });

  it('Evaluate shows the value against the preview\'s sample request', async () => {
    await page.getByRole('tab', { name: 'Preview' }).click();
    await page.getByLabel('Path', { exact: true }).fill('/api/tiers/silver');
    await page.getByRole('tab', { name: 'Inspector' }).click();
    await condition().fill('request.headers.`x-tier` & "/" & request.params.tier & "/" & request.method');
    await inspector().getByRole('button', { name: 'Evaluate Condition' }).click();
    const result = inspector().getByRole('status', { name: 'Result of Condition' });
    // the first evaluation off the fast path starts the gateway's expression worker
    await expect.poll(() => result.textContent(), { timeout: 20_000 }).toMatch(/^= "gold\/silver\/POST" \(against POST \/api\/tiers\/silver, [\d.]+ ms\)/);
    await screenshot(page, 'jsonata-evaluate');
    // a failure is said in words, from the gateway's bounds
    await condition().fill('$pad("", 100000000, "ab")');
    await inspector().getByRole('button', { name: 'Evaluate Condition' }).click();
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/the expression failed: .*characters/);
    expect(errors).toEqual([]);
  });

  it('shows an answer only with the expression it was computed from', async () => {
    // the gateway's answers held back, so the field changes while one is on its way
    let held = 0;
    await page.route('**/admin/api/expressions/evaluate', async (route) => {
      held += 1;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    const result = inspector().getByRole('status', { name: 'Result of Condition' });
    await condition().fill('request.method & "-1"');
    await inspector().getByRole('button', { name: 'Evaluate Condition' }).click();
    await condition().fill('request.method & "-2"');
    await expect.poll(() => held).toBe(1);
    await page.waitForTimeout(2_500); // the first answer has come back by now
    await expect.poll(() => result.textContent()).toBe('');
    await inspector().getByRole('button', { name: 'Evaluate Condition' }).click();
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/^= "POST-2" \(against POST /);
    await page.unroute('**/admin/api/expressions/evaluate');
    expect(errors).toEqual([]);
  });

  it('a viewer reads the expression but cannot change or evaluate it', async () => {
    await open(VIEWER);
    await expect.poll(() => condition().getAttribute('contenteditable')).toBe('false');
    await expect.poll(() => inspector().getByRole('button', { name: 'Evaluate Condition' }).isDisabled()).toBe(true);
  });
});
