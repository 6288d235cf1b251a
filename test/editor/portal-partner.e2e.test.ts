/**
 * The partner view of the portal in a real Chromium against a real gateway: a partner signs in
 * with its API key, sees its own subscriptions (with limits and usage), the deprecation that
 * concerns it and its keys, and nothing of another partner; it rotates its key in the page, the new
 * key (shown once) works at the gateway at once, and the old key stops once the short overlap
 * has passed (polled at the gateway, never slept for). axe-core finds no serious problem on the
 * page nor in its dialogs, and no request leaves the gateway's origin.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeProblems, settled, trackRequests } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { portNode, workflow } from '../helpers/workflow.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, watchErrors } from './support/browser.ts';

const PUBLISHER = 'publisher-token-0123456789';
/** Where the screenshot of the partner page goes besides test-results/, for a person to look at. */
const SCREENSHOT = '/tmp/sluice-portal-partner.png';

const keyed = (id: string, path: string, extra: Array<{ id: string; kind: string; config?: Record<string, unknown> }> = []) => {
  const nodes = [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, ...extra, portNode('answer', id)];
  const chain = [{ id: 'key' }, ...extra, { id: 'answer' }];
  return { ...workflow(id, { path }, nodes, chain.slice(0, -1).map((n, i) => [n.id, 'ok', chain[i + 1]!.id] as [string, string, string])), name: `${id[0]!.toUpperCase()}${id.slice(1)} lookup` };
};

