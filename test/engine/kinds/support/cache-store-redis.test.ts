import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../../helpers/gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, startOwnedRedis, testPrefix, type OwnedRedis } from '../../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.ts';
import { startGateway, workflow } from '../../../helpers/workflow.ts';

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
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n, url: req.url }));
    });
    const options = { env: { UPSTREAM: upstream.url }, settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } };
    first = await startGateway([cachedRoute], options);
    second = await startGateway([cachedRoute], options);
    owned = await startOwnedRedis();
    alone = await startGateway([cachedRoute], { env: { UPSTREAM: upstream.url }, settings: { REDIS_URL: owned.url, REDIS_PREFIX: prefix } });
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

  it('misses and skips the store while Redis is down, never failing the request', async () => {
    const before = await body(alone, '/c/down');
    expect(await body(alone, '/c/down')).toBe(before);
    await owned.stop();
    const res = await alone.fetch('/c/down');
    expect(res.status).toBe(200);
    expect(await res.text()).not.toBe(before);
    expect((await alone.fetch('/c/down')).status).toBe(200);
    expect(calls('/c/down')).toBe(3);
  });
});
