/**
 * The workflow list's "Import OpenAPI…": a pasted OpenAPI 3 document becomes one draft per
 * operation (the same conversion as `sluice import openapi`), listed before anything is sent.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeScan } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, signIn, watchErrors } from './support/browser.ts';

const EDITOR = 'openapi-editor-token-0123456789';
const SPEC = JSON.stringify({
  openapi: '3.1.0',
  info: { title: 'Pets', version: '1' },
  paths: {
    '/pets': { get: { operationId: 'listPets', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer' } }] } },
    '/pets/{petId}': { delete: { operationId: 'deletePet', summary: 'Delete a pet' } },
  },
});

describe.runIf(chromiumAvailable())('importing an OpenAPI document in the editor', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ workflows: [], demo: false, settings: { SLUICE_ADMIN_TOKENS: `ed:editor:${EDITOR}` } }), launchChromium()]);
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, EDITOR);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('lists the operations, then makes one draft each', async () => {
    await page.getByRole('button', { name: 'Import OpenAPI…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import OpenAPI' });
    await dialog.getByLabel('…or paste it').fill(SPEC);
    await dialog.getByLabel('Identity').selectOption('none');
    const operations = dialog.getByRole('list', { name: 'Operations to import' });
    await expect.poll(() => operations.locator('li').allTextContents()).toEqual(['GET /pets → list-pets', 'DELETE /pets/:petId → delete-pet']);
    const serious = (await axeScan(page).include('dialog[open]').analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    expect(serious).toEqual([]);
    await dialog.getByRole('button', { name: 'Create 2 drafts' }).click();
    await expect.poll(() => dialog.getByRole('list', { name: 'Import results' }).locator('li').allTextContents()).toEqual(['list-pets: draft created', 'delete-pet: draft created']);

    const stored = (await (await gateway.fetch('/admin/api/workflows/list-pets', { headers: { authorization: `Bearer ${EDITOR}` } })).json()) as { draft: { document: { route: unknown; nodes: Array<{ kind: string }> } } };
    expect(stored.draft.document.route).toEqual({ methods: ['GET'], path: '/pets' });
    expect(stored.draft.document.nodes.map((n) => n.kind)).toEqual(['validate-request', 'proxy']);
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await expect.poll(() => page.getByRole('link', { name: /list-pets|listPets/ }).count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 120_000);

  it('says in words when the text is not OpenAPI 3', async () => {
    await page.getByRole('button', { name: 'Import OpenAPI…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import OpenAPI' });
    await dialog.getByLabel('…or paste it').fill('{"swagger": "2.0"}');
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('not an OpenAPI 3 document');
    await expect.poll(() => dialog.getByRole('button', { name: 'Create drafts' }).isDisabled()).toBe(true);
  });
});
