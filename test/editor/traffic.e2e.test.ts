/**
 * The Traffic page in a real Chromium against a real gateway with real traffic in its evidence
 * store: two partners call a workflow over two versions (version 1 with a node version 2 lacks),
 * globex is suspended, then refused. An auditor filters by globex, sees the histogram, totals and
 * rows, opens a request version 1 served (while version 2 is active) and sees version 1's canvas
 * with the request's path lit and the publication of version 1 in the audit timeline; opens the
 * refused request and sees the suspension and the catalog's problem entry; exports the filter as
 * CSV. A viewer sees the counts and no record (the page never asks for one). axe-core finds no
 * violation on the page, nor on an opened record.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, settled, trackRequests } from '../helpers/axe.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminOf, PEOPLE, startAdminGateway, until, type Admin } from '../engine/admin/support.ts';
import { chromiumAvailable, ensureEditorBuilt, launchChromium, screenshot, signIn, watchErrors } from './support/browser.ts';
import { bucketFor, parseTrafficQuery, recordPath, trafficHref, windowOf } from '../../editor/src/traffic/traffic-model.ts';

describe('the Traffic page\'s model', () => {
  it('keeps its filters in the hash: a link carries them, and reads back the same', () => {
    const href = trafficHref({ range: '24h', filters: { partner: 'globex', outcome: 'denied', problem: 'https://x.example/a b' } });
    expect(href).toBe('#/traffic?range=24h&partner=globex&outcome=denied&problem=https%3A%2F%2Fx.example%2Fa+b');
    expect(parseTrafficQuery(href.slice('#/traffic?'.length))).toEqual({ range: '24h', filters: { partner: 'globex', outcome: 'denied', problem: 'https://x.example/a b' } });
    // a from/to pair is a custom window; a bad open id is dropped
    const custom = parseTrafficQuery('from=2026-01-01T00:00:00Z&to=1767229200000&open=nope&version=2');
    expect(custom).toEqual({ range: 'custom', from: Date.parse('2026-01-01T00:00:00Z'), to: 1_767_229_200_000, filters: { version: '2' } });
    expect(windowOf(custom, 0)).toEqual({ from: Date.parse('2026-01-01T00:00:00Z'), to: 1_767_229_200_000 });
    expect(windowOf(parseTrafficQuery(''), 10_000_000)).toEqual({ from: 10_000_000 - 3_600_000, to: 10_000_000 });
    expect(trafficHref({ range: '1h', filters: {} })).toBe('#/traffic');
  });

  it('chooses the narrowest bucket that draws the window in at most 120 bars', () => {
    const now = Date.parse('2026-03-01T12:34:56.789Z');
    const bars = (span: number) => {
      const { ms } = bucketFor(now - span, now);
      return Math.ceil((now - Math.floor((now - span) / ms) * ms) / ms);
    };
    expect(bucketFor(now - 15 * 60_000, now).bucket).toBe('10s');
    expect(bucketFor(now - 3_600_000, now).bucket).toBe('1m'); // 30s would be 121 bars once aligned
    expect(bucketFor(now - 86_400_000, now).bucket).toBe('15m');
    expect(bucketFor(now - 7 * 86_400_000, now).bucket).toBe('2h');
    for (const span of [1000, 60_000, 15 * 60_000, 3_600_000, 86_400_000, 7 * 86_400_000, 90 * 86_400_000]) expect(bars(span)).toBeLessThanOrEqual(120);
  });

  it('lights a record\'s path: its nodes, and the edges it took by their ports', () => {
    const edges = [
      { from: 'key', port: 'ok', to: 'auth' },
      { from: 'auth', port: 'ok', to: 'answer' },
      { from: 'key', port: 'missing', to: 'deny' },
    ];
    const path = recordPath(['key:ok', 'auth/check:true', 'answer:done'], edges, 'x');
    expect([...path.nodes.keys()]).toEqual(['key', 'auth', 'answer']);
    expect([...path.edges]).toEqual(['key\u0000ok', 'auth\u0000ok', 'answer\u0000done']);
    expect([...recordPath(['key:suspended'], edges, 'x').edges]).toEqual(['key\u0000suspended']);
    expect([...recordPath(['lost'], edges, 'x').nodes.keys()]).toEqual(['lost']);
    expect([...recordPath(['lost'], edges, 'x').edges]).toEqual([]);
  });
});

/** Version 1 answers from `legacy`, version 2 from `answer`: the canvas shows which it draws. */
const orders = (version: 1 | 2) => ({
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path: '/orders' },
  nodes: [
    { id: 'key', kind: 'api-key', config: { source: 'partners' } },
    version === 1 ? { id: 'legacy', kind: 'respond', label: 'Legacy answer', config: { status: 200, body: { version } } } : { id: 'answer', kind: 'respond', config: { status: 200, body: { version } } },
  ],
  edges: [{ from: 'key', port: 'ok', to: version === 1 ? 'legacy' : 'answer' }],
});

