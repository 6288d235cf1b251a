/**
 * Issue 18, defect 7 in a real Chromium: Import shows every problem of a document before anything
 * is stored, refuses a document whose envelope (route, top-level keys) is wrong, and imports a
 * half-drawn one only after its problems were shown.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn, watchErrors } from './support/browser.ts';

const EDITOR = 'import-editor-token-0123456789abcdef';
const answer = { id: 'answer', kind: 'respond', config: { body: { ok: true } } };
const odd = { id: 'odd', kind: 'teleport', config: {} };
const BROKEN = { id: 'imp-bad', name: 'Bad', route: { methods: ['GET'], path: 'no-slash' }, nodes: [odd, answer], edges: [], colour: 'red' };
const HALF = { id: 'imp-half', name: 'Half', route: { methods: ['GET'], path: '/imp/half' }, nodes: [odd, answer], edges: [] };

describe.runIf(chromiumAvailable())('importing a workflow from the list', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, workflows: [], settings: { SLUICE_ADMIN_TOKENS: `ivy:editor:${EDITOR}` } }), launchChromium()]);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, EDITOR);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  const stored = async (id: string) => (await gateway.fetch(`/admin/api/workflows/${id}`, { headers: { authorization: `Bearer ${EDITOR}` } })).status;
  const dialog = () => page.getByRole('dialog', { name: 'Import a workflow' });
  const paste = async (document: unknown) => {
    await page.getByRole('button', { name: 'Import…' }).click();
    await dialog().getByLabel('…or paste its JSON').fill(JSON.stringify(document));
    await dialog().getByRole('button', { name: 'Import', exact: true }).click();
  };

  it('refuses a bad route and an unknown key, listing them with the node problems, and stores nothing', async () => {
    await paste(BROKEN);
    await expect.poll(() => dialog().getByRole('alert').textContent()).toMatch(/Cannot import/);
    const list = dialog().getByRole('list', { name: 'Problems of the document' });
    const text = (await list.textContent()) ?? '';
    expect(text).toMatch(/route\.path/);
    expect(text).toMatch(/colour/);
    expect(text).toMatch(/node odd · kind/);
    await screenshot(page, 'import-refused');
    expect(await stored('imp-bad')).toBe(404);
    await dialog().getByRole('button', { name: 'Cancel' }).click();
  });

  it('shows a half-drawn draft’s problems first, and imports it on the second press', async () => {
    await paste(HALF);
    await dialog().getByRole('button', { name: 'Import with problems' }).waitFor();
    await expect.poll(() => dialog().getByRole('list', { name: 'Problems of the document' }).textContent()).toMatch(/node odd · kind/);
    expect(await stored('imp-half')).toBe(404);
    await dialog().getByRole('button', { name: 'Import with problems' }).click();
    await page.waitForURL(/#\/workflows\/imp-half$/);
    expect(await stored('imp-half')).toBe(200);
    expect(errors).toEqual([]);
  });

  it('in the editor, refuses a document with a bad envelope and leaves the drawing as it was', async () => {
    await page.locator('.react-flow__node').first().waitFor();
    const before = await page.locator('.react-flow__node').count();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog().getByLabel('…or paste its JSON').fill(JSON.stringify({ ...BROKEN, id: 'imp-half', nodes: [answer] }));
    await dialog().getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => dialog().getByRole('alert').textContent()).toMatch(/Cannot import/);
    await expect.poll(() => dialog().getByRole('list', { name: 'Problems of the document' }).textContent()).toMatch(/route\.path/);
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(before);
    expect(errors).toEqual([]);
  });
});
