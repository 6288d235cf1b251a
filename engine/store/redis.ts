import { createRequire } from 'node:module';
import type { Cluster, Redis, RedisOptions } from 'ioredis';

/**
 * ioredis, loaded when the first connection is made: only a gateway given REDIS_URL (or a Redis
 * cache) connects, and importing it took ~80 ms of every start (CommonJS: required, so a
 * connection is still made synchronously).
 */
let loaded: typeof import('ioredis') | undefined;
export const ioredis = (): typeof import('ioredis') => (loaded ??= createRequire(import.meta.url)('ioredis') as typeof import('ioredis'));

/** Where Sluice's shared state lives in Redis. */
export interface RedisTarget {
  url: string;
  /** Namespace of every key, so several Sluice installations (or test runs) share one Redis. */
  prefix: string;
  /** Connect through ioredis's Cluster client (the URL names one seed node). */
  cluster: boolean;
}

export type RedisClient = Redis | Cluster;

/**
 * Key names. Everything the store reads and writes together carries one hash tag
 * (`{sluice:<prefix>}`), so on Redis Cluster a commit's keys live in one slot and one Lua script
 * may touch them all. Rate-limit counters are one key per limited value, each its own tag, so
 * they spread over the cluster.
 */
export function redisKeys(prefix: string) {
  const tag = `{sluice:${prefix}}`;
  return {
    revision: `${tag}:revision`,
    state: `${tag}:state`,
    audit: `${tag}:audit`,
    document: (hash: string) => `${tag}:doc:${hash}`,
    changes: `${tag}:changes`,
    replicas: `${tag}:replicas`,
    replica: (id: string) => `${tag}:replica:${id}`,
    /** A canary's counts summed over the replicas (engine/canary/watch.ts). */
    canary: (workflow: string, canaryId: string) => `${tag}:canary:${workflow}:${canaryId}`,
    /** The prefix of rate-limit keys; the counted value follows inside braces. */
    rateLimit: `sluice:${prefix}:rl:{`,
    /** The prefix of cached answers (cache-lookup, cache-store); the cache name and key follow. */
    cache: `sluice:${prefix}:cache:`,
    /** The prefix of signatures seen by hmac-verify nodes; the key id and signature follow. */
    replay: `sluice:${prefix}:replay:`,
    /** The prefix of the recorded request samples of differential replay (engine/replay); the workflow id follows. */
    samples: `sluice:${prefix}:samples:`,
    /** The prefix of partner portal sessions (engine/portal/partner-sessions.ts); the SHA-256 of the session id follows. */
    portalSession: `sluice:${prefix}:portal-session:`,
  };
}

/** Reconnect soon and keep trying: a replica must come back on its own when Redis does. */
const retryStrategy = (times: number) => Math.min(50 * times, 1_000);

/**
 * Opens a connection. `offlineQueue: false` makes a command fail at once while the connection is
 * down instead of waiting for it (the rate limiter's hot path); `commandTimeout` bounds a
 * command on a connection that is up but does not answer.
 */
export function createRedisClient(target: RedisTarget, options: { name: string; offlineQueue: boolean; commandTimeoutMs?: number; resubscribe?: false }): RedisClient {
  const common: RedisOptions = {
    // ioredis resubscribes on reconnect without handling the command's failure (a connection that closes again rejects it unhandled): a subscriber resubscribes itself
    ...(options.resubscribe === false ? { autoResubscribe: false } : {}),
    // The pid names the process in CLIENT LIST (and lets an operator CLIENT KILL one replica's connections).
    connectionName: `${options.name}-${process.pid}`,
    enableOfflineQueue: options.offlineQueue,
    maxRetriesPerRequest: options.offlineQueue ? 1 : 0,
    retryStrategy,
    // A connection that stops answering is noticed through the command timeout; keep-alive catches a dead peer.
    keepAlive: 5_000,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  if (target.cluster) {
    const { hostname, port, password, username } = new URL(target.url);
    return new (ioredis().Cluster)([{ host: hostname, port: Number(port || 6379) }], {
      enableOfflineQueue: options.offlineQueue,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...common, ...(password ? { password: decodeURIComponent(password) } : {}), ...(username ? { username: decodeURIComponent(username) } : {}) },
    });
  }
  return new (ioredis().Redis)(target.url, common);
}

/** Resolves when the client is ready; rejects naming the URL (without credentials) when it cannot connect in time. */
export async function whenReady(client: RedisClient, target: RedisTarget, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  const where = target.url.replace(/\/\/[^@/]*@/, '//');
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => void (lastError = error);
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.off('error', onError);
      reject(new Error(`cannot reach Redis at ${where}${lastError ? `: ${lastError.message}` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    client.once('ready', onReady);
    client.on('error', onError);
  });
}
