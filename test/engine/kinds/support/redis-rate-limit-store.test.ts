import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createMemoryRateLimitStore, type RateLimitDecision } from '../../../../engine/kinds/support/rate-limit-store.ts';
import { createRedisRateLimitStore } from '../../../../engine/kinds/support/redis-rate-limit-store.ts';
import { createRedisClient, redisKeys, whenReady } from '../../../../engine/store/redis.ts';
import { deletePrefix, freePort, SHARED_REDIS_URL, sharedRedisAvailable, startOwnedRedis, testPrefix } from '../../../helpers/redis.ts';

/* The Redis rate-limit store: against the memory store (the same sliding window, decided alike), and without a Redis to reach. */

const redisUp = await sharedRedisAvailable();

describe.runIf(redisUp)('Redis and memory rate-limit stores', () => {
  const prefix = testPrefix('rl');
  const target = { url: SHARED_REDIS_URL, prefix, cluster: false };
  const client = createRedisClient(target, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 2_000 });
  const redis = createRedisRateLimitStore({ client, keyPrefix: redisKeys(prefix).rateLimit, replicas: () => 1 });
  const memory = createMemoryRateLimitStore();
  afterAll(async () => {
    redis.close?.();
    memory.close?.();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('decide a run of requests alike: allowed, remaining, and when to retry', async () => {
    await whenReady(client, target);
    // A one-hour window, so the run does not cross a window boundary.
    const limit = 5;
    const fromRedis: RateLimitDecision[] = [];
    const fromMemory: RateLimitDecision[] = [];
    for (let i = 0; i < 8; i++) {
      fromRedis.push(await redis.hit('wf:limit:k:acme', limit, 3_600_000, 'deny'));
      fromMemory.push(await memory.hit('wf:limit:k:acme', limit, 3_600_000, 'deny'));
    }
    const shape = (d: RateLimitDecision) => ({ allowed: d.allowed, remaining: d.remaining, storeDown: d.storeDown });
    expect(fromRedis.map(shape)).toEqual(fromMemory.map(shape));
    expect(fromRedis.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(fromRedis.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0, 0]);
    // Redis counts on its own clock, the memory store on this process's: the seconds agree within one.
    fromRedis.forEach((d, i) => {
      expect(Math.abs(d.resetSeconds - fromMemory[i]!.resetSeconds)).toBeLessThanOrEqual(1);
      expect(Math.abs(d.retryAfterSeconds - fromMemory[i]!.retryAfterSeconds)).toBeLessThanOrEqual(1);
    });
    // the counter expires two windows after its last use
    const ttl = await client.pttl(`${redisKeys(prefix).rateLimit}wf:limit:k:acme}`);
    expect(ttl).toBeGreaterThan(3_600_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
    expect(redis.health()).toEqual({ store: 'redis', state: 'up', storeDownDecisions: { allow: 0, deny: 0, local: 0 } });
  });

  it('slide across a window edge alike: the previous window weighs, with the exact Retry-After (Redis on its clock, memory on this one)', async () => {
    await whenReady(client, target);
    // limit 2 per 4 s; Redis runs on this machine, so both stores count on this machine's clock
    const WINDOW = 4_000;
    const key = `wf:edge:k:${testPrefix('edge')}`;
    /**
     * One request to both stores; they must decide alike. `wait(ms into the window)` is when the
     * next request would fit: the Retry-After must be it rounded up, for a moment between the
     * clock read before and after the call (the same second but for a call straddling one).
     */
    const both = async (wait?: (elapsed: number) => number) => {
      const before = Date.now();
      const [r, m] = [await redis.hit(key, 2, WINDOW, 'deny'), (await memory.hit(key, 2, WINDOW, 'deny')) as RateLimitDecision];
      const after = Date.now();
      expect({ allowed: r.allowed, retryAfter: r.retryAfterSeconds }).toEqual({ allowed: m.allowed, retryAfter: m.retryAfterSeconds });
      if (wait) expect([before, after].map((t) => Math.ceil(wait(t % WINDOW) / 1000))).toContain(r.retryAfterSeconds);
      return { allowed: r.allowed, remaining: r.remaining, window: Math.floor(before / WINDOW), windowAfter: Math.floor(after / WINDOW) };
    };
    /** Sleeps until `fraction` of the way into the next window. */
    const nextWindowAt = async (fraction: number) => {
      const t = Date.now();
      await new Promise((resolve) => setTimeout(resolve, t - (t % WINDOW) + WINDOW + fraction * WINDOW - t));
    };
    await nextWindowAt(0.05);
    const one = await both();
    expect(one).toMatchObject({ allowed: true, remaining: 1 });
    expect(await both()).toMatchObject({ allowed: true, remaining: 0, window: one.window });
    // refused for the rest of this window and half of the next (4 x (1 - 1/2)): when the previous 2 weigh 1
    expect(await both((elapsed) => WINDOW - elapsed + WINDOW / 2)).toMatchObject({ allowed: false, remaining: 0, windowAfter: one.window });

    // the next window, 5% in: the previous 2 weigh 2 x (1 - e), and a fixed window would allow;
    // one fits when they weigh 1: (2 x (1 - e) + 1 - 2) x 4 s / 2
    await nextWindowAt(0.05);
    expect(await both((elapsed) => ((2 * (1 - elapsed / WINDOW) - 1) * WINDOW) / 2)).toMatchObject({ allowed: false, remaining: 0, window: one.window + 1 });
    // 55% in: they weigh 0.9 at most, so one fits, and none after it
    await new Promise((resolve) => setTimeout(resolve, 0.5 * WINDOW));
    expect(await both()).toMatchObject({ allowed: true, remaining: 0, window: one.window + 1 });
    expect(await both()).toMatchObject({ allowed: false, remaining: 0 });
  }, 20_000);

  it('counts the requests of one turn of the event loop in one call per counter, decided as a run of calls would be', async () => {
    await whenReady(client, target);
    const calls: string[] = [];
    const send = client.sendCommand;
    client.sendCommand = ((command: { name: string }) => {
      calls.push(command.name);
      return send.call(client, command as never);
    }) as typeof client.sendCommand;
    onTestFinished(() => {
      client.sendCommand = send;
    });
    // one turn: 8 requests on acme's counter (limit 5), 3 on globex's (limit 2), 2 on acme's with another limit
    const hits = [
      ...Array.from({ length: 8 }, () => ['wf:batch:k:acme', 5] as const),
      ...Array.from({ length: 3 }, () => ['wf:batch:k:globex', 2] as const),
      ...Array.from({ length: 2 }, () => ['wf:batch-other:k:acme', 1] as const),
    ];
    const fromRedis = await Promise.all(hits.map(([key, limit]) => redis.hit(key, limit, 3_600_000, 'deny')));
    const fromMemory = hits.map(([key, limit]) => memory.hit(key, limit, 3_600_000, 'deny') as RateLimitDecision);
    expect(calls.filter((name) => name === 'evalsha' || name === 'eval')).toHaveLength(3);
    const shape = (d: RateLimitDecision) => ({ allowed: d.allowed, remaining: d.remaining });
    expect(fromRedis.map(shape)).toEqual(fromMemory.map(shape));
    expect(fromRedis.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false, true, true, false, true, false]);
    // the next turn continues from what the batch stored
    expect(await redis.hit('wf:batch:k:acme', 5, 3_600_000, 'deny')).toMatchObject({ allowed: false, remaining: 0 });
    expect(await redis.hit('wf:batch:k:globex', 3, 3_600_000, 'deny')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('keep a token budget alike: checks count nothing, charges of one turn add up in one call, past the limit too', async () => {
    await whenReady(client, target);
    const key = `wf:budget:k:${testPrefix('budget')}`;
    const both = async (need: number) => {
      const [r, m] = [await redis.check(key, need, 100, 3_600_000, 'deny'), (await memory.check(key, need, 100, 3_600_000, 'deny')) as RateLimitDecision];
      expect({ allowed: r.allowed, remaining: r.remaining }).toEqual({ allowed: m.allowed, remaining: m.remaining });
      return r;
    };
    expect(await both(80)).toMatchObject({ allowed: true, remaining: 100 });
    expect(await both(80)).toMatchObject({ allowed: true, remaining: 100 }); // the check counted nothing
    // three charges in one turn: one call, all counted
    await Promise.all([redis.charge(key, 30, 3_600_000, 'deny'), redis.charge(key, 25, 3_600_000, 'deny'), redis.charge(key, 5, 3_600_000, 'deny')]);
    for (const amount of [30, 25, 5]) await memory.charge(key, amount, 3_600_000, 'deny');
    expect(await both(40)).toMatchObject({ allowed: true, remaining: 40 });
    expect(await both(41)).toMatchObject({ allowed: false, remaining: 40 });
    await Promise.all([redis.charge(key, 90, 3_600_000, 'deny'), memory.charge(key, 90, 3_600_000, 'deny')]);
    const spent = await both(1);
    expect(spent).toMatchObject({ allowed: false, remaining: 0 });
    // 150 spent: the rest of this window passes, then the part of the next in which 150 weighs more than 99 (1 - 99/150 of an hour)
    expect(spent.retryAfterSeconds).toBeGreaterThanOrEqual(Math.floor((3_600 * (1 - 99 / 150))));
    expect(spent.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(3_600 + 3_600 * (1 - 99 / 150)));
    expect(Number(await client.hget(`${redisKeys(prefix).rateLimit}${key}}`, 'c'))).toBe(150);
  });
});

describe('the Redis rate-limit store without a Redis to reach', () => {
  it('decides synchronously (a decision, not a promise) by each onStoreDown choice, local at limit / replicas, and counts the decisions', async () => {
    const port = await freePort(); // nothing listens there
    const client = createRedisClient({ url: `redis://127.0.0.1:${port}`, prefix: 'none', cluster: false }, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 100 });
    client.on('error', () => undefined);
    const store = createRedisRateLimitStore({ client, keyPrefix: redisKeys('none').rateLimit, replicas: () => 4 });
    try {
      // synchronous: a decision, not a promise, so nothing waits on a connection
      const hits = [store.hit('a', 100, 60_000, 'allow'), store.hit('d', 100, 60_000, 'deny'), ...Array.from({ length: 30 }, () => store.hit('l', 100, 60_000, 'local'))];
      for (const decision of hits) expect(decision).not.toBeInstanceOf(Promise);
      const [allow, deny, ...local] = hits as RateLimitDecision[];
      expect(allow).toMatchObject({ allowed: true, storeDown: 'allow' });
      expect(deny).toMatchObject({ allowed: false, storeDown: 'deny' });
      expect(local.filter((d) => d.allowed)).toHaveLength(25); // 100 / 4 replicas
      expect(local.every((d) => d.storeDown === 'local')).toBe(true);
      expect(store.health()).toEqual({ store: 'redis', state: 'down', storeDownDecisions: { allow: 1, deny: 1, local: 30 } });
      // a token budget: the check decides by the choice; a charge is counted locally, or refused as not made
      expect(store.check('tb', 20, 100, 60_000, 'local')).toMatchObject({ allowed: true, remaining: 25, storeDown: 'local' });
      await store.charge('tb', 20, 60_000, 'local');
      expect(store.check('tb', 6, 100, 60_000, 'local')).toMatchObject({ allowed: false, remaining: 5, storeDown: 'local' });
      expect(store.check('tb', 6, 100, 60_000, 'deny')).toMatchObject({ allowed: false, storeDown: 'deny' });
      await expect(store.charge('tb', 20, 60_000, 'allow')).rejects.toThrow(/not charged/);
    } finally {
      store.close?.();
    }
  });
});

/** An hour: the window of the local fallback's keys. */
const HOUR = 3_600_000;

describe('the Redis store\'s local fallback', () => {
  it('holds at most maxKeys too, and reports them', async () => {
    const port = await freePort(); // nothing listens there
    const client = createRedisClient({ url: `redis://127.0.0.1:${port}`, prefix: 'none', cluster: false }, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 100 });
    client.on('error', () => undefined);
    const store = createRedisRateLimitStore({ client, keyPrefix: redisKeys('none').rateLimit, replicas: () => 1, localMaxKeys: 100 });
    onTestFinished(() => store.close?.());
    for (let i = 0; i < 500; i++) expect((store.hit(`wf:flood:k:v${i}`, 10, HOUR, 'local', 'wf:flood:') as RateLimitDecision).storeDown).toBe('local');
    expect(store.occupancy()).toEqual({ keys: 100, maxKeys: 100, evictions: 400 });
  });
});

/**
 * The circuit breaker, against a redis-server of the test's own: paused (CLIENT PAUSE, so calls
 * time out on a connection that stays up) and stopped (the connection drops), then back.
 */
describe.runIf(redisUp)("the Redis store's circuit breaker", () => {
  /** A pino logger writing into an array, to read what the store said. */
  const listening = () => {
    const lines: Array<{ msg: string; reason?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    return { logger, lines };
  };

  it('opens after failuresToOpen calls in a row time out (a success in between starts the count again), decides at once while open, and a probe closes it', async () => {
    const owned = await startOwnedRedis();
    onTestFinished(() => owned.close());
    const client = createRedisClient({ url: owned.url, prefix: 'breaker', cluster: false }, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 150 });
    client.on('error', () => undefined);
    const { logger, lines } = listening();
    const store = createRedisRateLimitStore({ client, keyPrefix: redisKeys('breaker').rateLimit, replicas: () => 1, logger, failuresToOpen: 2, probeAfterMs: 50 });
    onTestFinished(() => store.close?.());
    await whenReady(client, { url: owned.url, prefix: 'breaker', cluster: false });
    const pauser = new Redis(owned.url);
    onTestFinished(() => void pauser.disconnect());
    /** Pauses every client's commands for `ms` (CLIENT UNPAUSE would wait too); resolves once the pause is in force. */
    const pause = async (ms: number) => {
      await pauser.client('PAUSE', ms, 'ALL');
    };
    /** Resolves when the pause is over: the pauser's own PING waits for it. */
    const pauseOver = () => pauser.ping();

    expect(await store.hit('k', 10, HOUR, 'deny')).toMatchObject({ allowed: true, remaining: 9 });
    // one call times out: decided by its onStoreDown, the breaker stays closed
    await pause(1_000);
    const timedOut = store.hit('k', 10, HOUR, 'allow');
    expect(timedOut).toBeInstanceOf(Promise); // it was sent
    expect(await timedOut).toMatchObject({ allowed: true, storeDown: 'allow' });
    expect(store.health().state).toBe('up');
    await pauseOver();
    // a success resets the count of failures in a row
    expect(await store.hit('k', 10, HOUR, 'deny')).toMatchObject({ allowed: true });
    await pause(3_000);
    expect(await store.hit('k', 10, HOUR, 'deny')).toMatchObject({ allowed: false, storeDown: 'deny' });
    expect(store.health().state).toBe('up'); // one failure since the success: still closed
    // the second in a row opens it
    expect(await store.hit('k', 10, HOUR, 'local')).toMatchObject({ allowed: true, storeDown: 'local' });
    expect(['down', 'probing']).toContain(store.health().state);
    // open: decided at once, nothing sent
    const atOnce = store.hit('k', 10, HOUR, 'deny');
    expect(atOnce).not.toBeInstanceOf(Promise);
    expect(atOnce).toMatchObject({ allowed: false, storeDown: 'deny' });
    expect(lines.filter((line) => line.msg.includes('Redis unreachable'))).toHaveLength(1);
    expect(lines.find((line) => line.msg.includes('Redis unreachable'))?.reason).toMatch(/timed out/i);
    // a probe is under way while the server is paused (its PING waits), and one answer closes the breaker
    await vi.waitFor(() => expect(store.health().state).toBe('probing'), { timeout: 5_000, interval: 10 });
    await pauseOver();
    await vi.waitFor(() => expect(store.health().state).toBe('up'), { timeout: 5_000, interval: 10 });
    expect(lines.filter((line) => line.msg.includes('Redis answers again'))).toHaveLength(1);
    // counting in Redis again, from where it was (the calls that timed out ran once the pause ended)
    const again = store.hit('k', 10, HOUR, 'deny');
    expect(again).toBeInstanceOf(Promise);
    const counted = Number(await client.hget(`${redisKeys('breaker').rateLimit}k}`, 'c'));
    expect(await again).toMatchObject({ allowed: true, remaining: 10 - counted - 1 });
    expect(store.health()).toEqual({ store: 'redis', state: 'up', storeDownDecisions: { allow: 1, deny: 2, local: 1 } });
  }, 30_000);

  it('opens at once when the connection drops (no call waits), and closes when the server is back, the counts kept', async () => {
    const owned = await startOwnedRedis();
    onTestFinished(() => owned.close());
    const client = createRedisClient({ url: owned.url, prefix: 'breaker', cluster: false }, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: 500 });
    client.on('error', () => undefined);
    const { logger, lines } = listening();
    const store = createRedisRateLimitStore({ client, keyPrefix: redisKeys('breaker').rateLimit, replicas: () => 2, logger, failuresToOpen: 5, probeAfterMs: 50 });
    onTestFinished(() => store.close?.());
    await whenReady(client, { url: owned.url, prefix: 'breaker', cluster: false });
    for (let i = 0; i < 3; i++) await store.hit('k', 4, HOUR, 'deny');
    expect(await store.hit('k', 4, HOUR, 'deny')).toMatchObject({ allowed: true, remaining: 0 });

    const closed = new Promise((resolve) => client.once('close', resolve));
    await owned.stop();
    await closed;
    // the connection is down: the first call opens the breaker without waiting for failuresToOpen
    const first = store.hit('k', 4, HOUR, 'local');
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toMatchObject({ allowed: true, remaining: 1, storeDown: 'local' }); // local: 4 / 2 replicas
    expect(store.health().state).toBe('down');
    expect(lines.find((line) => line.msg.includes('Redis unreachable'))?.reason).toMatch(/^connection /);

    const ready = new Promise((resolve) => client.once('ready', resolve));
    await owned.start();
    await ready;
    await vi.waitFor(() => expect(store.health().state).toBe('up'), { timeout: 5_000, interval: 10 });
    // the counter kept on the server (append-only file): 4 counted, the limit reached
    expect(await store.hit('k', 4, HOUR, 'deny')).toMatchObject({ allowed: false, remaining: 0 });
    expect(store.health().storeDownDecisions).toEqual({ allow: 0, deny: 0, local: 1 });
  }, 30_000);
});
