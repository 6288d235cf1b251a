import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordMap } from '../../../engine/store/record-map.ts';

type Op = { set: string; value: number } | { drop: string };
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '10', 'orders'), fc.string({ minLength: 1, maxLength: 6 }));
const op: fc.Arbitrary<Op> = fc.oneof(fc.record({ set: key, value: fc.integer() }), fc.record({ drop: key }));

/** The same operations on a JS Map: the model (insertion order, a re-set key keeps its place). */
function model(ops: readonly Op[], start = new Map<string, { v: number }>()) {
  const map = new Map(start);
  for (const o of ops) {
    if ('set' in o) map.set(o.set, { v: o.value });
    else map.delete(o.drop);
  }
  return map;
}

function apply(ops: readonly Op[], start = RecordMap.empty<{ v: number }>()) {
  let map = start;
  for (const o of ops) map = 'set' in o ? map.with(o.set, { v: o.value }) : map.without(o.drop);
  return map;
}

describe('record map', () => {
  it('answers as a Map does, in the order keys were first put, and leaves every earlier version as it was', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 20 }), (first, second) => {
        const a = apply(first);
        const expectedA = model(first);
        const b = apply(second, a);
        const expectedB = model(second, expectedA);
        for (const [map, expected] of [[a, expectedA], [b, expectedB]] as const) {
          expect(map.size).toBe(expected.size);
          expect([...map.keys()]).toEqual([...expected.keys()]);
          expect([...map.values()].map((v) => v.v)).toEqual([...expected.values()].map((v) => v.v));
          for (const k of ['__proto__', 'constructor', 'toString', 'orders', 'nope']) {
            expect(map.has(k)).toBe(expected.has(k));
            expect(map.get(k)?.v).toBe(expected.get(k)?.v);
          }
          expect(JSON.parse(JSON.stringify(map))).toEqual(Object.fromEntries([...expected].map(([k, v]) => [k, { v: v.v }])));
        }
        // the same changes at once
        const patched = a.patch(second.map((o) => ('set' in o ? [o.set, { v: o.value }] : [o.drop, undefined])));
        expect([...patched.keys()]).toEqual([...expectedB.keys()]);
        expect([...patched.values()].map((v) => v.v)).toEqual([...expectedB.values()].map((v) => v.v));
        expect(patched.size).toBe(expectedB.size);
        // what changed from a to b, by identity
        const { set, dropped } = RecordMap.changes(a, b);
        const changedKeys = [...expectedB.keys()].filter((k) => a.get(k) !== b.get(k)).sort();
        expect(set.map(([k]) => k).sort()).toEqual(changedKeys);
        expect(dropped.sort()).toEqual([...expectedA.keys()].filter((k) => !expectedB.has(k)).sort());
      }),
      { numRuns: 400 },
    );
  });

  it('freezes what it holds, and a change to one record among many shares every other record', () => {
    const many = RecordMap.from(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`w${i}`, { id: `w${i}`, nested: { n: i } }])));
    expect(many.size).toBe(10_000);
    expect(Object.isFrozen(many.get('w5')!.nested)).toBe(true);
    expect(() => {
      (many as unknown as { size: number }).size = 3;
    }).toThrow();
    const next = many.with('w5', { id: 'w5', nested: { n: -1 } });
    expect(many.get('w5')!.nested.n).toBe(5);
    expect(next.get('w6')).toBe(many.get('w6'));
    expect(RecordMap.changes(many, next)).toEqual({ set: [['w5', { id: 'w5', nested: { n: -1 } }]], dropped: [] });
    expect([...next.keys()].slice(0, 7)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
    expect(next.with('w5', next.get('w5')!)).toBe(next);
    expect(next.without('absent')).toBe(next);
  });
});