describe.runIf(chromiumAvailable())('the Traffic page in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Admin;
  const keys: Record<string, string> = {};
  const sent: Array<{ traceId: string; partner: string; status: number; version: number | undefined }> = [];

  async function call(partner: 'acme' | 'globex' | 'initech') {
    const traceId = randomBytes(16).toString('hex');
    const res = await gateway.fetch('/orders', { headers: { 'x-api-key': keys[partner]!, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    const body = (await res.json()) as { version?: number };
    sent.push({ traceId, partner, status: res.status, version: body.version });
  }

  beforeAll(async () => {
    await ensureEditorBuilt();
    [gateway, browser] = await Promise.all([startAdminGateway(), launchChromium()]);
    admin = adminOf(gateway.url);
    expect((await admin('editor', 'POST', '/workflows', { document: orders(1) })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/orders/publish', { note: 'first' })).body.version).toBe(1);
    expect((await admin('admin', 'PUT', '/products/orders-api', { name: 'Orders API', workflows: ['orders'] })).status).toBe(200);
    for (const partner of ['acme', 'globex', 'initech'] as const) {
      expect((await admin('admin', 'POST', '/partners', { id: partner, name: partner, products: ['orders-api'] })).status).toBe(201);
      keys[partner] = (await admin('admin', 'POST', `/partners/${partner}/keys`, {})).body.key as string;
    }
    for (let i = 0; i < 3; i++) await call('globex');
    for (let i = 0; i < 2; i++) await call('acme');
    const { body: record } = await admin('admin', 'GET', '/workflows/orders');
    await admin('editor', 'PUT', '/workflows/orders/draft', { document: orders(2), baseRevision: record.draft.revision });
    expect((await admin('publisher2', 'POST', '/workflows/orders/publish', { note: 'second' })).body.version).toBe(2);
    for (let i = 0; i < 2; i++) await call('globex');
    await call('acme');
    for (let i = 0; i < 55; i++) await call('initech'); // more than a page of the table
    await admin('admin', 'POST', '/partners/globex/suspend', { reason: 'unpaid invoice' });
    await call('globex');
    expect(sent.filter((s) => s.partner !== 'initech').map((s) => `${s.partner}:${s.status}:${s.version ?? '-'}`)).toEqual(['globex:200:1', 'globex:200:1', 'globex:200:1', 'acme:200:1', 'acme:200:1', 'globex:200:2', 'globex:200:2', 'acme:200:2', 'globex:403:-']);
    await until('every request to be in evidence', async () => ((await admin('auditor', 'GET', '/evidence?limit=1000')).body.records?.length === sent.length ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    trackRequests(page);
    return { page, errors: watchErrors(page) };
  }


  it('filters by partner; opens a request version 1 served with its path lit, then a refused one with the suspension; exports CSV', async () => {
    const { page, errors } = await openPage();
    await signIn(page, gateway.url, PEOPLE.auditor.token);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Traffic' }).click();
    await page.getByRole('heading', { name: 'Traffic', level: 1 }).waitFor();
    await page.getByRole('img', { name: /^Requests over time by outcome: 64 in \d+ bars of \d+[smhd]$/ }).waitFor();
    // a page of 50, then the rest
    await expect.poll(() => page.locator('tr[data-trace]').count()).toBe(50);
    await expect.poll(() => page.getByText('50 shown').count()).toBe(1);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => page.locator('tr[data-trace]').count()).toBe(64);
    await page.getByText('64 shown, all of them').waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    expect(new Set(await page.locator('tr[data-trace]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-trace')))).size).toBe(64);

    // filter by partner: the hash carries it, the histogram and the table follow
    await page.getByRole('form', { name: 'Filters' }).getByLabel('Partner').fill('globex');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('#/traffic?partner=globex');
    await page.getByRole('img', { name: /^Requests over time by outcome: 6 in / }).waitFor();
    await expect.poll(() => page.locator('.histogram__bar').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByLabel('Requests by outcome').textContent()).toMatch(/ok5\d+%denied1\d+%/);
    const rows = page.locator('tr[data-trace]');
    await expect.poll(() => rows.count()).toBe(6);
    const globex = sent.filter((s) => s.partner === 'globex');
    expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-trace')))).sort()).toEqual(globex.map((s) => s.traceId).sort());
    await expect.poll(() => rows.first().textContent()).toMatch(/globex.*orders v2.*GET \/orders.*403.*denied.*partner-suspended/);
    await screenshot(page, 'traffic-page');
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 768 });
    await settled(page);
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth)).toBe(0); // never sideways
    await screenshot(page, 'traffic-page-1024');
    await page.setViewportSize({ width: 1440, height: 900 });

    // a request version 1 served, opened by keyboard: version 1's graph with its path lit
    const early = globex.find((s) => s.version === 1)!;
    await page.locator(`tr[data-trace="${early.traceId}"]`).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'orders, version 1' }).waitFor();
    expect(await page.evaluate(() => window.location.hash)).toBe(`#/traffic?partner=globex&open=${early.traceId}`);
    await page.getByText('version 2 serves now').waitFor();
    const canvas = page.locator('.traffic-detail__canvas');
    await expect.poll(() => canvas.getByLabel(`Version 1 of orders, the path of trace ${early.traceId} lit`).count()).toBe(1);
    await canvas.locator('.react-flow__node[data-id="legacy"]').waitFor();
    await expect.poll(() => canvas.locator('.react-flow__node[data-id="answer"]').count()).toBe(0); // version 2's node is not drawn
    await expect.poll(() => canvas.locator('.react-flow__node[data-id="legacy"]').textContent()).toContain('Legacy answer');
    for (const node of ['key', 'legacy']) expect(await canvas.locator(`.react-flow__node[data-id="${node}"] .kind-node`).getAttribute('class')).toContain('kind-node--on-path');
    await expect.poll(() => canvas.locator('.react-flow__edge.edge--on-path').evaluateAll((edges) => edges.map((e) => e.getAttribute('data-id')))).toEqual(['key:ok->legacy']);
    await expect.poll(() => page.getByLabel('Node path').textContent()).toBe('key left by oklegacy left by done');
    const timeline = page.getByRole('list', { name: 'Audit timeline' });
    const published = timeline.locator('.timeline__entry--served');
    await expect.poll(() => published.textContent()).toMatch(/pia \(publisher\) published orders version 1/);
    await expect.poll(() => timeline.textContent()).toMatch(/paul \(publisher\) published orders version 2/); // after this request
    await expect.poll(() => page.getByText(/^Version 1 was published .* by pia — “first”$/).count()).toBe(1);
    await expect.poll(() => page.getByText('Partner globex was not suspended at the time.', { exact: false }).count()).toBe(1);
    await expect.poll(() => page.getByRole('heading', { name: 'Problem answered' }).count()).toBe(0);
    await screenshot(page, 'traffic-record-v1');
    expect(await axeViolations(page)).toEqual([]);

    // back to the list (filters kept), then the refused request
    await page.getByRole('link', { name: '← Back to the traffic' }).click();
    await expect.poll(() => rows.count()).toBe(6);
    const refused = globex.find((s) => s.status === 403)!;
    await page.locator(`tr[data-trace="${refused.traceId}"] td`).first().click();
    await page.getByRole('heading', { name: 'orders, version 2' }).waitFor();
    await page.getByText('still active').waitFor();
    await expect.poll(() => page.getByText(/^Partner globex was suspended at the time \(by ada: .*unpaid invoice.*\)\./).count()).toBe(1);
    await expect.poll(() => page.getByRole('list', { name: 'Audit timeline' }).locator('.timeline__entry--status').textContent()).toMatch(/ada \(admin\) suspended partner globex.*unpaid invoice/);
    const body = JSON.parse((await page.getByLabel('Problem body').textContent())!) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 403, type: expect.stringMatching(/partner-suspended$/), title: expect.any(String), detail: expect.any(String) });
    await page.getByText('Catalog entry partner_suspended').waitFor();
    await expect.poll(() => page.getByText('the request’s own body is not stored', { exact: false }).count()).toBe(1);
    await expect.poll(() => page.locator('.react-flow__node[data-id="key"] .kind-node').getAttribute('class')).toContain('kind-node--on-path');
    await expect.poll(() => page.locator('.react-flow__node[data-id="answer"] .kind-node').getAttribute('class')).toContain('kind-node--off-path');
    await expect.poll(() => page.locator('.react-flow__edge.edge--on-path').count()).toBe(0); // the key node answered itself
    await screenshot(page, 'traffic-record-refused');

    // the export of the filter: the same six records
    await page.getByRole('link', { name: '← Back to the traffic' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^evidence-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^time,traceId,/);
    expect(csv.slice(1).map((line) => line.split(',')[1]).sort()).toEqual(globex.map((s) => s.traceId).sort());

    // the partners page links each partner to its traffic
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Partners' }).click();
    await page.getByRole('link', { name: 'Traffic of acme' }).click();
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('#/traffic?range=24h&partner=acme');
    await expect.poll(() => rows.count()).toBe(3);
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows a viewer the histogram and totals, and no record', async () => {
    const { page, errors } = await openPage();
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await signIn(page, gateway.url, PEOPLE.viewer.token);
    await page.goto(`${gateway.url}/editor/#/traffic?partner=globex`);
    await page.getByRole('img', { name: /^Requests over time by outcome: 6 in / }).waitFor();
    await expect.poll(() => page.getByLabel('Requests by outcome').textContent()).toMatch(/ok5.*denied1/);
    await page.getByText('Records need the auditor or admin role: signed in as viewer, you see the counts only.').waitFor();
    await expect.poll(() => page.getByRole('table').count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'Export CSV' }).count()).toBe(0);
    // a link to a record shows the same words, and asks for nothing
    await page.goto(`${gateway.url}/editor/#/traffic?partner=globex&open=${sent[0]!.traceId}`);
    await page.getByText('Records need the auditor or admin role', { exact: false }).waitFor();
    await settled(page);
    expect(asked.filter((p) => p.startsWith('/admin/api/evidence') && p !== '/admin/api/evidence/aggregate')).toEqual([]);
    expect(asked).toContain('/admin/api/evidence/aggregate');
    await page.goto(`${gateway.url}/editor/#/traffic?partner=globex`);
    await page.getByRole('img', { name: /^Requests over time by outcome: 6 in / }).waitFor();
    await screenshot(page, 'traffic-viewer');
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});
