import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../engine/kinds/index.ts';
import { validateWorkflow } from '../../../shared/compile/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { ADMIN_TOKENS, adminCall, PEOPLE } from '../admin/support.ts';
import { scrapeBy } from '../../helpers/metrics.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('cache-lookup', {
  minimal: { config: { name: 'orders' }, parsed: { name: 'orders', acrossPartners: false, wait: '5s' } },
  accepts: [
    ['a key expression', { name: 'orders', key: 'request.path' }],
    ['shared across partners, no wait', { name: 'a.b-c_d', acrossPartners: true, wait: '0ms' }],
  ],
  refuses: [
    ['no name', {}, ['name']],
    ['a name with a colon', { name: 'a:b' }, ['name']],
    ['a wait over 30s', { name: 'a', wait: '31s' }, ['wait']],
    ['an empty key', { name: 'a', key: '' }, ['key']],
    ['an unknown field', { name: 'a', ttl: '1s' }, ['ttl']],
  ],
  readsBody: [
    [{ name: 'a' }, false],
    [{ name: 'a', key: 'request.path' }, false],
    [{ name: 'a', key: 'request.body.id' }, true],
  ],
});

const ACME_KEY = 'acme-cache-key-0123456789';
const GLOBEX_KEY = 'globex-cache-key-0123456789';
const keys = [
  { hash: hashApiKey(ACME_KEY), partner: 'acme', scopes: [] },
  { hash: hashApiKey(GLOBEX_KEY), partner: 'globex', scopes: [] },
];

/** lookup -> (miss) proxy -> cache-store: the shape every cached route has. */
function cached(id: string, path: string, lookup: Record<string, unknown>, store: Record<string, unknown>, before: NodeDoc[] = [], extra: NodeDoc[] = [], extraEdges: Array<[string, string, string]> = []) {
  const nodes: NodeDoc[] = [...before, { id: 'lookup', kind: 'cache-lookup', config: lookup }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }, { id: 'store', kind: 'cache-store', config: store }, ...extra];
  const edges: Array<[string, string, string]> = [...before.map((n): [string, string, string] => [n.id, 'ok', 'lookup']), ['lookup', 'miss', 'call'], ['call', 'ok', 'store'], ...extraEdges];
  return workflow(id, { path }, nodes, edges, before[0]?.id ?? 'lookup');
}

/**
 * gate -> lookup (30s of stampede wait) -> (miss) proxy -> a 5xx answer becomes a problem, never
 * reaching the cache-store; the gate's edge count shows how many requests reached the lookup.
 */
