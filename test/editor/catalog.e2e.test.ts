/**
 * The error catalog page and the error node's picker, in a real Chromium against a real gateway:
 * a publisher changes an entry and adds one, the gateway answers with them and the active
 * workflow keeps serving; removing an id the active workflow raises is refused, in words naming
 * the entry and the workflow; an editor reads the catalog without inputs and is told why; the
 * error node's catalog id is picked from the catalog. The page passes an axe-core scan.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { workflow } from '../helpers/workflow.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'catalog-publisher-token-0123456789', editor: 'catalog-editor-token-0123456789' };

const ORDERS = workflow(
  'orders',
  { path: '/orders' },
  [
    { id: 'check', kind: 'condition', config: { when: 'request.query.hidden = "1"' } },
    { id: 'hidden', kind: 'error', config: { error: 'order_not_visible' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { orders: [] } } },
  ],
  [
    ['check', 'true', 'hidden'],
    ['check', 'false', 'answer'],
  ],
);

describe.runIf(chromiumAvailable())('the error catalog page and the error picker', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([
      startTestGateway({ demo: false, workflows: [ORDERS], settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${TOKENS.publisher},eddie:editor:${TOKENS.editor}` } }),
      launchChromium(),
    ]);
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
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Errors' }).click();
    await page.getByRole('heading', { name: 'Error catalog' }).waitFor();
    await row('order_not_visible').waitFor();
  }
  const row = (id: string) => page.getByRole('row', { name: `Error ${id}`, exact: true });
  const saveButton = () => page.getByRole('button', { name: 'Save catalog' });
  const orders = async (query = '') => {
    const res = await gateway.fetch(`/orders${query}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** Serious and critical axe-core violations of the page, by rule and the first element. */
  const violations = async () =>
    (await axeScan(page).analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes[0]?.target.join(' ')}`);

  it('a publisher changes an entry and adds one; the gateway answers with them and keeps serving', async () => {
    await open(TOKENS.publisher);
    expect(page.url()).toMatch(/#\/errors$/);
    await expect.poll(() => row('order_not_visible').textContent()).toContain('orders'); // raised by the active workflow
    await expect.poll(() => row('not_found').getByRole('button', { name: 'Remove not_found' }).isDisabled()).toBe(true); // the gateway's own

    await row('order_not_visible').getByLabel('Title of order_not_visible').fill('Order hidden from you');
    await page.getByLabel('New error id').fill('Out of stock');
    await page.getByRole('button', { name: 'Add error' }).click();
    await expect.poll(() => page.getByText(/The id must be snake_case/).count()).toBe(1);
    await page.getByLabel('New error id').fill('out_of_stock');
    await page.getByRole('button', { name: 'Add error' }).click();
    // the catalog's own schema, in words: a new entry needs a title
    await expect.poll(() => page.getByRole('list', { name: 'Problems of the catalog' }).textContent()).toContain('Error "out_of_stock", title: must not be empty');
    await expect.poll(() => saveButton().isDisabled()).toBe(true);
    await row('out_of_stock').getByLabel('Status of out_of_stock').fill('409');
    await row('out_of_stock').getByLabel('Title of out_of_stock').fill('Out of stock');
    await row('out_of_stock').getByLabel('Detail template of out_of_stock').fill('{sku} is out of stock.');
    await screenshot(page, 'catalog-edit');
    await saveButton().click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved the catalog' }).count()).toBe(1);

    expect(await orders('?hidden=1')).toMatchObject({ status: 404, body: { title: 'Order hidden from you' } });
    expect(await orders()).toEqual({ status: 200, body: { orders: [] } });
    const stored = (await (await gateway.fetch('/admin/api/errors', { headers: { authorization: `Bearer ${TOKENS.editor}` } })).json()) as { errors: Record<string, unknown> };
    expect(stored.errors.out_of_stock).toEqual({ status: 409, type: 'https://errors.example.com/out-of-stock', title: 'Out of stock', detail: '{sku} is out of stock.' });
  });

  it('removing an id the active workflow raises is refused, in words naming it; the workflow keeps serving', async () => {
    await row('order_not_visible').getByRole('button', { name: 'Remove order_not_visible' }).click();
    await expect.poll(() => row('order_not_visible').count()).toBe(0);
    await saveButton().click();
    const refusal = page.getByRole('alert').filter({ hasText: 'The catalog was not saved.' });
    await expect.poll(() => refusal.textContent()).toContain('"order_not_visible" is raised by the active workflow "orders"');
    expect(await refusal.textContent()).not.toMatch(/Too small|Invalid input|validation_failed/);
    await screenshot(page, 'catalog-refused');
    expect(await orders('?hidden=1')).toMatchObject({ status: 404, body: { title: 'Order hidden from you' } });
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await row('order_not_visible').waitFor();
  });

  it('the catalog page has no serious or critical accessibility violation', async () => {
    expect(await violations()).toEqual([]);
    expect(errors).toEqual([]);
  }, 90_000);

  it('an editor reads the catalog without inputs, and is told why', async () => {
    await open(TOKENS.editor);
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/Read-only\..*editor role reads the catalog; changing it needs the publisher or admin role/);
    await expect.poll(() => row('out_of_stock').textContent()).toMatch(/out_of_stock\s*409.*Out of stock\{sku\} is out of stock\./);
    await expect.poll(() => page.getByRole('textbox').count()).toBe(0);
    await expect.poll(() => page.getByRole('spinbutton').count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    await expect.poll(() => saveButton().count()).toBe(0);
    expect(await violations()).toEqual([]);
  }, 90_000);

  it('the error node picks its catalog id from the catalog, and an unknown id is a problem', async () => {
    await openWorkflow(page, gateway.url, 'orders');
    await page.locator('.react-flow__node[data-id="hidden"]').click();
    const inspector = page.getByRole('region', { name: 'Inspector: hidden' });
    const picker = inspector.getByRole('combobox', { name: /^Catalog error/ });
    await expect.poll(() => picker.inputValue()).toBe('order_not_visible');
    // the picker's summary comes once the catalog has loaded (not there yet at a first look once in CI under load)
    await expect.poll(() => inspector.textContent()).toContain('Answers 404 Order hidden from you');
    await picker.fill('stock');
    const option = page.getByRole('option', { name: /out_of_stock\s*409\s*Out of stock/ });
    await option.waitFor();
    await screenshot(page, 'catalog-picker');
    await option.click();
    await expect.poll(() => picker.inputValue()).toBe('out_of_stock');
    await expect.poll(() => inspector.textContent()).toContain('Answers 409 Out of stock: {sku} is out of stock.');
    // by keyboard: type, arrow down, Enter
    await picker.fill('rate_limit');
    await picker.press('ArrowDown');
    await picker.press('Enter');
    await expect.poll(() => picker.inputValue()).toMatch(/^rate_limit/);
    await picker.fill('no_such_error');
    await expect.poll(() => inspector.getByText(/"no_such_error" is not in the error catalog/).count()).toBeGreaterThan(0);
    await expect.poll(() => picker.getAttribute('aria-invalid')).toBe('true');
    expect(errors).toEqual([]);
  });
});
