import { ioredis, type RedisClient } from '../../store/redis.ts';
import type { CachedAnswer, CacheStore } from './cache-store.ts';

/** An answer as JSON (the body base64), for stores that keep text. */
const encodeAnswer = (answer: CachedAnswer): string => JSON.stringify({ ...answer, body: answer.body.toString('base64') });
function decodeAnswer(text: string): CachedAnswer {
  const parsed = JSON.parse(text) as CachedAnswer & { body: string };
  return { ...parsed, body: Buffer.from(parsed.body, 'base64') };
}

/**
 * Cached answers in Redis, shared by every replica: one string per entry under
 * `<keyPrefix><cache>:<key>`, expiring by PX. `entries` bounds only the memory store: Redis's own
 * maxmemory policy bounds this one. Any failure (down, slow: the command timeout) throws, and
 * the nodes treat it as a miss or a skipped store.
 */
export function createRedisCacheStore(options: { client: RedisClient; keyPrefix: string }): CacheStore {
  const { client, keyPrefix } = options;
  const entryKey = (cache: string, key: string) => `${keyPrefix}${cache}:${key}`;
  return {
    name: 'redis',
    async get(cache, key) {
      const text = await client.get(entryKey(cache, key));
      return text === null ? undefined : decodeAnswer(text);
    },
    async set(cache, key, answer, ttlMs) {
      await client.set(entryKey(cache, key), encodeAnswer(answer), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async purge(cache, match) {
      if (match.key !== undefined) return client.del(entryKey(cache, match.key));
      const pattern = `${entryKey(cache, match.prefix ?? '').replace(/[*?[\]\\]/g, '\\$&')}*`;
      let removed = 0;
      // on a cluster every master holds its own keys, and one DEL takes the keys of one slot only
      const nodes = client instanceof ioredis().Cluster ? client.nodes('master') : [client];
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          for (const key of keys) removed += await client.del(key);
        } while (cursor !== '0');
      }
      return removed;
    },
    close() {
      client.disconnect();
    },
  };
}
