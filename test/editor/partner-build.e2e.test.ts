/**
 * The whole partner story in the UI, from an empty data directory and without the CLI: a publisher
 * draws api-key (partners) -> scope-check (orders:read) -> proxy to a real upstream, makes the API
 * product, the plan, the partner and its scoped key on the partners page, runs the preview as that
 * partner's key chosen from a list (the real upstream answers), saves it as a test, publishes, and
 * the gateway answers the key it was shown once. The stored workflow holds a reference to the key,
 * never the key. An editor sees the partners page read-only and the preview tells it that a partner
 * key runs against a mocked upstream only.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'build-publisher-token-0123456789', editor: 'build-editor-token-0123456789' };

describe.runIf(chromiumAvailable())('a partner-protected workflow built in the UI alone', () => {
  let gateway: TestGateway;
  let upstream: TestUpstream;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** The key the partners page showed once. */
  let key = '';

  beforeAll(async () => {
    await ensureEditorBuilt();
    upstream = await startUpstream();
    [gateway, browser] = await Promise.all([
      startTestGateway({ demo: false, workflows: [], env: { ORDERS_UPSTREAM: upstream.url }, settings: { SLUICE_ADMIN_TOKENS: `pat:publisher:${TOKENS.publisher},eve:editor:${TOKENS.editor}` } }),
      launchChromium(),
    ]);
    page = await newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await upstream?.close();
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    const p = await context.newPage();
    errors = watchErrors(p);
    return p;
  }

  /** What the store holds, read with the publisher's token (the assertions only: the story itself is clicked). */
  const stored = async (path: string) => (await (await gateway.fetch(`/admin/api${path}`, { headers: { authorization: `Bearer ${TOKENS.publisher}` } })).json()) as Record<string, any>;
  const canvas = () => page.getByRole('application', { name: /canvas/ });
  const inspector = (id: string) => page.getByRole('region', { name: `Inspector: ${id}` });
  const preview = () => page.getByRole('region', { name: 'Preview' });
  const status = () => page.locator('.statusline');

  async function dropKind(title: string, x: number, y: number, id: string) {
    await page.getByRole('button', { name: `Add ${title}` }).dragTo(canvas(), { targetPosition: { x, y } });
    const field = page.getByRole('region', { name: /^Inspector: / }).getByLabel('Node id');
    await field.fill(id);
    await field.press('Enter');
    await inspector(id).waitFor();
  }

  async function wire(from: string, port: string, to: string) {
    const a = (await page.getByLabel(`Port ${port} of ${from}`).boundingBox())!;
    const b = (await page.getByLabel(`Into ${to}`).boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
    await page.mouse.up();
  }

  it('draws api-key (partners) -> scope-check -> proxy in a new workflow', async () => {
    await signIn(page, gateway.url, TOKENS.publisher);
    await page.getByRole('button', { name: 'New workflow' }).click();
    const dialog = page.getByRole('dialog', { name: 'New workflow' });
    await dialog.getByLabel('Workflow id').fill('orders');
    await dialog.getByLabel('Name').fill('Orders');
    await dialog.getByLabel('Route path').fill('/api/orders');
    await dialog.getByLabel(/Empty canvas/).check();
    await dialog.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();

    await dropKind('API key', 150, 120, 'key');
    await inspector('key').getByLabel('Key source').selectOption('partners');
    await dropKind('Check scopes', 450, 120, 'scopes');
    await inspector('scopes').getByRole('button', { name: 'Add to All of' }).click();
    await inspector('scopes').getByRole('textbox', { name: 'All of 1' }).fill('orders:read');
    await dropKind('Proxy', 750, 120, 'call');
    await inspector('call').getByLabel('Upstream URL').fill('${ORDERS_UPSTREAM}');
    await wire('key', 'ok', 'scopes');
    await wire('scopes', 'ok', 'call');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+s');
    await expect.poll(() => status().textContent()).toMatch(/Saved draft revision \d+/);
    expect(errors).toEqual([]);
  }, 90_000);

  it('makes the product, the plan, the partner and a key with the scope the workflow asks for', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Partners' }).click();
    await page.getByRole('heading', { name: 'Partners' }).waitFor();

    await page.getByRole('button', { name: 'New product' }).click();
    const product = page.getByRole('dialog', { name: 'New API product' });
    await product.getByLabel('Product id').fill('orders-api');
    await product.getByLabel('Name', { exact: true }).fill('Orders API');
    await product.getByLabel(/^Orders \(orders\)$/).check();
    await product.getByRole('button', { name: 'Create product' }).click();
    await page.getByRole('row', { name: 'Product orders-api' }).waitFor();

    await page.getByRole('button', { name: 'New plan' }).click();
    const plan = page.getByRole('dialog', { name: 'New plan' });
    await plan.getByLabel('Plan id').fill('gold');
    await plan.getByLabel('Name', { exact: true }).fill('Gold');
    await plan.getByLabel('Orders API: requests').fill('1000');
    await plan.getByRole('button', { name: 'Create plan' }).click();
    await page.getByRole('row', { name: 'Plan gold' }).waitFor();

    await page.getByRole('button', { name: 'New partner' }).click();
    const partner = page.getByRole('dialog', { name: 'New partner' });
    await partner.getByLabel('Partner id').fill('acme');
    await partner.getByLabel('Name', { exact: true }).fill('Acme Corp');
    await partner.getByLabel('Plan').selectOption('gold');
    await partner.getByLabel('Orders API', { exact: true }).check();
    await partner.getByRole('button', { name: 'Create partner' }).click();
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await expect.poll(() => acme.textContent()).toMatch(/Acme Corp.*active.*Gold.*Orders API.*no keys/);

    await acme.getByRole('button', { name: 'Create key' }).click();
    const create = page.getByRole('dialog', { name: 'New API key for Acme Corp' });
    // the scope the workflow's scope-check asks for is offered
    await create.getByRole('button', { name: 'Add scope orders:read' }).click();
    await expect.poll(() => create.getByRole('list', { name: 'Scopes chosen' }).textContent()).toContain('orders:read');
    await create.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'New API key for acme' });
    key = await shown.getByLabel('New API key', { exact: true }).inputValue();
    expect(key).toMatch(/^sk_[0-9a-f]{8}_/);
    await expect.poll(() => shown.textContent()).toContain('Scopes: orders:read');
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await screenshot(page, 'partner-build-key');
    await shown.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => acme.textContent()).toContain('scopes: orders:read');
    expect(errors).toEqual([]);
  }, 60_000);

  it('previews as the partner key chosen from a list (the real upstream answers), saves it as a test, publishes; the gateway answers the key', async () => {
    await page.goto(`${gateway.url}/editor/#/workflows/orders`);
    await page.locator('.react-flow__node').first().waitFor();
    await page.getByRole('tab', { name: 'Preview' }).click();
    const picker = preview().getByLabel('Run as partner');
    const option = `acme — key sk_${key.slice(3, 11)}… (scopes: orders:read)`;
    await expect.poll(() => picker.locator('option').allTextContents()).toContain(option);
    await picker.selectOption({ label: option });
    await preview().getByLabel('Mock the upstream').uncheck();
    const before = upstream.received.length;
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    expect(upstream.received.length).toBe(before + 1);
    await expect.poll(() => preview().getByLabel('Answer body').textContent()).toContain('"orders"');
    await screenshot(page, 'partner-build-preview');

    await preview().getByRole('button', { name: 'Save as test' }).click();
    const naming = page.getByRole('dialog', { name: 'Save as test' });
    await naming.getByLabel('Name of the test').fill('acme reads its orders');
    await naming.getByRole('button', { name: 'Save test' }).click();
    await expect.poll(() => status().textContent()).toContain('Saved the test "acme reads its orders"');
    await page.keyboard.press('Control+s');
    await expect.poll(() => status().textContent()).toMatch(/Saved draft revision \d+/);

    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByRole('dialog', { name: 'Publish orders' }).getByRole('button', { name: 'Publish now' }).click();
    await expect.poll(() => status().textContent(), { timeout: 15_000 }).toContain('Published version 1');

    const answer = await gateway.fetch('/api/orders', { headers: { 'x-api-key': key } });
    expect(answer.status, await answer.clone().text()).toBe(200);
    expect(((await answer.json()) as { orders: unknown[] }).orders).toHaveLength(1);
    expect((await gateway.fetch('/api/orders', { headers: { 'x-api-key': 'sk_00000000_nope' } })).status).toBe(401);

    // the key is nowhere in what is stored: the test refers to the key by its id
    const draft = await stored('/workflows/orders');
    const version = await stored('/workflows/orders/versions/1');
    for (const text of [JSON.stringify(draft), JSON.stringify(version)]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(12));
    }
    const saved = (draft.draft.document.tests as Array<{ name: string; request: Record<string, unknown> }>).find((t) => t.name === 'acme reads its orders')!;
    expect(saved.request.apiKey).toEqual({ key: key.slice(3, 11) });
    expect(saved.request.headers ?? {}).toEqual({});
    expect(errors).toEqual([]);
  }, 90_000);

  it('an editor sees the partners page read-only, and the preview tells it a partner key runs against a mocked upstream only', async () => {
    page = await newPage();
    await signIn(page, gateway.url, TOKENS.editor);
    await page.goto(`${gateway.url}/editor/#/partners`);
    const acme = page.getByRole('row', { name: 'Partner acme' });
    await acme.waitFor();
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/Read-only.*editor role cannot change partners, products or plans \(needs publisher or admin\)/);
    for (const button of [acme.getByRole('button', { name: 'Edit' }), acme.getByRole('button', { name: 'Create key' }), acme.getByRole('button', { name: 'Suspend' }), page.getByRole('button', { name: 'New partner' })]) {
      await expect.poll(() => button.isDisabled()).toBe(true);
      await expect.poll(() => button.getAttribute('title')).toMatch(/editor role cannot change partners/);
    }

    await page.goto(`${gateway.url}/editor/#/workflows/orders`);
    await page.locator('.react-flow__node').first().waitFor();
    await page.getByRole('tab', { name: 'Preview' }).click();
    await preview().getByLabel('Mock the upstream').uncheck();
    await preview().getByLabel('Run as partner').selectOption({ label: `acme — key sk_${key.slice(3, 11)}… (scopes: orders:read)` });
    const help = preview().locator('#preview-partner-key-help');
    await expect.poll(() => help.textContent()).toMatch(/editor role runs a partner's key against a mocked upstream only \(the real upstream needs the publisher or admin role\)/);
    const mock = preview().getByLabel('Mock the upstream');
    expect([await mock.isChecked(), await mock.isDisabled()]).toEqual([true, true]);
    await preview().getByLabel('Mock status').fill('202');
    const before = upstream.received.length;
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 202').count()).toBe(1);
    expect(upstream.received.length).toBe(before); // mocked: the real upstream was not called
    await screenshot(page, 'partner-build-editor-preview');
    expect(errors).toEqual([]);
  }, 60_000);
});
