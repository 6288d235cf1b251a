/**
 * The portal in a real Chromium, as a stranger reads it: the catalog lists the products and their
 * routes; a reference shows every contract entry of the served version, rendered by Scalar from
 * the package; a publish that adds a 429 shows in the reference and the changelog; a deprecation
 * shows its sunset; a problem type page answers its URI; a publisher previews a draft behind a
 * banner. Every request the pages make goes to the gateway's own origin (no CDN, no font service,
 * no telemetry), and axe finds no serious or critical violation.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan, settled, trackRequests } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, watchErrors } from './support/browser.ts';

const PUBLISHER = 'portal-publisher-token-0123456789';
const EDITOR = 'portal-editor-token-0123456789ab';
const SUNSET = '2031-03-01T00:00:00.000Z';
const SCREENSHOTS = '/tmp';

/** Invoices: a JWT with billing:read, then a mock answer; `limited` puts a rate limit (429) before it. */
function invoices(limited: boolean) {
  return {
    id: 'invoices',
    name: 'Invoices',
    description: 'The partner\'s invoices.',
    route: { methods: ['GET'], path: '/api/invoices' },
    nodes: [
      { id: 'verify', kind: 'jwt-verify', config: { secretEnv: 'SLUICE_SECRET_INVOICES', algorithms: ['HS256'] } },
      { id: 'scopes', kind: 'scope-check', config: { all: ['billing:read'] } },
      ...(limited ? [{ id: 'limit', kind: 'rate-limit', config: { limit: 10, window: '1m', key: 'subject' } }] : []),
      { id: 'answer', kind: 'respond', config: { status: 200, body: { invoices: [] } } },
    ],
    edges: [
      { from: 'verify', port: 'ok', to: 'scopes' },
      { from: 'scopes', port: 'ok', to: limited ? 'limit' : 'answer' },
      ...(limited ? [{ from: 'limit', port: 'ok', to: 'answer' }] : []),
    ],
  };
}
const receipts = { id: 'receipts', name: 'Receipts', route: { methods: ['GET'], path: '/api/receipts' }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { receipts: [] } } }], edges: [] };

/** Reloads `page` until `ready` finds what it waits for: a publish shows by polling, never by waiting a set time. */
async function untilShown(page: Page, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`not shown on ${page.url()}`);
    await page.reload();
    await settled(page);
  }
}