const leaderRoute = workflow(
  'leader',
  { path: '/leader/:name' },
  [
    { id: 'gate', kind: 'transform-request', config: { removeHeaders: ['x-none'] } },
    { id: 'lookup', kind: 'cache-lookup', config: { name: 'leader', wait: '30s' } },
    { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
    { id: 'check', kind: 'condition', config: { when: 'response.status < 500' } },
    { id: 'store', kind: 'cache-store', config: { name: 'leader' } },
    { id: 'fail', kind: 'error', config: { error: 'upstream_unavailable' } },
  ],
  [
    ['gate', 'ok', 'lookup'],
    ['lookup', 'miss', 'call'],
    ['call', 'ok', 'check'],
    ['check', 'true', 'store'],
    ['check', 'false', 'fail'],
  ],
  'gate',
);

/** Polls `check` until it holds (a state to reach, not a time to measure); fails after 5 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the awaited state never came');
}

describe('cache-lookup and cache-store (memory)', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const get = async (path: string, init?: RequestInit) => {
    const res = await gw.fetch(path, init);
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  /** The first call of each /leader/held-* path, kept unanswered until a test ends it. */
  const held = new Map<string, ServerResponse>();
  beforeAll(async () => {
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      if (req.url!.startsWith('/leader/held-') && !held.has(req.url!)) {
        held.set(req.url!, res);
        return;
      }
      const body = JSON.stringify({ n, url: req.url });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const name = req.url!.split('?')[0]!.split('/').pop()!;
      if (name.startsWith('nostore')) headers['cache-control'] = 'no-store';
      if (name.startsWith('private')) headers['cache-control'] = 'private, max-age=60';
      if (name.startsWith('cookie')) headers['set-cookie'] = 'session=abc';
      if (name.startsWith('maxage0')) headers['cache-control'] = 'max-age=0';
      if (name.startsWith('vary')) headers.vary = 'Accept-Language';
      const status = name.startsWith('fail') ? 500 : name.startsWith('missing') ? 404 : 200;
      setTimeout(() => {
        res.writeHead(status, headers);
        res.end(body);
      }, name.startsWith('slow') ? 300 : 0);
    });
    gw = await startGateway(
      [
        cached('cached', '/c/:name', { name: 'main' }, { name: 'main', ttl: '1h' }),
        { ...cached('post', '/post/:name', { name: 'post' }, { name: 'post' }), route: { methods: ['POST'], path: '/post/:name' } },
        cached('short', '/short/:name', { name: 'short' }, { name: 'short', ttl: '300ms' }),
        cached('stale', '/stale/:name', { name: 'stale' }, { name: 'stale', ttl: '300ms', stale: '1h' }),
        cached('keyed', '/keyed/:name', { name: 'keyed', key: 'request.params.name' }, { name: 'keyed' }),
        cached('by-query', '/by-query/:name', { name: 'by-query', key: 'request.query.id' }, { name: 'by-query' }),
        cached('partners', '/p/:name', { name: 'p' }, { name: 'p' }, [{ id: 'key', kind: 'api-key', config: { keys } }]),
        cached('shared', '/shared/:name', { name: 'shared', acrossPartners: true }, { name: 'shared' }, [{ id: 'key', kind: 'api-key', config: { keys } }]),
        cached('ports', '/ports/:name', { name: 'ports' }, { name: 'ports' }, [], [portNode('hit')], [['lookup', 'hit', 'hit']]),
        cached('counted', '/counted/:name', { name: 'counted' }, { name: 'counted', ttl: '1h', maxBytes: 64 }),
        leaderRoute,
        cached('counted-stale', '/counted-stale/:name', { name: 'counted-stale' }, { name: 'counted-stale', ttl: '200ms', stale: '1h' }),
      ],
      { env: { UPSTREAM: upstream.url }, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('misses, stores, then answers the same request from the cache: the upstream is called once', async () => {
    const first = await get('/c/orders?b=2&a=1');
    expect(first.status).toBe(200);
    const second = await get('/c/orders?a=1&b=2'); // the query sorted: the same entry
    expect(second.body).toBe(first.body);
    expect(second.headers.get('content-type')).toBe('application/json');
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    expect(calls('/c/orders?b=2&a=1')).toBe(1);
    expect(calls('/c/orders?a=1&b=2')).toBe(0);
    // another path, another query, another method: other entries
    expect((await get('/c/orders?a=1')).body).not.toBe(first.body);
    expect((await get('/c/other')).body).not.toBe(first.body);
  });

  it('never caches a request with credentials no node identified (an Authorization or Cookie the upstream reads)', async () => {
    for (const headers of [{ authorization: 'Bearer alice' }, { cookie: 'session=alice' }] as Array<Record<string, string>>) {
      const path = `/c/creds-${Object.keys(headers)[0]}`;
      const first = await get(path, { headers });
      expect((await get(path, { headers })).body).not.toBe(first.body);
      expect((await get(path)).body).not.toBe(first.body); // nor is it answered to a caller without them
      expect(calls(path)).toBe(3);
    }
  });

  it('never caches another method than GET and HEAD by default', async () => {
    const first = await get('/post/x', { method: 'POST' });
    expect((await get('/post/x', { method: 'POST' })).body).not.toBe(first.body);
    expect(calls('/post/x')).toBe(2);
  });

  it('takes the hit port when it is wired', async () => {
    const first = await get('/ports/x');
    expect(JSON.parse(first.body)).toMatchObject({ url: '/ports/x' });
    await expectPort(await gw.fetch('/ports/x'), 'hit');
  });

  it('keys by the key expression (plus the partner) when there is one', async () => {
    const first = await get('/keyed/k1?x=1');
    expect((await get('/keyed/k1?x=2')).body).toBe(first.body);
    expect(calls('/keyed/k1?x=2')).toBe(0);
    // the key says what the answer depends on: credentials no node identified do not stop it
    expect((await get('/keyed/k1?x=3', { headers: { authorization: 'Bearer alice' } })).body).toBe(first.body);
    // a key expression that gives nothing: not cached (all such requests would share one entry)
    const none = await get('/by-query/a');
    expect((await get('/by-query/b')).body).not.toBe(none.body);
    expect((await get('/by-query/a')).body).not.toBe(none.body);
    const byId = await get('/by-query/a?id=7');
    expect((await get('/by-query/b?id=7')).body).toBe(byId.body);
  });

  it('forgets an answer after its ttl', async () => {
    const first = await get('/short/t');
    expect((await get('/short/t')).body).toBe(first.body);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const later = await get('/short/t');
    expect(later.body).not.toBe(first.body);
    expect(calls('/short/t')).toBe(2);
  });

  it('serves a stale answer to the others while one request refreshes it, then the fresh one', async () => {
    const first = await get('/stale/slow-s');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await Promise.all(Array.from({ length: 5 }, () => get('/stale/slow-s')));
    const bodies = during.map((a) => a.body);
    expect(bodies.filter((b) => b === first.body)).toHaveLength(4); // stale, at once
    const fresh = bodies.find((b) => b !== first.body)!;
    expect(JSON.parse(fresh)).toMatchObject({ url: '/stale/slow-s' });
    expect((await get('/stale/slow-s')).body).toBe(fresh);
    expect(calls('/stale/slow-s')).toBe(2);
  });

  it.each([
    ['Cache-Control: no-store', 'nostore'],
    ['Cache-Control: private', 'private'],
    ['Set-Cookie', 'cookie'],
    ['Cache-Control: max-age=0', 'maxage0'],
    ['a 500', 'fail'],
  ])('never stores an answer with %s', async (_what, name) => {
    const first = await get(`/c/${name}`);
    const second = await get(`/c/${name}`);
    expect(second.body).not.toBe(first.body);
    expect(calls(`/c/${name}`)).toBe(2);
    if (name === 'cookie') expect(second.headers.get('set-cookie')).toBe('session=abc'); // passed on, not cached
  });

  it('stores a 404, and an answer with Vary only for the same header values', async () => {
    const missing = await get('/c/missing');
    expect(missing.status).toBe(404);
    expect((await get('/c/missing')).body).toBe(missing.body);
    const en = await get('/c/vary', { headers: { 'accept-language': 'en' } });
    expect((await get('/c/vary', { headers: { 'accept-language': 'en' } })).body).toBe(en.body);
    expect((await get('/c/vary', { headers: { 'accept-language': 'fr' } })).body).not.toBe(en.body);
  });

  it('never gives a partner another partner\'s answer, unless the cache is shared across partners', async () => {
    const acme = await get('/p/mine', { headers: { 'x-api-key': ACME_KEY } });
    const globex = await get('/p/mine', { headers: { 'x-api-key': GLOBEX_KEY } });
    expect(globex.body).not.toBe(acme.body);
    expect(calls('/p/mine')).toBe(2);
    expect((await get('/p/mine', { headers: { 'x-api-key': ACME_KEY } })).body).toBe(acme.body);
    expect((await get('/p/mine', { headers: { 'x-api-key': GLOBEX_KEY } })).body).toBe(globex.body);
    expect(calls('/p/mine')).toBe(2);
    const shared = await get('/shared/all', { headers: { 'x-api-key': ACME_KEY } });
    expect((await get('/shared/all', { headers: { 'x-api-key': GLOBEX_KEY } })).body).toBe(shared.body);
    expect(calls('/shared/all')).toBe(1);
  });

  it('calls the upstream once for 20 concurrent misses of one key: the others wait for its store', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/c/slow-stampede')));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(calls('/c/slow-stampede')).toBe(1);
  });

  it('counts lookups (hit, stale, miss) and stores (by result) per workflow and node in /metrics, across versions', async () => {
    const count = (metric: string, workflowId: string, node: string) => scrapeBy(gw, PEOPLE.admin.token, metric, { workflow: workflowId, node }, 'result');
    const lookups = (workflowId = 'counted') => count('sluice_cache_lookups_total', workflowId, 'lookup');
    const stores = (workflowId = 'counted') => count('sluice_cache_stores_total', workflowId, 'store');
    // every result is there from the start
    expect(await lookups()).toEqual({ hit: 0, stale: 0, miss: 0 });
    expect(await stores()).toEqual({ stored: 0, uncacheable: 0, too_large: 0, no_key: 0, failed: 0 });
    await get('/counted/a'); // miss, stored
    await get('/counted/a'); // hit (the promise-free path)
    await get('/counted/a'); // hit
    await get('/counted/fail-1'); // miss; a 500 is not stored
    await get('/counted/nostore'); // miss; no-store
    await get(`/counted/big-${'x'.repeat(60)}`); // miss; a body over maxBytes (64)
    await get('/counted/a', { headers: { authorization: 'Bearer alice' } }); // miss; the lookup made no key for it
    expect(await lookups()).toEqual({ hit: 2, stale: 0, miss: 5 });
    expect(await stores()).toEqual({ stored: 1, uncacheable: 2, too_large: 1, no_key: 1, failed: 0 });
    expect(calls('/counted/a')).toBe(2);

    // a stale entry: one request refreshes it (a miss), the others meanwhile get the stale answer
    await get('/counted-stale/slow-s');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await Promise.all(Array.from({ length: 3 }, () => get('/counted-stale/slow-s')));
    await get('/counted-stale/slow-s');
    expect(await lookups('counted-stale')).toEqual({ hit: 1, stale: 2, miss: 2 });
    expect(await stores('counted-stale')).toEqual({ stored: 2, uncacheable: 0, too_large: 0, no_key: 0, failed: 0 });

    // a new version of the workflow goes on counting where the last one left off
    const version = gw.sluice.registry.active.get('counted')!.version;
    await gw.putWorkflow({ ...cached('counted', '/counted/:name', { name: 'counted' }, { name: 'counted', ttl: '1h', maxBytes: 64 }), name: 'counted v2' }, 'counted.json');
    expect(gw.sluice.registry.active.get('counted')!.version).toBe(version + 1);
    await get('/counted/a');
    expect(await lookups()).toEqual({ hit: 3, stale: 0, miss: 5 });
  });

  it.each([
    ['answers a 500, which the workflow turns into a problem instead of storing it', 'status'],
    ['breaks the connection (the proxy exits by error)', 'broken'],
    ['is left by the client (the upstream call is cancelled)', 'gone'],
  ] as const)('releases the waiters as soon as the leading request ends without a store: its upstream %s', async (_what, how) => {
    const path = `/leader/held-${how}`;
    const admin = PEOPLE.admin.token;
    const passedGate = async () => (await scrapeBy(gw, admin, 'sluice_edge_transitions_total', { workflow: 'leader', node: 'gate' }, 'port')).ok ?? 0;
    const gateBefore = await passedGate();
    const client = new AbortController();
    const leading = gw.fetch(path, { signal: client.signal }).then((res) => res.status, () => 'aborted');
    await until(() => held.has(path)); // the leader's upstream call, kept unanswered
    const waiters = Array.from({ length: 5 }, () => get(path));
    await until(async () => (await passedGate()) === gateBefore + 6); // every waiter is in the lookup, waiting (no await in between)
    expect(calls(path)).toBe(1);
    const call = held.get(path)!;
    if (how === 'status') call.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"down"}');
    else if (how === 'broken') call.socket!.destroy();
    else client.abort();
    expect(await leading).toBe(how === 'gone' ? 'aborted' : 502);
    // The lookup's wait is 30s and this test's timeout 10s: the waiters were released when the
    // leader's request ended, found nothing stored and each called the upstream itself.
    const answers = await Promise.all(waiters);
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(calls(path)).toBe(6);
    expect(answers.map((a) => a.body)).toContain((await get(path)).body); // what they stored is a hit from now on
    expect(calls(path)).toBe(6);
  }, 10_000);

  it('purges one key, or every key with a prefix, for publishers only, and audits it', async () => {
    const one = await get('/c/purge1');
    const two = await get('/c/purge2');
    const purge = (who: 'editor' | 'publisher', body: unknown) => adminCall(gw.url, who, 'POST', '/cache/purge', body);
    expect((await purge('editor', { name: 'main' })).status).toBe(403);
    expect((await get('/c/purge1')).body).toBe(one.body); // the editor's purge removed nothing
    expect((await purge('publisher', { name: 'main', key: '[["GET","/c/purge1",[]],null]' })).body).toEqual({ removed: 1, store: 'memory' });
    expect((await get('/c/purge1')).body).not.toBe(one.body);
    expect((await get('/c/purge2')).body).toBe(two.body);
    const purged = await purge('publisher', { name: 'main', prefix: '[["GET","/c/purge' });
    expect(purged.body.removed).toBe(2);
    expect((await get('/c/purge2')).body).not.toBe(two.body);
    expect((await purge('publisher', { name: 'main', key: 'a', prefix: 'b' })).status).toBe(400);
    const audit = await adminCall(gw.url, 'admin', 'GET', '/audit?limit=50');
    const entries = (audit.body as { entries: Array<{ action: string; actor: string; detail: string }> }).entries.filter((e) => e.action === 'cache.purge');
    expect(entries.map((e) => [e.actor, e.detail])).toEqual([
      ['pia', 'cache main: key [["GET","/c/purge1",[]],null] (1 removed, memory)'],
      ['pia', 'cache main: prefix [["GET","/c/purge (2 removed, memory)'],
    ]);
  });

  it('is refused before an identity node (its hits would reach callers never identified), unless shared across partners', () => {
    const early = (acrossPartners: boolean) =>
      validateWorkflow(
        workflow('early', { path: '/early' }, [{ id: 'lookup', kind: 'cache-lookup', config: { name: 'e', acrossPartners } }, { id: 'key', kind: 'api-key', config: { keys } }, { id: 'call', kind: 'proxy', config: { url: 'https://api.example.com' } }], [
          ['lookup', 'miss', 'key'],
          ['key', 'ok', 'call'],
        ]),
      );
    expect(early(false).problems).toEqual([expect.objectContaining({ code: 'invalid_config', node: 'lookup', message: expect.stringContaining('comes before a node that checks credentials') })]);
    expect(early(true).problems).toEqual([]);
  });
});
