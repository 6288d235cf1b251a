/**
 * What the editor says to a person, in a real Chromium: publishing is not offered while the draft
 * has problems, problems read as plain sentences and are said once, and questions are asked in
 * the editor's own dialogs, never the browser's window.confirm or window.prompt.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, screenshot, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'messages-publisher-token-0123456789';
/** zod's own English wording, which must never reach a person. */
const ZOD_WORDING = /Too small|Too big|Invalid input|Invalid option|Unrecognized key|expected \w+, received|>=|<=/;

const DOCUMENT = {
  id: 'words',
  name: 'Words',
  route: { methods: ['GET'], path: '/api/words' },
  nodes: [
    { id: 'check', kind: 'condition', config: { when: 'request.query.deny = "1"' } },
    { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } },
    { id: 'answer', kind: 'respond', config: { body: { words: true } } },
  ],
  edges: [
    { from: 'check', port: 'true', to: 'deny' },
    { from: 'check', port: 'false', to: 'answer' },
  ],
};

describe.runIf(chromiumAvailable())('what the editor says to a person', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** Messages of the browser's own dialogs (window.confirm, window.prompt): there must be none. */
  const natives: string[] = [];

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: true, workflows: [], settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${PUBLISHER}` } }), launchChromium()]);
    const created = await gateway.fetch('/admin/api/workflows', { method: 'POST', headers: { authorization: `Bearer ${PUBLISHER}`, 'content-type': 'application/json' }, body: JSON.stringify({ document: DOCUMENT }) });
    expect(created.status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    page.on('dialog', (dialog) => {
      natives.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await signIn(page, gateway.url, PUBLISHER);
    await openWorkflow(page, gateway.url, 'words');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  const problems = () => page.getByRole('region', { name: 'Problems' });
  const problemsSaid = () => problems().getByRole('status').textContent();
  const inspector = (id: string) => page.getByRole('region', { name: `Inspector: ${id}` });
  const publishButton = () => page.getByRole('button', { name: 'Publish…' });
  const condition = () => inspector('check').getByLabel(/^Condition/);
  const select = async (id: string) => {
    await page.locator(`.react-flow__node[data-id="${id}"]`).click();
    await inspector(id).waitFor();
  };
  /** Opens the problems list and answers its text. */
  const problemList = async () => {
    if ((await problems().getByRole('button', { expanded: false }).count()) > 0) await problems().getByRole('button', { expanded: false }).click();
    return (await page.locator('#problems-list').textContent()) ?? '';
  };

  it('publish is not offered while the draft has problems, and says why', async () => {
    await expect.poll(problemsSaid).toBe('No problems');
    await expect.poll(() => publishButton().isDisabled()).toBe(false);
    await select('check');
    await condition().fill('');
    await expect.poll(problemsSaid).toBe('1 problem');
    await expect.poll(() => publishButton().isDisabled()).toBe(true);
    await expect.poll(() => publishButton().getAttribute('aria-description')).toMatch(/has 1 problem: fix it before publishing/);
    await expect.poll(() => publishButton().getAttribute('title')).toMatch(/has 1 problem/);
    // the problem in plain words, on the field and in the list
    await expect.poll(() => inspector('check').locator('.field__problems').textContent()).toBe('is required');
    const listed = await problemList();
    expect(listed).toContain('is required');
    expect(listed).not.toMatch(ZOD_WORDING);
    await screenshot(page, 'messages-publish-blocked');
    await condition().fill('request.query.deny = "1"');
    await expect.poll(problemsSaid).toBe('No problems');
    await expect.poll(() => publishButton().isDisabled()).toBe(false);
  });

  it('the publish dialog never offers "Publish now" while the check runs or finds problems', async () => {
    // the check of the change is held back, so the dialog opens before it answers
    await page.route('**/admin/api/workflows/words/validate', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await condition().fill('request.query.deny = ');
    await publishButton().click();
    const dialog = page.getByRole('dialog', { name: 'Publish words' });
    await dialog.waitFor();
    await expect.poll(() => dialog.getByRole('button', { name: 'Publish now' }).count()).toBe(0);
    await expect.poll(() => dialog.getByRole('alert').textContent(), { timeout: 10_000 }).toContain('cannot be published');
    await expect.poll(() => dialog.getByRole('button', { name: 'Publish now' }).count()).toBe(0);
    await expect.poll(() => dialog.getByRole('button', { name: 'Checking the draft…' }).count()).toBe(0);
    await screenshot(page, 'messages-publish-dialog-problems');
    await dialog.getByRole('button', { name: 'Close' }).first().click();
    await page.unroute('**/admin/api/workflows/words/validate');
    const versions = (await (await gateway.fetch('/admin/api/workflows/words', { headers: { authorization: `Bearer ${PUBLISHER}` } })).json()) as { versions: unknown[] };
    expect(versions.versions).toEqual([]);
  });

  it('one JSONata error is said once in the inspector and once in the problems panel', async () => {
    await expect.poll(problemsSaid, { timeout: 10_000 }).not.toMatch(/checking…/i);
    expect(await problemsSaid()).toBe('1 problem');
    const said = inspector('check').getByText(/end of expression/);
    await expect.poll(() => said.count()).toBe(1);
    const listed = await problemList();
    expect(listed.match(/end of expression/g)).toHaveLength(1);
    await screenshot(page, 'messages-jsonata-once');
    await condition().fill('request.query.deny = "1"');
    await expect.poll(problemsSaid).toBe('No problems');
  });

  it('says "an error node", and asks its questions in its own dialogs', async () => {
    await select('deny');
    await expect.poll(() => inspector('deny').textContent()).toContain('An error node ends the request');

    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('.statusline').textContent()).toMatch(/Saved draft revision \d+/);
    await publishButton().click();
    await page.getByRole('dialog', { name: 'Publish words' }).getByRole('button', { name: 'Publish now' }).click();
    await expect.poll(() => page.locator('.statusline').textContent(), { timeout: 10_000 }).toContain('Published version 1');

    // retiring a version asks first
    await page.getByRole('tab', { name: /Versions/ }).click();
    await page.getByRole('button', { name: 'Retire version 1' }).click();
    const retire = page.getByRole('dialog', { name: 'Retire version 1?' });
    await expect.poll(() => retire.textContent()).toContain('410 Gone');
    await screenshot(page, 'messages-retire-question');
    await retire.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => retire.count()).toBe(0);

    // leaving with unsaved changes asks first; staying keeps them
    await page.getByRole('tab', { name: 'Inspector' }).click();
    await select('check');
    await inspector('check').getByLabel('Label', { exact: true }).fill('Deny on request');
    await page.getByRole('link', { name: '← Workflows' }).click();
    const leave = page.getByRole('dialog', { name: 'Leave without saving?' });
    await leave.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => inspector('check').getByLabel('Label', { exact: true }).inputValue()).toBe('Deny on request');
    await page.getByRole('link', { name: '← Workflows' }).click();
    await leave.getByRole('button', { name: 'Leave without saving' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();

    const active = (await (await gateway.fetch('/admin/api/workflows/words', { headers: { authorization: `Bearer ${PUBLISHER}` } })).json()) as { active: number | null };
    expect(active.active).toBe(1);
    expect(natives).toEqual([]);
    expect(errors.filter((e) => !/422|Unprocessable/.test(e))).toEqual([]);
  }, 60_000);

  it('a preview path on the canvas is cleared by another tab and by an edit', async () => {
    await openWorkflow(page, gateway.url, 'words');
    const dimmed = () => page.locator('.kind-node--off-path').count();
    const preview = page.getByRole('region', { name: 'Preview' });
    const run = async () => {
      await page.getByRole('tab', { name: 'Preview' }).click();
      await preview.getByRole('button', { name: 'Run preview' }).click();
      await expect.poll(dimmed).toBe(1);
    };
    await run();
    await page.getByRole('tab', { name: /Versions/ }).click();
    await expect.poll(dimmed).toBe(0);
    await run();
    await page.getByRole('tab', { name: 'Contract' }).click();
    await expect.poll(dimmed).toBe(0);
    // an edit: the path drawn is no longer the workflow's
    await run();
    await page.locator('.react-flow__node[data-id="deny"]').click();
    expect(await dimmed()).toBe(1); // selecting is not an edit
    await page.keyboard.press('Delete');
    await expect.poll(() => page.locator('.react-flow__node[data-id="deny"]').count()).toBe(0);
    await expect.poll(dimmed).toBe(0);
    await expect.poll(() => page.locator('.kind-node--on-path').count()).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('.react-flow__node[data-id="deny"]').count()).toBe(1);
    expect(natives).toEqual([]);
  }, 60_000);
});
