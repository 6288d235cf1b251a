import { describe, expect, it } from 'vitest';
import { createFlights, createMemoryCacheStore, type CachedAnswer } from '../../../../engine/kinds/support/cache-store.ts';

const answer = (bytes: number): CachedAnswer => ({ status: 200, headers: {}, body: Buffer.alloc(bytes), storedAt: Date.now() });

describe('the memory cache store', () => {
  it('keeps every cache within its entries, least recently used evicted first', () => {
    const store = createMemoryCacheStore();
    store.set('c', 'a', answer(1), 60_000, 2);
    store.set('c', 'b', answer(1), 60_000, 2);
    expect(store.get('c', 'a')).toBeDefined();
    store.set('c', 'd', answer(1), 60_000, 2);
    expect(store.get('c', 'b')).toBeUndefined();
    expect(store.get('c', 'a')).toBeDefined();
    expect(store.get('c', 'd')).toBeDefined();
  });

  it('keeps all caches together within its bytes: the cache written to gives first, then the others', () => {
    const store = createMemoryCacheStore({ maxBytes: 10_000 });
    store.set('other', 'x', answer(3_000), 60_000, 100);
    for (const key of ['1', '2', '3']) store.set('c', key, answer(3_000), 60_000, 100);
    expect(store.get('c', '1')).toBeUndefined(); // the written cache's oldest went first
    expect(store.get('other', 'x')).toBeDefined();
    store.set('c', 'big', answer(9_000), 60_000, 100);
    expect(store.get('c', 'big')).toBeDefined();
    expect(store.get('other', 'x')).toBeUndefined();
    store.set('c', 'huge', answer(20_000), 60_000, 100); // larger than the whole store: not kept
    expect(store.get('c', 'huge')).toBeUndefined();
    expect(store.get('c', 'big')).toBeDefined();
  });

  it('forgets an entry after its ttl and purges by key and prefix', async () => {
    const store = createMemoryCacheStore();
    store.set('c', 'k', answer(1), 20, 10);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(store.get('c', 'k')).toBeUndefined();
    for (const key of ['ab1', 'ab2', 'b']) store.set('c', key, answer(1), 60_000, 10);
    expect(store.purge('c', { key: 'b' })).toBe(1);
    expect(store.purge('c', { prefix: 'ab' })).toBe(2);
    expect(store.purge('nothing', {})).toBe(0);
  });
});

describe('flights', () => {
  it('lets the first lookup lead and the others wait until it lands, or until the wait is over', async () => {
    const flights = createFlights();
    expect(flights.join('k', 1_000)).toEqual({ land: expect.any(Function) });
    const waiting = flights.join('k', 1_000);
    expect(waiting).toEqual({ wait: expect.any(Promise) });
    flights.land('k');
    await (waiting as { wait: Promise<void> }).wait;
    expect(flights.join('k', 50)).toHaveProperty('land'); // landed: a new flight
    const started = Date.now();
    await (flights.join('k', 50) as { wait: Promise<void> }).wait;
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(flights.join('k', 0)).toBeUndefined(); // no wait: no flight
  });

  it('lands a flight by its leader\'s land, which never ends a later flight of the key', async () => {
    const flights = createFlights();
    const first = flights.join('k', 60_000) as { land: () => void };
    const waiting = flights.join('k', 60_000) as { wait: Promise<void> };
    first.land();
    await waiting.wait;
    const second = flights.join('k', 60_000);
    expect(second).toHaveProperty('land');
    first.land(); // the first flight's leader, late: the second flight goes on
    expect(flights.join('k', 60_000)).toHaveProperty('wait');
    (second as { land: () => void }).land();
    expect(flights.join('k', 60_000)).toHaveProperty('land');
  });
});
