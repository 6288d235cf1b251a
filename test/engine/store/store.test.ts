import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../engine/store/audit.ts';
import { openFileStore } from '../../../engine/store/file-store.ts';
import { redisKeys } from '../../../engine/store/redis.ts';
import { openRedisStore } from '../../../engine/store/redis-store.ts';
import type { Store } from '../../../engine/store/types.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, sharedTarget, testPrefix } from '../../helpers/redis.ts';
import { saveDraft, storesOfTest } from './support.ts';

/*
 * The store contract, run against every store: the file store (a directory) and the Redis store
 * (a key prefix of the shared Redis at 127.0.0.1:6379).
 */

const redisUp = await sharedRedisAvailable();

/** A store kind: where a new store lives, and how to open one there. */
interface StoreKind {
  name: string;
  place(): string;
  open(place: string): Promise<Store>;
  cleanup(place: string): Promise<void>;
}

const kinds: StoreKind[] = [
  {
    name: 'file',
    place: () => mkdtempSync(join(tmpdir(), 'sluice-store-')),
    open: (dir) => openFileStore(dir),
    cleanup: async (dir) => rmSync(dir, { recursive: true, force: true }),
  },
  {
    name: 'redis',
    place: () => testPrefix('store'),
    open: (prefix) => openRedisStore({ target: sharedTarget(prefix) }),
    cleanup: (prefix) => deletePrefix(SHARED_REDIS_URL, prefix),
  },
];

describe.each(kinds)('$name store', (kind) => {
  const stores = storesOfTest(kind);
  const newPlace = () => stores.place(kind.place());
  const open = stores.open;
  const runs = kind.name === 'redis' && !redisUp ? it.skip : it;

  runs('writes a change, its documents and its audit entry together, and reads them back after reopening', async () => {
    const place = newPlace();
    const store = await open(place);
    const first = await saveDraft(store, 'one');
    const second = await saveDraft(store, 'two');
    expect([first.revision, second.revision]).toEqual([1, 2]);
    await stores.close(store);

    const reopened = await open(place);
    const state = await reopened.state();
    expect(state.revision).toBe(2);
    expect(state.head).toBe(second.entry.hash);
    expect(state.workflows.get('orders')!.draft!.revision).toBe(2);
    expect(await reopened.document(second.result)).toEqual({ id: 'orders', note: 'two' });
    const audit = await reopened.audit();
    expect(audit.map((e) => e.seq)).toEqual([1, 2]);
    expect(verifyAuditChain(audit).ok).toBe(true);
    expect(await reopened.verifyAudit()).toEqual({ ok: true, entries: 2, head: second.entry.hash });
    expect((await reopened.audit({ after: 1, limit: 5 })).map((e) => e.seq)).toEqual([2]);
    expect((await reopened.audit({ after: 0, limit: 1 })).map((e) => e.seq)).toEqual([1]);
  });

  runs('records a refusal as an audit entry without changing the state', async () => {
    const store = await open(newPlace());
    await saveDraft(store, 'one');
    const before = await store.state();
    await store.transact(() => ({ entry: { time: 't', actor: 'v', role: 'viewer', action: 'refused', detail: 'publish: forbidden' }, result: undefined }));
    const after = await store.state();
    expect(after.workflows).toEqual(before.workflows);
    expect(after.revision).toBe(before.revision + 1);
  });

  runs('serialises concurrent transactions', async () => {
    const store = await open(newPlace());
    await Promise.all(Array.from({ length: 20 }, (_, i) => saveDraft(store, `n${i}`)));
    const state = await store.state();
    expect(state.revision).toBe(20);
    expect(state.workflows.get('orders')!.draft!.revision).toBe(20);
    expect(verifyAuditChain(await store.audit()).ok).toBe(true);
  });

  runs('leaves nothing behind when a transaction body throws', async () => {
    const store = await open(newPlace());
    await saveDraft(store, 'one');
    await expect(store.transact(() => { throw new Error('refused by the body'); })).rejects.toThrow('refused by the body');
    expect((await store.state()).revision).toBe(1);
    expect(await store.audit()).toHaveLength(1);
  });

  runs('keeps one audit chain when two processes change the store at the same time', async () => {
    const place = newPlace();
    const [one, two] = [await open(place), await open(place)];
    await Promise.all([one, two].flatMap((store, s) => Array.from({ length: 10 }, (_, i) => saveDraft(store, `store ${s} change ${i}`))));
    for (const store of [one, two]) {
      const state = await store.state();
      expect(state.revision).toBe(20);
      expect(state.workflows.get('orders')!.draft!.revision).toBe(20);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 20 });
    }
  });

  runs("tells another process's store of a change", async () => {
    const place = newPlace();
    const [one, two] = [await open(place), await open(place)];
    const heard: number[] = [];
    two.onChange((revision) => heard.push(revision));
    const { revision, result } = await saveDraft(one, 'seen elsewhere');
    await expect.poll(() => heard.includes(revision), { timeout: 5_000 }).toBe(true);
    expect((await two.state()).workflows.get('orders')!.draft!.hash).toBe(result);
  });

  runs('hands out frozen states: a body that changes the one it is given fails and commits nothing', async () => {
    const store = await open(newPlace());
    await saveDraft(store, 'one');
    const before = await store.state();
    expect(Object.isFrozen(before) && Object.isFrozen(before.workflows.get('orders')!.draft)).toBe(true);
    await expect(
      store.transact((state) => {
        state.workflows.get('orders')!.draft!.revision += 1;
        return { state, entry: { time: new Date().toISOString(), actor: 'test', role: 'admin', action: 'draft.save', workflow: 'orders' }, result: undefined };
      }),
    ).rejects.toThrow(TypeError);
    const after = await store.state();
    expect(after.revision).toBe(before.revision);
    expect(after.workflows.get('orders')!.draft!.revision).toBe(before.workflows.get('orders')!.draft!.revision);
    // a body that builds its next state from the one given (sharing the rest) commits
    await saveDraft(store, 'two');
    expect((await store.state()).revision).toBe(before.revision + 1);
  });

  runs('tells its own listeners of every change it commits', async () => {
    const store = await open(newPlace());
    const heard: number[] = [];
    store.onChange((revision) => heard.push(revision));
    await saveDraft(store, 'one');
    await saveDraft(store, 'two');
    expect(heard).toEqual([1, 2]);
  });
});

