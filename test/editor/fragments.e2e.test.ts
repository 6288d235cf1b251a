/**
 * Fragments (shared flows) in a real Chromium against a real gateway: a fragment and a workflow
 * are made through the admin API; in the workflow a subflow node is added, the fragment picked,
 * and its exits appear as the node's ports; the node opens the fragment in its editor, where the
 * exits are exit nodes; the fragments page lists the workflow under "used by"; a publish that
 * would break the workflow is refused naming it, a harmless one lists it as checked. Screenshots
 * of each screen go to the system's temporary directory.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { portNode, workflow } from '../helpers/workflow.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, signIn, watchErrors } from './support/browser.ts';

const PUBLISHER = 'fragments-publisher-token-0123456789';
const VIEWER = 'fragments-viewer-token-0123456789';

/** Lets a request on with header x-pass: 1 (exit ok), else leaves by "denied". */
const GATE = {
  id: 'gate',
  name: 'Pass gate',
  exits: [{ name: 'ok' }, { name: 'denied', description: 'No pass header' }],
  nodes: [{ id: 'check', kind: 'condition', config: { when: 'request.headers."x-pass" = "1"' } }],
  edges: [
    { from: 'check', port: 'true', to: 'ok' },
    { from: 'check', port: 'false', to: 'denied' },
  ],
};

/** The workflow that will use the fragment: its answers are drawn, the subflow node is added in the browser. */
const SHOP = workflow('shop', { path: '/shop' }, [portNode('welcome'), portNode('refused')]);

