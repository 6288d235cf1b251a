/**
 * Preview in a real Chromium: a request run on the canvas lights up its path, the contract panel
 * lists the example's 401, 403 and 429, and a preview saved as a test blocks the publication of
 * a broken workflow while the active version keeps serving.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDemoToken } from '../../engine/demo/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'preview-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('preview, contract and tests in the editor', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${PUBLISHER}` } }), launchChromium()]);
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
    await openWorkflow(page, gateway.url, 'orders');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  const preview = () => page.getByRole('region', { name: 'Preview' });
  const onPath = () => page.locator('.kind-node--on-path').evaluateAll((els) => els.map((e) => e.closest('.react-flow__node')!.getAttribute('data-id')));
  const offPath = () => page.locator('.kind-node--off-path').evaluateAll((els) => els.map((e) => e.closest('.react-flow__node')!.getAttribute('data-id')));

  it('runs a preview: the path taken lights up, the rest is dimmed, durations on the visited nodes', async () => {
    await page.getByRole('tab', { name: 'Preview' }).click();
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 401').count()).toBe(1);
    expect(await onPath()).toEqual(['verify']);
    expect((await offPath()).sort()).toEqual(['call', 'limit', 'scopes', 'shape']);
    await preview().getByRole('button', { name: 'Mint token' }).click();
    await expect.poll(() => preview().getByLabel('Headers', { exact: true }).inputValue()).toMatch(/^authorization: Bearer ey/);
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    expect((await onPath()).sort()).toEqual(['call', 'limit', 'scopes', 'shape', 'verify']);
    await expect.poll(() => page.locator('.react-flow__edge.edge--on-path').count()).toBe(4);
    await expect.poll(() => page.getByLabel(/^verify took [\d.]+ ms$/).count()).toBe(1);
    // a node's input and output
    await preview().getByRole('button', { name: /^verify → ok/ }).click();
    const detail = preview().getByLabel('Node verify input and output');
    await expect.poll(() => detail.textContent()).toContain('"partner": "acme"');
    await expect.poll(() => detail.textContent()).toContain('[redacted]');
    expect(await detail.textContent()).not.toMatch(/Bearer ey/);
    await screenshot(page, '14-preview');
  });

  it('lists the contract with its 401, 403 and 429, and draws the path to one', async () => {
    await page.getByRole('tab', { name: 'Contract' }).click();
    const contract = page.getByRole('region', { name: 'Error contract' });
    await expect.poll(() => contract.getByRole('button', { name: /^401 / }).count()).toBe(2);
    await expect.poll(() => contract.getByRole('button', { name: /^403 .* at scopes\.denied$/ }).count()).toBe(1);
    const limited = contract.getByRole('button', { name: /^429 .* at limit\.limited$/ });
    await expect.poll(() => limited.count()).toBe(1);
    await limited.click();
    expect((await onPath()).sort()).toEqual(['limit', 'scopes', 'verify']);
    await contract.getByRole('button', { name: 'Copy OpenAPI' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain('"openapi": "3.1.0"');
    await screenshot(page, '15-contract');
  });

  it('saves a preview with typed credentials as a test that stores none, and the test passes at publish', async () => {
    await page.getByRole('tab', { name: 'Preview' }).click();
    const pasted = await signDemoToken(gateway.dataDir, { sub: 'pasted-user', scopes: ['orders:read'], partner: 'acme' });
    const headersBox = preview().getByLabel('Headers', { exact: true });
    await headersBox.fill(`authorization: Bearer ${pasted}\nx-api-key: leaked-key-0123456789\ncookie: session=leaked-cookie\naccept: application/json`);
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    await preview().getByRole('button', { name: 'Save as test' }).click();
    const naming = page.getByRole('dialog', { name: 'Save as test' });
    await naming.getByLabel('Name of the test').fill('typed credentials');
    await naming.getByRole('button', { name: 'Save test' }).click();
    await expect.poll(() => page.locator('.statusline').textContent()).toContain('Saved the test "typed credentials"');
    const note = preview().getByRole('status', { name: 'Credentials not stored' });
    await expect.poll(() => note.textContent()).toMatch(/authorization: saved as a demo token for "pasted-user" with orders:read/);
    await expect.poll(() => note.textContent()).toContain('x-api-key: removed');
    await expect.poll(() => note.textContent()).toContain('cookie: removed');
    await screenshot(page, 'preview-credentials-not-stored');
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.statusline').textContent()).toMatch(/Saved draft revision \d+/);
    const read = (path: string) => gateway.fetch(`/admin/api${path}`, { headers: { authorization: `Bearer ${PUBLISHER}` } }).then((r) => r.json() as Promise<any>);
    const draft = await read('/workflows/orders');
    const test = draft.draft.document.tests.find((t: { name: string }) => t.name === 'typed credentials');
    expect(test.request).toMatchObject({ headers: { accept: 'application/json' }, token: { sub: 'pasted-user', scopes: ['orders:read'], partner: 'acme' } });
    expect(JSON.stringify(draft)).not.toMatch(/Bearer|eyJ|leaked-key|leaked-cookie/);
    const before = (await read('/workflows/orders/versions')).active as number;
    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByRole('dialog', { name: 'Publish orders' }).getByRole('button', { name: 'Publish now' }).click();
    await expect.poll(async () => (await read('/workflows/orders/versions')).active, { timeout: 15_000 }).toBe(before + 1);
    expect(JSON.stringify(await read(`/workflows/orders/versions/${before + 1}`))).not.toMatch(/Bearer|eyJ|leaked-key|leaked-cookie/);
    // back to a minted token for the next test
    await headersBox.fill('');
    await preview().getByRole('button', { name: 'Mint token' }).click();
    await expect.poll(() => headersBox.inputValue()).toMatch(/^authorization: Bearer ey/);
  });

  it('saves a preview as a test, and a broken workflow is then refused at publish while the active version keeps serving', async () => {
    await page.getByRole('tab', { name: 'Preview' }).click();
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    await preview().getByRole('button', { name: 'Save as test' }).click();
    const naming = page.getByRole('dialog', { name: 'Save as test' });
    await naming.getByLabel('Name of the test').fill('reads its orders');
    await naming.getByRole('button', { name: 'Save test' }).click();
    await expect.poll(() => page.locator('.statusline').textContent()).toContain('Saved the test "reads its orders"');
    // the test keeps the request as sent (its demo token included) and the upstream mock, and expects 200
    // break the workflow: require a scope the partner's token lacks
    await page.locator('.react-flow__node[data-id="scopes"]').click();
    await page.getByRole('tab', { name: 'Inspector' }).click();
    const inspector = page.getByRole('region', { name: 'Inspector: scopes' });
    await inspector.getByRole('textbox', { name: 'All of 1' }).fill('orders:write');
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.statusline').textContent()).toMatch(/Saved draft revision \d+/);
    // the saved test keeps the token's claims, minted afresh on each run, never the token itself
    const saved = (await (await gateway.fetch('/admin/api/workflows/orders', { headers: { authorization: `Bearer ${PUBLISHER}` } })).json()) as { draft: { document: { tests: Array<{ name: string; request: { headers?: Record<string, string>; token?: { scopes: string[]; partner?: string } } }> } } };
    const test = saved.draft.document.tests.find((t) => t.name === 'reads its orders')!;
    expect(test.request.token).toMatchObject({ scopes: ['orders:read'], partner: 'acme' });
    expect(test.request.headers?.authorization).toBeUndefined();
    await page.getByRole('button', { name: 'Publish…' }).click();
    await page.getByRole('dialog', { name: 'Publish orders' }).getByRole('button', { name: 'Publish now' }).click();
    const problems = page.getByRole('region', { name: 'Problems' });
    await expect.poll(() => problems.textContent(), { timeout: 15_000 }).toContain('test "reads its orders"');
    await screenshot(page, '16-publish-refused-by-test');
    const versions = await (await gateway.fetch('/admin/api/workflows/orders/versions', { headers: { authorization: `Bearer ${PUBLISHER}` } })).json() as { active: number };
    expect(versions.active).toBe(2);
    const token = await signDemoToken(gateway.dataDir, { sub: 'u', scopes: ['orders:read'], partner: 'acme' });
    expect((await gateway.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(errors.filter((e) => !/422|Unprocessable/.test(e))).toEqual([]);
  });
});
