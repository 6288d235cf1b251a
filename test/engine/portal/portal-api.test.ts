/**
 * The portal's JSON as a stranger reads it: only what is published (served workflows of an API
 * product), never a draft, an archived or unlisted workflow, a secret reference, an expression, an
 * upstream address or a node id; lifecycle exactly as the gateway serves it; a preview of a
 * pending publish only for a publisher's token; SLUICE_PORTAL public, sign-in and off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalCatalogSchema, portalChangelogSchema, portalProblemSchema, portalReferenceSchema, portalSessionSchema } from '../../../shared/portal/index.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { ensureEditorBuilt } from '../../editor/support/browser.ts';
import { adminOf, ADMIN_TOKENS, type Admin } from '../admin/support.ts';
import { billingWorkflow, expectPortalProblem, INTERNALS, mockWorkflow, openApiProblems, portalGet } from './support.ts';

const SECRET = 'billing-hmac-secret-0123456789abcdef0123456789';

async function startPortalGateway(upstream: TestUpstream, settings: Record<string, string> = {}) {
  return startTestGateway({ workflows: [], demo: false, env: { SLUICE_UPSTREAM_BILLING: upstream.url, SLUICE_SECRET_BILLING: SECRET }, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'warn', SLUICE_ADMIN_MAX_FAILURES: '1000', ...settings } });
}

/** Creates and publishes the fixture: billing and a mock in product "billing", a draft-only, an archived and an unlisted workflow. */
async function seed(admin: Admin) {
  const ok = async (answer: Promise<{ status: number; body: unknown }>) => {
    const { status, body } = await answer;
    expect(status, JSON.stringify(body)).toBeLessThan(300);
    return body as any;
  };
  for (const document of [billingWorkflow(), mockWorkflow('receipts', '/api/receipts'), mockWorkflow('drafty', '/api/drafty', { secret: 'draft-only-marker' }), mockWorkflow('gone', '/api/gone'), mockWorkflow('unlisted', '/api/unlisted')])
    await ok(admin('editor', 'POST', '/workflows', { document }));
  for (const id of ['billing', 'receipts', 'gone', 'unlisted']) await ok(admin('publisher', 'POST', `/workflows/${id}/publish`));
  await ok(admin('publisher', 'POST', '/workflows/gone/archive', { reason: 'replaced' }));
  await ok(admin('publisher', 'PUT', '/products/billing', { name: 'Billing', description: 'Invoices and receipts.', workflows: ['billing', 'receipts', 'drafty', 'gone'] }));
  await ok(admin('publisher', 'PUT', '/plans/gold', { name: 'Gold', limits: { billing: { limit: 100, window: '1m' } } }));
  await ok(admin('publisher', 'PUT', '/plans/free', { name: 'Free', limits: {} }));
}