describe.runIf(chromiumAvailable())('fragments in the editor', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.fetch(`/admin/api${path}`, { method, headers: { authorization: `Bearer ${PUBLISHER}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const shot = (name: string) => page.screenshot({ path: join(tmpdir(), `sluice-fragments-${name}.png`) });

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ demo: false, workflows: [], settings: { SLUICE_ADMIN_TOKENS: `pia:publisher:${PUBLISHER},vic:viewer:${VIEWER}` } }), launchChromium()]);
    expect((await admin('POST', '/fragments', { document: GATE })).status).toBe(201);
    expect((await admin('POST', '/fragments/gate/publish', {})).status).toBe(200);
    expect((await admin('POST', '/workflows', { document: SHOP })).status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    await signIn(page, gateway.url, PUBLISHER);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('a subflow node picks a published fragment and gets its exits as ports, then opens it', async () => {
    await openWorkflow(page, gateway.url, 'shop');
    await page.getByRole('button', { name: 'Add Subflow' }).press('Enter');
    const inspector = page.getByRole('region', { name: 'Inspector: subflow' });
    await inspector.waitFor();
    await inspector.getByLabel('Fragment').selectOption('gate');
    // the ports appear at once, on the canvas and in the inspector
    const ports = page.getByRole('list', { name: 'Ports of subflow' });
    await expect.poll(() => ports.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('ok'), expect.stringContaining('denied')]);
    await page.getByRole('img', { name: 'Port denied of subflow' }).waitFor();
    await page.getByTitle('Fragment Pass gate, its active version').waitFor();
    // exits that differ from the fragment's (edited by hand here; a fragment published since, in life) are taken back in one step
    await inspector.getByRole('button', { name: 'Remove Exits 2' }).click();
    await page.getByRole('img', { name: 'Port denied of subflow' }).waitFor({ state: 'detached' });
    await inspector.getByRole('button', { name: 'Use its exits' }).click();
    await page.getByRole('img', { name: 'Port denied of subflow' }).waitFor();
    await expect.poll(() => inspector.getByRole('button', { name: 'Use its exits' }).count()).toBe(0);
    await inspector.getByLabel('Port ok leads to').selectOption('welcome');
    await inspector.getByLabel('Port denied leads to').selectOption('refused');
    await expect.poll(() => page.locator('.problems__toggle').textContent()).toContain('No problems');
    await shot('subflow-node');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('status', { name: /^Saved, revision/ }).waitFor();

    // published, shop follows the fragment's active version: a fragment publish checks it
    expect((await admin('POST', '/workflows/shop/publish', {})).status).toBe(200);

    // a preview's trace names the fragment's inlined node (subflow/check): the canvas lights the subflow node and the exit it left by
    await page.getByRole('tab', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => preview.getByRole('list', { name: 'Trace' }).textContent()).toContain('subflow/check → false');
    const onPath = () => page.locator('.kind-node--on-path').evaluateAll((els) => els.map((e) => e.closest('.react-flow__node')!.getAttribute('data-id')).sort());
    await expect.poll(onPath).toEqual(['refused', 'subflow']);
    await expect.poll(() => page.locator('.react-flow__edge.edge--on-path').getAttribute('data-id')).toBe('subflow:denied->refused');
    // so does a contract entry's way there
    await page.getByRole('tab', { name: 'Contract' }).click();
    await page.getByRole('list', { name: 'Contract entries' }).getByRole('button', { name: /at welcome\.done$/ }).click();
    await expect.poll(onPath).toEqual(['subflow', 'welcome']);
    await expect.poll(() => page.locator('.react-flow__edge.edge--on-path').getAttribute('data-id')).toBe('subflow:ok->welcome');
    await page.getByRole('tab', { name: 'Inspector' }).click();

    await inspector.getByRole('link', { name: 'Open fragment' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/fragments\/gate$/);
    await page.getByRole('heading', { name: 'Pass gate' }).waitFor();
    await page.getByRole('img', { name: 'Into exit denied' }).waitFor();
    await page.getByRole('img', { name: 'Into exit ok' }).waitFor();
    // no subflow in a fragment's palette
    await expect.poll(() => page.getByRole('button', { name: 'Add Subflow' }).count()).toBe(0);
    const usedBy = page.getByRole('list', { name: 'Workflows using gate' });
    await expect.poll(() => usedBy.textContent()).toContain('shop');
    await expect.poll(() => page.locator('.problems__toggle').textContent()).toContain('No problems');
    await shot('fragment-editor');
    expect(errors).toEqual([]);
  }, 60_000);

  it('publishing the fragment checks the workflow that follows it, and refuses a version that would break it', async () => {
    // "denied" becomes "maybe": the fragment is valid, but shop's subflow node leaves by [ok, denied]
    await page.getByLabel('New exit name').fill('maybe');
    await page.getByRole('button', { name: 'Add exit' }).click();
    await page.getByRole('img', { name: 'Into exit maybe' }).waitFor();
    // no edge leads to it yet: the server's problem is drawn on the exit node
    await page.getByRole('status', { name: '1 problem on exit maybe' }).waitFor();
    await shot('fragment-exit-problem');
    await page.getByRole('button', { name: 'Remove exit denied' }).click();
    await page.getByRole('group', { name: /^check \(/ }).click();
    await page.getByRole('region', { name: 'Inspector: check' }).getByLabel('Port false leads to').selectOption('maybe');
    await expect.poll(() => page.locator('.problems__toggle').textContent()).toContain('No problems');
    await page.getByRole('button', { name: 'Publish…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Publish fragment gate' });
    await dialog.getByRole('button', { name: 'Publish now' }).click();
    const refused = dialog.getByRole('alert', { name: 'Publish refused' });
    await expect.poll(() => refused.textContent()).toContain('workflow "shop"');
    await shot('fragment-publish-refused');
    await dialog.getByRole('button', { name: 'Done' }).click();

    // back as it was (three steps), and a harmless change
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('img', { name: 'Into exit denied' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByLabel('Description of exit ok').fill('The pass header is set');
    await page.getByRole('button', { name: 'Publish…' }).click();
    await dialog.getByRole('button', { name: 'Publish now' }).click();
    const result = dialog.getByRole('status', { name: 'Publish result' });
    await expect.poll(() => result.textContent()).toContain('Version 2 is active');
    await expect.poll(() => dialog.getByRole('list', { name: 'Workflows checked' }).textContent()).toContain('shop');
    await shot('fragment-published');
    await dialog.getByRole('button', { name: 'Done' }).click();

    // a rollback is checked as a publish is
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    const rolledBack = page.getByRole('dialog', { name: 'Roll back fragment gate' }).getByRole('status', { name: 'Publish result' });
    await expect.poll(() => rolledBack.textContent()).toContain('Version 1 is active');
    await expect.poll(() => rolledBack.textContent()).toContain('shop v1');
    await page.getByRole('dialog', { name: 'Roll back fragment gate' }).getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Versions of the fragment' }).textContent()).toMatch(/v1\s*active/);
    expect((await admin('POST', '/fragments/gate/rollback', { version: 2 })).status).toBe(200);
    expect(errors).toEqual([]);
  }, 60_000);

  it('the fragments page lists each fragment with the workflows using it, and creates one', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Fragments' }).click();
    await page.getByRole('heading', { name: 'Fragments' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Pass gate' });
    await expect.poll(() => row.textContent()).toContain('v2');
    await row.getByRole('list', { name: 'Workflows using gate' }).getByRole('link', { name: 'shop' }).waitFor();
    await shot('fragments-page');

    await page.getByRole('button', { name: 'New fragment' }).click();
    const dialog = page.getByRole('dialog', { name: 'New fragment' });
    await dialog.getByLabel('Fragment id').fill('audit');
    await dialog.getByLabel('Name').fill('Audit trail');
    await dialog.getByLabel('Exits').fill('ok, Bad Name');
    await expect.poll(() => dialog.getByRole('button', { name: 'Create fragment' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Exits').fill('ok, failed');
    await shot('new-fragment-dialog');
    await dialog.getByRole('button', { name: 'Create fragment' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/fragments\/audit$/);
    await page.getByRole('img', { name: 'Into exit failed' }).waitFor();
    // the first body is valid as it is: the server's check finds nothing
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await expect.poll(() => page.locator('.problems__toggle').textContent()).toContain('No problems');
    expect((await admin('POST', '/fragments/audit/validate', {})).body).toMatchObject({ ok: true });

    // the row links to its workflow
    await page.goto(`${gateway.url}/editor/#/fragments`);
    await page.getByRole('list', { name: 'Workflows using gate' }).getByRole('link', { name: 'shop' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/workflows\/shop$/);
    expect(errors).toEqual([]);
  }, 60_000);

  it('a viewer reads fragments and who uses them, but every change is disabled, saying why', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const viewer = await context.newPage();
    const viewerErrors = watchErrors(viewer);
    await signIn(viewer, gateway.url, VIEWER);
    await viewer.goto(`${gateway.url}/editor/#/fragments`);
    await expect.poll(() => viewer.getByRole('button', { name: 'New fragment' }).isDisabled()).toBe(true);
    await viewer.getByRole('link', { name: 'Pass gate' }).click();
    await viewer.getByRole('img', { name: 'Into exit ok' }).waitFor();
    await viewer.getByRole('note').filter({ hasText: 'Read-only.' }).waitFor();
    for (const name of ['Save draft', 'Validate', 'Publish…', 'Add exit']) expect(await viewer.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => viewer.getByRole('button', { name: 'Publish…' }).getAttribute('title')).toMatch(/viewer role cannot publish/);
    await expect.poll(() => viewer.getByRole('button', { name: 'Roll back to v1' }).isDisabled()).toBe(true);
    await context.close();
    expect(viewerErrors).toEqual([]);
  }, 60_000);
});
