import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, startAdminGateway, type Admin } from '../admin/support.ts';

/*
 * Differential replay against real servers: real traffic through a published workflow (a jose
 * token verified against a JWKS server, partner API keys), recorded without its credentials,
 * then replayed through the draft and the active version in the simulator. The compare lists
 * exactly the requests a scope change would refuse.
 */

const CAP = 12;

/** jwt-verify (keys from a JWKS server) -> scope-check -> proxy, scope `scope` required. */
const ordersWorkflow = (jwksUrl: string, scope: string, path = '/api/orders/:id') => ({
  id: 'orders',
  name: 'Orders',
  route: { methods: ['GET'], path },
  nodes: [
    { id: 'verify', kind: 'jwt-verify', config: { jwksUri: jwksUrl, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } },
    { id: 'scopes', kind: 'scope-check', config: { all: [scope] } },
    { id: 'call', kind: 'proxy', config: { url: '${REPLAY_UPSTREAM}' } },
  ],
  edges: [
    { from: 'verify', port: 'ok', to: 'scopes' },
    { from: 'scopes', port: 'ok', to: 'call' },
  ],
  tests: [{ name: 'no token', request: { method: 'GET', path: '/api/orders/t1' }, expect: { status: 401 } }],
});

/** Partner API keys -> scope-check -> proxy. */
const keysWorkflow = (scope: string) => ({
  id: 'keyed',
  name: 'Keyed',
  route: { methods: ['GET'], path: '/api/keyed/:id' },
  nodes: [
    { id: 'key', kind: 'api-key', config: { header: 'x-partner-key', source: 'partners' } },
    { id: 'scopes', kind: 'scope-check', config: { all: [scope] } },
    { id: 'call', kind: 'proxy', config: { url: '${REPLAY_UPSTREAM}' } },
  ],
  edges: [
    { from: 'key', port: 'ok', to: 'scopes' },
    { from: 'scopes', port: 'ok', to: 'call' },
  ],
});

/** A workflow answering `status` itself, with one test. */
const answering = (id: string, status: number) => ({
  id,
  name: id,
  route: { methods: ['GET'], path: `/api/${id}` },
  nodes: [{ id: 'answer', kind: 'respond', config: { status, body: { ok: true } } }],
  edges: [],
  tests: [{ name: 'answers', request: { method: 'GET', path: `/api/${id}` }, expect: { status: 200 } }],
});

/** A POST whose body a condition reads: the body is buffered, and so recorded. */
const formsWorkflow = (kind: string) => ({
  id: 'forms',
  name: 'Forms',
  route: { methods: ['POST'], path: '/api/forms' },
  nodes: [
    { id: 'kind', kind: 'condition', config: { when: `request.body.kind = "${kind}"` } },
    { id: 'yes', kind: 'respond', config: { status: 200, body: { ok: true } } },
    { id: 'no', kind: 'respond', config: { status: 422, body: { ok: false } } },
  ],
  edges: [
    { from: 'kind', port: 'true', to: 'yes' },
    { from: 'kind', port: 'false', to: 'no' },
  ],
});

/** Calls a side service (sending the request's headers) before answering `status`. */
const enrichedWorkflow = (status: number) => ({
  id: 'enriched',
  name: 'Enriched',
  route: { methods: ['GET'], path: '/api/enriched' },
  nodes: [
    { id: 'profile', kind: 'http-call', config: { name: 'profile', method: 'POST', url: '${SIDE_URL}/profiles', body: 'request.headers' } },
    { id: 'answer', kind: 'respond', config: { status, body: { ok: true } } },
  ],
  edges: [{ from: 'profile', port: 'ok', to: 'answer' }],
});

async function create(admin: Admin, document: { id: string }) {
  const created = await admin('editor', 'POST', '/workflows', { document });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await admin('publisher', 'POST', `/workflows/${document.id}/publish`);
  expect(published.status, JSON.stringify(published.body)).toBe(200);
}

async function saveDraft(admin: Admin, document: { id: string }) {
  const { body } = await admin('editor', 'GET', `/workflows/${document.id}`);
  const saved = await admin('editor', 'PUT', `/workflows/${document.id}/draft`, { document, baseRevision: body.draft.revision });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
}