describe.runIf(chromiumAvailable())('the partner view of the portal in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** Every request the page made that left the gateway's origin (a CDN, a font host). */
  const foreign: string[] = [];
  const admin = adminAs(() => gateway, PUBLISHER);
  const call = async (path: string, key: string) => {
    const res = await gateway.fetch(path, { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    return res.status;
  };
  let acmeKey: { key: string; id: string };
  let globexKey: { key: string; id: string };

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([
      startTestGateway({
        demo: false,
        workflows: [keyed('orders', '/orders', [{ id: 'limit', kind: 'rate-limit', config: { limit: 'plan', window: '1m' } }]), keyed('invoices', '/invoices'), keyed('billing', '/billing')],
        // a short overlap, so the old key's end is seen in the test
        settings: { SLUICE_ADMIN_TOKENS: `pat:publisher:${PUBLISHER}`, SLUICE_PORTAL_MAX_OVERLAP: '3s' },
      }),
      launchChromium(),
    ]);
    await admin('PUT', '/products/orders-api', { name: 'Orders API', description: 'Look up orders and invoices.', workflows: ['orders', 'invoices'] });
    await admin('PUT', '/products/billing-api', { name: 'Billing API', workflows: ['billing'] });
    await admin('PUT', '/plans/gold', { name: 'Gold', limits: { 'orders-api': { limit: 100, window: '1m' } } });
    await admin('POST', '/partners', { id: 'acme', name: 'Acme Corp', plan: 'gold', products: ['orders-api'], contacts: ['api@acme.example'] });
    await admin('POST', '/partners', { id: 'globex', name: 'Globex', products: ['billing-api'] });
    acmeKey = await admin('POST', '/partners/acme/keys', { scopes: ['orders:read'] });
    globexKey = await admin('POST', '/partners/globex/keys', { scopes: ['billing:read'] });
    await admin('POST', '/workflows/invoices/deprecate', { version: 1, sunset: '2027-06-30T00:00:00Z' });
    for (let i = 0; i < 3; i++) expect(await call('/orders', acmeKey.key)).toBe(200);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    trackRequests(page);
    errors = watchErrors(page);
    const origin = new URL(gateway.url).origin;
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(origin) && !url.startsWith('data:')) foreign.push(url);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('a wrong key is refused in words; the partner\'s own key signs in', async () => {
    await page.goto(`${gateway.url}/portal/partner`);
    await page.getByRole('heading', { name: 'Partner sign-in' }).waitFor();
    await page.getByLabel('Your API key').fill(`${acmeKey.key.slice(0, -4)}abcd`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/the credential is not valid/).waitFor();
    await page.getByLabel('Your API key').fill(acmeKey.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Acme Corp', level: 1 }).waitFor();
    // the key typed is nowhere on the page once signed in
    expect(await page.content()).not.toContain(acmeKey.key.slice(12));
  }, 60_000);

  it('shows only the partner\'s own subscriptions, usage, deprecations and keys', async () => {
    const orders = page.getByRole('row', { name: /Orders lookup/ });
    await expect.poll(() => orders.textContent()).toMatch(/GET \/orders.*active.*3 \/ 100 per 1m/);
    await expect.poll(() => page.getByRole('img', { name: '3 of 100 requests used in the last 1m' }).count()).toBe(1);
    await page.getByRole('heading', { name: 'Orders API', level: 3 }).waitFor();
    const deprecations = page.getByRole('region', { name: 'Deprecations that affect you' });
    await expect.poll(() => deprecations.getByRole('listitem').filter({ hasText: 'Invoices lookup' }).textContent()).toMatch(/deprecated since .*stops being served on .*2027/);
    const keyRow = page.getByRole('row', { name: new RegExp(`sk_${acmeKey.id}_`) });
    await expect.poll(() => keyRow.textContent()).toMatch(/\(this session\)orders:read.*never.*active/);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain('Billing API');
    expect(text).not.toContain('Globex');
    expect(text).not.toContain(globexKey.id);
    await settled(page);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await screenshot(page, 'portal-partner');
    expect(await seriousAxeProblems(page, 'body')).toEqual([]);
  }, 60_000);

  it('rotates its key: the new key is shown once and works; the old one stops after the overlap', async () => {
    await page.getByRole('button', { name: `Rotate key ${acmeKey.id}` }).click();
    const dialog = page.getByRole('dialog', { name: `Rotate key ${acmeKey.id}` });
    await expect.poll(() => dialog.getByLabel('Overlap').inputValue()).toBe('3s');
    await dialog.getByLabel('Overlap').fill('1h');
    await dialog.getByText('The overlap must be at most 3s.').waitFor();
    await expect.poll(() => dialog.getByRole('button', { name: 'Rotate key' }).isDisabled()).toBe(true);
    expect(await seriousAxeProblems(page, 'dialog')).toEqual([]);
    await dialog.getByLabel('Overlap').fill('3s');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const shown = page.getByRole('dialog', { name: 'Your new key' });
    const secret = shown.getByRole('textbox', { name: /^New key / });
    await secret.waitFor();
    const rotated = await secret.inputValue();
    expect(rotated).toMatch(/^sk_[0-9a-f]{8}_/);
    expect(rotated).not.toBe(acmeKey.key);
    expect(await seriousAxeProblems(page, 'dialog')).toEqual([]);
    await screenshot(page, 'portal-partner-new-key');
    await shown.getByRole('button', { name: 'Done' }).click();
    // the new key works at once
    expect(await call('/orders', rotated)).toBe(200);
    // the page lists the new key by its prefix, never the key
    await page.getByRole('row', { name: new RegExp(`sk_${rotated.slice(3, 11)}_`) }).waitFor();
    expect(await page.content()).not.toContain(rotated.slice(12));
    // the old key stops once the overlap has passed: polled at the gateway
    await expect.poll(() => call('/orders', acmeKey.key), { timeout: 20_000, interval: 250 }).toBe(401);
    expect(await call('/orders', rotated)).toBe(200);
    // the session opened with the old key has ended with it
    await page.reload();
    await page.getByRole('heading', { name: 'Partner sign-in' }).waitFor();
    await page.getByLabel('Your API key').fill(rotated);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Acme Corp', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('row', { name: new RegExp(`sk_${acmeKey.id}_`) }).textContent()).toMatch(/expired/);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  }, 60_000);
});
