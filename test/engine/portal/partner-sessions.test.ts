import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFileSessionStore, openPartnerSessions, SESSIONS_DIR, type PartnerSessionRecord, type PartnerSessionStore } from '../../../engine/portal/partner-sessions.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';

const record = (partner: string, ttlMs = 60_000): PartnerSessionRecord => ({ partner, credential: { kind: 'api-key', keyId: 'a1b2c3d4' }, csrf: 'c'.repeat(43), expiresAt: Date.now() + ttlMs });
const sessionId = (n: number) => `${String(n).padStart(4, '0')}${'s'.repeat(39)}`;

describe('partner portal sessions in the data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-sessions-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a session written by one process is found by another (workers share the data directory) until it expires or ends', async () => {
    const first = await openPartnerSessions({ redis: undefined, rateLimitTimeoutMs: 100, dataDir });
    const second = await openPartnerSessions({ redis: undefined, rateLimitTimeoutMs: 100, dataDir });
    expect(first.name).toBe('file');
    await first.put(sessionId(1), record('acme'));
    await first.put(sessionId(2), record('globex', 50));
    expect(await second.get(sessionId(1))).toMatchObject({ partner: 'acme' });
    expect(await second.get(sessionId(3))).toBeUndefined();
    await vi.waitFor(async () => expect(await second.get(sessionId(2))).toBeUndefined());
    await second.delete(sessionId(1));
    expect(await first.get(sessionId(1))).toBeUndefined();
  });

  it('keeps each session in a file only its owner may read, named by the SHA-256 of the id, and sweeps expired ones', async () => {
    const dir = join(dataDir, 'swept');
    const store = createFileSessionStore(dir);
    // long enough to outlast its own write and sweep on a loaded machine (20 ms did not, with two test files at once)
    await store.put(sessionId(4), record('acme', 500));
    const [name] = readdirSync(dir);
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(name).not.toContain(sessionId(4));
    expect(statSync(join(dir, name!)).mode & 0o777).toBe(0o600);
    await vi.waitFor(async () => expect(await store.get(sessionId(4))).toBeUndefined(), { timeout: 5_000 });
    // a later sign-in, a minute on, sweeps the expired file
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ['Date'] });
    try {
      await store.put(sessionId(5), record('acme'));
    } finally {
      vi.useRealTimers();
    }
    expect(readdirSync(dir)).toHaveLength(1);
    expect(SESSIONS_DIR).toBe('portal-sessions');
  });
});

describe.runIf(await sharedRedisAvailable())('partner portal sessions in Redis (replicas share them)', () => {
  const prefix = testPrefix('portal');
  const settings = { redis: { url: SHARED_REDIS_URL, prefix, cluster: false }, rateLimitTimeoutMs: 100, dataDir: tmpdir() };
  let first: PartnerSessionStore;
  let second: PartnerSessionStore;
  let raw: Redis;

  beforeAll(async () => {
    first = await openPartnerSessions(settings);
    second = await openPartnerSessions(settings);
    raw = new Redis(SHARED_REDIS_URL);
  });
  afterAll(async () => {
    first?.close?.();
    second?.close?.();
    raw?.disconnect();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('a session opened on one replica is known on another, ends there too, and expires with its lifetime', async () => {
    expect(first.name).toBe('redis');
    await first.put(sessionId(1), record('acme'));
    expect(await second.get(sessionId(1))).toMatchObject({ partner: 'acme', credential: { kind: 'api-key', keyId: 'a1b2c3d4' } });
    await second.delete(sessionId(1));
    expect(await first.get(sessionId(1))).toBeUndefined();
    await first.put(sessionId(2), record('acme', 300));
    expect(await second.get(sessionId(2))).toBeDefined();
    await vi.waitFor(async () => expect(await second.get(sessionId(2))).toBeUndefined());
  });

  it('Redis holds the session under the SHA-256 of its id, never the id a cookie carries', async () => {
    await first.put(sessionId(3), record('acme'));
    const keys = await raw.keys(`sluice:${prefix}:portal-session:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toContain(sessionId(3));
    expect(await raw.pttl(keys[0]!)).toBeGreaterThan(0);
  });
});
