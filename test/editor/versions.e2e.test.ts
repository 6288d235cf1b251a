/**
 * Versions in a real Chromium: a past version opens read-only (canvas and inspector show its
 * document), the diff shows old and new values, a publish carries a note shown in the list, and a
 * rollback asks first naming both versions. The versions tab and a read-only version pass axe.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeProblems } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'versions-publisher-token-0123456789';

describe.runIf(chromiumAvailable())('versions: read-only view, values in the diff, notes, rollback', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);
  /** Saves the draft of orders with the rate limit at `limit`. */
  async function draftWithLimit(limit: number) {
    const workflow = await admin('GET', '/workflows/orders');
    const base = workflow.draft?.document ?? (await admin('GET', `/workflows/orders/versions/${workflow.active}`)).document;
    const document = { ...base, nodes: base.nodes.map((n: { id: string; config: object }) => (n.id === 'limit' ? { ...n, config: { ...n.config, limit } } : n)) };
    await admin('PUT', '/workflows/orders/draft', { document, baseRevision: workflow.draft?.revision ?? 0 });
  }
  const node = (id: string) => page.getByRole('group', { name: new RegExp(`(^| — )${id} \\(`) });
  const inspector = (id: string) => page.getByRole('region', { name: `Inspector: ${id}` });
  const status = () => page.locator('.statusline');

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `lee:publisher:${PUBLISHER}` } }), launchChromium()]);
    // v1 allows 100 a minute (as the example); v2 allows 50 and serves
    const start = await admin('GET', '/workflows/orders');
    if (start.active === null) await admin('POST', '/workflows/orders/publish');
    await draftWithLimit(50);
    await admin('POST', '/workflows/orders/publish');
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('opens version 1 read-only while version 2 serves: its canvas and inspector, nothing editable, a way back', async () => {
    const { active, versions } = await admin('GET', '/workflows/orders/versions');
    const old = versions.find((v: { version: number }) => v.version !== active).version;
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('tab', { name: /Versions/ }).click();
    await page.getByRole('region', { name: 'Versions' }).getByRole('link', { name: `Open version ${old} read-only` }).click();
    const banner = page.getByRole('region', { name: 'Version shown' });
    await banner.waitFor();
    await expect.poll(() => banner.textContent()).toContain(`Version ${old} (read-only) — back to draft`);
    expect(page.url()).toContain(`#/workflows/orders/versions/${old}`);
    await node('limit').click();
    const limit = inspector('limit').getByLabel(/^Limit/);
    await expect.poll(() => limit.inputValue()).toBe('100');
    expect(await limit.getAttribute('readonly')).not.toBeNull();
    await expect.poll(() => page.getByRole('button', { name: 'Save draft' }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole('button', { name: 'Publish…' }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole('button', { name: 'Delete node' }).isDisabled()).toBe(true);
    await screenshot(page, 'version-read-only');
    expect(await seriousAxeProblems(page, '.banner--version', '.sidebar')).toEqual([]);

    await banner.getByRole('link', { name: 'back to draft' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Version shown' }).count()).toBe(0);
    await node('limit').click();
    await expect.poll(() => inspector('limit').getByLabel(/^Limit/).inputValue()).toBe('50');
    expect(errors).toEqual([]);
  }, 60_000);

  it('shows the old and new value of each changed field in the diff', async () => {
    const { active } = await admin('GET', '/workflows/orders/versions');
    await page.getByRole('tab', { name: /Versions/ }).click();
    const versions = page.getByRole('region', { name: 'Versions' });
    await versions.getByLabel('Compare from').selectOption(String(active - 1));
    await versions.getByLabel('Compare to').selectOption(String(active));
    await versions.getByRole('button', { name: 'Show changes' }).click();
    const changes = page.getByRole('region', { name: 'Changes' });
    await changes.waitFor();
    await expect.poll(() => changes.getByRole('list', { name: 'Old and new values' }).textContent()).toBe('"limit": 100 → 50');
    // the changed node on the canvas says it too
    await expect.poll(() => page.locator('.react-flow__node[data-id="limit"] [title^="Changed"]').getAttribute('title')).toBe('Changed: "limit": 100 → 50');
    await screenshot(page, 'version-diff-values');
    await page.getByRole('region', { name: 'Comparison' }).getByRole('button', { name: 'Close comparison' }).click();
  }, 60_000);

  it('publishes with a note, and the note shows in the versions list', async () => {
    await draftWithLimit(60);
    await openWorkflow(page, gateway.url, 'orders');
    await page.getByRole('button', { name: 'Publish…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Publish orders' });
    await expect.poll(() => dialog.textContent()).toContain('"limit": 50 → 60');
    await dialog.getByLabel(/^Note/).fill('Sixty a minute for the partner launch');
    await dialog.getByRole('button', { name: 'Publish now' }).click();
    await expect.poll(() => status().textContent(), { timeout: 10_000 }).toMatch(/Published version \d+/);
    const { active, versions } = await admin('GET', '/workflows/orders/versions');
    expect(versions.find((v: { version: number }) => v.version === active).note).toBe('Sixty a minute for the partner launch');
    await page.getByRole('tab', { name: /Versions/ }).click();
    const list = page.getByRole('region', { name: 'Versions' });
    await expect.poll(() => list.getByLabel(`Note of version ${active}`).textContent()).toBe('Sixty a minute for the partner launch');
    await screenshot(page, 'version-note');
    expect(await seriousAxeProblems(page, '.versions')).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);

  it('asks before a rollback, naming the version that will serve and the one serving now', async () => {
    const { active } = await admin('GET', '/workflows/orders/versions');
    const versions = page.getByRole('region', { name: 'Versions' });
    await versions.getByRole('button', { name: `Make version ${active - 2} active` }).click();
    const dialog = page.getByRole('dialog', { name: `Serve version ${active - 2} instead of version ${active}?` });
    await dialog.waitFor();
    await expect.poll(() => dialog.textContent()).toContain(`in place of version ${active}; version ${active} stays published`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await admin('GET', '/workflows/orders')).active).toBe(active);
    await versions.getByRole('button', { name: `Make version ${active - 2} active` }).click();
    await dialog.getByRole('button', { name: `Serve version ${active - 2}` }).click();
    await expect.poll(async () => (await admin('GET', '/workflows/orders')).active).toBe(active - 2);
    expect(errors).toEqual([]);
  }, 60_000);
});
