import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileBounded, exceeds, loadBuiltins, type EvaluationLimits } from '../../../../engine/kinds/support/jsonata-bounds.ts';

// The bounds of one evaluation, at their edges: the size estimate of a value's JSON (exact budget
// served, one over refused), the characters a built-in may build, and the result's size.

const LIMITS: EvaluationLimits = { timeoutMs: 1_000, depth: 300, sequence: 100_000, stringChars: 10_000, resultChars: 100_000 };
const builtins = loadBuiltins();

/** The error a bounded evaluation throws (its code and message), or its result. */
async function outcome(source: string, input: unknown, limits: EvaluationLimits = LIMITS): Promise<unknown> {
  try {
    return await compileBounded(source, limits, await builtins).evaluate(input);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
}

describe('exceeds: whether a value\'s JSON is longer than a budget, estimated (strings exact, scalars 8, typed arrays by bytes)', () => {
  it('a string on its own is its length: as long as the budget is within it, one more exceeds', () => {
    expect(exceeds('abc', 3)).toBe(false);
    expect(exceeds('abcd', 3)).toBe(true);
  });

  it('a scalar, null or undefined on its own never exceeds: only strings and containers grow with the input', () => {
    expect(exceeds(7, 0)).toBe(false);
    expect(exceeds(null, 0)).toBe(false);
    expect(exceeds(undefined, 0)).toBe(false);
  });

  it('stops reading an array at the member that spends the budget: the members after it are never read', () => {
    const read: number[] = [];
    const strings = Array.from({ length: 2_000 }, () => 'xxxxxxxxxx');
    for (const i of [1, 2, 1_500]) Object.defineProperty(strings, i, { get: () => (read.push(i), 'xxxxxxxxxx') });
    expect(exceeds(strings, 2_000 + 2 + 12)).toBe(true);
    expect(read).toEqual([1]);
  });

  it('a long array at exactly its estimate is within, one less exceeds', () => {
    const numbers = Array.from({ length: 1024 }, (_, i) => i);
    expect(exceeds(numbers, 1024 + 2 + 1024 * 8)).toBe(false);
    expect(exceeds(numbers, 1024 + 2 + 1024 * 8 - 1)).toBe(true);
  });

  it.each([
    ['["ab"]: brackets and one comma per member, the string quoted', ['ab'], 7],
    ['[1]: a number as 8', [1], 11],
    ['[null]: null as 8', [null], 11],
    ['[{"a": "xxxxxxxxxx"}]: a nested object counted with its members', [{ a: 'xxxxxxxxxx' }], 22],
    ['{"a": 1}: braces, the key quoted with its colon and comma, the number as 8', { a: 1 }, 15],
    ['{"a": null}: null as 8', { a: null }, 15],
    ['{"a": "xyz"}', { a: 'xyz' }, 12],
    ['{"a": [true]}: a nested array', { a: [true] }, 2 + 5 + 3 + 8],
    ['a typed array: its bytes', new Uint8Array(10), 10],
  ])('%s: within a budget of its estimate, over one less', (_name, value, estimate) => {
    expect(exceeds(value, estimate)).toBe(false);
    expect(exceeds(value, estimate - 1)).toBe(true);
  });

  it('counts own keys only, as JSON.stringify does (an inherited key is not in the JSON)', () => {
    const value = Object.assign(Object.create({ inherited: 'x'.repeat(100) }) as object, { a: 1 });
    expect(JSON.stringify(value)).toBe('{"a":1}');
    expect(exceeds(value, 15)).toBe(false);
  });

  it('stops on a cyclic value: its budget is spent', () => {
    const cyclic: unknown[] = ['x'];
    cyclic.push(cyclic);
    expect(exceeds(cyclic, 1_000)).toBe(true);
  });
});

describe('compileBounded: what a built-in builds and the result, at their edges', () => {
  it('$pad builds exactly stringChars; one more is refused with the size named', async () => {
    expect(((await outcome('$pad("", 10000, "ab")', {})) as string).length).toBe(10_000);
    expect(await outcome('$pad("x", -10001)', {})).toEqual({ code: 'result too large', message: '$pad would build 10001 characters, more than the 10000 allowed' });
  });

  it('$join builds exactly stringChars; one more is refused with the size named', async () => {
    const parts = { parts: ['x'.repeat(4_999), 'y'.repeat(5_000)] };
    expect(((await outcome('$join(parts, "-")', parts)) as string).length).toBe(10_000);
    expect(await outcome('$join(parts, "--")', parts)).toEqual({ code: 'result too large', message: '$join would build 10001 characters, more than the 10000 allowed' });
  });

  it('the result may be exactly resultChars; one more is refused with the bound named', async () => {
    const limits = { ...LIMITS, resultChars: 20 };
    expect(await outcome('$pad("", 20, "r")', {}, limits)).toBe('r'.repeat(20));
    expect(await outcome('$pad("", 21, "r")', {}, limits)).toEqual({ code: 'result too large', message: 'the result is larger than 20 characters' });
  });

  // $pad counts code points as JSONata's $length does: a surrogate pair is one, a lone surrogate is one
  it.each([
    ['a\udc00'],
    ['\udc00\udc00'],
    ['\ud800\udc00'],
    ['\udbff\udfff'],
    ['\ud83da'],
    ['\ud83d\ue000'],
    ['\ud83d\udc00'],
    ['\ud83d\udfff'],
    ['\ud83d'],
    ['\uffffa'],
    ['😀😀'],
    ['abc'],
  ])('$pad of %j, and padding made of it, is what JSONata gives', async (text) => {
    for (const source of ['$pad(s, 7, "-")', '$pad(s, -7)', '$pad("", 7, s)', '$pad("ab", -6, s)']) {
      expect(await outcome(source, { s: text }), source).toEqual(await jsonata(source).evaluate({ s: text }));
    }
  });
});