describe('the portal API (SLUICE_PORTAL=public)', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let admin: Admin;
  const get = (path: string, who?: Parameters<typeof portalGet>[2], accept?: string) => portalGet(gw.url, path, who, accept);

  beforeAll(async () => {
    await ensureEditorBuilt(); // the problem type's page is the portal build's (a browser test may be building it now)
    upstream = await startUpstream();
    gw = await startPortalGateway(upstream, { SLUICE_PROBLEM_BASE: '/portal/problems/' });
    admin = adminOf(gw.url);
    await seed(admin);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('lists the products with their published workflows, credentials, scopes and plan limits', async () => {
    const { status, body } = await get('/portal/api/catalog');
    expect(status).toBe(200);
    const catalog = portalCatalogSchema.parse(body);
    expect(catalog.products.map((p) => p.id)).toEqual(['billing']);
    const [product] = catalog.products;
    expect(product!.workflows.map((w) => w.id)).toEqual(['billing', 'receipts']);
    expect(product!.workflows[0]).toMatchObject({ name: 'Billing', methods: ['GET'], path: '/api/billing', version: 1, credentials: [{ kind: 'jwt', sent: 'Authorization: Bearer <token>' }], scopes: { all: ['billing:read'], any: [] }, lifecycle: { state: 'active', headers: {} } });
    expect(product!.workflows[1]).toMatchObject({ id: 'receipts', credentials: [], scopes: { all: [], any: [] } });
    // a plan without a limit on the product is not shown
    expect(product!.plans).toEqual([{ id: 'gold', name: 'Gold', limit: { limit: 100, window: '1m' } }]);
  });

  it('shows every contract entry of the served version in the reference, and its OpenAPI 3.1 validates', async () => {
    const { status, body } = await get('/portal/api/workflows/billing');
    expect(status).toBe(200);
    const reference = portalReferenceSchema.parse(body);
    const contract = (await admin('viewer', 'GET', '/workflows/billing/contract')).body.entries as Array<{ status: number; type?: string }>;
    expect(reference.answers.map((a) => [a.status, a.type])).toEqual(contract.map((e) => [e.status, e.type]));
    expect(reference.answers.find((a) => a.status === 403 && a.type?.endsWith('/forbidden'))).toMatchObject({ condition: 'a condition of the API is false', problemPage: '/portal/problems/forbidden' });
    expect(openApiProblems(reference.openapi)).toEqual([]);
    const openapi = await get('/portal/api/workflows/billing/openapi.json');
    expect(openapi.body).toEqual(reference.openapi);
    expect(Object.keys(openapi.body.paths)).toEqual(['/api/billing']);
    expect(openapi.body.components.securitySchemes).toEqual({ jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    expect(Object.keys(openapi.body.components.responses).sort()).toEqual([...new Set(contract.map((e) => `Status${e.status}`))].sort());
    expect(openApiProblems({ ...openapi.body, paths: { '/api/billing': { get: { responses: { '401': { content: 'not an object' } } } } } })).not.toEqual([]); // the check can fail
  });

  it('never shows a draft, an archived or an unlisted workflow, a secret reference, an expression, an upstream address or a node id', async () => {
    const answers = await Promise.all(['/portal/api/catalog', '/portal/api/products/billing', '/portal/api/workflows/billing', '/portal/api/workflows/billing/openapi.json', '/portal/api/workflows/receipts', '/portal/api/changelog/billing', '/portal/api/problems'].map((path) => get(path)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const everything = answers.map((a) => a.text).join('\n');
    for (const secret of [...INTERNALS, upstream.url, new URL(upstream.url).host, SECRET, 'drafty', 'draft-only-marker', '/api/gone', 'unlisted']) expect(everything, secret).not.toContain(secret);
    for (const id of ['drafty', 'gone', 'unlisted', 'nothing']) expectPortalProblem(await get(`/portal/api/workflows/${id}`), 404, 'not-found');
    expectPortalProblem(await get('/portal/api/products/nothing'), 404, 'not-found');
  });

  it('shows a draft to nobody, and previews it only for a publisher or an admin', async () => {
    const current = (await admin('viewer', 'GET', '/workflows/billing')).body;
    expect((await admin('editor', 'PUT', '/workflows/billing/draft', { document: billingWorkflow({ rateLimit: true }), baseRevision: current.draft.revision })).status).toBe(200);
    const served = portalReferenceSchema.parse((await get('/portal/api/workflows/billing')).body);
    expect(served.answers.some((a) => a.status === 429)).toBe(false);
    expect(served.preview).toBeUndefined();

    expectPortalProblem(await get('/portal/api/workflows/billing?preview=billing'), 401, 'unauthorized');
    expectPortalProblem(await get('/portal/api/catalog?preview=billing', { authorization: 'Bearer not-a-token-0123456789' }), 401, 'unauthorized');
    for (const who of ['viewer', 'editor', 'auditor'] as const) expectPortalProblem(await get('/portal/api/workflows/billing?preview=billing', who), 403, 'forbidden');
    for (const who of ['publisher', 'admin'] as const) {
      const preview = portalReferenceSchema.parse((await get('/portal/api/workflows/billing?preview=billing', who)).body);
      expect(preview.preview).toMatchObject({ workflow: 'billing', source: 'draft', summary: expect.stringContaining('adds 429 Too Many Requests') });
      expect(preview.workflow.version).toBe(2);
      expect(preview.answers.find((a) => a.status === 429)).toMatchObject({ condition: 'the caller sends more than 5 requests per 1m per subject' });
    }
    const changelog = portalChangelogSchema.parse((await get('/portal/api/changelog/billing?preview=billing', 'publisher')).body);
    expect(changelog.entries[0]).toMatchObject({ workflow: 'billing', version: 2, at: '', added: expect.arrayContaining([expect.objectContaining({ status: 429, title: 'Too Many Requests' })]) });
    // the preview's answers stay private: the public changelog has no version 2
    const open = portalChangelogSchema.parse((await get('/portal/api/changelog/billing')).body);
    expect(open.entries.some((e) => e.workflow === 'billing' && e.version === 2)).toBe(false);
  });

  it('previews a publish waiting for approval as it will serve, refused while it is not valid', async () => {
    const current = (await admin('viewer', 'GET', '/workflows/billing')).body;
    // removing the scope check removes an answer: the publish waits for a second publisher
    expect((await admin('editor', 'PUT', '/workflows/billing/draft', { document: billingWorkflow({ scopes: false }), baseRevision: current.draft.revision })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/billing/publish')).status).toBe(202);
    const preview = portalReferenceSchema.parse((await get('/portal/api/workflows/billing?preview=billing', 'publisher2')).body);
    expect(preview.preview).toMatchObject({ source: 'pending-approval', summary: expect.stringContaining('removes 403 Insufficient Scope') });
    expect(preview.workflow.scopes).toEqual({ all: [], any: [] });
    expect(portalReferenceSchema.parse((await get('/portal/api/workflows/billing')).body).workflow.scopes.all).toEqual(['billing:read']);
    expectPortalProblem(await get('/portal/api/catalog?preview=unlisted-nothing', 'publisher'), 404, 'not-found');
    expectPortalProblem(await get('/portal/api/catalog?preview=../etc', 'publisher'), 400, 'bad-request');
    expect((await admin('publisher2', 'POST', '/workflows/billing/approval/refuse', { reason: 'not yet' })).status).toBe(200);
  });

  it('shows deprecation and sunset exactly as the gateway sends them, and retirement as 410', async () => {
    const sunset = '2030-01-31T00:00:00.000Z';
    expect((await admin('publisher', 'POST', '/workflows/receipts/deprecate', { version: 1, sunset })).status).toBe(200);
    await gw.sluice.registry.whenApplied((await admin('viewer', 'GET', '/status')).body.appliedRevision);
    const served = await gw.fetch('/api/receipts');
    expect(served.status).toBe(200);
    const reference = portalReferenceSchema.parse((await get('/portal/api/workflows/receipts')).body);
    expect(reference.workflow.lifecycle).toMatchObject({ state: 'deprecated', sunset, headers: { deprecation: served.headers.get('deprecation'), sunset: served.headers.get('sunset') } });
    for (const answer of reference.answers) expect(answer.headers).toMatchObject({ deprecation: served.headers.get('deprecation'), sunset: served.headers.get('sunset') });
    const openapi = await get('/portal/api/workflows/receipts/openapi.json');
    expect(openapi.body.components.responses.Status200.headers.deprecation.example).toBe(served.headers.get('deprecation'));
    expect(openApiProblems(openapi.body)).toEqual([]);
    const changelog = portalChangelogSchema.parse((await get('/portal/api/changelog/billing')).body);
    expect(changelog.entries[0]).toMatchObject({ workflow: 'receipts', version: 1, event: 'deprecated', sunset });

    expect((await admin('publisher', 'POST', '/workflows/receipts/retire', { version: 1 })).status).toBe(200);
    await gw.sluice.registry.whenApplied((await admin('viewer', 'GET', '/status')).body.appliedRevision);
    expect((await gw.fetch('/api/receipts')).status).toBe(410);
    const retired = portalReferenceSchema.parse((await get('/portal/api/workflows/receipts')).body);
    expect(retired.workflow.lifecycle).toMatchObject({ state: 'retired', retiredAt: expect.any(String) });
  });

  it('answers a problem type URI with JSON for machines and the page for people', async () => {
    const json = await get('/portal/problems/forbidden');
    expect(json.status).toBe(200);
    expect(json.headers.get('vary')).toMatch(/accept/i);
    expect(portalProblemSchema.parse(json.body)).toMatchObject({ slug: 'forbidden', id: 'forbidden', status: 403, workflows: [{ id: 'billing', name: 'Billing' }] });
    const page = await get('/portal/problems/forbidden', undefined, 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expectPortalProblem(await get('/portal/problems/no-such-type'), 404, 'not-found');
    const scalar = await get('/portal/assets/scalar.js', undefined, '*/*');
    expect({ status: scalar.status, type: scalar.headers.get('content-type') }).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    expectPortalProblem(await get('/portal/assets/other.js', undefined, '*/*'), 404, 'not-found');
  });

  it('resolves the problem type of a gateway answer (SLUICE_PROBLEM_BASE), the same type the contract names', async () => {
    const refused = await gw.fetch('/api/billing');
    const problem = (await refused.json()) as { type: string; status: number; title: string };
    expect(problem).toMatchObject({ type: '/portal/problems/missing-token', status: 401 });
    const resolved = await fetch(new URL(problem.type, gw.url), { headers: { accept: 'application/json' } });
    expect(resolved.status).toBe(200);
    expect(portalProblemSchema.parse(await resolved.json())).toMatchObject({ type: problem.type, status: problem.status, title: problem.title });
    const contract = (await admin('viewer', 'GET', '/workflows/billing/contract')).body.entries as Array<{ id: string; type?: string }>;
    expect(contract.find((e) => e.id === 'missing_token')?.type).toBe(problem.type);
    expect((await admin('viewer', 'GET', '/errors')).body.errors.missing_token.type).toBe(problem.type);
  });

  it('says who reads it', async () => {
    expect(portalSessionSchema.parse((await get('/portal/api/session')).body)).toEqual({ mode: 'public', viewer: { kind: 'anonymous' } });
    expect(portalSessionSchema.parse((await get('/portal/api/session', 'editor')).body)).toEqual({ mode: 'public', viewer: { kind: 'admin', name: 'eddie', role: 'editor' } });
  });
});

describe('SLUICE_PORTAL=sign-in and off', () => {
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(() => upstream?.close());

  it('sign-in: the catalog needs a token of any role; problem types stay public', async () => {
    const gw = await startPortalGateway(upstream, { SLUICE_PORTAL: 'sign-in' });
    try {
      await seed(adminOf(gw.url));
      const refused = await portalGet(gw.url, '/portal/api/catalog');
      expectPortalProblem(refused, 401, 'unauthorized');
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="sluice-portal"');
      expectPortalProblem(await portalGet(gw.url, '/portal/api/workflows/billing'), 401, 'unauthorized');
      expect(portalCatalogSchema.parse((await portalGet(gw.url, '/portal/api/catalog', 'viewer')).body).products).toHaveLength(1);
      // problem types stay public, without naming the workflows that answer with them
      expect(portalProblemSchema.parse((await portalGet(gw.url, '/portal/problems/forbidden')).body)).toMatchObject({ status: 403, workflows: [] });
      expect((await portalGet(gw.url, '/portal/api/problems')).text).not.toContain('billing');
      expect(portalProblemSchema.parse((await portalGet(gw.url, '/portal/problems/forbidden', 'viewer')).body).workflows).toEqual([{ id: 'billing', name: 'Billing' }]);
      expect((await portalGet(gw.url, '/portal/api/session')).body).toEqual({ mode: 'sign-in', viewer: { kind: 'anonymous' } });
    } finally {
      await gw.close();
    }
  });

  it('off: everything under /portal answers 404', async () => {
    const gw = await startPortalGateway(upstream, { SLUICE_PORTAL: 'off' });
    try {
      for (const path of ['/portal', '/portal/', '/portal/api/catalog', '/portal/api/session', '/portal/problems/forbidden', '/portal/assets/scalar.js']) expectPortalProblem(await portalGet(gw.url, path, 'admin'), 404, 'not-found');
      expectPortalProblem(await portalGet(gw.url, '/editor/portal.html'), 404, 'not-found');
    } finally {
      await gw.close();
    }
  });
});