describe.runIf(chromiumAvailable())('the portal in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  /** Every URL the pages asked for. */
  const requested: string[] = [];
  const admin = adminAs(() => gateway, PUBLISHER);

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([
      startTestGateway({ workflows: [], demo: false, env: { SLUICE_SECRET_INVOICES: 'invoices-hmac-secret-0123456789abcdef0123' }, settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${PUBLISHER},eddie:editor:${EDITOR}`, SLUICE_PROBLEM_BASE: '/portal/problems/' } }),
      launchChromium(),
    ]);
    for (const document of [invoices(false), receipts]) {
      await admin('POST', '/workflows', { document });
      await admin('POST', `/workflows/${document.id}/publish`);
    }
    await admin('PUT', '/products/billing', { name: 'Billing', description: 'Invoices and receipts of a partner.', workflows: ['invoices', 'receipts'] });
    await admin('PUT', '/plans/gold', { name: 'Gold', limits: { billing: { limit: 600, window: '1m' } } });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (request) => requested.push(request.url()));
    page = await context.newPage();
    trackRequests(page);
    errors = watchErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('lists the products with their routes, credentials, scopes and plan limits', async () => {
    await page.goto(`${gateway.url}/portal`);
    const product = page.getByRole('listitem', { name: 'Billing' });
    await product.getByRole('link', { name: 'Invoices' }).waitFor();
    expect(await product.getByRole('list', { name: 'Routes of Billing' }).getByRole('listitem').evaluateAll((items) => items.map((i) => i.getAttribute('aria-label')))).toEqual(['Invoices', 'Receipts']);
    const text = await product.textContent();
    expect(text).toContain('GET /api/invoices');
    expect(text).toContain('JWT bearer token');
    expect(text).toContain('billing:read');
    await expect.poll(() => product.getByRole('row', { name: /Gold/ }).textContent()).toContain('600 per 1m');
    await settled(page);
    await page.screenshot({ path: `${SCREENSHOTS}/portal-catalog.png`, fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows every contract entry of the served version in the reference, rendered by Scalar too', async () => {
    await page.goto(`${gateway.url}/portal`);
    await page.getByRole('link', { name: 'Invoices' }).click();
    await page.getByRole('heading', { name: 'Invoices', level: 1 }).waitFor();
    const contract = (await admin('GET', '/workflows/invoices/contract')).entries as Array<{ status: number; type?: string }>;
    const rows = page.getByRole('table', { name: 'Answers it gives' }).getByRole('row');
    await rows.nth(contract.length).waitFor();
    const shown = await rows.evaluateAll((trs) => trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(shown.map(([status, , type]) => [Number(status), type === '—' ? undefined : type])).toEqual(contract.map((e) => [e.status, e.type]));
    // Scalar renders the same document: every status of the contract is in its responses
    const scalar = page.getByRole('region', { name: 'OpenAPI reference of Invoices' });
    await scalar.getByText('Invoices — error contract').first().waitFor();
    await settled(page);
    const rendered = (await scalar.textContent()) ?? '';
    for (const status of new Set(contract.map((e) => e.status))) expect(rendered, String(status)).toContain(String(status));
    await page.screenshot({ path: `${SCREENSHOTS}/portal-reference.png` });
    await scalar.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/portal-reference-scalar.png` });
    expect(errors).toEqual([]);
  });

  it('shows a published 429 in the reference and the changelog', async () => {
    const workflow = await admin('GET', '/workflows/invoices');
    await admin('PUT', '/workflows/invoices/draft', { document: invoices(true), baseRevision: workflow.draft?.revision ?? 0 });
    await admin('POST', '/workflows/invoices/publish');
    await page.goto(`${gateway.url}/portal/workflows/invoices`);
    const limited = page.getByRole('table', { name: 'Answers it gives' }).getByRole('row', { name: /^429 Too Many Requests/ });
    await untilShown(page, async () => (await limited.count()) === 1);
    await expect.poll(() => limited.textContent()).toContain('the caller sends more than 10 requests per 1m per subject');
    await page.getByRole('link', { name: 'billing' }).click();
    await page.getByRole('link', { name: 'Changelog of Billing' }).click();
    const entry = page.getByRole('listitem', { name: 'Invoices version 2 published' });
    await untilShown(page, async () => (await entry.count()) === 1);
    await expect.poll(() => entry.textContent()).toContain('adds 429 Too Many Requests');
    await expect.poll(() => entry.getByText('added').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('shows a deprecation with its sunset, as the gateway sends it', async () => {
    await admin('POST', '/workflows/receipts/deprecate', { version: 1, sunset: SUNSET });
    const served = await gateway.fetch('/api/receipts');
    const sunsetHeader = served.headers.get('sunset');
    expect(sunsetHeader).toBe(new Date(SUNSET).toUTCString());
    await page.goto(`${gateway.url}/portal/workflows/receipts`);
    const note = page.getByRole('note', { name: 'Deprecated' });
    await untilShown(page, async () => (await note.count()) === 1);
    const text = await note.textContent();
    expect(text).toContain('Sunset: Sat, 01 Mar 2031 00:00:00 UTC');
    expect(text).toContain(`sunset: ${sunsetHeader}`);
    expect(text).toContain(`deprecation: ${served.headers.get('deprecation')}`);
    await page.goto(`${gateway.url}/portal`);
    await expect.poll(() => page.getByRole('listitem', { name: 'Receipts' }).textContent()).toContain(`sunset ${sunsetHeader}`);
  });

  it('answers a problem type URI of a gateway answer with its page', async () => {
    const refused = await gateway.fetch('/api/invoices');
    const problem = (await refused.json()) as { type: string; title: string; status: number };
    expect(problem.type).toBe('/portal/problems/missing-token');
    await page.goto(new URL(problem.type, gateway.url).href);
    await page.getByRole('heading', { name: `${problem.status} ${problem.title}`, level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('main').textContent()).toContain('Invoices');
    await settled(page);
    await page.screenshot({ path: `${SCREENSHOTS}/portal-problem.png` });
  });

  it('has no serious or critical axe violation on the catalog, a reference and a problem type page', async () => {
    const found: string[] = [];
    for (const [path, ready] of [
      ['/portal', () => page.getByRole('link', { name: 'Invoices' }).waitFor()],
      ['/portal/workflows/invoices', () => page.getByRole('region', { name: 'OpenAPI reference of Invoices' }).getByText('Invoices — error contract').first().waitFor()],
      ['/portal/problems/rate-limited', () => page.getByRole('heading', { name: '429 Too Many Requests' }).waitFor()],
    ] as const) {
      await page.goto(`${gateway.url}${path}`);
      await ready();
      await settled(page);
      const result = await axeScan(page).analyze();
      found.push(...result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => `${path} ${v.id}: ${n.target.join(' ')}`)));
    }
    expect(found).toEqual([]);
  });

  it('previews a draft for a publisher behind a banner, and refuses an editor', async () => {
    const workflow = await admin('GET', '/workflows/receipts');
    await admin('PUT', '/workflows/receipts/draft', { document: { ...receipts, name: 'Receipts v2', description: 'Coming soon.' }, baseRevision: workflow.draft?.revision ?? 0 });
    const preview = await context.newPage();
    await preview.goto(`${gateway.url}/portal/workflows/receipts?preview=receipts`);
    await preview.getByLabel('Admin token').fill(EDITOR);
    await preview.getByRole('button', { name: 'Sign in' }).click();
    await preview.getByRole('alert').filter({ hasText: 'may not preview' }).waitFor();
    await expect.poll(() => preview.getByRole('heading', { name: 'Receipts v2' }).count()).toBe(0);
    await preview.getByRole('button', { name: 'Sign out' }).click();
    await preview.getByLabel('Admin token').fill(PUBLISHER);
    await preview.getByRole('button', { name: 'Sign in' }).click();
    await preview.getByRole('heading', { name: 'Receipts v2', level: 1 }).waitFor();
    await expect.poll(() => preview.getByRole('status', { name: 'Preview' }).textContent()).toContain('not published');
    // the public page still shows what serves
    await page.goto(`${gateway.url}/portal/workflows/receipts`);
    await page.getByRole('heading', { name: 'Receipts', level: 1, exact: true }).waitFor();
    await expect.poll(() => page.getByRole('heading', { name: 'Receipts v2' }).count()).toBe(0);
    await preview.close();
  });

  it('made no request to any other origin', () => {
    const origin = new URL(gateway.url).origin;
    const elsewhere = requested.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin);
    expect(requested.some((url) => url.endsWith('/portal/assets/scalar.js'))).toBe(true);
    expect(elsewhere).toEqual([]);
  });
});