/** Sends a request and drains its answer; the status. */
async function send(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

describe('differential replay', () => {
  let jwks: TestUpstream;
  let upstream: TestUpstream;
  let side: TestUpstream;
  let issuer: TestIssuer;
  let gw: TestGateway;
  let admin: Admin;
  /** Every credential sent: none may appear in a sample or an answer. */
  const secrets: string[] = [];
  let keyIds: { both: string; readOnly: string };

  beforeAll(async () => {
    issuer = await createIssuer();
    jwks = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks)));
    upstream = await startUpstream();
    side = await startUpstream();
    gw = await startAdminGateway({ env: { REPLAY_UPSTREAM: upstream.url, SIDE_URL: side.url }, settings: { SLUICE_REPLAY_SAMPLES: String(CAP), SLUICE_REPLAY_PER_SECOND: '100000', SLUICE_CALLOUT_HOSTS: new URL(side.url).host } });
    admin = adminOf(gw.url);
    await create(admin, ordersWorkflow(`${jwks.url}/jwks.json`, 'orders:read'));
    expect((await admin('publisher', 'POST', '/partners', { id: 'acme', name: 'Acme' })).status).toBe(201);
    const both = await admin('publisher', 'POST', '/partners/acme/keys', { scopes: ['orders:read', 'orders:write'] });
    const readOnly = await admin('publisher', 'POST', '/partners/acme/keys', { scopes: ['orders:read'] });
    keyIds = { both: both.body.id, readOnly: readOnly.body.id };
    secrets.push(both.body.key, readOnly.body.key);
    await create(admin, keysWorkflow('orders:read'));
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await side?.close();
    await jwks?.close();
  });

  it('records traffic without a credential, and a scope change in the draft lists exactly the requests that would get 403', async () => {
    const readWrite = await issuer.sign({ sub: 'rw-user', azp: 'acme', scope: 'orders:read orders:write' });
    const readOnly = await issuer.sign({ sub: 'r-user', azp: 'acme', scope: 'orders:read' });
    const noScope = await issuer.sign({ sub: 'n-user', azp: 'acme', scope: 'profile' });
    secrets.push(readWrite, readOnly, noScope);
    const orders = (id: string) => `${gw.url}/api/orders/${id}`;
    // the statuses the active version gives: read scope passes, none is refused, no token is 401
    expect(await send(orders('rw-1'), { authorization: `Bearer ${readWrite}` })).toBe(200);
    expect(await send(orders('rw-2'), { authorization: `Bearer ${readWrite}`, cookie: 'session=cookie-secret-1' })).toBe(200);
    expect(await send(orders('r-1'), { authorization: `Bearer ${readOnly}` })).toBe(200);
    expect(await send(orders('r-2'), { authorization: `Bearer ${readOnly}`, 'x-trace-note': readOnly })).toBe(200);
    expect(await send(`${orders('r-3')}?view=full&access_token=${readOnly}`, { authorization: `Bearer ${readOnly}` })).toBe(200);
    expect(await send(orders('n-1'), { authorization: `Bearer ${noScope}` })).toBe(403);
    expect(await send(orders('anon-1'))).toBe(401);
    expect(await send(orders('bad-1'), { authorization: 'Bearer not.a.token' })).toBe(401);
    secrets.push('cookie-secret-1');
    const keyed = (id: string) => `${gw.url}/api/keyed/${id}`;
    expect(await send(keyed('both-1'), { 'x-partner-key': secrets[0]! })).toBe(200);
    expect(await send(keyed('read-1'), { 'x-partner-key': secrets[1]! })).toBe(200);
    expect(await send(keyed('read-2'), { 'x-partner-key': secrets[1]! })).toBe(200);
    expect(await send(keyed('wrong-1'), { 'x-partner-key': 'sk_abcdefgh_not-a-real-key' })).toBe(401);

    const samples = gw.sluice.samples!;
    const stored = await vi.waitFor(async () => {
      const [o, k] = [await samples.list('orders'), await samples.list('keyed')];
      expect([o.length, k.length]).toEqual([8, 4]);
      return [...o, ...k];
    });
    const raw = stored.join('\n');
    for (const secret of secrets) expect(raw).not.toContain(secret);
    expect(raw).not.toMatch(/bearer |eyJ|sk_abcdefgh|access_token/i);
    // no credential header is kept (an unaccepted one is named, without its value, to be replayed as refused)
    for (const sample of stored.map((s) => JSON.parse(s) as { headers: Record<string, string> })) expect(Object.keys(sample.headers)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(authorization|cookie|x-partner-key|x-trace-note)$/)]));
    // what is kept: the request line, the identity as a reference, and the upstream's answer
    const first = JSON.parse((await samples.list('orders')).at(-1)!);
    expect(first).toMatchObject({ method: 'GET', path: '/api/orders/rw-1', identity: { kind: 'jwt', claims: { sub: 'rw-user', scope: 'orders:read orders:write', iss: TEST_ISSUER } }, upstream: { status: 200, contentType: 'application/json' }, answered: { status: 200, outcome: 'ok' } });
    expect(JSON.parse((await samples.list('orders')).find((s) => s.includes('/r-3'))!).query).toEqual([['view', 'full']]);
    expect(JSON.parse((await samples.list('keyed')).at(-1)!)).toMatchObject({ identity: { kind: 'api-key', key: keyIds.both }, partner: 'acme' });

    // the draft requires the write scope
    await saveDraft(admin, ordersWorkflow(`${jwks.url}/jwks.json`, 'orders:write'));
    const answer = await admin('publisher', 'POST', '/workflows/orders/compare', {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ workflow: 'orders', from: 1, to: 'draft', total: 9, recorded: 8, tests: 1, skipped: [] });
    expect(answer.body.changed).toHaveLength(1);
    const [change] = answer.body.changed;
    expect(change).toMatchObject({ count: 3, from: { status: 200, outcome: 'ok' }, to: { status: 403, outcome: 'denied', node: 'scopes', port: 'denied', problem: expect.stringMatching(/insufficient-scope$/) } });
    expect(change.requests.map((r: { path: string }) => r.path).sort()).toEqual(['/api/orders/r-1', '/api/orders/r-2', '/api/orders/r-3?view=full']);
    expect(change.requests[0]).toMatchObject({ method: 'GET', partner: 'acme', at: expect.any(String) });
    expect(answer.body.summary).toBe('3 requests: 200 -> 403 at scopes.denied');
    const answered = JSON.stringify(answer.body);
    for (const secret of secrets) expect(answered).not.toContain(secret);

    // partner keys: the read-only key's requests would be refused
    await saveDraft(admin, keysWorkflow('orders:write'));
    const keyedAnswer = await admin('publisher', 'POST', '/workflows/keyed/compare', { from: 'active', to: 'draft' });
    expect(keyedAnswer.body).toMatchObject({ total: 4, recorded: 4, summary: '2 requests: 200 -> 403 at scopes.denied' });
    expect(keyedAnswer.body.changed[0].requests.map((r: { path: string }) => r.path).sort()).toEqual(['/api/keyed/read-1', '/api/keyed/read-2']);

    // the other way round (draft to active) the same requests change back
    const back = await admin('publisher', 'POST', '/workflows/orders/compare', { from: 'draft', to: 1 });
    expect(back.body.summary).toBe('3 requests: 403 -> 200');
  });

  it('records a small JSON body with its secrets redacted, and replays it', async () => {
    await create(admin, formsWorkflow('order'));
    const body = { kind: 'order', password: 'hunter2-secret', nested: { apiKey: 'abc-secret-key', list: ['Bearer list-secret-token'] }, note: 'plain words' };
    const res = await fetch(`${gw.url}/api/forms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const [stored] = await vi.waitFor(async () => {
      const list = await gw.sluice.samples!.list('forms');
      expect(list).toHaveLength(1);
      return list;
    });
    expect(stored).not.toMatch(/hunter2|abc-secret|list-secret/);
    expect(JSON.parse(stored!).body).toEqual({ kind: 'order', password: '[redacted]', nested: { apiKey: '[redacted]', list: ['[redacted]'] }, note: 'plain words' });
    await saveDraft(admin, formsWorkflow('invoice'));
    const answer = await admin('publisher', 'POST', '/workflows/forms/compare', {});
    expect(answer.body).toMatchObject({ total: 1, summary: '1 request: 200 -> 422' });
  });

  it('never calls a side service in a compare: an http-call node gets a stub, whatever the draft sends it', async () => {
    await create(admin, enrichedWorkflow(200));
    expect(await send(`${gw.url}/api/enriched`, { 'x-customer': 'c-42' })).toBe(200);
    expect(side.received).toHaveLength(1); // the served version calls it for real
    await vi.waitFor(async () => expect(await gw.sluice.samples!.list('enriched')).toHaveLength(1));
    await saveDraft(admin, enrichedWorkflow(201));
    const answer = await admin('publisher', 'POST', '/workflows/enriched/compare', {});
    expect(answer.body).toMatchObject({ total: 1, summary: '1 request: 200 -> 201' });
    expect(side.received).toHaveLength(1);
  });

  it('keeps the newest requests up to the cap', async () => {
    await create(admin, answering('capped', 200));
    for (let i = 0; i < CAP + 5; i++) expect(await send(`${gw.url}/api/capped?n=${i}`)).toBe(200);
    const kept = await vi.waitFor(async () => {
      const list = await gw.sluice.samples!.list('capped');
      expect(list.some((s) => s.includes(`"n","${CAP + 4}"`))).toBe(true);
      return list;
    });
    expect(kept).toHaveLength(CAP);
    expect(kept.map((s) => JSON.parse(s).query[0][1])).toEqual(Array.from({ length: CAP }, (_, i) => String(CAP + 4 - i)));
  });

  it('compares only the tests of a workflow without recorded traffic', async () => {
    await create(admin, answering('quiet', 200));
    await saveDraft(admin, answering('quiet', 202));
    const answer = await admin('publisher', 'POST', '/workflows/quiet/compare', {});
    expect(answer.body).toMatchObject({ total: 1, recorded: 0, tests: 1, summary: '1 request: 200 -> 202' });
    expect(answer.body.changed[0].requests).toEqual([{ method: 'GET', path: '/api/quiet', test: 'answers' }]);
  });

  it('a publisher may compare; an editor or a viewer may not (a draft branching on recorded requests would read them back); a bad version is named', async () => {
    expectProblem(await admin('viewer', 'POST', '/workflows/orders/compare', {}), 403, 'forbidden');
    expectProblem(await admin('editor', 'POST', '/workflows/orders/compare', {}), 403, 'forbidden');
    const bad = await admin('publisher', 'POST', '/workflows/orders/compare', { to: 'newest' });
    expect(expectProblem(bad, 400, 'bad-request').problems).toEqual([expect.objectContaining({ field: 'to' })]);
    const missing = await admin('publisher', 'POST', '/workflows/orders/compare', { to: 9 });
    expectProblem(missing, 404, 'not-found');
    // the audit log says who compared what
    const audit = await admin('admin', 'GET', '/audit');
    expect(JSON.stringify(audit.body)).toMatch(/workflow\.compare.*pia|pia.*workflow\.compare/);
  });
});

describe('differential replay across replicas sharing Redis', async () => {
  const available = await sharedRedisAvailable();
  const prefix = testPrefix('replay');
  let gws: TestGateway[] = [];

  afterAll(async () => {
    for (const gw of gws) await gw.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it.runIf(available)('compares the samples every replica recorded', async () => {
    const settings = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SLUICE_REPLAY_SAMPLES: '50', SLUICE_REPLAY_PER_SECOND: '100000' };
    gws = [await startAdminGateway({ settings }), await startAdminGateway({ settings })];
    const [one, two] = gws as [TestGateway, TestGateway];
    const admin = adminOf(one.url);
    await create(admin, answering('shared', 200));
    await vi.waitFor(async () => expect(await send(`${two.url}/api/shared`)).toBe(200), { timeout: 10_000 });
    for (let i = 0; i < 3; i++) expect(await send(`${one.url}/api/shared?from=one`, { authorization: 'Bearer redis-secret-token', cookie: 'sid=redis-cookie-secret' })).toBe(200);
    for (let i = 0; i < 2; i++) expect(await send(`${two.url}/api/shared?from=two`)).toBe(200);
    // the first request on `two` waited for it to serve: one more than sent in the loop
    await vi.waitFor(async () => expect(await one.sluice.samples!.list('shared')).toHaveLength(6));
    // the list in Redis, read directly: capped, and no credential in it
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      const raw = await redis.lrange(`sluice:${prefix}:samples:shared`, 0, -1);
      expect(raw).toHaveLength(6);
      expect(raw.join('\n')).not.toMatch(/redis-secret-token|redis-cookie-secret|bearer/i);
    } finally {
      redis.disconnect();
    }
    await saveDraft(adminOf(two.url), answering('shared', 500));
    const answer = await adminOf(two.url)('publisher', 'POST', '/workflows/shared/compare', {});
    expect(answer.body).toMatchObject({ recorded: 6, tests: 1, total: 7 });
    expect(answer.body.changed).toHaveLength(1);
    expect(answer.body.changed[0].count).toBe(7);
    expect(answer.body.changed[0].requests.map((r: { path: string }) => r.path).filter((p: string) => p.includes('from=')).sort()).toEqual([...Array(3).fill('/api/shared?from=one'), ...Array(2).fill('/api/shared?from=two')]);
  });
});

describe('differential replay turned off', () => {
  let gw: TestGateway;
  afterAll(() => gw?.close());

  it('records nothing, and a compare replays the tests only', async () => {
    gw = await startAdminGateway({ settings: { SLUICE_REPLAY: 'off' } });
    const admin = adminOf(gw.url);
    expect(gw.sluice.samples).toBeUndefined();
    await create(admin, answering('unrecorded', 200));
    expect(await send(`${gw.url}/api/unrecorded`)).toBe(200);
    await saveDraft(admin, answering('unrecorded', 202));
    const answer = await admin('publisher', 'POST', '/workflows/unrecorded/compare', {});
    expect(answer.body).toMatchObject({ recorded: 0, tests: 1, total: 1, summary: '1 request: 200 -> 202' });
  });
});
