// The order bounded caches evict by (the replay store of hmac-verify, introspection answers, the
// memory cache store): oldest first, an entry made newest again moves to the end, deleted entries
// are skipped, and the queue behind it stays within twice the entries whatever the traffic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedMap } from '../../../../engine/kinds/support/ordered-map.ts';

/** The same operations on a plain array of [key, value], oldest first: the reference. */
class Reference {
  entries: Array<[string, number]> = [];
  set(key: string, value: number) {
    this.delete(key);
    this.entries.push([key, value]);
  }
  touch(key: string) {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at < 0) return false;
    this.entries.push(...this.entries.splice(at, 1));
    return true;
  }
  delete(key: string) {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at >= 0) this.entries.splice(at, 1);
    return at >= 0;
  }
  shift() {
    return this.entries.shift()?.[1];
  }
}

const operation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
  fc.record({ op: fc.constant('touch' as const), key: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ op: fc.constant('shift' as const) }),
);

describe('OrderedMap', () => {
  it('keeps the order of insertion: the oldest goes first, and a key set again is the newest', () => {
    const m = new OrderedMap<number>();
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    m.set('a', 10);
    expect([...m.keys()]).toEqual(['b', 'c', 'a']);
    expect(m.oldest()).toBe(2);
    expect(m.shift()).toBe(2);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(10);
    expect(m.size).toBe(2);
  });

  it('touch makes an entry the newest (a least-recently-used hit); a missing key is not added', () => {
    const m = new OrderedMap<number>();
    for (const [i, key] of ['a', 'b', 'c'].entries()) m.set(key, i);
    expect(m.touch('a')).toBe(true);
    expect(m.touch('zz')).toBe(false);
    expect([...m.keys()]).toEqual(['b', 'c', 'a']);
    expect(m.size).toBe(3);
  });

  it('skips deleted entries, and one deleted then set again counts from its new place', () => {
    const m = new OrderedMap<number>();
    for (const [i, key] of ['a', 'b', 'c'].entries()) m.set(key, i);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    m.set('a', 7);
    expect(m.shift()).toBe(1);
    expect(m.shift()).toBe(2);
    expect(m.shift()).toBe(7);
    expect(m.shift()).toBeUndefined();
    expect(m.oldest()).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('agrees with a plain ordered list over any run of operations', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 400 }), (operations) => {
        const m = new OrderedMap<number>();
        const ref = new Reference();
        for (const o of operations) {
          if (o.op === 'set') {
            m.set(String(o.key), o.value);
            ref.set(String(o.key), o.value);
          } else if (o.op === 'touch') expect(m.touch(String(o.key))).toBe(ref.touch(String(o.key)));
          else if (o.op === 'delete') expect(m.delete(String(o.key))).toBe(ref.delete(String(o.key)));
          else expect(m.shift()).toBe(ref.shift());
          expect(m.size).toBe(ref.entries.length);
          expect(m.oldest()).toBe(ref.entries[0]?.[1]);
        }
        expect([...m.keys()]).toEqual(ref.entries.map(([k]) => k));
        expect(m.queued).toBeLessThanOrEqual(2 * m.size + 64);
      }),
    );
  });

  it('holds at most twice its entries in places, as a FIFO at its bound and as a cache hit over and over', () => {
    const fifo = new OrderedMap<number>();
    for (let i = 0; i < 100_000; i++) {
      if (fifo.size >= 1_000) fifo.shift();
      fifo.set(`k${i}`, i);
      expect(fifo.queued).toBeLessThanOrEqual(2 * fifo.size + 64);
    }
    expect(fifo.size).toBe(1_000);
    expect(fifo.oldest()).toBe(99_000);
    const hits = new OrderedMap<number>();
    for (let i = 0; i < 100; i++) hits.set(`k${i}`, i);
    for (let i = 0; i < 100_000; i++) hits.touch(`k${i % 7}`); // the last touched: k4 (99,999 % 7)
    expect(hits.queued).toBeLessThanOrEqual(2 * hits.size + 64);
    expect([...hits.keys()].slice(-8)).toEqual(['k99', 'k5', 'k6', 'k0', 'k1', 'k2', 'k3', 'k4']);
  });
});
