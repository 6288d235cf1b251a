/**
 * Archive, restore and delete in a real Chromium, and what the editor keeps from being lost or
 * misread: the list archives with a confirmation (and an optional reason), hides archived
 * workflows behind a count, restores them; the editor of an archived workflow is read-only with a
 * Restore; roles without publish see the buttons disabled with the reason; a hash change away from
 * unsaved edits asks first (Stay puts the hash back, Discard goes); in Live mode the workflow
 * settings are the served version's, not the draft's.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'archive-publisher-token-0123456789';
const EDITOR = 'archive-editor-token-0123456789';

describe.runIf(chromiumAvailable())('archive, restore and the editor’s guards', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const admin = adminAs(() => gateway, PUBLISHER);
  const status = async (path: string) => (await gateway.fetch(path)).status;

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${PUBLISHER},eddie:editor:${EDITOR}` } }), launchChromium()]);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('archives from the list after a confirmation with a reason; the route answers 404 and the row moves to the archived section', async () => {
    expect(await status('/api/status')).toBe(200);
    await signIn(page, gateway.url, PUBLISHER);
    const main = page.getByRole('table', { name: 'Workflows' });
    await main.getByRole('button', { name: 'Archive Public status' }).click();
    const dialog = page.getByRole('dialog', { name: 'Archive Public status (status)' });
    await expect.poll(() => dialog.textContent()).toContain('It stops serving version 1 now');
    // Cancel does nothing
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await admin('GET', '/workflows/status')).archived).toBeNull();
    await main.getByRole('button', { name: 'Archive Public status' }).click();
    await dialog.getByLabel('Reason (optional, kept in the audit log)').fill('replaced by the health page');
    await screenshot(page, 'archive-confirm');
    await dialog.getByRole('button', { name: 'Archive', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Archived Public status' }).count()).toBe(1);
    expect(await status('/api/status')).toBe(404);
    expect((await admin('GET', '/workflows/status')).archived).toMatchObject({ by: 'pia', reason: 'replaced by the health page', version: 1 });
    await expect.poll(() => main.getByRole('link', { name: 'Public status' }).count()).toBe(0);

    // Hidden behind a count until asked for.
    await expect.poll(() => page.getByRole('table', { name: 'Archived workflows' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Show archived (1)' }).click();
    const archived = page.getByRole('table', { name: 'Archived workflows' });
    await expect.poll(() => archived.textContent()).toContain('replaced by the health page');
    await screenshot(page, 'archived-section');
    expect(errors).toEqual([]);
  }, 60_000);

  it('the editor of an archived workflow is read-only with a banner, and Restore serves it again', async () => {
    await page.getByRole('table', { name: 'Archived workflows' }).getByRole('link', { name: 'Public status' }).click();
    const banner = page.getByRole('note', { name: 'Archived' });
    await expect.poll(() => banner.textContent()).toContain('replaced by the health page');
    await page.locator('.react-flow__node').first().waitFor();
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('readonly')).not.toBeNull();
    await screenshot(page, 'archived-editor');
    await banner.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'version 1 serves again' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('note', { name: 'Archived' }).count()).toBe(0);
    expect(await status('/api/status')).toBe(200);
    await expect.poll(async () => page.getByLabel('Name', { exact: true }).getAttribute('readonly')).toBeNull();
    expect(errors).toEqual([]);
  }, 60_000);

  it('restores from the archived section, and deletes a workflow that was never published', async () => {
    await admin('POST', '/workflows/status/archive', {});
    await admin('POST', '/workflows', { document: { id: 'scratch', name: 'Scratch pad', route: { methods: ['GET'], path: '/scratch' }, nodes: [], edges: [] } });
    await page.goto(`${gateway.url}/editor/#/`);
    await page.getByRole('button', { name: 'Show archived (1)' }).click();
    await page.getByRole('table', { name: 'Archived workflows' }).getByRole('button', { name: 'Restore Public status' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Restored Public status (status): version 1 serves again' }).count()).toBe(1);
    expect(await status('/api/status')).toBe(200);
    await expect.poll(() => page.getByRole('button', { name: /archived \(/ }).count()).toBe(0);

    const main = page.getByRole('table', { name: 'Workflows' });
    await expect.poll(() => main.getByRole('button', { name: 'Delete Public status' }).count()).toBe(0); // it has versions
    await main.getByRole('button', { name: 'Delete Scratch pad' }).click();
    await page.getByRole('dialog', { name: 'Delete Scratch pad (scratch)' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => main.getByRole('link', { name: 'Scratch pad' }).count()).toBe(0);
    const gone = await gateway.fetch('/admin/api/workflows/scratch', { headers: { authorization: `Bearer ${PUBLISHER}` } });
    expect(gone.status).toBe(404);
    expect(errors).toEqual([]);
  }, 60_000);

  it('an editor sees Archive and Delete disabled, saying why', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const other = await context.newPage();
    await signIn(other, gateway.url, EDITOR);
    const button = other.getByRole('table', { name: 'Workflows' }).getByRole('button', { name: 'Archive Orders API' });
    await expect.poll(() => button.isDisabled()).toBe(true);
    await expect.poll(() => button.getAttribute('title')).toBe('The editor role cannot archive, restore or delete workflows (needs publisher or admin)');
    await context.close();
  }, 60_000);

  it('a hash change away from unsaved edits asks first: Stay keeps the edits and the hash, Discard goes', async () => {
    await openWorkflow(page, gateway.url, 'orders');
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('Orders API, edited');
    await page.evaluate(() => (window.location.hash = '#/workflows/order-detail'));
    const dialog = page.getByRole('dialog', { name: 'Unsaved changes' });
    await expect.poll(() => dialog.count()).toBe(1);
    await screenshot(page, 'unsaved-hash-change');
    await dialog.getByRole('button', { name: 'Stay' }).click();
    expect(await page.evaluate(() => window.location.hash)).toBe('#/workflows/orders');
    await expect.poll(() => name.inputValue()).toBe('Orders API, edited');
    await expect.poll(() => page.getByRole('heading', { name: /Orders API/ }).count()).toBeGreaterThan(0);

    await page.evaluate(() => (window.location.hash = '#/workflows/order-detail'));
    await dialog.getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue()).toBe('Order detail');
    expect(await page.evaluate(() => window.location.hash)).toBe('#/workflows/order-detail');
    // Nothing unsaved now: a hash change just goes.
    await page.evaluate(() => (window.location.hash = '#/workflows/orders'));
    await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue()).toBe('Orders API');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);

  it('in Live mode the workflow settings are the served version’s, read-only, not the draft’s', async () => {
    const workflow = await admin('GET', '/workflows/orders');
    const served = workflow.draft?.document ?? (await admin('GET', `/workflows/orders/versions/${workflow.active}`)).document;
    await admin('PUT', '/workflows/orders/draft', { document: { ...served, name: 'Orders API (draft rename)' }, baseRevision: workflow.draft?.revision ?? 0 });
    await openWorkflow(page, gateway.url, 'orders');
    await page.reload(); // the same hash: load the renamed draft
    await page.locator('.react-flow__node').first().waitFor();
    const name = page.getByLabel('Name', { exact: true });
    await expect.poll(() => name.inputValue()).toBe('Orders API (draft rename)');
    await page.getByRole('button', { name: 'Live' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Workflow — version 1, as served' }).count()).toBe(1);
    await expect.poll(() => name.inputValue()).toBe('Orders API');
    expect(await name.getAttribute('readonly')).not.toBeNull();
    await screenshot(page, 'live-settings');
    await page.getByRole('button', { name: 'Live' }).click();
    await expect.poll(() => name.inputValue()).toBe('Orders API (draft rename)');
    expect(errors).toEqual([]);
  }, 60_000);

  it('while an invalid expression is typed the problem count stays, and goes only once the expression is fixed', async () => {
    const inspector = page.getByRole('region', { name: 'Inspector: shape' });
    // The canvas fits the draft again after Live: click until the node is selected.
    await expect.poll(async () => {
      await page.locator('.react-flow__node[data-id="shape"]').click();
      return inspector.count();
    }).toBe(1);
    const field = inspector.locator('.cm-content').first(); // a JSONata field (CodeMirror)
    const summary = page.getByRole('region', { name: 'Problems' }).getByRole('status');
    await field.fill('{ "a": $count(');
    await expect.poll(() => summary.textContent()).toBe('1 problem');
    // Typing on, every prefix still invalid: each keystroke starts a check, and the count stays meanwhile.
    const seen: string[] = [];
    for (const ch of 'request.query.x') {
      await field.press(ch === '.' ? 'Period' : ch);
      await page.waitForTimeout(120);
      seen.push((await summary.textContent()) ?? '');
    }
    expect(seen.filter((text) => !text.startsWith('1 problem'))).toEqual([]);
    expect(seen.some((text) => text === '1 problem (checking…)')).toBe(true);
    await field.press(')');
    await field.press('Space');
    await field.press('}');
    await expect.poll(() => summary.textContent()).toBe('No problems');
    expect(errors).toEqual([]);
  }, 60_000);
});
