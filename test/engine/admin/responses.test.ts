import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../engine/admin/http/endpoint.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, passThrough, endpointTable, stamped, startAdminGateway, until, type Admin, type Person } from './support.ts';

/*
 * Every endpoint's response schema (shared/admin/, what the editor reads) against what the engine
 * serves: a round trip through every endpoint, each answer parsed by its endpoint's schema and
 * nothing of it dropped (the parse equals the answer), and the OpenAPI document's response schemas.
 */

describe('admin API answers and their response schemas', () => {
  let gw: TestGateway;
  let admin: Admin;
  let endpoints: Endpoint[];
  const checked = new Set<Endpoint>();

  /** The endpoint a call reaches, by method and route pattern. */
  const endpointOf = (method: string, path: string) => {
    const bare = path.split('?')[0]!;
    const found = endpoints.find((e) => e.method === method.toLowerCase() && new RegExp(`^${e.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`).test(bare));
    if (!found) throw new Error(`no endpoint for ${method} ${path}`);
    return found;
  };

  /** Calls the API and checks the answer against the endpoint's response schema. */
  async function call(who: Person, method: string, path: string, body?: unknown, status?: 202) {
    const answer = await admin(who, method, path, body);
    const endpoint = endpointOf(method, path);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status ?? endpoint.status ?? 200);
    const parsed = endpoint.response.safeParse(answer.body);
    expect(parsed.success ? [] : parsed.error.issues, `${method} ${path}`).toEqual([]);
    expect(parsed.data, `${method} ${path}: the schema keeps every field`).toEqual(answer.body);
    checked.add(endpoint);
    return answer.body;
  }

  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_DEMO: 'on' } });
    admin = adminOf(gw.url);
    endpoints = endpointTable(gw);
  });
  afterAll(() => gw.close());

  it('workflows, versions, catalog, audit, previews, status: every answer is what its schema says', async () => {
    await call('viewer', 'GET', '/whoami');
    await call('viewer', 'GET', '/kinds');
    await call('editor', 'POST', '/workflows', { document: stamped('round', '/round', 'v1', { guard: true }) });
    await call('viewer', 'GET', '/workflows');
    const view = await call('viewer', 'GET', '/workflows/round');
    await call('editor', 'PUT', '/workflows/round/draft', { document: stamped('round', '/round', 'v1', { guard: true }), baseRevision: view.draft.revision });
    await call('editor', 'POST', '/workflows/round/validate', {});
    await call('publisher', 'POST', '/workflows/round/publish', {});
    await call('editor', 'PUT', '/workflows/round/draft', { document: stamped('round', '/round', 'v2', { guard: true }), baseRevision: view.draft.revision + 1 });
    await call('publisher2', 'POST', '/workflows/round/publish', {});
    // a canary of version 2 beside version 1: started, read, its share changed, promoted; another aborted
    await call('publisher', 'POST', '/workflows/round/rollback', { version: 1 });
    await call('publisher', 'POST', '/workflows/round/canary', { version: 2, share: 10 });
    await call('viewer', 'GET', '/workflows/round/canary');
    await call('publisher', 'POST', '/workflows/round/canary', { share: 20, sticky: { by: 'header', header: 'x-caller' } });
    await call('publisher', 'POST', '/workflows/round/canary/promote');
    await call('publisher', 'POST', '/workflows/round/rollback', { version: 1 });
    await call('publisher', 'POST', '/workflows/round/canary', { version: 2, share: 10 });
    await call('publisher', 'POST', '/workflows/round/canary/abort', { reason: 'schemas' });
    await call('viewer', 'GET', '/workflows/round/canary');
    await call('publisher', 'POST', '/workflows/round/deprecate', { version: 1, sunset: '2030-01-01T00:00:00Z' });
    await call('publisher', 'POST', '/workflows/round/retire', { version: 2 });
    await call('viewer', 'GET', '/workflows'); // a deprecated active version
    await call('viewer', 'GET', '/workflows/round/versions');
    await call('viewer', 'GET', '/workflows/round/versions/2');
    await call('viewer', 'GET', '/workflows/round/diff?from=1&to=2');
    const catalog = await call('viewer', 'GET', '/errors');
    await call('publisher', 'PUT', '/errors', catalog);
    // a rule the active version of round breaks (its answer comes before any identity), then none again
    const rule = { id: 'no-anonymous-success', description: 'No success without an identity', form: 'no-success-without', passes: ['api-key'] };
    expect((await call('admin', 'PUT', '/rules', { rules: [rule] })).violators).toHaveLength(1);
    await call('viewer', 'GET', '/rules');
    expect((await call('viewer', 'GET', '/rules/violations')).violators).toHaveLength(1);
    await call('admin', 'PUT', '/rules', { rules: [] });
    await call('auditor', 'GET', '/audit?limit=50');
    await call('auditor', 'GET', '/audit/verify');
    await call('editor', 'POST', '/simulate', { workflow: 'round', version: 'active', request: { path: '/round?deny=1' } });
    await call('editor', 'POST', '/simulate', { document: { id: 'half' }, request: { path: '/' } });
    await call('viewer', 'GET', '/workflows/round/contract?version=1');
    await call('viewer', 'GET', '/workflows/round/contract?version=1&format=openapi');
    await call('viewer', 'GET', '/workflows/round/contract/diff?from=1&to=2');
    await call('editor', 'POST', '/workflows/round/test', {});
    await call('editor', 'POST', '/demo-token', { sub: 'someone', scopes: ['read'] });
    await call('editor', 'POST', '/expressions/evaluate', { expression: '$uppercase(request.path)', request: { path: '/round' } });
    await call('publisher', 'POST', '/cache/purge', { name: 'round' });
    await gw.fetch('/round');
    await call('publisher', 'POST', '/workflows/round/compare', { from: 1, to: 2 });
    await call('viewer', 'GET', '/workflows/round/stats?window=1m');
    await call('viewer', 'GET', '/workflows/round/live');
    await call('viewer', 'GET', '/status');
    await call('viewer', 'GET', '/cluster');
    // the contract gate: a draft without the guard removes its 403, so it waits for a second publisher
    await call('editor', 'PUT', '/workflows/round/draft', { document: stamped('round', '/round', 'v3'), baseRevision: view.draft.revision + 2 });
    await call('publisher', 'POST', '/workflows/round/publish', { note: 'no guard' }, 202);
    await call('viewer', 'GET', '/workflows/round');
    await call('viewer', 'GET', '/workflows/round/approval');
    await call('publisher', 'POST', '/workflows/round/approval/refuse', { reason: 'round trip' });
    await call('publisher', 'POST', '/workflows/round/publish', {}, 202);
    await call('publisher2', 'POST', '/workflows/round/approval/approve', {});
    await call('publisher', 'POST', '/workflows/round/archive', { reason: 'round trip' });
    await call('viewer', 'GET', '/workflows'); // an archived workflow
    await call('viewer', 'GET', '/workflows/round');
    await call('publisher', 'POST', '/workflows/round/restore', {});
    await call('editor', 'POST', '/workflows', { document: stamped('gone', '/gone', 'v1') });
    await call('publisher', 'DELETE', '/workflows/gone');
  });

  it('fragments: every answer is what its schema says', async () => {
    await call('editor', 'POST', '/fragments', { document: passThrough('pass') });
    await call('editor', 'POST', '/fragments/pass/validate', {});
    await call('publisher', 'POST', '/fragments/pass/publish', { note: 'first' });
    await call('editor', 'PUT', '/fragments/pass/draft', { document: passThrough('pass', 'false'), baseRevision: 1 });
    await call('publisher2', 'POST', '/fragments/pass/publish', {});
    await call('publisher', 'POST', '/fragments/pass/rollback', { version: 1 });
    await call('viewer', 'GET', '/fragments');
    await call('viewer', 'GET', '/fragments/pass');
    await call('viewer', 'GET', '/fragments/pass/versions/2');
  });

  it('partners, keys, products and plans: every answer is what its schema says', async () => {
    await call('publisher', 'PUT', '/products/round-api', { name: 'Round', workflows: ['round'] });
    await call('publisher', 'PUT', '/plans/gold', { name: 'Gold', limits: { 'round-api': { limit: 100, window: '1m' } } });
    await call('viewer', 'GET', '/products');
    await call('viewer', 'GET', '/plans');
    await call('publisher', 'POST', '/partners', { id: 'acme', name: 'Acme', plan: 'gold', products: ['round-api'], clientIds: ['acme-app'] });
    const key = await call('publisher', 'POST', '/partners/acme/keys', { scopes: ['read'] });
    await call('publisher', 'POST', `/partners/acme/keys/${key.id}/rotate`, { overlap: '1m' });
    await call('publisher', 'POST', `/partners/acme/keys/${key.id}/revoke`, {});
    const cert = await call('publisher', 'POST', '/partners/acme/certificates', { match: 'fingerprint', value: 'AB:'.repeat(31) + 'AB' });
    await call('publisher', 'POST', `/partners/acme/certificates/${cert.id}/remove`, { reason: 'a test' });
    const hmac = await call('publisher', 'POST', '/partners/acme/hmac-secrets', {});
    await call('publisher', 'POST', `/partners/acme/hmac-secrets/${hmac.id}/rotate`, { overlap: '1m' });
    await call('publisher', 'POST', `/partners/acme/hmac-secrets/${hmac.id}/revoke`, {});
    await call('publisher', 'PUT', '/partners/acme', { name: 'Acme Inc', plan: 'gold', products: ['round-api'] });
    await call('publisher', 'POST', '/partners/acme/suspend', { reason: 'a test' });
    await call('publisher', 'POST', '/partners/acme/reactivate', {});
    await call('viewer', 'GET', '/partners');
    await call('viewer', 'GET', '/partners/acme');
    await call('viewer', 'GET', '/partners/acme/stats?window=1m');
  });

  it('evidence: records, counts and one trace are what their schemas say; the export is streamed NDJSON', async () => {
    const trace = 'c0ffee'.padEnd(32, '0');
    await (await gw.fetch('/round', { headers: { traceparent: `00-${trace}-${'1'.repeat(16)}-01` } })).arrayBuffer();
    await until('the request in evidence', async () => ((await admin('auditor', 'GET', `/evidence/traces/${trace}`)).status === 200 ? true : undefined));
    const page = await call('auditor', 'GET', '/evidence?limit=10');
    expect(page.records.map((r: { traceId: string }) => r.traceId)).toContain(trace);
    await call('viewer', 'GET', '/evidence/aggregate?by=workflow,outcome&bucket=1m');
    await call('auditor', 'GET', `/evidence/traces/${trace}`);
    const exported = await fetch(`${gw.url}/admin/api/evidence/export?format=ndjson`, { headers: { authorization: 'Bearer auditor-token-0123456789abcdef' } });
    expect(exported.headers.get('content-type')).toBe('application/x-ndjson');
    expect((await exported.text()).trim().split('\n').map((line) => (JSON.parse(line) as { traceId: string }).traceId)).toContain(trace);
    checked.add(endpointOf('GET', '/evidence/export'));
  });

  it('reached every endpoint of the table', () => {
    expect(endpoints.filter((e) => !checked.has(e)).map((e) => `${e.method} ${e.path}`)).toEqual([]);
  });

  it('the OpenAPI document describes each success with its response schema', async () => {
    const doc = (await (await fetch(`${gw.url}/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content: { 'application/json': { schema: Record<string, unknown> } } }> }>> };
    const schemaOf = (method: string, path: string, status = '200') => doc.paths[`/admin/api${path}`]![method]!.responses[status]!.content['application/json'].schema;
    expect(schemaOf('get', '/workflows')).toMatchObject({ type: 'object', required: ['revision', 'workflows'], properties: { workflows: { type: 'array', items: { properties: { state: { enum: ['active', 'deprecated', 'retired', 'draft'] } } } } } });
    expect(schemaOf('get', '/whoami')).toMatchObject({ properties: { role: { enum: ['viewer', 'editor', 'publisher', 'auditor', 'admin'] } } });
    expect(schemaOf('post', '/partners', '201')).toMatchObject({ type: 'object', properties: { keys: { type: 'array' } } });
    for (const e of endpoints.filter((endpoint) => !endpoint.streamed)) {
      const path = e.path.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(Object.keys(schemaOf(e.method, path, String(e.status ?? 200))).length, `${e.method} ${e.path}`).toBeGreaterThan(0);
    }
  });
});
