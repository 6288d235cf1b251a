import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../../helpers/gateway.ts';
import { Cluster } from 'ioredis';
import { createRedisCacheStore } from '../../../../engine/kinds/support/cache-store-redis.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, startOwnedRedis, startOwnedRedisCluster, testPrefix, type OwnedRedis } from '../../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.ts';
import { startGateway, workflow } from '../../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminCall, PEOPLE } from '../../admin/support.ts';
import { scrapeBy } from '../../../helpers/metrics.ts';

const available = await sharedRedisAvailable();

const cachedRoute = workflow(
  'cached',
  { path: '/c/:name' },
  [
    { id: 'lookup', kind: 'cache-lookup', config: { name: 'main' } },
    { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
    { id: 'store', kind: 'cache-store', config: { name: 'main', ttl: '1h' } },
  ],
  [
    ['lookup', 'miss', 'call'],
    ['call', 'ok', 'store'],
  ],
);

const staleRoute = workflow(
  'stale',
  { path: '/stale/:name' },
  [
    { id: 'lookup', kind: 'cache-lookup', config: { name: 'stale' } },
    { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
    { id: 'store', kind: 'cache-store', config: { name: 'stale', ttl: '300ms', stale: '1h' } },
  ],
  [
    ['lookup', 'miss', 'call'],
    ['call', 'ok', 'store'],
  ],
);

describe.skipIf(!available)('the Redis cache store', () => {
  const prefix = testPrefix('cache');
  let upstream: TestUpstream;
  let first: TestGateway;
  let second: TestGateway;
  let owned: OwnedRedis;
  let alone: TestGateway;
  const calls = (url: string) => upstream.received.filter((r) => r.url === url).length;
  const body = async (gw: TestGateway, path: string) => (await gw.fetch(path)).text();
  beforeAll(async () => {
    let n = 0;
    upstream = await startUpstream((req, res) => {
      n++;
      const body = JSON.stringify({ n, url: req.url });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }, req.url!.includes('slow') ? 300 : 0);
    });
    const options = { env: { UPSTREAM: upstream.url }, settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } };
    first = await startGateway([cachedRoute, staleRoute], options);
    second = await startGateway([cachedRoute, staleRoute], options);
    owned = await startOwnedRedis();
    alone = await startGateway([cachedRoute], { env: { UPSTREAM: upstream.url }, settings: { REDIS_URL: owned.url, REDIS_PREFIX: prefix, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
  });
  afterAll(async () => {
    await owned?.start().catch(() => undefined);
    await first?.close();
    await second?.close();
    await alone?.close();
    await owned?.close();
    await upstream?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('is shared by two gateways: the second hits what the first stored', async () => {
    const stored = await body(first, '/c/shared');
    expect(await body(second, '/c/shared')).toBe(stored);
    expect(await body(first, '/c/shared')).toBe(stored);
    expect(calls('/c/shared')).toBe(1);
  });

  it('keeps its entries under the installation\'s prefix, as JSON with the body in base64, expiring', async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(SHARED_REDIS_URL);
    try {
      const keys = await client.keys(`sluice:${prefix}:cache:main:*`);
      expect(keys.length).toBeGreaterThan(0);
      const entry = JSON.parse((await client.get(keys[0]!))!) as { status: number; body: string };
      expect(entry.status).toBe(200);
      expect(JSON.parse(Buffer.from(entry.body, 'base64').toString('utf8'))).toMatchObject({ url: '/c/shared' });
      expect(await client.pttl(keys[0]!)).toBeGreaterThan(3_500_000);
    } finally {
      client.disconnect();
    }
  });

  it('serves a stale answer while one request refreshes it, and the other replica sees the fresh one', async () => {
    const stored = await body(first, '/stale/slow');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await Promise.all(Array.from({ length: 5 }, () => body(first, '/stale/slow')));
    expect(during.filter((b) => b === stored)).toHaveLength(4);
    const fresh = during.find((b) => b !== stored)!;
    expect(await body(second, '/stale/slow')).toBe(fresh);
    expect(calls('/stale/slow')).toBe(2);
  });

  it('calls the upstream once for 20 concurrent misses of one key', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => body(first, '/c/slow')));
    expect(new Set(answers).size).toBe(1);
    expect(calls('/c/slow')).toBe(1);
  });

  it('purges by key or prefix for every replica, the second gateway missing what the first purged', async () => {
    const a = await body(first, '/c/purge-a');
    const b = await body(first, '/c/purge-b');
    const purge = (request: unknown) => adminCall(first.url, 'publisher', 'POST', '/cache/purge', request);
    expect((await purge({ name: 'main', key: '[["GET","/c/purge-a",[]],null]' })).body).toEqual({ removed: 1, store: 'redis' });
    expect(await body(second, '/c/purge-a')).not.toBe(a);
    expect(await body(second, '/c/purge-b')).toBe(b);
    expect((await purge({ name: 'main', prefix: '[["GET","/c/purge-' })).body).toEqual({ removed: 2, store: 'redis' });
    expect(await body(second, '/c/purge-b')).not.toBe(b);
    expect((await purge({ name: 'main', prefix: '[["GET","/c/*' })).body.removed).toBe(0); // glob characters are literal
  });

  it('misses and skips the store while Redis is down, never failing the request', async () => {
    const before = await body(alone, '/c/down');
    expect(await body(alone, '/c/down')).toBe(before);
    await owned.stop();
    const res = await alone.fetch('/c/down');
    expect(res.status).toBe(200);
    expect(await res.text()).not.toBe(before);
    expect((await alone.fetch('/c/down')).status).toBe(200);
    expect(calls('/c/down')).toBe(3);
    const count = (metric: string, node: string) => scrapeBy(alone, PEOPLE.admin.token, metric, { workflow: 'cached', node }, 'result');
    expect(await count('sluice_cache_lookups_total', 'lookup')).toEqual({ hit: 1, stale: 0, miss: 3 });
    expect(await count('sluice_cache_stores_total', 'store')).toEqual({ stored: 1, uncacheable: 0, too_large: 0, no_key: 0, failed: 2 });
  });
});

describe.skipIf(!available)('the Redis cache store on a Redis Cluster', () => {
  it('stores, reads and purges by prefix across the masters', async () => {
    const cluster = await startOwnedRedisCluster();
    const { port } = new URL(cluster.url);
    const client = new Cluster([{ host: '127.0.0.1', port: Number(port) }]);
    try {
      const store = createRedisCacheStore({ client, keyPrefix: 'sluice:t:cache:' });
      const answer = { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('hello'), storedAt: Date.now() };
      for (let i = 0; i < 20; i++) await store.set('c', `k${i}`, answer, 60_000, 100);
      expect((await store.get('c', 'k3'))?.body.toString()).toBe('hello');
      expect(await store.purge('c', { prefix: 'k1' })).toBe(11); // k1 and k10..k19, spread over the masters
      expect(await store.purge('c', {})).toBe(9);
      expect(await store.get('c', 'k3')).toBeUndefined();
    } finally {
      client.disconnect();
      await cluster.close();
    }
  }, 60_000);
});
