import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSyntheticExchange } from '../../../engine/gateway/exchange.ts';
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

/**
 * Case by case, on a frozen clock (Date only, moved by hand: ages and the fresh/stale edge are
 * exact). The upstream answers {"n", "url"}; a test can hold the next call of a URL unanswered
 * (holdNext), or have it answered 500 (failNext).
 */
describe('cache-lookup, case by case', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  const holdNext = new Set<string>();
  const failNext = new Set<string>();
  const held = new Map<string, ServerResponse>();
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const get = async (path: string, init?: RequestInit) => {
    const res = await gw.fetch(path, init);
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  /** Answers a held call, and waits for the request it belongs to. */
  const release = async (url: string, request: Promise<unknown>) => {
    held.get(url)!.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: 'released', url }));
    await request;
  };
  const lookups = (workflowId: string) => scrapeBy(gw, PEOPLE.admin.token, 'sluice_cache_lookups_total', { workflow: workflowId, node: 'lookup' }, 'result');
  /** The cached route's lookup node as prepared, run on a request made up in this process. */
  const runLookup = (workflowId: string, url: string) => gw.sluice.registry.active.get(workflowId)!.prepared.get('lookup')!.run(createSyntheticExchange({ method: 'GET', url }));

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      const url = req.url!;
      if (holdNext.delete(url)) return void held.set(url, res);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (url.includes('/vary2')) headers.vary = 'Accept-Language, Accept';
      if (url.includes('/varyx')) headers.vary = 'X-Multi';
      res.writeHead(failNext.delete(url) ? 500 : 200, headers);
      res.end(JSON.stringify({ n, url }));
    });
    const stale = { ttl: '10s', stale: '1h' };
    gw = await startGateway(
      [
        cached('q', '/q/:name', { name: 'q' }, { name: 'q', ttl: '1h' }),
        { ...cached('null-key', '/null-key', { name: 'nk', key: 'request.body.id' }, { name: 'nk' }), route: { methods: ['POST'], path: '/null-key' } },
        cached('fail-key', '/fail-key/:name', { name: 'fk', key: '$error("no key")' }, { name: 'fk' }),
        cached('open', '/open/:name', { name: 'open', acrossPartners: true }, { name: 'open' }),
        cached('mine', '/mine/:name', { name: 'mine' }, { name: 'mine' }, [{ id: 'key', kind: 'api-key', config: { keys } }]),
        cached('aged', '/aged/:name', { name: 'aged' }, { name: 'aged', ...stale }),
        cached('hit-read', '/hit-read/:name', { name: 'hr' }, { name: 'hr' }, [], [{ id: 'read', kind: 'respond', config: { bodyExpression: '{ "cached": response.body.url }' } }], [['lookup', 'hit', 'read']]),
        cached('no-wait', '/no-wait/:name', { name: 'nw', wait: '0ms' }, { name: 'nw', ...stale }),
        cached('held', '/held/:name', { name: 'held', wait: '30s' }, { name: 'held', ...stale }),
        cached('held-nokey', '/held-nokey/:name', { name: 'hnk', key: 'request.query.id', wait: '30s' }, { name: 'hnk' }),
        // a 5xx refresh becomes a problem and is never stored: the stale entry stays
        workflow(
          'stale-leader',
          { path: '/sl/:name' },
          [
            { id: 'lookup', kind: 'cache-lookup', config: { name: 'sl', wait: '30s' } },
            { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
            { id: 'check', kind: 'condition', config: { when: 'response.status < 500' } },
            { id: 'store', kind: 'cache-store', config: { name: 'sl', ...stale } },
            { id: 'fail', kind: 'error', config: { error: 'upstream_unavailable' } },
          ],
          [
            ['lookup', 'miss', 'call'],
            ['call', 'ok', 'check'],
            ['check', 'true', 'store'],
            ['check', 'false', 'fail'],
          ],
        ),
      ],
      { env: { UPSTREAM: upstream.url }, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } },
    );
  });
  afterAll(async () => {
    for (const res of held.values()) res.destroy();
    await gw?.close();
    await upstream?.close();
    vi.useRealTimers();
  });

  it('keys by the query\'s values too: ?a=1 and ?a=2 are two entries', async () => {
    const one = await get('/q/v?a=1');
    const two = await get('/q/v?a=2');
    expect(two.body).not.toBe(one.body);
    expect((await get('/q/v?a=1')).body).toBe(one.body);
    expect([calls('/q/v?a=1'), calls('/q/v?a=2')]).toEqual([1, 1]);
  });

  it('caches HEAD requests by default, like GET', async () => {
    expect((await get('/q/head', { method: 'HEAD' })).status).toBe(200);
    expect((await get('/q/head', { method: 'HEAD' })).status).toBe(200);
    expect(upstream.received.filter((r) => r.url === '/q/head' && r.method === 'HEAD')).toHaveLength(1);
  });

  it('answers an entry that varies on two headers only when both are the same', async () => {
    const both = { 'accept-language': 'en', accept: 'application/json' };
    const first = await get('/q/vary2', { headers: both });
    expect((await get('/q/vary2', { headers: both })).body).toBe(first.body);
    expect((await get('/q/vary2', { headers: { ...both, accept: 'text/plain' } })).body).not.toBe(first.body);
    expect((await get('/q/vary2', { headers: { ...both, 'accept-language': 'fr' } })).body).not.toBe(first.body);
    expect(calls('/q/vary2')).toBe(3);
  });

  it('answers an entry stored for a request without the varied headers to another request without them', async () => {
    const first = await get('/q/vary2-none');
    expect((await get('/q/vary2-none')).body).toBe(first.body);
    expect((await get('/q/vary2-none', { headers: { accept: 'text/plain' } })).body).not.toBe(first.body);
    expect(calls('/q/vary2-none')).toBe(2);
  });

  it('matches a varied header given as a list (as an exchange may hold one) with the same values sent as one line', async () => {
    await get('/q/varyx', { headers: { 'x-multi': 'a, b' } });
    const listed = (values: string[]) =>
      gw.sluice.registry.active.get('q')!.prepared.get('lookup')!.run(createSyntheticExchange({ method: 'GET', url: '/q/varyx', headers: { 'x-multi': values as unknown as string } }));
    expect(listed(['a', 'b'])).toBe('hit');
  });

  it('does not cache a request whose key expression gives null, nor one whose key expression fails', async () => {
    const post = (id: unknown) => get('/null-key', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    const seven = await post('7');
    expect((await post('7')).body).toBe(seven.body);
    const none = await post(null);
    expect((await post(null)).body).not.toBe(none.body);
    expect(calls('/null-key')).toBe(3);
    const failed = await get('/fail-key/a');
    expect(failed.status).toBe(200);
    expect((await get('/fail-key/a')).body).not.toBe(failed.body);
    expect(calls('/fail-key/a')).toBe(2);
  });

  it('shared across partners: each path its own entry, and a request with credentials is cached too (the cache is declared shared)', async () => {
    const a = await get('/open/a');
    expect((await get('/open/b')).body).not.toBe(a.body);
    const withCreds = await get('/open/c', { headers: { authorization: 'Bearer alice' } });
    expect((await get('/open/c', { headers: { authorization: 'Bearer bob' } })).body).toBe(withCreds.body);
    expect([calls('/open/a'), calls('/open/b'), calls('/open/c')]).toEqual([1, 1, 1]);
  });

  it('caches for an identified partner even when the request carries a cookie (the entry is the partner\'s)', async () => {
    const headers = { 'x-api-key': ACME_KEY, cookie: 'theme=dark' };
    const first = await get('/mine/c', { headers });
    expect((await get('/mine/c', { headers })).body).toBe(first.body);
    expect(calls('/mine/c')).toBe(1);
  });

  it('gives a hit\'s body to the node on the hit port as the stored JSON, readable by expressions', async () => {
    await get('/hit-read/a');
    expect(JSON.parse((await get('/hit-read/a')).body)).toEqual({ cached: '/hit-read/a' });
  });

  it('answers a fresh hit of the memory store at once, without a promise (the request path\'s synchronous hit)', async () => {
    await get('/q/sync');
    expect(runLookup('q', '/q/sync')).toBe('hit');
    await get('/aged/sync'); // an entry with a stale time, still fresh
    expect(runLookup('aged', '/aged/sync')).toBe('hit');
    expect([calls('/q/sync'), calls('/aged/sync')]).toEqual([1, 1]);
  });

  it('tells the age of a hit in whole seconds, and takes an entry as stale from the very millisecond its ttl ends', async () => {
    const first = await get('/aged/x');
    advance(4_000);
    const later = await get('/aged/x');
    expect([later.body, later.headers.get('age')]).toEqual([first.body, '4']);
    advance(5_999);
    expect((await get('/aged/x')).headers.get('age')).toBe('9');
    expect(calls('/aged/x')).toBe(1);
    advance(1); // now exactly the end of the ttl: stale, and this request refreshes it
    const refreshed = await get('/aged/x');
    expect(refreshed.body).not.toBe(first.body);
    expect(refreshed.headers.get('age')).toBeNull(); // the upstream's own answer
    expect(calls('/aged/x')).toBe(2);
  });

  it('with no wait: a miss and a stale entry are fetched by each request itself, nobody waits', async () => {
    const first = await get('/no-wait/a');
    expect(first.status).toBe(200);
    expect((await get('/no-wait/a')).body).toBe(first.body);
    advance(10_000);
    const refreshed = await get('/no-wait/a');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toBe(first.body);
    expect(calls('/no-wait/a')).toBe(2);
  });

  it('a miss of one key never waits for the fetch of another', async () => {
    holdNext.add('/held/m-a');
    const leading = get('/held/m-a');
    await until(() => held.has('/held/m-a'));
    const other = get('/held/m-b');
    await until(() => calls('/held/m-b') === 1); // fetched while m-a is still held
    expect((await other).status).toBe(200);
    await release('/held/m-a', leading);
  });

  it('a stale entry of one key is refreshed by its own request while another key\'s refresh is under way', async () => {
    const a = await get('/held/s-a');
    const b = await get('/held/s-b');
    advance(10_000);
    holdNext.add('/held/s-a');
    const refreshingA = get('/held/s-a');
    await until(() => held.has('/held/s-a'));
    const fresherB = await get('/held/s-b');
    expect(fresherB.body).not.toBe(b.body);
    expect(calls('/held/s-b')).toBe(2);
    await release('/held/s-a', refreshingA);
    expect((await get('/held/s-a')).body).not.toBe(a.body);
  });

  it('a refresh that ends without a store (its 5xx became a problem) lets the next request refresh again, not serve stale', async () => {
    const first = await get('/sl/flaky');
    advance(10_000);
    failNext.add('/sl/flaky');
    expect((await get('/sl/flaky')).status).toBe(502);
    const next = await get('/sl/flaky');
    expect(next.status).toBe(200);
    expect(next.body).not.toBe(first.body);
    expect(calls('/sl/flaky')).toBe(3);
  });

  it('requests whose key expression gives nothing are neither cached nor made to wait for one another, and count as misses', async () => {
    const before = (await lookups('held-nokey')).miss!;
    holdNext.add('/held-nokey/x');
    const leading = get('/held-nokey/x');
    await until(() => held.has('/held-nokey/x'));
    const other = get('/held-nokey/x');
    await until(() => calls('/held-nokey/x') === 2); // fetched while the first is still held
    expect((await other).status).toBe(200);
    await release('/held-nokey/x', leading);
    expect((await lookups('held-nokey')).miss).toBe(before + 2);
  });
});
