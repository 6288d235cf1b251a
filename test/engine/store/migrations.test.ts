import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openFileStore } from '../../../engine/store/file-store.ts';
import { MIGRATIONS, STORE_FORMAT, UnknownStoreFormatError } from '../../../engine/store/migrations.ts';
import { redisKeys } from '../../../engine/store/redis.ts';
import { openRedisStore } from '../../../engine/store/redis-store.ts';
import type { Store } from '../../../engine/store/types.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, sharedTarget, testPrefix } from '../../helpers/redis.ts';
import { saveDraft, storesOfTest } from './support.ts';

/*
 * Stores as the code before formats were recorded wrote them (fixtures/: two draft saves of
 * workflow "orders", no format, no partners): format 1. Opening one migrates it to today's format,
 * one audited change a step; a store of a format newer than this build's is refused.
 */

const redisUp = await sharedRedisAvailable();
const FIXTURES = join(import.meta.dirname, 'fixtures');

interface StoreKind {
  name: string;
  /** A new place holding the format-1 fixture. */
  fixture(): Promise<string>;
  place(): string;
  open(place: string): Promise<Store>;
  /** Overwrites the stored state's format. */
  setFormat(place: string, format: number): Promise<void>;
  /** The stored state, as text. */
  stored(place: string): Promise<string>;
  cleanup(place: string): Promise<void>;
}

const withRedis = async <T>(run: (client: Redis) => Promise<T>) => {
  const client = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await run(client);
  } finally {
    client.disconnect();
  }
};

const kinds: StoreKind[] = [
  {
    name: 'file',
    async fixture() {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-format-'));
      cpSync(join(FIXTURES, 'file-store-format-1'), dir, { recursive: true });
      return dir;
    },
    place: () => mkdtempSync(join(tmpdir(), 'sluice-format-')),
    open: (dir) => openFileStore(dir),
    async setFormat(dir, format) {
      const file = join(dir, 'state.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), format }));
    },
    stored: async (dir) => readFileSync(join(dir, 'state.json'), 'utf8'),
    cleanup: async (dir) => rmSync(dir, { recursive: true, force: true }),
  },
  {
    name: 'redis',
    async fixture() {
      const prefix = testPrefix('format');
      const keys = redisKeys(prefix);
      const dump = JSON.parse(readFileSync(join(FIXTURES, 'redis-store-format-1.json'), 'utf8')) as { revision: string; state: string; audit: string[]; documents: Record<string, string> };
      await withRedis(async (client) => {
        const write = client.multi().set(keys.revision, dump.revision).set(keys.state, dump.state).rpush(keys.audit, ...dump.audit);
        for (const [hash, text] of Object.entries(dump.documents)) write.set(keys.document(hash), text);
        await write.exec();
      });
      return prefix;
    },
    place: () => testPrefix('format'),
    open: (prefix) => openRedisStore({ target: sharedTarget(prefix) }),
    setFormat: (prefix, format) =>
      withRedis(async (client) => {
        const key = redisKeys(prefix).state;
        await client.set(key, JSON.stringify({ ...JSON.parse((await client.get(key))!), format }));
      }),
    stored: (prefix) => withRedis(async (client) => (await client.get(redisKeys(prefix).state))!),
    cleanup: (prefix) => deletePrefix(SHARED_REDIS_URL, prefix),
  },
];

describe.each(kinds)('$name store format', (kind) => {
  const stores = storesOfTest(kind);
  const remember = stores.place;
  const open = stores.open;
  const runs = kind.name === 'redis' && !redisUp ? it.skip : it;

  runs('opens a store written before formats were recorded: migrated step by step, each step audited, the chain intact', async () => {
    expect(STORE_FORMAT).toBe(MIGRATIONS.length + 1);
    const place = remember(await kind.fixture());
    const store = await open(place);

    const state = await store.state();
    expect(state.format).toBe(STORE_FORMAT);
    expect(JSON.parse(await kind.stored(place)).format).toBe(STORE_FORMAT);
    expect(state.revision).toBe(2 + MIGRATIONS.length);
    expect({ partners: state.partners, products: state.products, plans: state.plans }).toEqual({ partners: {}, products: {}, plans: {} });
    expect(await store.document(state.workflows.get('orders')!.draft!.hash)).toEqual({ id: 'orders', note: 'two' });

    const audit = await store.audit();
    expect(audit.map((e) => e.action)).toEqual(['draft.save', 'draft.save', ...MIGRATIONS.map(() => 'store.migrate')]);
    expect(audit.slice(2).map((e) => e.detail)).toEqual(MIGRATIONS.map((m, i) => `format ${i + 1} to ${i + 2} (${m.name}): ${m.summary}`));
    expect(audit.slice(2).every((e) => e.actor === 'system')).toBe(true);
    expect(await store.verifyAudit()).toEqual({ ok: true, entries: 2 + MIGRATIONS.length, head: state.head });

    // opened again, it is of today's format: nothing more to do
    await stores.close(store);
    const again = await open(place);
    expect((await again.state()).revision).toBe(2 + MIGRATIONS.length);
    expect((await saveDraft(again, 'three')).revision).toBe(3 + MIGRATIONS.length);
    expect((await again.verifyAudit()).ok).toBe(true);
  });

  runs('a new store is of today’s format from its first change, with no migration', async () => {
    const place = remember(kind.place());
    const store = await open(place);
    expect((await store.state()).format).toBe(STORE_FORMAT);
    await saveDraft(store, 'one');
    expect(JSON.parse(await kind.stored(place)).format).toBe(STORE_FORMAT);
    expect((await store.audit()).map((e) => e.action)).toEqual(['draft.save']);
  });

  runs('stores opened at once migrate once', async () => {
    const place = remember(await kind.fixture());
    const stores = await Promise.all([open(place), open(place), open(place)]);
    const audit = await stores[0]!.audit();
    expect(audit.filter((e) => e.action === 'store.migrate')).toHaveLength(MIGRATIONS.length);
    expect((await stores[2]!.verifyAudit()).ok).toBe(true);
  });

  runs('refuses a store of a format newer than this build knows, naming both, and leaves it as it is', async () => {
    const place = remember(await kind.fixture());
    await kind.setFormat(place, STORE_FORMAT + 1);
    const before = await kind.stored(place);
    const error = await kind.open(place).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(UnknownStoreFormatError);
    expect(error?.message).toContain(`is of format ${STORE_FORMAT + 1}, but this build of Sluice knows formats up to ${STORE_FORMAT}`);
    expect(await kind.stored(place)).toBe(before);
  });
});
