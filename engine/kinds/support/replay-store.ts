import type { RedisClient } from '../../store/redis.ts';
import { OrderedMap } from './ordered-map.ts';

/**
 * Signatures seen inside their window (hmac-verify): `claim` records one and says whether it is
 * new. In memory by default; in Redis (SET NX PX) when REDIS_URL is set, so that a signature
 * accepted by one replica is refused by every other.
 */
export interface ReplayStore {
  readonly name: 'memory' | 'redis';
  /** True when `key` was not seen in the last `ttlMs` (and is recorded now); false for a replay. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close?(): void | Promise<void>;
}

/** The most signatures the memory store keeps; past it the oldest go first (a bound, not a window). */
const MEMORY_MAX_ENTRIES = 100_000;

export function createMemoryReplayStore(maxEntries = MEMORY_MAX_ENTRIES): ReplayStore {
  // signatures by when they expire; claims come in expiry order within one ttl, and the oldest are swept as new ones come
  const seen = new OrderedMap<number>();
  return {
    name: 'memory',
    claim(key, ttlMs) {
      const now = Date.now();
      const until = seen.get(key);
      if (until !== undefined) {
        if (until > now) return Promise.resolve(false);
        seen.delete(key);
      }
      for (let oldest = seen.oldest(); oldest !== undefined && (oldest <= now || seen.size >= maxEntries); oldest = seen.oldest()) seen.shift();
      seen.set(key, now + ttlMs);
      return Promise.resolve(true);
    },
  };
}

/** Redis's answer to SET NX: "OK" when set, null when the key exists. Any failure throws: the node refuses then. */
export function createRedisReplayStore(options: { client: RedisClient; keyPrefix: string }): ReplayStore {
  const { client, keyPrefix } = options;
  return {
    name: 'redis',
    async claim(key, ttlMs) {
      const answer = await client.set(`${keyPrefix}${key}`, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
      return answer === 'OK';
    },
    close() {
      client.disconnect();
    },
  };
}
