import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSyntheticExchange } from '../../../engine/gateway/exchange.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { scrapeBy } from '../../helpers/metrics.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { startGateway, workflow } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, PEOPLE } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';

describeKind('cache-store', {
  minimal: { config: { name: 'orders' }, parsed: { name: 'orders', ttl: '60s', stale: '0s', maxBytes: 1024 * 1024, entries: 10_000 } },
  accepts: [['a short ttl and small bounds', { name: 'orders', ttl: '300ms', maxBytes: 10, entries: 1 }]],
  refuses: [
    ['no name', {}, ['name']],
    ['a ttl over a day', { name: 'a', ttl: '2d' }, ['ttl']],
    ['a zero ttl', { name: 'a', ttl: '0s' }, ['ttl']],
    ['stale for over a day', { name: 'a', stale: '25h' }, ['stale']],
    ['no entries', { name: 'a', entries: 0 }, ['entries']],
    ['an entry over 10 MB', { name: 'a', maxBytes: 10 * 1024 * 1024 + 1 }, ['maxBytes']],
    ['an unknown field', { name: 'a', key: 'x' }, ['key']],
  ],
});

describe('cache-store', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const body = async (path: string) => (await gw.fetch(path)).text();
  beforeAll(async () => {
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      const size = req.url!.startsWith('/big') ? 2048 : 10;
      const text = `${String(n).padStart(size, '0')}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': req.url!.includes('maxage1') ? 'max-age=1' : 'public' });
      res.end(text);
    });
    const lookup = (name: string, wait = '5s') => ({ id: 'lookup', kind: 'cache-lookup', config: { name, wait } });
    const call = { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } };
    gw = await startGateway(
      [
        // the proxy's ok port unwired: the answer is streamed, never stored (the key's flight ends with the request)
        workflow('streamed', { path: '/streamed' }, [lookup('streamed', '100ms'), call], [['lookup', 'miss', 'call']]),
        workflow('bounded', { path: '/:what' }, [lookup('bounded'), call, { id: 'store', kind: 'cache-store', config: { name: 'bounded', ttl: '1h', maxBytes: 1024, entries: 2 } }], [
          ['lookup', 'miss', 'call'],
          ['call', 'ok', 'store'],
        ]),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('stores nothing without a cache-store (a streamed answer)', async () => {
    expect(await body('/streamed')).not.toBe(await body('/streamed'));
  });

  it('does not store a body over maxBytes', async () => {
    expect(await body('/big')).not.toBe(await body('/big'));
    expect(calls('/big')).toBe(2);
  });

  it('keeps at most `entries` answers per cache, evicting the least recently used', async () => {
    const a = await body('/a');
    const b = await body('/b');
    expect(await body('/a')).toBe(a); // a is now the most recently used
    await body('/c'); // evicts b
    expect(await body('/a')).toBe(a);
    expect(await body('/b')).not.toBe(b);
    expect(calls('/a')).toBe(1);
  });

  it('lets Cache-Control max-age cap the ttl', async () => {
    const first = await body('/maxage1');
    expect(await body('/maxage1')).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await body('/maxage1')).not.toBe(first);
  });
});

/** Polls `check` until it holds (a state to reach, not a time to measure); fails after 5 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the awaited state never came');
}

/** A reply of the scripted upstream: status, headers (a list is sent as repeated lines) and body. */
interface Reply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string;
}

/**
 * Case by case on a frozen clock (Date only, moved by hand: how long an entry lives is exact).
 * The upstream answers each path as `replies` says (the body numbered by call, so a hit shows
 * as the same body); `hold` keeps the next call of a path unanswered until the test ends it.
 */
describe('cache-store, case by case', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let side: TestUpstream;
  const replies: Record<string, Reply> = {};
  const hold = new Set<string>();
  const held = new Map<string, ServerResponse>();
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const get = async (path: string, init?: RequestInit) => {
    const res = await gw.fetch(path, init);
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  const storeCounts = (workflowId: string) => scrapeBy(gw, PEOPLE.admin.token, 'sluice_cache_stores_total', { workflow: workflowId, node: 'store' }, 'result');

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      const url = req.url!;
      if (hold.delete(url)) return void held.set(url, res);
      const reply = replies[url.split('/').pop()!] ?? {};
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? `answer ${n}`);
    });
    side = await startUpstream();
    const lookup = (name: string) => ({ id: 'lookup', kind: 'cache-lookup', config: { name, wait: '30s' } });
    const proxy = { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } };
    const store = (name: string, config: Record<string, unknown> = {}) => ({ id: 'store', kind: 'cache-store', config: { name, ttl: '1h', ...config } });
    const miss: Array<[string, string, string]> = [
      ['lookup', 'miss', 'call'],
      ['call', 'ok', 'store'],
    ];
    gw = await startGateway(
      [
        workflow('fresh', { path: '/fresh/:name' }, [lookup('fresh'), proxy, store('fresh', { maxBytes: 16 })], miss),
        // a hit taken to a node that shows the stored headers
        workflow('kept', { path: '/kept/:name' }, [lookup('kept'), proxy, store('kept'), { id: 'show', kind: 'respond', config: { bodyExpression: '{ "headers": response.headers }' } }], [...miss, ['lookup', 'hit', 'show']]),
        // the store, then a callout: waiters of the key are answered from the store, not at the request's end
        workflow('late', { path: '/late/:name' }, [{ id: 'gate', kind: 'transform-request', config: { removeHeaders: ['x-none'] } }, lookup('late'), proxy, store('late'), { id: 'after', kind: 'http-call', config: { name: 'after', url: '${SIDE}/after', timeout: '30s' } }, { id: 'done', kind: 'transform-response', config: { removeHeaders: ['x-none'] } }], [
          ['gate', 'ok', 'lookup'],
          ...miss,
          ['store', 'ok', 'after'],
          ['after', 'ok', 'done'],
        ], 'gate'),
      ],
      { env: { UPSTREAM: upstream.url, SIDE: side.url }, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_CALLOUT_HOSTS: '127.0.0.1' } },
    );
  });
  afterAll(async () => {
    for (const res of held.values()) res.destroy();
    await gw?.close();
    await Promise.all([upstream?.close(), side?.close()]);
    vi.useRealTimers();
  });

  it.each<[string, string | string[], number]>([
    ['public', 'public', 3_600_000],
    ['max-age in capitals', 'Max-Age=5', 5_000],
    ['max-age quoted', 'max-age="5"', 5_000],
    ['s-maxage before max-age', 'max-age=60, s-maxage=2', 2_000],
    ['two Cache-Control lines, read as one', ['public', 'max-age=3'], 3_000],
    ['a stray comma', 'public,, max-age=4,', 4_000],
  ])('keeps an answer with Cache-Control %s for exactly as long as it says', async (name, cacheControl, ms) => {
    const path = `/fresh/keep-${name.replaceAll(' ', '-')}`;
    replies[path.split('/').pop()!] = { headers: { 'cache-control': cacheControl } };
    const first = await get(path);
    advance(ms - 1);
    expect((await get(path)).body).toBe(first.body);
    advance(1);
    expect((await get(path)).body).not.toBe(first.body);
    expect(calls(path)).toBe(2);
  });

  it.each<[string, Reply]>([
    ['Cache-Control: no-cache', { headers: { 'cache-control': 'no-cache' } }],
    ['an s-maxage of 0 (it wins over max-age)', { headers: { 'cache-control': 's-maxage=0, max-age=60' } }],
    ['a max-age that is not a number', { headers: { 'cache-control': 'max-age=abc' } }],
    ['a max-age too large to be a number', { headers: { 'cache-control': 'max-age=1e999' } }],
    ['a negative max-age', { headers: { 'cache-control': 'max-age=-5' } }],
    ['a quote inside the max-age', { headers: { 'cache-control': 'max-age="1"0"' } }],
    ['Vary: *', { headers: { vary: '*' } }],
    ['Vary: * among other names', { headers: { vary: 'Accept, *' } }],
    ['a 201', { status: 201 }],
    ['a body one byte over maxBytes', { body: 'x'.repeat(17) }],
  ])('never stores an answer with %s', async (name, reply) => {
    const path = `/fresh/never-${name.replace(/\W+/g, '-')}`;
    replies[path.split('/').pop()!] = reply;
    await get(path);
    await get(path);
    expect(calls(path)).toBe(2);
  });

  it.each([203, 204, 301])('stores a %i, cacheable by default', async (status) => {
    const path = `/fresh/status-${status}`;
    replies[path.split('/').pop()!] = { status, ...(status === 301 ? { headers: { location: '/elsewhere' } } : {}), ...(status === 204 ? { body: '' } : {}) };
    expect((await get(path, { redirect: 'manual' })).status).toBe(status);
    expect((await get(path, { redirect: 'manual' })).status).toBe(status);
    expect(calls(path)).toBe(1);
  });

  it('stores a body of exactly maxBytes', async () => {
    replies['exact'] = { body: 'x'.repeat(16) };
    await get('/fresh/exact');
    await get('/fresh/exact');
    expect(calls('/fresh/exact')).toBe(1);
  });

  it('counts an answer with Set-Cookie or Vary: * as uncacheable', async () => {
    replies['cookie'] = { headers: { 'set-cookie': 'session=abc' } };
    replies['vary-any'] = { headers: { vary: '*' } };
    const before = await storeCounts('fresh');
    await get('/fresh/cookie');
    await get('/fresh/vary-any');
    expect(await storeCounts('fresh')).toEqual({ ...before, uncacheable: before.uncacheable! + 2 });
  });

  it('keeps the answer\'s own headers (a repeated one as all its values), never the length and date of the answer it came with', async () => {
    replies['headers'] = { headers: { 'x-multi': ['a', 'b'], 'x-one': '1', 'content-length': '9' }, body: 'nine char' };
    await get('/kept/headers');
    const { headers } = JSON.parse((await get('/kept/headers')).body) as { headers: Record<string, unknown> };
    expect(headers).toMatchObject({ 'x-multi': ['a', 'b'], 'x-one': '1', 'content-type': 'text/plain', age: '0' });
    expect(headers).not.toHaveProperty('content-length');
    expect(headers).not.toHaveProperty('date');
  });

  it('does not store an answer that is not buffered (a stream) nor a request that reached it without one, and the key stays a miss', async () => {
    const lookup = gw.sluice.registry.active.get('fresh')!.prepared.get('lookup')!;
    const store = gw.sluice.registry.active.get('fresh')!.prepared.get('store')!;
    const before = await storeCounts('fresh');
    for (const response of [{ status: 200, headers: {}, stream: Readable.from(['streamed']) }, undefined]) {
      const exchange = createSyntheticExchange({ method: 'GET', url: '/fresh/in-process' });
      expect(await lookup.run(exchange)).toBe('miss');
      exchange.response = response;
      expect(await store.run(exchange)).toBe('ok');
    }
    expect(await lookup.run(createSyntheticExchange({ method: 'GET', url: '/fresh/in-process' }))).toBe('miss');
    expect(await storeCounts('fresh')).toEqual({ ...before, uncacheable: before.uncacheable! + 2 });
  });

  it('answers the requests waiting on a key as soon as the leader stores it, while the leader\'s request goes on', async () => {
    const passedGate = async () => (await scrapeBy(gw, PEOPLE.admin.token, 'sluice_edge_transitions_total', { workflow: 'late', node: 'gate' }, 'port')).ok ?? 0;
    const gateBefore = await passedGate();
    let sideHeld: ServerResponse | undefined;
    side.handle((_req, res) => void (sideHeld = res)); // the leader's callout after the store: held
    hold.add('/late/key');
    const leading = get('/late/key');
    await until(() => held.has('/late/key'));
    let waited: { status: number; body: string } | undefined;
    const waiter = get('/late/key').then(({ status, body }) => (waited = { status, body }));
    await until(async () => (await passedGate()) === gateBefore + 2); // the waiter is in the lookup, waiting
    held.get('/late/key')!.writeHead(200, { 'content-type': 'text/plain' }).end('stored by the leader');
    await until(() => sideHeld !== undefined); // the leader stored, and is now in its callout
    await until(() => waited !== undefined); // the waiter was answered meanwhile
    expect(waited).toEqual({ status: 200, body: 'stored by the leader' });
    expect(calls('/late/key')).toBe(1);
    sideHeld!.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    expect((await leading).body).toBe('stored by the leader');
    await waiter;
  });
});

const redisAvailable = await sharedRedisAvailable();

describe.skipIf(!redisAvailable)('cache-store in Redis: an entry holds what a hit needs, and only that', () => {
  const prefix = testPrefix('cache-store');
  let gw: TestGateway;
  let upstream: TestUpstream;
  let client: Redis;
  const entryOf = async (cache: string, path: string) => {
    const keys = await client.keys(`sluice:${prefix}:cache:${cache}:*${path}*`);
    expect(keys).toHaveLength(1);
    return JSON.parse((await client.get(keys[0]!))!) as Record<string, unknown>;
  };
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', ...(req.url!.includes('varied') ? { vary: 'Accept-Language' } : {}) });
      res.end('stored');
    });
    const route = (id: string, store: Record<string, unknown>) =>
      workflow(id, { path: `/${id}/:name` }, [{ id: 'lookup', kind: 'cache-lookup', config: { name: id } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }, { id: 'store', kind: 'cache-store', config: { name: id, ...store } }], [
        ['lookup', 'miss', 'call'],
        ['call', 'ok', 'store'],
      ]);
    gw = await startGateway([route('plain', { ttl: '1h' }), route('stale', { ttl: '1m', stale: '1h' })], { env: { UPSTREAM: upstream.url }, settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } });
    client = new Redis(SHARED_REDIS_URL);
  });
  afterAll(async () => {
    client?.disconnect();
    await gw?.close();
    await upstream?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('an answer that varies on nothing and may not go stale: no vary and no freshUntil', async () => {
    await gw.fetch('/plain/a');
    const entry = await entryOf('plain', '/plain/a');
    expect(Object.keys(entry).sort()).toEqual(['body', 'headers', 'status', 'storedAt']);
  });

  it('an answer with Vary: the request\'s values of the varied headers', async () => {
    await gw.fetch('/plain/varied', { headers: { 'accept-language': 'en' } });
    expect((await entryOf('plain', '/plain/varied')).vary).toEqual({ 'accept-language': 'en' });
  });

  it('an answer that may go stale: fresh until its ttl, kept for its ttl and stale time', async () => {
    await gw.fetch('/stale/a');
    const entry = (await entryOf('stale', '/stale/a')) as { storedAt: number; freshUntil: number };
    expect(entry.freshUntil - entry.storedAt).toBe(60_000);
    const keys = await client.keys(`sluice:${prefix}:cache:stale:*`);
    expect(await client.pttl(keys[0]!)).toBeGreaterThan(3_600_000);
  });
});
