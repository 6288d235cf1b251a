/**
 * Wrong admin tokens and portal sign-in attempts counted in the gateway's rate-limit store: refused past the bound until the
 * sliding window lets the key in again, bounded in memory, and shared by replicas through Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import { createRedisRateLimitStore } from '../../../engine/kinds/support/redis-rate-limit-store.ts';
import { createAttemptLimit } from '../../../engine/admin/attempt-limit.ts';
import { ADMIN_FAILURE_WINDOW_MS, createAuthenticator } from '../../../engine/admin/auth.ts';
import { createRedisClient, redisKeys, whenReady } from '../../../engine/store/redis.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';

const MINUTE = 60_000;

describe('attempts counted in the memory rate-limit store', () => {
  it('refuses a key past the bound until the sliding window lets it in; other keys are not affected', async () => {
    let now = 10 * MINUTE; // the start of a window
    const store = createMemoryRateLimitStore({ now: () => now });
    const failures = createAttemptLimit(store, { scope: 'portal/sign-in-failures', max: 3, windowMs: MINUTE });
    for (let i = 0; i < 3; i++) {
      expect(await failures.refusedFor('10.0.0.1')).toBeUndefined();
      await failures.count('10.0.0.1');
    }
    // three in this window: the fourth waits for the window's end (60 s), when the estimate is 3 × 1 - … still 3
    const wait = await failures.refusedFor('10.0.0.1');
    expect(wait).toBeGreaterThanOrEqual(60);
    expect(await failures.refusedFor('10.0.0.2')).toBeUndefined();
    // 10 s into the next window the previous window still weighs 3 × 50/60 = 2.5: 2.5 + 1 > 3, refused
    now += MINUTE + 10_000;
    expect(await failures.refusedFor('10.0.0.1')).toBeGreaterThan(0);
    // 20 s in: 3 × 40/60 = 2, and 2 + 1 <= 3: one more try
    now += 10_000;
    expect(await failures.refusedFor('10.0.0.1')).toBeUndefined();
  });

  it('a scope holds a "/", so a workflow\'s counters (workflow:node:key) never meet it', async () => {
    const store = createMemoryRateLimitStore();
    const failures = createAttemptLimit(store, { scope: 'portal/sign-in-failures', max: 1, windowMs: MINUTE });
    // a workflow named "portal" with a node "sign-in-failures" counts under its own prefix
    for (let i = 0; i < 5; i++) store.hit('portal:sign-in-failures:10.0.0.9', 100, MINUTE, 'allow', 'portal:sign-in-failures:');
    expect(await failures.refusedFor('10.0.0.9')).toBeUndefined();
    await failures.count('10.0.0.9');
    expect(await failures.refusedFor('10.0.0.9')).toBeGreaterThan(0);
  });

  it('a flood of addresses stays within the store\'s key cap', async () => {
    const store = createMemoryRateLimitStore({ maxKeys: 100 });
    const failures = createAttemptLimit(store, { scope: 'portal/sign-in-failures', max: 1, windowMs: MINUTE });
    for (let i = 0; i < 1_000; i++) await failures.count(`10.0.${i >> 8}.${i & 255}`);
    expect(store.occupancy().keys).toBeLessThanOrEqual(100);
    expect(store.occupancy().evictions).toBeGreaterThanOrEqual(900);
    expect(await failures.refusedFor('10.0.3.231')).toBeGreaterThan(0); // the newest is still counted
  });
});

describe.runIf(await sharedRedisAvailable())('attempts counted in Redis (replicas share the count)', () => {
  const prefix = testPrefix('attempts');
  const target = { url: SHARED_REDIS_URL, prefix, cluster: false };
  const clients = [0, 1].map(() => createRedisClient(target, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 2_000 }));
  const stores = clients.map((client) => createRedisRateLimitStore({ client, keyPrefix: redisKeys(prefix).rateLimit, replicas: () => 2 }));
  // connected first: a store that cannot reach Redis counts in its own memory, and then nothing would be shared
  beforeAll(async () => {
    for (const client of clients) {
      client.on('error', () => undefined);
      await whenReady(client, target);
    }
  });
  afterAll(async () => {
    for (const store of stores) store.close?.();
    for (const client of clients) client.disconnect();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('failures counted on one replica are refused on the other', async () => {
    const [one, two] = stores.map((store) => createAttemptLimit(store, { scope: 'portal/sign-in-failures', max: 4, windowMs: MINUTE }));
    await one!.count('192.0.2.7');
    await two!.count('192.0.2.7');
    await one!.count('192.0.2.7');
    expect(await two!.refusedFor('192.0.2.7')).toBeUndefined();
    await two!.count('192.0.2.7');
    // four failures, two on each: both replicas refuse the fifth attempt
    expect(await one!.refusedFor('192.0.2.7')).toBeGreaterThan(0);
    expect(await two!.refusedFor('192.0.2.7')).toBeGreaterThan(0);
    expect(await one!.refusedFor('192.0.2.8')).toBeUndefined();
    for (const store of stores) expect(store.health()).toMatchObject({ state: 'up', storeDownDecisions: { local: 0 } });
  });

  it('wrong admin tokens sent to two replicas count once: the eleventh call is refused on both, the right token too', async () => {
    const tokens = [{ name: 'ada', role: 'admin' as const, token: 'ada-admin-token-0123456789' }];
    const [one, two] = stores.map((store) => createAuthenticator(tokens, createAttemptLimit(store, { scope: 'admin/token-failures', max: 10, windowMs: ADMIN_FAILURE_WINDOW_MS })));
    for (let i = 0; i < 10; i++) await expect((i % 2 === 0 ? one! : two!).authenticate(`Bearer guess-${i}`, '198.51.100.23')).rejects.toMatchObject({ code: 'unauthorized' });
    for (const replica of [one!, two!]) {
      const refused = await replica.authenticate('Bearer ada-admin-token-0123456789', '198.51.100.23').then(() => undefined, (error: unknown) => error);
      expect(refused).toMatchObject({ code: 'too_many_attempts', extra: { retryAfter: expect.any(Number) } });
      expect((refused as { extra: { retryAfter: number } }).extra.retryAfter).toBeGreaterThan(0);
    }
    expect(await one!.authenticate('Bearer ada-admin-token-0123456789', '198.51.100.24')).toEqual({ name: 'ada', role: 'admin' });
  });
});
