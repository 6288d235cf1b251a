/**
 * Live mode in a real Chromium against a real gateway: traffic of a scripted mix is drawn over
 * the served version, non-zero on the edges requests took and zero on the others.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDemoToken } from '../../engine/demo/keys.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const ADMIN = 'live-viewer-token-0123456789';

describe.runIf(chromiumAvailable())('live traffic on the canvas', () => {
  let gateway: TestGateway;
  let llm: TestUpstream;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    // an OpenAI-compatible upstream for an llm proxy: usage 11 in, 7 out per answer
    llm = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } }));
    });
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, env: { SLUICE_UPSTREAM_LLM: llm.url }, settings: { SLUICE_ADMIN_TOKENS: `vic:viewer:${ADMIN}` } }), launchChromium()]);
    await gateway.putWorkflow({ id: 'chat', name: 'Chat', route: { methods: ['POST'], path: '/llm/*' }, nodes: [{ id: 'llm', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: '/llm', llm: { api: 'openai', models: ['gpt-4o-mini'] } } }], edges: [] });
    for (let i = 0; i < 2; i++) {
      const res = await gateway.fetch('/llm/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(res.status).toBe(200);
      await res.text();
    }
    // The example orders workflow: verify → scopes → limit → call → shape.
    const reader = await signDemoToken(gateway.dataDir, { sub: 'alice', scopes: ['orders:read'], partner: 'acme' });
    const stranger = await signDemoToken(gateway.dataDir, { sub: 'bob', scopes: ['profile'], partner: 'globex' });
    for (let i = 0; i < 4; i++) expect((await gateway.fetch('/api/orders', { headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
    expect((await gateway.fetch('/api/orders', { headers: { authorization: `Bearer ${stranger}` } })).status).toBe(403);
    expect((await gateway.fetch('/api/orders')).status).toBe(401);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await llm?.close();
  });

  it('shows non-zero counts on the edges traffic took and zero on the others', async () => {
    await signIn(page, gateway.url, ADMIN);
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('button', { name: 'Live' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Live' }).getAttribute('aria-pressed')).toBe('true');
    const summary = page.getByRole('status', { name: 'Live outcomes' });
    await expect.poll(() => summary.textContent()).toContain('last minute: 6 requests');
    await expect.poll(() => summary.getByLabel('ok: 4').count()).toBe(1);
    await expect.poll(() => summary.getByLabel('denied: 1').count()).toBe(1);
    await expect.poll(() => summary.getByLabel('invalid_credentials: 1').count()).toBe(1);

    // Ports: taken counts on the nodes (verify ran 6 times: 5 ok, 1 missing)
    await expect.poll(() => page.getByLabel('ok taken 5 times').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByLabel('missing taken 1 times').count()).toBe(1);
    await expect.poll(() => page.getByLabel('Live: verify ran 6 times').count()).toBe(1);
    await expect.poll(() => page.getByLabel('Live: shape ran 4 times').count()).toBe(1);

    // Edges: the canvas's edges carry their counts; every edge of the happy path was taken
    const labels = await page.locator('.react-flow__edge').evaluateAll((els) => els.map((e) => `${e.getAttribute('aria-label')}|${e.getAttribute('class')}`));
    expect(labels).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Edge verify ok to scopes: 5 requests\|.*edge--taken/),
        expect.stringMatching(/^Edge scopes ok to limit: 4 requests\|.*edge--taken/),
        expect.stringMatching(/^Edge limit ok to call: 4 requests\|.*edge--taken/),
        expect.stringMatching(/^Edge call ok to shape: 4 requests\|.*edge--taken/),
      ]),
    );
    await screenshot(page, 'live-all-partners');

    // A partner filter: globex got past verify and was stopped by the scope check
    await page.getByLabel('Partner filter').selectOption('globex');
    await expect.poll(() => summary.textContent()).toContain('globex');
    await expect.poll(async () => page.locator('.react-flow__edge.edge--taken').count()).toBe(1);
    const filtered = await page.locator('.react-flow__edge').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(filtered).toEqual(expect.arrayContaining(['Edge verify ok to scopes: 1 requests', 'Edge scopes ok to limit: 0 requests', 'Edge limit ok to call: 0 requests']));
    await expect.poll(() => page.getByLabel('denied taken 1 times').count()).toBe(1);
    await screenshot(page, 'live-partner-filter');
    expect(errors).toEqual([]);
  });

  it('shows the tokens of a workflow that calls an LLM, and no token line for one that does not', async () => {
    await openWorkflow(page, gateway.url, 'chat');
    const live = page.getByRole('button', { name: 'Live' });
    if ((await live.getAttribute('aria-pressed')) !== 'true') await live.click();
    if ((await page.getByLabel('Partner filter').count()) > 0) await page.getByLabel('Partner filter').selectOption('');
    const summary = page.getByRole('status', { name: 'Live outcomes' });
    await expect.poll(() => summary.textContent()).toContain('last minute: 2 requests');
    await expect.poll(() => summary.getByLabel('LLM tokens').textContent()).toBe('LLM tokens since start: 22 in · 14 out');
    await screenshot(page, 'live-llm-tokens');
    await openWorkflow(page, gateway.url, 'orders');
    if ((await live.getAttribute('aria-pressed')) !== 'true') await live.click();
    await expect.poll(() => summary.textContent()).toContain('last minute: 6 requests');
    await expect.poll(() => summary.getByLabel('LLM tokens').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