describe.runIf(redisUp)('redis store across replicas', () => {
  const prefix = testPrefix('replicas');
  const stores: Store[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) stores.push(await openRedisStore({ target: sharedTarget(prefix), reconcileMs: 200 }));
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('keeps one audit chain when replicas change the store at the same time', async () => {
    await Promise.all(stores.flatMap((store, s) => Array.from({ length: 10 }, (_, i) => saveDraft(store, `replica ${s} change ${i}`))));
    const state = await stores[1]!.state();
    expect(state.revision).toBe(30);
    expect(state.workflows.get('orders')!.draft!.revision).toBe(30);
    expect(await stores[2]!.verifyAudit()).toMatchObject({ ok: true, entries: 30 });
  });

  it("announces a change to the other replicas' listeners", async () => {
    const heard = stores.map(() => [] as number[]);
    const offs = stores.map((store, i) => store.onChange((revision) => heard[i]!.push(revision)));
    const { revision } = await saveDraft(stores[0]!, 'announced');
    await expect.poll(() => heard.map((h) => h.includes(revision)), { timeout: 5_000 }).toEqual([true, true, true]);
    offs.forEach((off) => off());
  });

  it('announces the document a change made active: a replica that heard it reads it with no request of its own; a bare revision is heard too', async () => {
    const keys = redisKeys(prefix);
    const raw = new Redis(SHARED_REDIS_URL);
    const listener = new Redis(SHARED_REDIS_URL);
    const late = await openRedisStore({ target: sharedTarget(prefix), reconcileMs: 60_000 });
    try {
      const messages: string[] = [];
      await listener.subscribe(keys.changes);
      listener.on('message', (_channel: string, message: string) => messages.push(message));
      const heard: number[] = [];
      const off = late.onChange((r) => heard.push(r));
      const { revision, result: hash } = await saveDraft(stores[0]!, 'announced with its document');
      await expect.poll(() => messages, { timeout: 5_000 }).toContain(`${revision} ${hash}`);
      // the replica asked Redis for the document as it heard of the change (before telling its
      // listeners): gone from Redis afterwards, it still has it
      await expect.poll(() => heard.includes(revision), { timeout: 5_000 }).toBe(true);
      const text = await raw.get(keys.document(hash));
      await raw.del(keys.document(hash));
      expect(await late.document(hash)).toEqual({ id: 'orders', note: 'announced with its document' });
      await expect(stores[0]!.document(hash)).resolves.toBeDefined(); // the writer's own cache
      await raw.set(keys.document(hash), text!);

      // a bare revision (a build before the hint): a change committed without announcement, announced by hand
      const silent = await openRedisStore({ target: sharedTarget(prefix), beforeAnnounce: () => Promise.reject(new Error('announced by the test instead')) });
      const later = await saveDraft(silent, 'announced bare');
      await silent.close();
      await raw.publish(keys.changes, String(later.revision));
      await expect.poll(() => heard.includes(later.revision), { timeout: 5_000 }).toBe(true);
      off();
    } finally {
      await late.close();
      raw.disconnect();
      listener.disconnect();
    }
  });

  it('finds a change whose announcement was lost, by comparing revisions', async () => {
    const heard: number[] = [];
    const off = stores[2]!.onChange((revision) => heard.push(revision));
    // A change written as a replica that died between its commit and its announcement would leave it.
    const silent = await openRedisStore({ target: sharedTarget(prefix), beforeAnnounce: () => Promise.reject(new Error('died before announcing')) });
    const { revision } = await saveDraft(silent, 'never announced');
    await silent.close();
    await expect.poll(() => heard.includes(revision), { timeout: 5_000 }).toBe(true);
    off();
  });

  it('detects an audit entry edited in Redis', async () => {
    const keys = redisKeys(prefix);
    const raw = new Redis(SHARED_REDIS_URL);
    try {
      const second = JSON.parse((await raw.lindex(keys.audit, 1))!) as Record<string, unknown>;
      await raw.lset(keys.audit, 1, JSON.stringify({ ...second, actor: 'mallory' }));
      expect(await stores[0]!.verifyAudit()).toMatchObject({ ok: false, problem: 'hash_mismatch', at: 2 });
      await raw.lset(keys.audit, 1, JSON.stringify(second));
      expect(await stores[0]!.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      raw.disconnect();
    }
  });
});
