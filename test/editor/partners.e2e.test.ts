/**
 * The partners page in a real Chromium against a real gateway: a publisher sees partners with
 * status, plan, products, keys and the last hour's requests; creates a key (shown once) that the
 * gateway then accepts; suspends the partner and the gateway refuses it; a viewer cannot change.
 * The workflow's editor names the products that include it. Products, plans and partners are
 * created and edited in in-app dialogs, checked as typed and with the server's refusals at their
 * field; suspend and revoke ask a reason the audit log keeps. axe-core finds no serious problem with
 * the dialogs open, and the page never scrolls sideways at 1440 and 1024 px. Token budgets per
 * product (plans and overrides) are typed, checked at their field and kept when a dialog is saved again.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { portNode, workflow } from '../helpers/workflow.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn as signInAt, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'publisher-token-0123456789', viewer: 'viewer-token-0123456789', admin: 'admin-token-0123456789' };

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
  /** A plan as the admin API lists it (there is no GET of one plan). */
  const storedPlan = async (id: string) => ((await admin('GET', '/plans')).plans as Array<Record<string, any>>).find((p) => p.id === id)!;
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
        settings: { SLUICE_ADMIN_TOKENS: `pat:publisher:${TOKENS.publisher},vic:viewer:${TOKENS.viewer},ada:admin:${TOKENS.admin}` },
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
  async function openPage(viewport = { width: 1440, height: 900 }) {
    const context = await browser.newContext({ viewport });
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
    await expect.poll(() => acme.textContent()).toMatch(/active.*Gold.*Orders API.*no keys/);
    const globex = page.getByRole('row', { name: 'Partner globex' });
    await expect.poll(() => globex.getByLabel('Requests of globex in the last hour').textContent()).toMatch(/1 request(?!s).*1 denied/);

    await acme.getByRole('button', { name: 'Create key' }).click();
    const keyDialog = page.getByRole('dialog', { name: 'New API key for Acme Corp' });
    await keyDialog.getByRole('textbox', { name: 'Scopes' }).fill('orders:read');
    await keyDialog.getByRole('textbox', { name: 'Scopes' }).press('Enter');
    await keyDialog.getByRole('button', { name: 'Create key' }).click();
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
    const suspend = page.getByRole('dialog', { name: /^Suspend / });
    await expect.poll(() => suspend.getByRole('button', { name: 'Suspend' }).isDisabled()).toBe(true); // a reason is asked first
    await suspend.getByLabel('Reason (kept in the audit log)').fill('unpaid invoice');
    await suspend.getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(() => acme.textContent()).toContain('suspended');
    expect(await call(key)).toBe(403);
    await screenshot(page, 'partners-suspended');
    await acme.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('dialog', { name: /^Reactivate / }).getByLabel('Reason (kept in the audit log)').fill('paid');
    await page.getByRole('dialog', { name: /^Reactivate / }).getByRole('button', { name: 'Reactivate' }).click();
    await expect.poll(() => acme.getByRole('button', { name: 'Suspend' }).count()).toBe(1);
    expect(await call(key)).toBe(200);

    // the workflow's editor names its products
    await page.goto(`${gateway.url}/editor/#/workflows/orders`);
    await expect.poll(() => page.getByLabel('API products').textContent()).toContain('Orders API');
    await screenshot(page, 'workflow-products');
    expect(errors).toEqual([]);
  }, 60_000);

  it('creates a product and a plan, edits a partner; fields are checked as typed and refusals shown at their field', async () => {
    await page.goto(`${gateway.url}/editor/#/partners`);
    await page.getByRole('button', { name: 'New product' }).click();
    const product = page.getByRole('dialog', { name: 'New API product' });
    await product.getByLabel('Product id').fill('orders-api'); // PUT would replace it: refused before any call
    await product.getByText('Product id is taken: "orders-api" exists already (edit it from its row).').waitFor();
    await product.getByLabel('Product id').fill('reports api');
    await expect.poll(() => product.getByText(/^Product id must be 1-64 chars/).count()).toBe(1);
    await expect.poll(() => product.getByLabel('Product id').getAttribute('aria-invalid')).toBe('true');
    await product.getByLabel('Product id').fill('reports');
    await product.getByRole('button', { name: 'Create product' }).click();
    await product.getByText('Name must not be empty.').waitFor(); // the API's own schema, in words, before any call
    await product.getByLabel('Name', { exact: true }).fill('Reports API');
    await product.getByLabel('orders').check();
    await product.getByRole('button', { name: 'Create product' }).click();
    await expect.poll(() => product.count()).toBe(0);
    await expect.poll(() => page.getByRole('row', { name: 'Product reports' }).textContent()).toContain('orders');

    await page.getByRole('button', { name: 'New plan' }).click();
    const plan = page.getByRole('dialog', { name: 'New plan' });
    await plan.getByLabel('Plan id').fill('silver');
    await plan.getByLabel('Name', { exact: true }).fill('Silver');
    await plan.getByLabel('Reports API: requests').fill('lots');
    await plan.getByRole('button', { name: 'Create plan' }).click();
    await plan.getByText('The limit of Reports API must be a number, not text.').waitFor();
    await plan.getByLabel('Reports API: requests').fill('50');
    await plan.getByLabel('Reports API: window').fill('1m');
    await plan.getByRole('button', { name: 'Create plan' }).click();
    await expect.poll(() => page.getByRole('row', { name: 'Plan silver' }).textContent()).toContain('Reports API: 50 per 1m');

    const globex = page.getByRole('row', { name: 'Partner globex' });
    await globex.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit partner globex' });
    await edit.getByRole('textbox', { name: 'OAuth client ids' }).fill('acme-web');
    await edit.getByRole('textbox', { name: 'OAuth client ids' }).press('Enter');
    await edit.getByRole('button', { name: 'Save partner' }).click();
    // the server refuses (acme has that client id): said in words, at the field
    await edit.getByText('Client id "acme-web" identifies partner "acme" already.').waitFor();
    await expect.poll(() => edit.getByRole('textbox', { name: 'OAuth client ids' }).getAttribute('aria-invalid')).toBe('true');
    await edit.getByRole('button', { name: 'Remove client id acme-web' }).click();
    await edit.getByLabel('Plan').selectOption('silver');
    await edit.getByLabel('Reports API', { exact: true }).check();
    await edit.getByLabel('Reports API: requests').fill('10');
    await edit.getByRole('button', { name: 'Save partner' }).click();
    await expect.poll(() => edit.count()).toBe(0);
    await expect.poll(() => globex.textContent()).toMatch(/Silver.*overrides: Reports API 10\/1m.*Reports API/);
    const stored = await admin('GET', '/partners/globex');
    expect({ plan: stored.plan, products: stored.products, limits: stored.limits, clientIds: stored.clientIds }).toEqual({ plan: 'silver', products: ['reports'], limits: { reports: { limit: 10, window: '1m' } }, clientIds: [] });

    // revoking asks why; the audit log keeps the reason
    await globex.getByRole('listitem', { name: /^Key / }).getByRole('button', { name: 'Revoke' }).click();
    const revoke = page.getByRole('dialog', { name: /^Revoke key / });
    await revoke.getByLabel('Reason (kept in the audit log)').fill('leaked in a log');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await expect.poll(() => globex.textContent()).toContain('revoked');
    const audit = await gateway.fetch('/admin/api/audit', { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    const { entries } = (await audit.json()) as { entries: Array<{ action: string; detail?: string; actor: string }> };
    expect(entries.filter((e) => e.action === 'key.revoke').map((e) => `${e.actor}: ${e.detail}`)).toEqual([expect.stringMatching(/^pat: key \w+ revoked: leaked in a log$/)]);
    expect(entries.find((e) => e.action === 'partner.suspend')?.detail).toMatch(/unpaid invoice/);
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['product.put', 'plan.put', 'partner.update', 'key.create']));
    expect(errors).toEqual([]);
  }, 60_000);

  it('token budgets: set in the plan and partner dialogs, checked at their field, kept when a dialog is saved again', async () => {
    // a budget set through the API survives a save of the plan's dialog that never touches it (the editor used to drop it)
    await admin('PUT', '/plans/silver', { name: 'Silver', limits: { reports: { limit: 50, window: '1m', tokens: { limit: 20000, window: '1d' } } } });
    await page.goto(`${gateway.url}/editor/#/partners`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const silver = page.getByRole('row', { name: 'Plan silver' });
    await expect.poll(() => silver.textContent()).toContain('Reports API: 50 per 1m, 20000 tokens per 1d');
    await silver.getByRole('button', { name: 'Edit' }).click();
    const silverDialog = page.getByRole('dialog', { name: 'Edit plan silver' });
    expect([await silverDialog.getByLabel('Reports API: tokens').inputValue(), await silverDialog.getByLabel('Reports API: token window').inputValue()]).toEqual(['20000', '1d']);
    await silverDialog.getByLabel('Name', { exact: true }).fill('Silver 2');
    await silverDialog.getByRole('button', { name: 'Save plan' }).click();
    await expect.poll(() => silverDialog.count()).toBe(0);
    expect((await storedPlan('silver')).limits).toEqual({ reports: { limit: 50, window: '1m', tokens: { limit: 20000, window: '1d' } } });

    const gold = page.getByRole('row', { name: 'Plan gold' });
    await page.setViewportSize({ width: 1024, height: 768 }); // the screenshots: the narrower of the two widths checked below
    await gold.getByRole('button', { name: 'Edit' }).click();
    const plan = page.getByRole('dialog', { name: 'Edit plan gold' });
    const tokens = plan.getByLabel('Orders API: tokens');
    const tokenWindow = plan.getByLabel('Orders API: token window');
    await expect.poll(() => tokens.inputValue()).toBe('');
    await tokens.fill('100000');
    await tokenWindow.fill('1y');
    const windowError = plan.getByText('The token window of Orders API must be a duration like 500ms, 10s, 1m, 1h or 1d.');
    await windowError.waitFor(); // as typed, at its field
    await expect.poll(() => tokenWindow.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => tokenWindow.getAttribute('aria-describedby')).toBe(await windowError.getAttribute('id'));
    await expect.poll(() => tokens.getAttribute('aria-invalid')).toBeNull();
    await tokenWindow.fill('32d'); // a budget's window may be longer than a request limit's 24h, but not past 31 days
    await plan.getByText('The token window of Orders API must be between 1s and 31d.').waitFor();
    await screenshot(page, 'partners-plan-token-window-refused');
    await plan.getByRole('button', { name: 'Save plan' }).click();
    await plan.getByText('Fix the fields marked in red, then save again.').waitFor();
    expect((await storedPlan('gold')).limits).toEqual({ 'orders-api': { limit: 1000, window: '1m' } }); // nothing sent
    await tokens.fill('1e6'); // only digits count: text is named, never guessed at
    await plan.getByText('The token budget of Orders API must be a number, not text.').waitFor();
    await tokens.fill('1000000000001');
    await plan.getByText('The token budget of Orders API must be at most 1000000000000.').waitFor();
    // a budget needs a request limit on the same product (the schema requires one): said at the requests field
    await plan.getByLabel('Reports API: tokens').fill('500');
    const needsLimit = plan.getByText('The token budget or models of Reports API need a request limit too: type its requests per window.');
    await needsLimit.waitFor();
    await expect.poll(() => plan.getByLabel('Reports API: requests').getAttribute('aria-describedby')).toBe(await needsLimit.getAttribute('id'));
    await plan.getByLabel('Reports API: tokens').fill('');
    await tokens.fill('100000');
    await tokenWindow.fill('1h');
    // the plan's models: a pattern the schema refuses is named at the field
    const models = plan.getByLabel('Orders API: models');
    await models.fill('gpt-4o-mini, *');
    const modelsError = plan.locator('.limits__error', { hasText: 'The models of Orders API' });
    await modelsError.waitFor();
    await expect.poll(() => models.getAttribute('aria-describedby')).toBe(await modelsError.getAttribute('id'));
    await models.fill('gpt-4o-mini, claude-*');
    await expect.poll(() => plan.locator('.field__error').count()).toBe(0);
    await screenshot(page, 'partners-plan-tokens');
    await plan.getByRole('button', { name: 'Save plan' }).click();
    await expect.poll(() => plan.count()).toBe(0);
    await page.setViewportSize({ width: 1440, height: 900 });
    await expect.poll(() => gold.textContent()).toContain('Orders API: 1000 per 1m, 100000 tokens per 1h, models gpt-4o-mini claude-*');
    expect((await storedPlan('gold')).limits).toEqual({ 'orders-api': { limit: 1000, window: '1m', tokens: { limit: 100000, window: '1h' }, models: ['gpt-4o-mini', 'claude-*'] } });

    // re-opened: the budget and models are shown; a save that changes only the request limit keeps them
    await gold.getByRole('button', { name: 'Edit' }).click();
    expect([await tokens.inputValue(), await tokenWindow.inputValue(), await models.inputValue()]).toEqual(['100000', '1h', 'gpt-4o-mini, claude-*']);
    await plan.getByLabel('Orders API: requests').fill('2000');
    await plan.getByRole('button', { name: 'Save plan' }).click();
    await expect.poll(() => plan.count()).toBe(0);
    expect((await storedPlan('gold')).limits).toEqual({ 'orders-api': { limit: 2000, window: '1m', tokens: { limit: 100000, window: '1h' }, models: ['gpt-4o-mini', 'claude-*'] } });

    // a partner's override with its own budget, listed in its row and kept through a second save
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await acme.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit partner acme' });
    await edit.getByLabel('Orders API: requests').fill('5');
    await edit.getByLabel('Orders API: tokens').fill('700');
    await edit.getByLabel('Orders API: token window').fill('1d');
    await edit.getByRole('button', { name: 'Save partner' }).click();
    await expect.poll(() => edit.count()).toBe(0);
    await expect.poll(() => acme.textContent()).toContain('overrides: Orders API 5/1m, 700 tokens/1d');
    await acme.getByRole('button', { name: 'Edit' }).click();
    expect([await edit.getByLabel('Orders API: tokens').inputValue(), await edit.getByLabel('Orders API: token window').inputValue()]).toEqual(['700', '1d']);
    await edit.getByRole('button', { name: 'Save partner' }).click();
    await expect.poll(() => edit.count()).toBe(0);
    const stored = await admin('GET', '/partners/acme');
    expect({ name: stored.name, limits: stored.limits }).toEqual({ name: 'Acme Corp', limits: { 'orders-api': { limit: 5, window: '1m', tokens: { limit: 700, window: '1d' } } } });
    expect(errors).toEqual([]);
  }, 60_000);

  for (const viewport of [{ width: 1440, height: 900 }, { width: 1024, height: 768 }])
    it(`at ${viewport.width}x${viewport.height} the page does not scroll sideways, and axe finds no serious problem with its dialogs open`, async () => {
      await openPage(viewport);
      await signIn(TOKENS.publisher);
      await page.goto(`${gateway.url}/editor/#/partners`);
      await page.getByRole('row', { name: 'Partner acme' }).waitFor();
      const sideways = () => page.evaluate(() => [document.documentElement, document.querySelector('.page')!].map((e) => e.scrollWidth - e.clientWidth));
      expect(await sideways()).toEqual([0, 0]);
      const scan = async (what: string, within?: string) => {
        const builder = axeScan(page);
        const { violations } = await (within ? builder.include(within) : builder).analyze();
        expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
      };
      await scan('page');
      const dialogs: Array<[string, () => Promise<void>]> = [
        ['New partner', () => page.getByRole('button', { name: 'New partner' }).click()],
        ['Edit partner acme', () => page.getByRole('row', { name: 'Partner acme' }).getByRole('button', { name: 'Edit' }).click()],
        ['New API key for Acme Corp', () => page.getByRole('row', { name: 'Partner acme' }).getByRole('button', { name: 'Create key' }).click()],
        ['New plan', () => page.getByRole('button', { name: 'New plan' }).click()],
        ['New API product', () => page.getByRole('button', { name: 'New product' }).click()],
      ];
      for (const [title, openIt] of dialogs) {
        await openIt();
        const dialog = page.getByRole('dialog', { name: title });
        await dialog.waitFor();
        // the form's own checks on, as a person who pressed save too early sees them
        if (['New partner', 'New plan', 'New API product'].includes(title)) await dialog.locator('button[type=submit]').click();
        await scan(title, 'dialog[open]');
        expect(await sideways()).toEqual([0, 0]);
        if (viewport.width === 1024) await screenshot(page, `partners-dialog-${title.replace(/\W+/g, '-').toLowerCase()}`);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
      }
      expect(errors).toEqual([]);
    }, 180_000);

  it('a viewer sees partners but every change is disabled, saying why', async () => {
    await openPage();
    await signIn(TOKENS.viewer);
    await page.goto(`${gateway.url}/editor/#/partners`);
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await acme.waitFor();
    await expect.poll(() => acme.getByRole('button', { name: 'Suspend' }).isDisabled()).toBe(true);
    await expect.poll(() => acme.getByRole('button', { name: 'Create key' }).isDisabled()).toBe(true);
    for (const name of ['Edit', 'Rotate', 'Revoke']) expect(await acme.getByRole('button', { name }).first().isDisabled()).toBe(true);
    for (const name of ['New partner', 'New product', 'New plan']) expect(await page.getByRole('button', { name }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole('row', { name: 'Product orders-api' }).getByRole('button', { name: 'Edit' }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/Read-only.*viewer role cannot change partners, products or plans/);
    await expect.poll(() => acme.getByRole('button', { name: 'Suspend' }).getAttribute('title')).toMatch(/viewer role cannot change partners/);
    expect(errors).toEqual([]);
  }, 30_000);
});
