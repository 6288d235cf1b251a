import type { Logger } from 'pino';
import type { Settings } from '../config.ts';
import { createEgressPolicy, type EgressPolicy } from '../kinds/support/egress.ts';
import { createExpressionPool, type ExpressionPool } from '../kinds/support/expression-pool.ts';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from '../kinds/support/expression.ts';
import { createMemoryRateLimitStore, type RateLimitStore } from '../kinds/support/rate-limit-store.ts';
import { createRedisRateLimitStore } from '../kinds/support/redis-rate-limit-store.ts';
import { createMemoryCacheStore, type CacheStore } from '../kinds/support/cache-store.ts';
import { createRedisCacheStore } from '../kinds/support/cache-store-redis.ts';
import { createMemoryReplayStore, createRedisReplayStore, type ReplayStore } from '../kinds/support/replay-store.ts';
import type { SharedResources } from '../kinds/types.ts';
import { createRedisClient, redisKeys, whenReady } from '../store/redis.ts';

/** The expression bounds of the settings, and the worker pool where expressions off the compiled fast path run (close it). */
export function expressionsOf(settings: Settings): { expressionLimits: ExpressionLimits; expressionPool: ExpressionPool } {
  return {
    expressionLimits: { ...DEFAULT_EXPRESSION_LIMITS, timeoutMs: settings.expressionTimeoutMs, stringChars: settings.expressionMaxOutput, transferChars: settings.expressionMaxTransfer },
    expressionPool: createExpressionPool({ threads: settings.expressionWorkers, queue: settings.expressionQueue }),
  };
}

/**
 * The egress policy of the settings. With the demo upstream (on loopback) running, exactly its
 * address and port are allowed, nothing else of loopback. Refusals are logged when a logger is given.
 */
export function egressOf(settings: Settings, demoUpstream: string | undefined, logger?: Logger): EgressPolicy {
  const policy = createEgressPolicy({ ...settings.egress, ...(logger ? { onDenied: (denied: unknown) => logger.warn({ egress: denied }, 'egress policy refused a connection') } : {}) });
  return demoUpstream === undefined ? policy : policy.allowing(new URL(demoUpstream).host);
}

/** Resources nodes share across workflows (a JWKS cache, say), made on first use and closed together. */
export function createSharedResources(): SharedResources & { close(): Promise<void> } {
  const resources = new Map<string, unknown>();
  return {
    get<T>(key: string, create: () => T): T {
      if (!resources.has(key)) resources.set(key, create());
      return resources.get(key) as T;
    },
    async close() {
      for (const value of resources.values()) {
        const closable = value as { close?: () => unknown };
        if (typeof closable.close === 'function') await closable.close();
      }
    },
  };
}

/** The rate-limit counters: in Redis on a connection of their own (a slow admin read never delays a check, nor the reverse), else in memory. */
export async function openRateLimits(settings: Settings, replicas: () => number, logger: Logger): Promise<RateLimitStore> {
  const redis = settings.redis;
  if (!redis) return createMemoryRateLimitStore({ maxKeys: settings.rateLimitMaxKeys });
  const client = createRedisClient(redis, { name: 'sluice-rate-limits', offlineQueue: false, commandTimeoutMs: settings.rateLimitTimeoutMs });
  client.on('error', () => undefined); // the store's connections report Redis trouble; the breaker logs its own state
  await whenReady(client, redis).catch(() => undefined); // not ready: checks decide by onStoreDown until it is
  return createRedisRateLimitStore({ client, keyPrefix: redisKeys(redis.prefix).rateLimit, replicas, logger, localMaxKeys: settings.rateLimitMaxKeys });
}

/** The response caches: in Redis on a connection of their own when REDIS_URL is set (failing fast while it is down: a miss, a skipped store), else in memory. */
export async function openCache(settings: Settings): Promise<CacheStore> {
  const redis = settings.redis;
  if (!redis) return createMemoryCacheStore();
  const client = createRedisClient(redis, { name: 'sluice-cache', offlineQueue: false, commandTimeoutMs: settings.rateLimitTimeoutMs });
  client.on('error', () => undefined); // a cache that cannot be reached is a miss
  await whenReady(client, redis, 2_000).catch(() => undefined);
  return createRedisCacheStore({ client, keyPrefix: redisKeys(redis.prefix).cache });
}

/** The signatures seen by hmac-verify nodes: in Redis (SET NX PX) on a connection of their own when REDIS_URL is set, so a replay on another replica is refused; else in memory. */
export async function openReplays(settings: Settings): Promise<ReplayStore> {
  const redis = settings.redis;
  if (!redis) return createMemoryReplayStore();
  const client = createRedisClient(redis, { name: 'sluice-replays', offlineQueue: false, commandTimeoutMs: settings.rateLimitTimeoutMs });
  client.on('error', () => undefined); // a store that cannot be reached refuses the signature (the node fails closed)
  await whenReady(client, redis, 2_000).catch(() => undefined);
  return createRedisReplayStore({ client, keyPrefix: redisKeys(redis.prefix).replay });
}

/** The hosts http-call nodes may call (SLUICE_CALLOUT_HOSTS), plus the demo upstream this process started, as the egress policy allows it. */
export function calloutHostsOf(settings: Settings, demoUpstream: string | undefined): string[] {
  return demoUpstream === undefined ? settings.calloutHosts : [...settings.calloutHosts, new URL(demoUpstream).host];
}
