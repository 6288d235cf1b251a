import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, startAdminGateway, type Admin } from './support.ts';

/*
 * A stored document (draft, version, export) never holds a credential: a test or sample that
 * types one is refused naming the field, and references to keys resolve when the tests run.
 */

const INLINE_KEY = 'inline-secret-key-0123456789';
const hash = (key: string) => `sha256:${createHash('sha256').update(key).digest('hex')}`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

function documentWith(id: string, extra: { tests?: unknown[]; samples?: unknown[] }) {
  return {
    id,
    name: `Credentials ${id}`,
    route: { methods: ['GET'], path: `/creds/${id}` },
    nodes: [
      { id: 'key', kind: 'api-key', config: { header: 'x-partner-key', source: 'partners', keys: [{ hash: hash(INLINE_KEY), partner: 'inline-co', scopes: ['read'] }] } },
      { id: 'who', kind: 'respond', config: { status: 200, body: { ok: true } } },
    ],
    edges: [{ from: 'key', port: 'ok', to: 'who' }],
    ...extra,
  };
}

const request = (headers: Record<string, string>, query?: Record<string, string>) => ({ method: 'GET', path: '/creds/x', headers, ...(query ? { query } : {}) });

describe('credentials in tests and samples', () => {
  let gw: TestGateway;
  let admin: Admin;
  let cases = 0;
  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it.each([
    ['a bearer token', 'tests', request({ authorization: 'Bearer abc.def' }), 'tests.0.request.headers.authorization'],
    ['an x-api-key', 'tests', request({ 'x-api-key': 'anything-at-all' }), 'tests.0.request.headers.x-api-key'],
    ['the header the api-key node reads', 'tests', request({ 'x-partner-key': INLINE_KEY }), 'tests.0.request.headers.x-partner-key'],
    ['a JWT in any header', 'samples', request({ 'x-forwarded-token': JWT }), 'samples.0.request.headers.x-forwarded-token'],
    ['a cookie', 'samples', request({ cookie: 'session=s3cr3t' }), 'samples.0.request.headers.cookie'],
    ['a partner key in the query', 'tests', request({}, { k: 'sk_abcdefgh_0123456789abcdef' }), 'tests.0.request.query.k'],
  ])('%s in %s is refused at draft save and at validate, naming the field', async (_what, list, req, field) => {
    const entry = list === 'tests' ? { name: 'typed', request: req, expect: { status: 200 } } : { name: 'typed', request: req };
    const id = `typed-${++cases}`;
    const document = documentWith(id, { [list]: [entry] });
    const created = await admin('editor', 'POST', '/workflows', { document });
    const problem = expectProblem(created, 422, 'validation-failed');
    expect(problem.problems).toEqual([expect.objectContaining({ code: 'invalid_document', field })]);
    expect(JSON.stringify(created.body)).not.toContain(INLINE_KEY);

    expect((await admin('editor', 'POST', '/workflows', { document: documentWith(id, {}) })).status).toBe(201);
    const validated = await admin('editor', 'POST', `/workflows/${id}/validate`, { document });
    expect(validated.body.problems).toEqual([expect.objectContaining({ code: 'invalid_document', field })]);
    const draft = await admin('viewer', 'GET', `/workflows/${id}`);
    expect(JSON.stringify(draft.body)).not.toMatch(/Bearer|anything-at-all|s3cr3t|sk_abcdefgh|eyJ/);
  });

  it('references resolve when the tests run: an inline key by hash and a partner key by id, and no role reads a key', async () => {
    const partner = await admin('publisher', 'POST', '/partners', { id: 'acme', name: 'Acme' });
    expect(partner.status).toBe(201);
    const created = await admin('publisher', 'POST', '/partners/acme/keys', { scopes: ['read'] });
    expect(created.status).toBe(201);
    const { id: keyId, key } = created.body as { id: string; key: string };
    const tests = [
      { name: 'inline key', request: { method: 'GET', path: '/creds/refs', apiKey: { hash: hash(INLINE_KEY) } }, expect: { status: 200 } },
      { name: 'partner key', request: { method: 'GET', path: '/creds/refs', apiKey: { key: keyId } }, expect: { status: 200 } },
      { name: 'no key', request: { method: 'GET', path: '/creds/refs' }, expect: { status: 401 } },
    ];
    expect((await admin('editor', 'POST', '/workflows', { document: documentWith('refs', { tests }) })).status).toBe(201);
    const run = await admin('publisher', 'POST', '/workflows/refs/test', {});
    expect(run.body.tests, JSON.stringify(run.body)).toEqual(tests.map((t) => expect.objectContaining({ name: t.name, passed: true })));
    // an editor's run of the same tests: the partner-key test would reach the real upstream as that partner, so it fails and says why
    const asEditor = await admin('editor', 'POST', '/workflows/refs/test', {});
    expect(asEditor.body.tests).toEqual([
      expect.objectContaining({ name: 'inline key', passed: true }),
      expect.objectContaining({ name: 'partner key', passed: false, failures: [expect.objectContaining({ what: 'request.apiKey.key', actual: expect.stringContaining('needs the publisher role') })] }),
      expect.objectContaining({ name: 'no key', passed: true }),
    ]);
    expect((await admin('publisher', 'POST', '/workflows/refs/publish')).body).toEqual({ version: 1, unchanged: false });

    for (const path of ['/workflows/refs', '/workflows/refs/versions', '/workflows/refs/versions/1']) {
      const answer = await admin('viewer', 'GET', path);
      expect(JSON.stringify(answer.body)).not.toContain(key);
      expect(JSON.stringify(answer.body)).not.toContain(INLINE_KEY);
    }

    // A run as a registered partner against the real upstream is for partner-managing roles; an editor mocks the upstream.
    const simulateAs = (role: 'editor' | 'publisher', upstream?: unknown) =>
      admin(role, 'POST', '/simulate', { document: documentWith('refs', {}), request: { method: 'GET', path: '/creds/refs', apiKey: { key: keyId } }, ...(upstream ? { upstream } : {}) });
    const refused = await simulateAs('editor');
    expect(refused.status).toBe(403);
    expect(refused.body.problems).toEqual([expect.objectContaining({ field: 'request.apiKey.key', message: expect.stringContaining('mocked upstream') })]);
    const audit = await admin('admin', 'GET', '/audit');
    expect(JSON.stringify(audit.body)).toContain(`as partner key ${keyId} against the real upstream`);
    expect((await simulateAs('editor', { status: 200, body: { mocked: true } })).body).toMatchObject({ ok: true, response: { status: 200 } });
    expect((await simulateAs('publisher')).body).toMatchObject({ ok: true, response: { status: 200 } });

    const unknown = await admin('editor', 'POST', '/simulate', { document: documentWith('refs', {}), request: { method: 'GET', path: '/creds/refs', apiKey: { key: 'no-such-key' } } });
    expect(unknown.body.problems).toEqual([expect.objectContaining({ code: 'invalid_document', field: 'request.apiKey.key' })]);
  });
});
