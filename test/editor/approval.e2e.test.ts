/**
 * The contract gate in a real Chromium: publisher A publishes a draft that removes the guard's
 * 403 and the publish dialog says so (the contract diff, "needs another publisher's approval"),
 * and asks instead of publishing; A sees the request waiting with Withdraw, not Approve. Publisher B
 * opens the workflow, sees the banner with the diff and who asked, approves, and the versions list
 * shows the new version serving, as the gateway does. The banner passes axe.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeProblems } from '../helpers/axe.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { stamped } from '../engine/admin/support.ts';
import { adminAs, chromiumAvailable, ensureEditorBuilt, launchChromium, openWorkflow, signIn, watchErrors } from './support/browser.ts';

const ANN = 'approval-ann-token-0123456789abcdef';
const BEN = 'approval-ben-token-0123456789abcdef';
const path = '/gated/orders';

describe.runIf(chromiumAvailable())('the contract gate: a publish that removes an answer waits for another publisher', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  const errors: string[][] = [];
  const admin = (token: string, method: string, route: string, body?: unknown) => adminAs(() => gateway, token)(method, route, body);
  const denied = async () => {
    const res = await gateway.fetch(`${path}?deny=1`);
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startTestGateway({ workflows: [], demo: false, settings: { SLUICE_ADMIN_TOKENS: `ann:publisher:${ANN},ben:publisher:${BEN}` } }), launchChromium()]);
    // version 1 has the guard (403 on ?deny=1); ann's draft drops it
    await admin(ANN, 'POST', '/workflows', { document: stamped('gated', path, '1', { guard: true }) });
    await admin(ANN, 'POST', '/workflows/gated/publish');
    await admin(ANN, 'PUT', '/workflows/gated/draft', { document: stamped('gated', path, '2'), baseRevision: 1 });
    const pages = [];
    for (const token of [ANN, BEN]) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      errors.push(watchErrors(page));
      await signIn(page, gateway.url, token);
      pages.push(page);
    }
    [ann, ben] = pages as [Page, Page];
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('publisher A sees the contract diff and that it needs approval, asks, and then sees it waiting', async () => {
    await openWorkflow(ann, gateway.url, 'gated');
    await ann.getByRole('button', { name: 'Publish…' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Publish gated' });
    const ask = dialog.getByRole('button', { name: 'Ask for approval' });
    await ask.waitFor();
    await expect.poll(() => dialog.textContent()).toContain("needs another publisher's approval");
    const change = dialog.getByRole('region', { name: 'Error contract change' });
    await expect.poll(() => change.textContent()).toMatch(/this change .*removes 403 Insufficient Scope at deny\.raise/);
    await expect.poll(() => change.getByRole('list', { name: 'Answers removed or changed' }).getByRole('listitem').allTextContents()).toContain('Removes 403 insufficient_scope at deny.raise');
    await ann.screenshot({ path: '/tmp/sluice-approval-1-dialog.png' });
    await ask.click();
    await expect.poll(() => ann.locator('.statusline').textContent()).toMatch(/^Waiting for approval/);
    const banner = ann.getByRole('region', { name: 'Waiting for approval' });
    await banner.waitFor();
    await expect.poll(() => banner.textContent()).toMatch(/Waiting for approval: you asked on .* in place of version 1/);
    await expect.poll(() => banner.getByRole('button', { name: 'Withdraw' }).isEnabled()).toBe(true);
    await expect.poll(() => banner.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    // nothing serves differently yet
    expect(await denied()).toBe(403);
    expect((await admin(ANN, 'GET', '/workflows/gated/approval')).requestedBy).toBe('ann');
  });

  it('publisher B sees the banner with the diff and who asked, approves, and the versions list shows version 2 serving', async () => {
    await openWorkflow(ben, gateway.url, 'gated');
    const banner = ben.getByRole('region', { name: 'Waiting for approval' });
    await banner.waitFor();
    await expect.poll(() => banner.textContent()).toMatch(/Waiting for approval: ann asked on /);
    await expect.poll(() => banner.getByRole('list', { name: 'Answers removed or changed' }).textContent()).toContain('Removes 403 insufficient_scope at deny.raise');
    expect(await seriousAxeProblems(ben, '.banner--approval')).toEqual([]);
    await ben.screenshot({ path: '/tmp/sluice-approval-2-banner.png' });

    await banner.getByRole('button', { name: 'Approve' }).click();
    const confirm = ben.getByRole('dialog', { name: 'Approve the publish of gated?' });
    await confirm.getByRole('button', { name: 'Approve and publish' }).click();
    await expect.poll(() => ben.locator('.statusline').textContent()).toContain('Approved: the draft serves as the new version');
    await banner.waitFor({ state: 'detached' });
    await ben.getByRole('tab', { name: /Versions/ }).click();
    const versions = ben.getByRole('region', { name: 'Versions' });
    await versions.getByRole('listitem', { name: 'Version 2, serving, active' }).waitFor();
    await expect.poll(() => versions.getByRole('listitem', { name: 'Version 1, inactive' }).count()).toBe(1);
    await ben.screenshot({ path: '/tmp/sluice-approval-3-versions.png' });
    await expect.poll(denied).toBe(200);
    expect(errors.flat()).toEqual([]);
  });

  it('publisher B refuses the next request with a reason: nothing is published and the banner goes', async () => {
    // ann asks to publish a draft that answers 201 instead of 200 (a changed answer)
    const plain = stamped('gated', path, '3');
    const document = { ...plain, nodes: plain.nodes.map((n) => (n.id === 'answer' ? { ...n, config: { ...n.config, status: 201 } } : n)) };
    const { draft } = await admin(ANN, 'GET', '/workflows/gated');
    await admin(ANN, 'PUT', '/workflows/gated/draft', { document, baseRevision: draft.revision });
    expect(await admin(ANN, 'POST', '/workflows/gated/publish')).toMatchObject({ pending: true });
    // the page shows gated already: read it again
    await ben.reload();
    await openWorkflow(ben, gateway.url, 'gated');
    const banner = ben.getByRole('region', { name: 'Waiting for approval' });
    await banner.getByRole('button', { name: /^Refuse/ }).click();
    const dialog = ben.getByRole('dialog', { name: 'Refuse the publish of gated?' });
    await dialog.getByLabel('Reason').fill('201 breaks the mobile app');
    await dialog.getByRole('button', { name: 'Refuse' }).click();
    await expect.poll(() => ben.locator('.statusline').textContent()).toContain('Refused: nothing was published');
    await banner.waitFor({ state: 'detached' });
    expect((await admin(BEN, 'GET', '/workflows/gated/versions')).active).toBe(2);
    // nothing waits any more (the reason is in the audit log, which approval.test.ts reads)
    expect((await gateway.fetch('/admin/api/workflows/gated/approval', { headers: { authorization: `Bearer ${BEN}` } })).status).toBe(404);
    expect(errors.flat()).toEqual([]);
  });
});
