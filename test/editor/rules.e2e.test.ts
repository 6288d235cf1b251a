/**
 * The Rules page in a real Chromium against a real gateway: an admin adds a rule from its
 * template in the form (a misspelt kind flagged at once, a server problem shown on its rule) and
 * saves it; the page lists the active workflow the rule breaks (a public branch that
 * answers 200 before any identity node), which still serves; its link opens the workflow, whose
 * Problems panel shows the rule's problem on the node. A rule set that is not one is refused with
 * the field named, in the JSON view. A viewer reads the rules and the violators, with nothing to edit. axe-core
 * finds no violation on the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, trackRequests } from '../helpers/axe.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminOf, PEOPLE, startAdminGateway, type Admin } from '../engine/admin/support.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, signIn, watchErrors } from './support/browser.ts';

/** Public requests (?public=1) get the catalogue without a key; the rest pass an api-key node first. */
const orders = {
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path: '/orders' },
  nodes: [
    { id: 'public', kind: 'condition', config: { when: 'request.query.public = "1"' } },
    { id: 'catalog', kind: 'respond', config: { status: 200, body: { catalog: true } } },
    { id: 'key', kind: 'api-key', config: { source: 'partners' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { orders: [] } } },
  ],
  edges: [
    { from: 'public', port: 'true', to: 'catalog' },
    { from: 'public', port: 'false', to: 'key' },
    { from: 'key', port: 'ok', to: 'answer' },
  ],
};

describe.runIf(chromiumAvailable())('the Rules page in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Admin;

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startAdminGateway(), launchChromium()]);
    admin = adminOf(gateway.url);
    expect((await admin('editor', 'POST', '/workflows', { document: orders })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/orders/publish')).body.version).toBe(1);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    trackRequests(page);
    return { page, errors: watchErrors(page) };
  }


  it('an admin saves a rule; the workflow it breaks is listed and keeps serving; its Problems panel shows the rule on the node', async () => {
    const { page, errors } = await openPage();
    await signIn(page, gateway.url, PEOPLE.admin.token);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('heading', { name: 'Organisation rules', level: 1 }).waitFor();
    await page.getByText('No active workflow breaks the rules.').waitFor();

    // as JSON, a rule set that is not one: refused, the field named, nothing saved
    await page.getByRole('group', { name: 'Edit as' }).getByRole('button', { name: 'JSON' }).click();
    const json = page.getByLabel('Rules (JSON)');
    await json.fill(JSON.stringify({ rules: [{ id: 'egress', description: 'Approved hosts', form: 'url-allow-list', allow: ['^https://.*$'] }] }));
    await page.getByRole('button', { name: 'Save rules' }).click();
    const refusal = page.getByRole('alert');
    await refusal.getByText('The rules were not saved.').waitFor();
    await expect.poll(() => refusal.getByRole('list', { name: 'Problems of the rules' }).textContent()).toMatch(/rules\.0\.allow\.0.*no patterns/);
    expect((await admin('viewer', 'GET', '/rules')).body.rules).toEqual([]);
    await page.getByRole('button', { name: 'Discard changes' }).click();

    // in the form: a rule from its template; a misspelt kind is flagged at once; a server problem lands on its rule
    await page.getByRole('group', { name: 'Edit as' }).getByRole('button', { name: 'Form' }).click();
    await page.getByRole('button', { name: 'Add no-success-without rule' }).click();
    const first = page.getByRole('group', { name: 'Rule 1' });
    await expect.poll(() => first.getByLabel('Id').inputValue()).toBe('no-anonymous-success');
    const passes = first.getByLabel('Passes one of');
    await passes.fill('jwt-verfy, api-key');
    await expect.poll(() => first.getByText('Not a node kind: jwt-verfy').count()).toBe(1);
    await expect.poll(() => passes.getAttribute('aria-invalid')).toBe('true');
    await passes.fill('jwt-verify, api-key, introspect');
    await page.getByRole('button', { name: 'Add url-allow-list rule' }).click();
    const second = page.getByRole('group', { name: 'Rule 2' });
    await second.getByLabel('Allowed').fill('https://*.example.com');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await second.getByRole('list', { name: 'Problems of rule 2' }).getByText(/a URL prefix names one host/).waitFor();
    await expect.poll(() => second.getByRole('list', { name: 'Problems of rule 2' }).textContent()).toMatch(/^allow\.0 /);
    await page.screenshot({ path: '/tmp/sluice-rules-form.png', fullPage: true });
    expect((await admin('viewer', 'GET', '/rules')).body.rules).toEqual([]);
    await page.getByRole('button', { name: 'Remove rule 2' }).click();
    await expect.poll(() => page.getByRole('group', { name: 'Rule 2' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByRole('status').filter({ hasText: /^Saved 1 rule\./ }).waitFor();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /^Saved/ }).textContent()).toContain('1 active workflow breaks them and keeps serving until republished');
    await expect.poll(() => page.getByRole('listitem', { name: 'Rule no-anonymous-success' }).textContent()).toContain('No respond node answers 2xx on a path that passes none of jwt-verify, api-key or introspect.');
    const violator = page.getByRole('list', { name: 'Workflows breaking the rules' }).getByRole('listitem', { name: 'Workflow orders' });
    await violator.waitFor();
    await expect.poll(() => violator.textContent()).toMatch(/Orders \(orders, version 1 serving\)catalog rule "no-anonymous-success" \(No success answer without an identity\): the path public → catalog answers 200 at respond "catalog"/);
    expect((await admin('auditor', 'GET', '/audit?limit=1000')).body.entries.at(-1)).toMatchObject({ action: 'rules.update', actor: 'ada', detail: 'added no-anonymous-success (1 rule now)' });
    const served = await fetch(`${gateway.url}/orders?public=1`);
    expect({ status: served.status, body: await served.json() }).toEqual({ status: 200, body: { catalog: true } });
    await page.screenshot({ path: '/tmp/sluice-rules-page.png', fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // the violator's link opens the workflow: its Problems panel names the rule on the node
    await violator.getByRole('link', { name: 'Orders' }).click();
    await page.locator('.react-flow__node').first().waitFor();
    const problems = page.getByRole('region', { name: 'Problems' });
    await expect.poll(async () => (await problems.getByRole('status').textContent()) ?? '', { timeout: 15_000 }).toBe('1 problem');
    const toggle = problems.getByRole('button', { name: /^Problems:/ });
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    const listed = problems.locator('.problem');
    await expect.poll(() => listed.count()).toBe(1);
    await expect.poll(() => listed.first().textContent()).toMatch(/^rule_brokencatalogrule "no-anonymous-success"/);
    expect(await page.getByRole('group', { name: /(^| — )catalog \(/ }).getByRole('status', { name: /problems? on catalog/ }).count()).toBe(1);
    await page.screenshot({ path: '/tmp/sluice-rules-problems.png' });
    expect(errors).toEqual([]);
  });

  it('a viewer reads the rules and the workflows breaking them, with nothing to edit', async () => {
    const { page, errors } = await openPage();
    await signIn(page, gateway.url, PEOPLE.viewer.token);
    await page.goto(`${gateway.url}/editor/#/rules`);
    await page.getByRole('heading', { name: 'Organisation rules', level: 1 }).waitFor();
    await page.getByRole('listitem', { name: 'Rule no-anonymous-success' }).waitFor();
    await expect.poll(() => page.getByRole('note').textContent()).toContain('changing them needs the admin role');
    await page.getByRole('listitem', { name: 'Workflow orders' }).waitFor();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit the rules' }).count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: /^Add .* rule$/ }).count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'Save rules' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
