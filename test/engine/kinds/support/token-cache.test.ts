// The verified-token cache of jwt-verify: bounded, least recently used out first (CLOCK), never
// answering a token past its expiry, and letting expired tokens go as new ones come.
import { describe, expect, it } from 'vitest';
import { createTokenCache, type CachedToken } from '../../../../engine/kinds/support/token-cache.ts';

interface Entry extends CachedToken {
  n: number;
}

/** A header like a bearer token's: the last 32 characters (the signature's) differ per n. */
const header = (n: number, prefix = 'Bearer eyJ.payload.') => `${prefix}${String(n).padStart(40, 'x')}`;
const entry = (n: number, expiresAt = 1_000_000, prefix?: string): Entry => ({ header: header(n, prefix), expiresAt, used: false, slot: -1, n });

function cacheAt(capacity: number) {
  const clock = { now: 1_000 };
  return { clock, cache: createTokenCache<Entry>(capacity, () => clock.now) };
}

describe('token cache', () => {
  it('holds at most its capacity: the oldest unused token goes first', () => {
    const { cache } = cacheAt(3);
    for (const n of [1, 2, 3, 4]) cache.set(entry(n));
    expect(cache.size).toBe(3);
    expect(cache.get(header(1))).toBeUndefined();
    expect([2, 3, 4].map((n) => cache.get(header(n))?.n)).toEqual([2, 3, 4]);
  });

  it('stays bounded through many more tokens than its capacity', () => {
    const { cache } = cacheAt(100);
    for (let n = 0; n < 10_000; n++) {
      cache.set(entry(n));
      if (n % 3 === 0) cache.get(header(n)); // some are used, which must not let the cache grow
    }
    expect(cache.size).toBe(100);
    expect(cache.get(header(9_999))?.n).toBe(9_999);
  });

  it('a token used since it came in gets a second chance: an unused newer one goes instead (least recently used)', () => {
    const { cache } = cacheAt(3);
    for (const n of [1, 2, 3]) cache.set(entry(n));
    expect(cache.get(header(1))?.n).toBe(1); // 1 is in use
    cache.set(entry(4)); // 1 moves to the back unmarked; 2 goes
    expect(cache.get(header(2))).toBeUndefined();
    expect(cache.get(header(1))?.n).toBe(1);
    cache.set(entry(5)); // 3 is now the oldest unused
    expect(cache.get(header(3))).toBeUndefined();
    expect([1, 4, 5].map((n) => cache.get(header(n))?.n)).toEqual([1, 4, 5]);
  });

  it('when every token is in use, the oldest still goes (the marks are cleared on the way)', () => {
    const { cache } = cacheAt(3);
    for (const n of [1, 2, 3]) cache.set(entry(n));
    for (const n of [1, 2, 3]) cache.get(header(n));
    cache.set(entry(4));
    expect(cache.size).toBe(3);
    expect(cache.get(header(1))).toBeUndefined();
    expect([2, 3, 4].map((n) => cache.get(header(n))?.n)).toEqual([2, 3, 4]);
  });

  it('never answers a token at or past its expiry, and forgets it then', () => {
    const { cache, clock } = cacheAt(10);
    cache.set(entry(1, 5_000));
    clock.now = 4_999;
    expect(cache.get(header(1))?.n).toBe(1);
    clock.now = 5_000;
    expect(cache.get(header(1))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('expired tokens leave as new ones come, long before the cache is full', () => {
    const { cache, clock } = cacheAt(100);
    for (const n of [1, 2, 3]) cache.set(entry(n, 2_000 + n));
    cache.set(entry(4, 9_000));
    clock.now = 2_003; // 1, 2 and 3 have expired; none is asked for again
    cache.set(entry(5, 9_000));
    cache.set(entry(6, 9_000)); // two slots swept per insertion: four slots held, all seen
    expect(cache.size).toBe(3);
    expect([4, 5, 6].map((n) => cache.get(header(n))?.n)).toEqual([4, 5, 6]);
  });

  it('a full cache of expired tokens empties as new ones come (the sweeper goes round in capacity / 2 insertions)', () => {
    const { cache, clock } = cacheAt(100);
    for (let n = 0; n < 100; n++) cache.set(entry(n, 5_000));
    clock.now = 5_000;
    for (let n = 100; n < 150; n++) cache.set(entry(n, 9_000));
    expect(cache.size).toBe(50);
    expect(cache.get(header(0))).toBeUndefined();
    expect(cache.get(header(149))?.n).toBe(149);
  });

  it('the same header verified again replaces its entry', () => {
    const { cache } = cacheAt(3);
    cache.set(entry(1, 5_000));
    cache.set(entry(1, 8_000));
    expect(cache.size).toBe(1);
    expect(cache.get(header(1))?.expiresAt).toBe(8_000);
    for (const n of [2, 3, 4]) cache.set(entry(n)); // the old entry's slot is free, not a second copy of 1
    expect(cache.size).toBe(3);
  });

  it('an expired token is evicted before a used live one, whatever its mark', () => {
    const { cache, clock } = cacheAt(2);
    cache.set(entry(1, 9_000));
    cache.set(entry(2, 3_000));
    cache.get(header(1));
    cache.get(header(2));
    clock.now = 3_000; // 2 has expired (and is not the oldest, so the sweep of the front stops at 1)
    cache.set(entry(3, 9_000)); // full: 1 is used and alive (second chance); 2 is expired: it goes
    expect(cache.get(header(2))).toBeUndefined();
    expect([1, 3].map((n) => cache.get(header(n))?.n)).toEqual([1, 3]);
  });

  it('answers only the very header it verified: another header with the same last characters is a miss', () => {
    const { cache } = cacheAt(10);
    cache.set(entry(1));
    expect(cache.get(header(1, 'Bearer eyJ.other-claims.'))).toBeUndefined();
    expect(cache.get(header(1))?.n).toBe(1);
  });

  it('a header with the same last characters as a cached one takes its place: one entry per key, the newer', () => {
    const { cache } = cacheAt(10);
    cache.set(entry(1));
    cache.set({ ...entry(1, 1_000_000, 'Bearer eyJ.other-claims.'), n: 2 });
    expect(cache.size).toBe(1);
    expect(cache.get(header(1))).toBeUndefined();
    expect(cache.get(header(1, 'Bearer eyJ.other-claims.'))?.n).toBe(2);
  });

  it('a header verified again leaves its old slot free: the renewed entry stays while the ring fills', () => {
    const { cache } = cacheAt(3);
    cache.set(entry(1, 5_000));
    cache.set(entry(1, 8_000));
    cache.set(entry(2));
    cache.set(entry(3)); // takes the slot the first entry of 1 left, evicting nothing
    expect([1, 2, 3].map((n) => cache.get(header(n))?.n)).toEqual([1, 2, 3]);
    expect(cache.get(header(1))?.expiresAt).toBe(8_000);
  });

  it('sweeps exactly two slots per insertion, ahead of the hand', () => {
    const { cache, clock } = cacheAt(4);
    for (const n of [1, 2, 3, 4]) cache.set(entry(n, 2_000));
    clock.now = 2_000; // all four have expired; the sweeper looks at 4 and 1, the hand takes 1's slot
    cache.set(entry(5, 9_000));
    expect(cache.size).toBe(3);
    cache.set(entry(6, 9_000)); // the sweeper: 2 and 3; the hand: 2's slot, now free
    expect(cache.size).toBe(2);
    expect([5, 6].map((n) => cache.get(header(n))?.n)).toEqual([5, 6]);
  });

  it('the hand evicts an expired token it meets even when it was used, not the live one after it', () => {
    const { cache, clock } = cacheAt(4);
    cache.set(entry(1, 9_000));
    cache.set(entry(2, 2_000));
    cache.set(entry(3, 9_000));
    cache.set(entry(4, 9_000));
    cache.get(header(1));
    cache.get(header(2)); // both used; 2 expires at 2 000
    clock.now = 2_000;
    cache.set(entry(5, 9_000)); // the sweeper looks at 4 and 1; the hand passes 1 (used, alive) and takes 2's slot
    expect(cache.size).toBe(4);
    expect([1, 3, 4, 5].map((n) => cache.get(header(n))?.n)).toEqual([1, 3, 4, 5]);
  });
});
