/**
 * The partners page in a real Chromium against a real gateway: a publisher sees partners with
 * status, plan, products, keys and the last hour's requests; creates a key (shown once) that the
 * gateway then accepts; suspends the partner and the gateway refuses it; a viewer cannot change.
 * The workflow's editor names the products that include it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { portNode, workflow } from '../helpers/workflow.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn as signInAt, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'publisher-token-0123456789', viewer: 'viewer-token-0123456789' };

describe.runIf(chromiumAvailable())('the partners page in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.fetch(`/admin/api${path}`, { method, headers: { authorization: `Bearer ${TOKENS.publisher}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  };
  const call = async (key: string) => {
    const res = await gateway.fetch('/orders', { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([
      startTestGateway({
        demo: false,
        workflows: [workflow('orders', { path: '/orders' }, [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, portNode('answer', 'orders')], [['key', 'ok', 'answer']])],
        settings: { SLUICE_ADMIN_TOKENS: `pat:publisher:${TOKENS.publisher},vic:viewer:${TOKENS.viewer}` },
      }),
      launchChromium(),
    ]);
    await admin('PUT', '/products/orders-api', { name: 'Orders API', workflows: ['orders'] });
    await admin('PUT', '/plans/gold', { name: 'Gold', limits: { 'orders-api': { limit: 1000, window: '1m' } } });
    await admin('POST', '/partners', { id: 'acme', name: 'Acme Corp', plan: 'gold', products: ['orders-api'], clientIds: ['acme-web'] });
    await admin('POST', '/partners', { id: 'globex', name: 'Globex', products: [] });
    const { key } = await admin('POST', '/partners/globex/keys', {});
    expect(await call(key)).toBe(403); // globex subscribes to nothing: a refusal the page counts
    await openPage();
  }, 90_000);

  /** A fresh browser context: no stored session. */
  async function openPage() {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(5000);
    page = await context.newPage();
    errors = watchErrors(page);
  }

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  const signIn = (token: string) => signInAt(page, gateway.url, token);

  it('lists partners, creates a key shown once, suspends and reactivates; the gateway follows', async () => {
    await signIn(TOKENS.publisher);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Partners' }).click();
    await page.getByRole('heading', { name: 'Partners' }).waitFor();
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await expect.poll(() => acme.textContent()).toContain('Acme Corp');
    expect(await acme.textContent()).toMatch(/active.*Gold.*Orders API.*no keys/);
    const globex = page.getByRole('row', { name: 'Partner globex' });
    await expect.poll(() => globex.getByLabel('Requests of globex in the last hour').textContent()).toMatch(/1 request(?!s).*1 denied/);

    await acme.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByLabel('New API key', { exact: true });
    await secret.waitFor();
    const key = await secret.inputValue();
    expect(key).toMatch(/^sk_[0-9a-f]{8}_/);
    await screenshot(page, 'partners-new-key');
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await call(key)).toBe(200);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => acme.textContent()).toContain(`sk_${key.slice(3, 11)}_…`);
    await expect.poll(() => acme.textContent()).toMatch(/used just now/);
    // the secret is nowhere on the page once the dialog is closed
    expect(await page.content()).not.toContain(key.slice(12));

    // rotation: a new key shown once; both work during the overlap
    await acme.getByRole('button', { name: 'Rotate' }).click();
    await page.getByText(`The key ${key.slice(3, 11)} it replaces keeps working for 24 hours`).waitFor();
    const rotated = await page.getByLabel('New API key', { exact: true }).inputValue();
    await page.getByRole('button', { name: 'Done' }).click();
    expect(rotated).not.toBe(key);
    expect([await call(key), await call(rotated)]).toEqual([200, 200]);
    await expect.poll(() => acme.textContent()).toMatch(/expires /);

    await acme.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('dialog', { name: /^Suspend / }).getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(() => acme.textContent()).toContain('suspended');
    expect(await call(key)).toBe(403);
    await screenshot(page, 'partners-suspended');
    await acme.getByRole('button', { name: 'Reactivate' }).click();
    await expect.poll(() => acme.getByRole('button', { name: 'Suspend' }).count()).toBe(1);
    expect(await call(key)).toBe(200);

    // the workflow's editor names its products
    await page.goto(`${gateway.url}/editor/#/workflows/orders`);
    await expect.poll(() => page.getByLabel('API products').textContent()).toContain('Orders API');
    await screenshot(page, 'workflow-products');
    expect(errors).toEqual([]);
  }, 60_000);

  it('a viewer sees partners but every change is disabled, saying why', async () => {
    await openPage();
    await signIn(TOKENS.viewer);
    await page.goto(`${gateway.url}/editor/#/partners`);
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await acme.waitFor();
    expect(await acme.getByRole('button', { name: 'Suspend' }).isDisabled()).toBe(true);
    expect(await acme.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(true);
    expect(await acme.getByRole('button', { name: 'Suspend' }).getAttribute('title')).toMatch(/viewer role cannot change partners/);
    expect(errors).toEqual([]);
  }, 30_000);
});
