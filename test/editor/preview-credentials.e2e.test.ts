/**
 * "Run as partner" beyond API keys, in a real Chromium: for a workflow that identifies partners by
 * client certificate, the picker offers each partner's registered certificates (and not its keys,
 * which no node of this workflow reads); the preview runs as the partner against the real upstream
 * for a publisher, mocked for an editor, and a saved sample keeps only the reference.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const TOKENS = { publisher: 'pcred-publisher-token-0123456789', editor: 'pcred-editor-token-0123456789' };
const FINGERPRINT = '0f'.repeat(32);

const certs = {
  id: 'certs',
  name: 'Orders by client certificate',
  route: { methods: ['GET'], path: '/api/cert-orders' },
  nodes: [
    { id: 'who', kind: 'client-cert', config: {} },
    { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_ORDERS}', timeout: '5s' } },
  ],
  edges: [{ from: 'who', port: 'ok', to: 'call' }],
};
/** Partners by opaque token: the authorization server named here does not exist, and a preview never asks it. */
const tokens = {
  id: 'tokens',
  name: 'Orders by introspected token',
  route: { methods: ['GET'], path: '/api/token-orders' },
  nodes: [
    { id: 'who', kind: 'introspect', config: { endpoint: 'https://auth.invalid/introspect', clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_NOT_SET' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } },
  ],
  edges: [{ from: 'who', port: 'ok', to: 'answer' }],
};

describe.runIf(chromiumAvailable())('preview as a partner\'s client certificate', () => {
  let gateway: TestGateway;
  let upstream: TestUpstream;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let certificateId = '';
  let keyPrefix = '';

  const admin = async (method: string, path: string, body?: unknown) => {
    const answer = await gateway.fetch(`/admin/api${path}`, { method, headers: { authorization: `Bearer ${TOKENS.publisher}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: answer.status, body: (await answer.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    await ensureEditorBuilt();
    upstream = await startUpstream();
    [gateway, browser] = await Promise.all([
      startTestGateway({ demo: false, workflows: [certs, tokens], env: { SLUICE_UPSTREAM_ORDERS: upstream.url }, settings: { SLUICE_ADMIN_TOKENS: `pat:publisher:${TOKENS.publisher},eve:editor:${TOKENS.editor}` } }),
      launchChromium(),
    ]);
    expect((await admin('POST', '/partners', { id: 'acme', name: 'Acme', clientIds: ['acme-client'] })).status).toBe(201);
    const cert = await admin('POST', '/partners/acme/certificates', { match: 'fingerprint', value: FINGERPRINT });
    expect(cert.status).toBe(201);
    certificateId = cert.body.id;
    const key = await admin('POST', '/partners/acme/keys', { scopes: ['orders:read'] });
    expect(key.status).toBe(201);
    keyPrefix = key.body.prefix;
    await gateway.sluice.registry.whenApplied((await gateway.sluice.store.state()).revision);
    page = await newPage(TOKENS.publisher);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await upstream?.close();
  });

  async function newPage(token: string, workflow = 'certs') {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await context.newPage();
    errors = watchErrors(p);
    await signIn(p, gateway.url, token);
    await openWorkflow(p, gateway.url, workflow);
    await p.getByRole('tab', { name: 'Preview' }).click();
    return p;
  }
  const preview = () => page.getByRole('region', { name: 'Preview' });
  const certificateOption = `acme — certificate (fingerprint ${FINGERPRINT.slice(0, 8)}…)`;

  it('offers the certificates the client-cert node matches (not the partner\'s keys), runs as the partner against the real upstream, saves the reference', async () => {
    const picker = preview().getByLabel('Run as partner');
    await expect.poll(() => picker.locator('option').allTextContents()).toContain(certificateOption);
    const offered = await picker.locator('option').allTextContents();
    expect(offered.join('\n')).not.toContain(`sk_${keyPrefix}`);
    expect(offered.join('\n')).not.toMatch(/HMAC|introspected/);
    await picker.selectOption({ label: certificateOption });
    await expect.poll(() => preview().locator('#preview-partner-key-help').textContent()).toMatch(/presents a verified client certificate/);
    await preview().getByLabel('Mock the upstream').uncheck();
    const before = upstream.received.length;
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    expect(upstream.received.length).toBe(before + 1);
    await preview().getByRole('button', { name: /^who → ok/ }).click();
    const detail = preview().getByLabel('Node who input and output');
    await expect.poll(() => detail.textContent()).toContain('"partner": "acme"');
    await screenshot(page, 'preview-credentials-certificate');

    await preview().getByRole('button', { name: 'Save sample' }).click();
    const naming = page.getByRole('dialog', { name: 'Save the sample request' });
    await naming.getByLabel('Name of the sample request').fill('acme by certificate');
    await naming.getByRole('button', { name: 'Save sample' }).click();
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.statusline').textContent()).toMatch(/Saved draft revision \d+/);
    const draft = await admin('GET', '/workflows/certs');
    const sample = (draft.body.draft.document.samples as Array<{ name: string; request: Record<string, unknown> }>).find((s) => s.name === 'acme by certificate');
    expect(sample?.request.clientCert).toEqual({ partner: 'acme', certificate: certificateId });
    expect(errors).toEqual([]);
  }, 60_000);

  it('an editor runs the certificate against a mocked upstream only: the mock is locked on, the real upstream is not called', async () => {
    page = await newPage(TOKENS.editor);
    await preview().getByLabel('Mock the upstream').uncheck();
    const picker = preview().getByLabel('Run as partner');
    await expect.poll(() => picker.locator('option').allTextContents()).toContain(certificateOption);
    await picker.selectOption({ label: certificateOption });
    await expect.poll(() => preview().locator('#preview-partner-key-help').textContent()).toMatch(/editor role runs a partner's credential against a mocked upstream only/);
    const mock = preview().getByLabel('Mock the upstream');
    expect([await mock.isChecked(), await mock.isDisabled()]).toEqual([true, true]);
    await preview().getByLabel('Mock status').fill('202');
    const before = upstream.received.length;
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 202').count()).toBe(1);
    expect(upstream.received.length).toBe(before);
    await screenshot(page, 'preview-credentials-editor');
    expect(errors).toEqual([]);
  }, 60_000);

  it('for a workflow that introspects tokens, offers an introspected token per partner, with the scopes it grants', async () => {
    page = await newPage(TOKENS.publisher, 'tokens');
    const picker = preview().getByLabel('Run as partner');
    const option = 'acme — introspected token (client acme-client)';
    await expect.poll(() => picker.locator('option').allTextContents()).toContain(option);
    expect((await picker.locator('option').allTextContents()).join('\n')).not.toMatch(/certificate|sk_/);
    await picker.selectOption({ label: option });
    await preview().getByLabel('Introspected token scopes').fill('orders:read orders:write');
    await picker.scrollIntoViewIfNeeded();
    await screenshot(page, 'preview-credentials-introspected-picker');
    await preview().getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview().getByLabel('Answer status 200').count()).toBe(1);
    await preview().getByRole('button', { name: /^who → ok/ }).click();
    const detail = await preview().getByLabel('Node who input and output').textContent();
    expect(detail).toContain('"partner": "acme"');
    expect(detail).toContain('"orders:write"');
    expect(detail).not.toMatch(/preview_[A-Za-z0-9_-]{8}/);
    await screenshot(page, 'preview-credentials-introspected');
    expect(errors).toEqual([]);
  }, 60_000);
});
