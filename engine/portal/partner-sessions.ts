import { createHash } from 'node:crypto';
import type { Settings } from '../config.ts';
import { createRedisClient, redisKeys, whenReady, type RedisClient } from '../store/redis.ts';

/** The credential a session was opened with: checked again on every request, so the session ends with it. */
type SessionCredential = { kind: 'api-key'; keyId: string } | { kind: 'token'; issuer: string; clientId: string };

/** A partner's portal session as kept server-side: the cookie holds only its random id. */
export interface PartnerSessionRecord {
  partner: string;
  credential: SessionCredential;
  /** The CSRF token state-changing requests must send in a header. */
  csrf: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/**
 * Where sessions live: in memory, or in Redis when REDIS_URL is set, so every replica behind a
 * load balancer knows them. Sessions are kept under the SHA-256 of their id: what the store holds
 * (a Redis dump, a MONITOR) is no cookie anyone can present.
 */
export interface PartnerSessionStore {
  readonly name: 'memory' | 'redis';
  put(id: string, record: PartnerSessionRecord): Promise<void>;
  get(id: string): Promise<PartnerSessionRecord | undefined>;
  delete(id: string): Promise<void>;
  close?(): void;
}

const keyOf = (id: string) => createHash('sha256').update(id).digest('base64url');

/** The most sessions one process keeps in memory; past it the oldest go first. */
const MEMORY_MAX_SESSIONS = 10_000;

export function createMemorySessionStore(maxSessions = MEMORY_MAX_SESSIONS): PartnerSessionStore {
  const sessions = new Map<string, PartnerSessionRecord>();
  return {
    name: 'memory',
    async put(id, record) {
      const now = Date.now();
      for (const [key, kept] of sessions) {
        if (kept.expiresAt > now && sessions.size < maxSessions) break;
        sessions.delete(key);
      }
      sessions.set(keyOf(id), record);
    },
    async get(id) {
      const key = keyOf(id);
      const record = sessions.get(key);
      if (record !== undefined && record.expiresAt <= Date.now()) {
        sessions.delete(key);
        return undefined;
      }
      return record;
    },
    async delete(id) {
      sessions.delete(keyOf(id));
    },
  };
}

/** Sessions in Redis, each key expiring with its session (PX). A Redis that cannot answer fails the call: no session is assumed. */
function createRedisSessionStore(options: { client: RedisClient; keyPrefix: string }): PartnerSessionStore {
  const { client, keyPrefix } = options;
  return {
    name: 'redis',
    async put(id, record) {
      await client.set(`${keyPrefix}${keyOf(id)}`, JSON.stringify(record), 'PX', Math.max(1, record.expiresAt - Date.now()));
    },
    async get(id) {
      const text = await client.get(`${keyPrefix}${keyOf(id)}`);
      if (text === null) return undefined;
      const record = JSON.parse(text) as PartnerSessionRecord;
      return record.expiresAt > Date.now() ? record : undefined;
    },
    async delete(id) {
      await client.del(`${keyPrefix}${keyOf(id)}`);
    },
    close() {
      client.disconnect();
    },
  };
}

/** The session store of the settings: Redis on a connection of its own when REDIS_URL is set, else memory. */
export async function openPartnerSessions(settings: Pick<Settings, 'redis' | 'rateLimitTimeoutMs'>): Promise<PartnerSessionStore> {
  const redis = settings.redis;
  if (!redis) return createMemorySessionStore();
  const client = createRedisClient(redis, { name: 'sluice-portal', offlineQueue: false, commandTimeoutMs: Math.max(500, settings.rateLimitTimeoutMs) });
  client.on('error', () => undefined); // a store that cannot be reached fails the call (503), never opens a session
  await whenReady(client, redis, 2_000).catch(() => undefined);
  return createRedisSessionStore({ client, keyPrefix: redisKeys(redis.prefix).portalSession });
}
