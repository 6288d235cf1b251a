import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimitStore } from '../../../engine/kinds/support/redis-rate-limit-store.ts';
import type { RateLimitDecision } from '../../../engine/kinds/support/rate-limit-store.ts';
import { createRedisClient, redisKeys, whenReady, type RedisTarget } from '../../../engine/store/redis.ts';
import { openRedisStore, type RedisStore } from '../../../engine/store/redis-store.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { startOwnedRedisCluster } from '../../helpers/redis.ts';
import { saveDraft } from '../store/support.ts';
import { adminCall } from '../admin/support.ts';
import { ADMIN_TOKENS, publish, stamped, stampOf, until } from './support.ts';

/*
 * REDIS_CLUSTER=on against a Redis Cluster of three masters this test starts itself: the commit
 * script's keys share one hash tag (one slot), rate-limit keys spread over the slots, and
 * pub/sub announcements cross the cluster bus.
 */

describe('Redis Cluster', () => {
  let cluster: { url: string; close(): Promise<void> };
  let target: RedisTarget;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    cluster = await startOwnedRedisCluster();
    target = { url: cluster.url, prefix: 'cluster', cluster: true };
    for (let i = 0; i < 2; i++) stores.push(await openRedisStore({ target }));
  }, 60_000);
  afterAll(async () => {
    for (const store of stores) await store.close();
    await cluster?.close();
  }, 30_000);

  it('two stores change it at once and keep one verifiable audit chain; each hears the other', async () => {
    const heard: number[] = [];
    stores[1]!.onChange((revision) => heard.push(revision));
    await Promise.all(stores.flatMap((store, s) => Array.from({ length: 10 }, (_, i) => saveDraft(store, `store ${s} change ${i}`))));
    expect((await stores[0]!.state()).revision).toBe(20);
    expect(await stores[1]!.verifyAudit()).toMatchObject({ ok: true, entries: 20 });
    await expect.poll(() => heard.at(-1), { timeout: 5_000 }).toBe(20);
  });

  it('rate limits count exactly across clients, on keys in different slots', async () => {
    const limits = [0, 1].map(() => {
      const client = createRedisClient(target, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 2_000 });
      return { client, store: createRedisRateLimitStore({ client, keyPrefix: redisKeys(target.prefix).rateLimit, replicas: () => 2 }) };
    });
    try {
      for (const { client } of limits) await whenReady(client, target);
      for (const key of ['acme', 'globex', 'initech']) {
        const decisions = (await Promise.all(Array.from({ length: 12 }, (_, i) => limits[i % 2]!.store.hit(`wf:limit:k:${key}`, 5, 60_000, 'deny')))) as RateLimitDecision[];
        expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
        expect(decisions.every((d) => d.storeDown === undefined)).toBe(true);
      }
    } finally {
      for (const { store } of limits) store.close?.();
    }
  });

  it('a gateway with REDIS_CLUSTER=on serves what is published and lists itself in the cluster view', async () => {
    const gateways: TestGateway[] = [];
    try {
      for (let i = 0; i < 2; i++)
        gateways.push(await startTestGateway({ workflows: [], demo: false, settings: { REDIS_URL: cluster.url, REDIS_CLUSTER: 'on', REDIS_PREFIX: 'cluster-gw', SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'warn' } }));
      await publish(gateways[0]!.url, stamped('stamp', '/stamp', 'over the cluster'));
      await until('the other gateway to serve it', async () => ((await stampOf(gateways[1]!.url, '/stamp')) === 'over the cluster' ? true : undefined));
      const view = await until('both gateways in the cluster view', async () => {
        const answer = await adminCall(gateways[1]!.url, 'viewer', 'GET', '/cluster');
        return answer.body.replicas.length === 2 ? answer.body : undefined;
      });
      expect(view.store).toBe('redis');
    } finally {
      for (const gw of gateways) await gw.close();
    }
  }, 30_000);
});
