import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 * Where sessions live, so that every process behind the one port or the load balancer knows
 * them: files in the data directory (which `sluice serve --workers N` shares), or Redis when
 * REDIS_URL is set (replicas). Sessions are kept under the SHA-256 of their id: what the store
 * holds (a file listing, a Redis dump) is no cookie anyone can present.
 */
export interface PartnerSessionStore {
  readonly name: 'file' | 'redis';
  put(id: string, record: PartnerSessionRecord): Promise<void>;
  get(id: string): Promise<PartnerSessionRecord | undefined>;
  delete(id: string): Promise<void>;
  close?(): void;
}

const keyOf = (id: string) => createHash('sha256').update(id).digest('hex');

/** How often, at most, a sign-in sweeps expired session files. */
const SWEEP_MS = 60_000;

const isRecord = (value: unknown): value is PartnerSessionRecord =>
  typeof value === 'object' && value !== null && typeof (value as PartnerSessionRecord).partner === 'string' && typeof (value as PartnerSessionRecord).expiresAt === 'number' && typeof (value as PartnerSessionRecord).csrf === 'string';

/**
 * Sessions as files of a directory (mode 0600), one per session, named by the SHA-256 of its id:
 * written whole (a temporary file renamed), read and checked for expiry on each request, swept of
 * expired ones by sign-ins at most once a minute.
 */
export function createFileSessionStore(directory: string): PartnerSessionStore {
  let made: Promise<unknown> | undefined;
  let swept = 0;
  const fileOf = (id: string) => join(directory, `${keyOf(id)}.json`);
  async function read(file: string): Promise<PartnerSessionRecord | undefined> {
    try {
      const record: unknown = JSON.parse(await readFile(file, 'utf8'));
      return isRecord(record) ? record : undefined;
    } catch {
      return undefined; // absent, half-swept or unreadable: no session
    }
  }
  async function sweep(now: number) {
    if (now - swept < SWEEP_MS) return;
    swept = now;
    for (const name of await readdir(directory).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const file = join(directory, name);
      const record = await read(file);
      if (record === undefined || record.expiresAt <= now) await unlink(file).catch(() => undefined);
    }
  }
  return {
    name: 'file',
    async put(id, record) {
      made ??= mkdir(directory, { recursive: true, mode: 0o700 });
      await made;
      const file = fileOf(id);
      const partial = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(partial, JSON.stringify(record), { mode: 0o600 });
      await rename(partial, file);
      await sweep(Date.now());
    },
    async get(id) {
      const record = await read(fileOf(id));
      return record !== undefined && record.expiresAt > Date.now() ? record : undefined;
    },
    async delete(id) {
      await unlink(fileOf(id)).catch(() => undefined);
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
      const record: unknown = JSON.parse(text);
      return isRecord(record) && record.expiresAt > Date.now() ? record : undefined;
    },
    async delete(id) {
      await client.del(`${keyPrefix}${keyOf(id)}`);
    },
    close() {
      client.disconnect();
    },
  };
}

/** The folder of the data directory that holds portal sessions without Redis. */
export const SESSIONS_DIR = 'portal-sessions';

/** The session store of the settings: Redis on a connection of its own when REDIS_URL is set, else files in the data directory. */
export async function openPartnerSessions(settings: Pick<Settings, 'redis' | 'rateLimitTimeoutMs' | 'dataDir'>): Promise<PartnerSessionStore> {
  const redis = settings.redis;
  if (!redis) return createFileSessionStore(join(settings.dataDir, SESSIONS_DIR));
  const client = createRedisClient(redis, { name: 'sluice-portal', offlineQueue: false, commandTimeoutMs: Math.max(500, settings.rateLimitTimeoutMs) });
  client.on('error', () => undefined); // a store that cannot be reached fails the call (503), never opens a session
  await whenReady(client, redis, 2_000).catch(() => undefined);
  return createRedisSessionStore({ client, keyPrefix: redisKeys(redis.prefix).portalSession });
}
