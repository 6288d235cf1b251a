import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EvidenceRecord } from '../../../shared/admin/index.ts';
import { sluice } from '../../helpers/cli.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, startAdminGateway, until, type Admin } from '../admin/support.ts';

/*
 * "Can we show a complete trace from identity to outcome for partner globex yesterday between
 * 10:00 and 11:00?" On a test clock set to yesterday 10:00 (Date only: timers run as ever), three
 * partners call a workflow over two versions and globex is suspended in between; evidence (the
 * embedded DuckDB store of a real gateway) answers with every request of globex in that hour, its
 * node path, the version that served it, and the suspension from the audit log.
 */

/** Yesterday 10:00 UTC: the hour the traffic is sent in, on the test clock. */
const YESTERDAY_10 = new Date(new Date().setUTCHours(10, 0, 0, 0) - 86_400_000).getTime();
const MINUTE = 60_000;

const PARTNERS = ['acme', 'globex', 'initech'] as const;

/** The workflow: a partner key admits the caller, the answer says which version served. */
const orders = (version: number) => ({
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path: '/orders' },
  nodes: [
    { id: 'key', kind: 'api-key', config: { source: 'partners' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { version } } },
  ],
  edges: [{ from: 'key', port: 'ok', to: 'answer' }],
});

describe('evidence: a complete trace from identity to outcome', () => {
  let gw: TestGateway;
  let admin: Admin;
  const keys: Record<string, string> = {};
  /** The trace id of each request sent, with who sent it and what it got. */
  const sent: Array<{ traceId: string; partner: string; status: number; version: number | undefined }> = [];
  /** The hour asked about: yesterday 10:00 to 11:00. */
  const from = YESTERDAY_10;
  const to = YESTERDAY_10 + 60 * MINUTE;
  /** Sets the test clock to `minutes` past yesterday 10:00. */
  const at = (minutes: number) => vi.setSystemTime(YESTERDAY_10 + minutes * MINUTE);

  async function call(partner: (typeof PARTNERS)[number]) {
    const traceId = randomBytes(16).toString('hex');
    const res = await gw.fetch('/orders', { headers: { 'x-api-key': keys[partner]!, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    const body = (await res.json()) as { version?: number };
    sent.push({ traceId, partner, status: res.status, version: body.version });
  }
  const evidenceOf = (query: string) => admin<{ records: EvidenceRecord[]; next: string | null }>('auditor', 'GET', `/evidence?from=${from}&to=${to}&limit=1000${query}`);

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    vi.useFakeTimers({ toFake: ['Date'], now: YESTERDAY_10 });
    await admin('editor', 'POST', '/workflows', { document: orders(1) });
    expect((await admin('publisher', 'POST', '/workflows/orders/publish', { note: 'first' })).body.version).toBe(1);
    expect((await admin('admin', 'PUT', '/products/orders-api', { name: 'Orders API', workflows: ['orders'] })).status).toBe(200);
    for (const partner of PARTNERS) {
      expect((await admin('admin', 'POST', '/partners', { id: partner, name: partner, products: ['orders-api'] })).status).toBe(201);
      keys[partner] = (await admin('admin', 'POST', `/partners/${partner}/keys`, {})).body.key as string;
    }
    at(5);
    for (const partner of PARTNERS) for (let i = 0; i < 3; i++) await call(partner);
    at(20);
    const { body: record } = await admin('admin', 'GET', '/workflows/orders');
    await admin('editor', 'PUT', '/workflows/orders/draft', { document: orders(2), baseRevision: record.draft.revision });
    expect((await admin('publisher2', 'POST', '/workflows/orders/publish', { note: 'second' })).body.version).toBe(2);
    at(25);
    for (const partner of PARTNERS) for (let i = 0; i < 2; i++) await call(partner);
    at(40);
    await admin('admin', 'POST', '/partners/globex/suspend', { reason: 'unpaid invoice' });
    at(45);
    for (let i = 0; i < 2; i++) await call('globex');
    await call('acme');
    at(90); // 11:30: outside the hour asked about
    await call('acme');
    vi.useRealTimers();
    await until('every request of the hour to be in evidence', async () => ((await evidenceOf('')).body.records?.length === sent.length - 1 ? true : undefined));
    // the late request's record too: the recorder writes in batches, so it may come after the hour's
    const late = await until('the late request to be in evidence', async () => {
      const records = (await admin('auditor', 'GET', `/evidence?from=${to}&to=${to + 60 * MINUTE}`)).body.records as EvidenceRecord[] | undefined;
      return records !== undefined && records.length > 0 ? records : undefined;
    });
    expect(late.map((r) => r.traceId)).toEqual([sent.at(-1)!.traceId]);
    sent.pop(); // the hour's requests
  });
  afterAll(async () => {
    vi.useRealTimers();
    await gw?.close();
  });

  it('answers "partner globex yesterday 10:00-11:00" with every request, its node path and the version that served it', async () => {
    const { status, body } = await evidenceOf('&partner=globex');
    expect(status).toBe(200);
    const mine = sent.filter((s) => s.partner === 'globex');
    expect(body.records.map((r) => r.traceId).sort()).toEqual(mine.map((s) => s.traceId).sort());
    const byTrace = new Map(body.records.map((r) => [r.traceId, r]));
    for (const s of mine) {
      const r = byTrace.get(s.traceId)!;
      expect(r).toMatchObject({ partner: 'globex', product: 'orders-api', workflow: 'orders', route: '/orders', status: s.status, method: 'GET' });
      if (s.status === 200) {
        expect(r).toMatchObject({ version: s.version, outcome: 'ok', credential: 'api-key', problem: null, nodes: ['key:ok', 'answer:done'] });
        expect(r.keyId).toBe(keys.globex!.slice(3, 11));
      } else {
        expect(r).toMatchObject({ version: 2, outcome: 'denied', status: 403, credential: null, nodes: ['key:suspended'], problem: expect.stringMatching(/partner-suspended$/) });
      }
    }
    expect(body.records.filter((r) => r.version === 1)).toHaveLength(3);
    expect(body.records.filter((r) => r.status === 403)).toHaveLength(2);
    // newest first
    expect(body.records.map((r) => r.time)).toEqual(body.records.map((r) => r.time).sort((a, b) => b - a));
  });

  it('shows, beside a refused request, the version that served it as published and the suspension from the audit log', async () => {
    const refused = sent.find((s) => s.partner === 'globex' && s.status === 403)!;
    const { status, body } = await admin('auditor', 'GET', `/evidence/traces/${refused.traceId}`);
    expect(status).toBe(200);
    expect(body.records).toEqual([expect.objectContaining({ traceId: refused.traceId, status: 403 })]);
    expect(body.served).toMatchObject({ workflow: 'orders', version: 2, publishedBy: 'paul', note: 'second' });
    expect(body.partnerSuspended).toBe(true);
    const actions = (body.audit as Array<{ action: string; partner?: string; detail?: string; actor: string }>).map((e) => `${e.action}${e.partner ? ` ${e.partner}` : ''}`);
    expect(actions).toEqual(expect.arrayContaining(['workflow.publish', 'partner.suspend globex']));
    expect(body.audit.find((e: { action: string }) => e.action === 'partner.suspend')).toMatchObject({ actor: 'ada', detail: expect.stringContaining('unpaid invoice'), time: new Date(YESTERDAY_10 + 40 * MINUTE).toISOString() });
    expect(body.records[0].time).toBe(YESTERDAY_10 + 45 * MINUTE);
    // a request before the suspension: the partner was not suspended then, version 1 served
    const early = sent.find((s) => s.partner === 'globex' && s.version === 1)!;
    const before = (await admin('auditor', 'GET', `/evidence/traces/${early.traceId}`)).body;
    expect(before).toMatchObject({ served: { version: 1, publishedBy: 'pia', note: 'first' }, partnerSuspended: false });
    expectProblem(await admin('auditor', 'GET', `/evidence/traces/${'0'.repeat(32)}`), 404, 'not-found');
    expectProblem(await admin('auditor', 'GET', '/evidence/traces/not-a-trace'), 400, 'bad-request');
  });

  it('counts by partner and outcome over time buckets for every role; records only for auditors and admins', async () => {
    const { status, body } = await admin('viewer', 'GET', `/evidence/aggregate?from=${from}&to=${to}&by=partner,outcome`);
    expect(status).toBe(200);
    const count = (partner: string, outcome: string) => body.groups.find((g: { keys: Record<string, string> }) => g.keys.partner === partner && g.keys.outcome === outcome)?.count;
    expect(count('acme', 'ok')).toBe(6);
    expect(count('globex', 'ok')).toBe(5);
    expect(count('globex', 'denied')).toBe(2);
    expect(count('initech', 'ok')).toBe(5);
    const bucketed = (await admin('viewer', 'GET', `/evidence/aggregate?from=${from}&to=${to}&by=version&bucket=1m`)).body;
    expect(bucketed.bucketMs).toBe(60_000);
    expect(bucketed.groups.reduce((sum: number, g: { count: number }) => sum + g.count, 0)).toBe(sent.length);
    expectProblem(await admin('viewer', 'GET', `/evidence?from=${from}&to=${to}`), 403, 'forbidden');
    expectProblem(await admin('editor', 'GET', `/evidence/traces/${sent[0]!.traceId}`), 403, 'forbidden');
    expectProblem(await admin('viewer', 'GET', `/evidence/aggregate?by=subject`), 400, 'bad-request');
    expectProblem(await admin('viewer', 'GET', `/evidence/aggregate?from=0&to=${to}&bucket=1m`), 400, 'bad-request');
  });

  it('exports NDJSON and CSV, streamed', async () => {
    const auth = { authorization: 'Bearer auditor-token-0123456789abcdef' };
    const ndjson = await fetch(`${gw.url}/admin/api/evidence/export?from=${from}&to=${to}&partner=acme`, { headers: auth });
    expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line) as EvidenceRecord);
    expect(lines.map((r) => r.traceId).sort()).toEqual(sent.filter((s) => s.partner === 'acme').map((s) => s.traceId).sort());
    const csv = await fetch(`${gw.url}/admin/api/evidence/export?from=${from}&to=${to}&format=csv`, { headers: auth });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="evidence-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toBe('time,traceId,replica,method,partner,product,workflow,version,route,subject,credential,keyId,nodes,outcome,status,problem,ms,upstreamStatus,upstreamMs,model,inputTokens,outputTokens');
    expect(rows).toHaveLength(sent.length + 1);
    expect((await fetch(`${gw.url}/admin/api/evidence/export?from=${from}&to=${to}`, { headers: { authorization: 'Bearer viewer-token-0123456789abcdef' } })).status).toBe(403);
  });

  it('answers the same questions on the command line: sluice evidence find, count, trace, export', async () => {
    const env = { PATH: process.env.PATH ?? '', SLUICE_ADMIN_URL: gw.url, SLUICE_ADMIN_TOKEN: 'auditor-token-0123456789abcdef' };
    const range = ['--from', new Date(from).toISOString(), '--to', String(to)];
    const found = await sluice(['evidence', 'find', '--partner', 'globex', ...range], { env });
    expect(found.code).toBe(0);
    const lines = found.stdout.trim().split('\n');
    expect(lines).toHaveLength(sent.filter((s) => s.partner === 'globex').length);
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\S+Z  [0-9a-f]{32}  globex  orders@2  403 denied \S*partner-suspended  key:suspended$/);
    const counted = await sluice(['evidence', 'count', '--by', 'partner', ...range, '--json'], { env });
    expect(JSON.parse(counted.stdout).groups.map((g: { keys: { partner: string }; count: number }) => [g.keys.partner, g.count])).toEqual([['acme', 6], ['globex', 7], ['initech', 5]]);
    const refused = sent.find((s) => s.status === 403)!;
    const trace = await sluice(['evidence', 'trace', refused.traceId], { env });
    expect(trace.stdout).toContain('served by version 2, published');
    expect(trace.stdout).toContain('partner was suspended at that time');
    expect(trace.stdout).toMatch(/ada \(admin\)  partner.suspend globex: .*unpaid invoice/);
    const csv = await sluice(['evidence', 'export', '--format', 'csv', '--partner', 'initech', ...range], { env });
    expect(csv.stdout.trim().split('\n')).toHaveLength(1 + 5);
    const viewer = await sluice(['evidence', 'find', ...range], { env: { ...env, SLUICE_ADMIN_TOKEN: 'viewer-token-0123456789abcdef' } });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/^refused \(403\): role viewer may not/);
  });

  it('keeps no credential: no key, in any record or export', async () => {
    const all = JSON.stringify((await evidenceOf('')).body) + (await (await fetch(`${gw.url}/admin/api/evidence/export?from=${from}&to=${to}&format=csv`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })).text());
    for (const key of Object.values(keys)) {
      expect(all).not.toContain(key);
      expect(all).not.toContain(key.slice(11)); // nor the secret part of it
    }
    expect(all).toContain(keys.acme!.slice(3, 11)); // the key's public id is there
  });
});
