/**
 * A canary in a real Chromium: started from the draft on the Versions tab, both versions' requests
 * and error rates side by side as traffic arrives, then promoted. The canary section passes axe.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeProblems } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'canary-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('canary on the Versions tab', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lee:publisher:${PUBLISHER}`, SLUICE_CANARY_CHECK: '100ms' } }), launchChromium()]);
    const start = await admin('GET', '/workflows/orders');
    if (start.active === null) await admin('POST', '/workflows/orders/publish');
    // a draft that differs from the active version: the rate limit at 50
    const workflow = await admin('GET', '/workflows/orders');
    const base = workflow.draft?.document ?? (await admin('GET', `/workflows/orders/versions/${workflow.active}`)).document;
    const document = { ...base, nodes: base.nodes.map((n: { id: string; config: object }) => (n.id === 'limit' ? { ...n, config: { ...n.config, limit: 50 } } : n)) };
    await admin('PUT', '/workflows/orders/draft', { document, baseRevision: workflow.draft?.revision ?? 0 });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('starts a canary from the draft, shows both sides as requests arrive, and promotes it', async () => {
    const { active } = await admin('GET', '/workflows/orders/versions');
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('tab', { name: /Versions/ }).click();
    const canary = page.getByRole('region', { name: 'Canary' });
    await canary.getByLabel('Candidate', { exact: true }).selectOption('draft');
    await canary.getByLabel('Share to the candidate (%)').fill('40');
    await canary.getByLabel('Keep each caller on one version by').selectOption('random');
    await canary.getByRole('button', { name: 'Start canary' }).click();
    await expect.poll(() => page.locator('.statusline').textContent(), { timeout: 10_000 }).toContain('Canary started: 40% of the requests go to the candidate');
    const heading = canary.getByRole('heading', { name: `Canary: version ${active + 1} beside version ${active}` });
    await heading.waitFor();
    expect((await admin('GET', '/workflows/orders')).canary).toMatchObject({ version: active + 1, share: 40, sticky: { by: 'random' } });

    // traffic without a token: both sides refuse it (a problem answer), and both count it
    for (let i = 0; i < 60; i++) await (await gateway.fetch('/api/orders')).arrayBuffer();
    const sides = canary.getByRole('table', { name: 'Both versions side by side' });
    await expect.poll(async () => (await sides.textContent()) ?? '', { timeout: 10_000 }).toMatch(new RegExp(`Active v${active}\\d+ requests100\\.0% errors or problemsCandidate v${active + 1}\\d+ requests100\\.0% errors or problems`));
    // each side's first line is its count of requests; the table refreshes as counts come in, so
    // a first look may find some of the 60 (seen once in CI under load): wait for all of them
    const counted = () => Promise.all([0, 1].map(async (i) => Number.parseInt((await sides.locator('td').nth(i).locator('div').first().textContent())!, 10)));
    await expect.poll(async () => (await counted()).reduce((sum, n) => sum + n, 0), { timeout: 10_000 }).toBe(60);
    expect((await counted()).every((n) => n > 0)).toBe(true);
    await screenshot(page, 'canary-running');
    expect(await seriousAxeProblems(page, '.canary')).toEqual([]);

    await canary.getByRole('button', { name: `Promote version ${active + 1}` }).click();
    await expect.poll(() => page.locator('.statusline').textContent(), { timeout: 10_000 }).toContain(`Version ${active + 1} serves every request now`);
    expect(await admin('GET', '/workflows/orders/canary')).toMatchObject({ canary: null, active: active + 1 });
    await expect.poll(() => canary.getByRole('heading', { name: /beside/ }).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 90_000);
});
