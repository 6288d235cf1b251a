import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../../../engine/kinds/support/expression.ts';
import { compileBounded, loadBuiltins, type EvaluationLimits } from '../../../../engine/kinds/support/jsonata-bounds.ts';
import { LinearRegExp, regexProblem } from '../../../../engine/kinds/support/linear-regex.ts';

// Off the compiled fast path, expressions run in a worker with RE2 regexes and bounded built-ins.
// Within the bounds they must give what JSONata gives; past them, fail with a code, never stall.

const LIMITS: EvaluationLimits = { timeoutMs: 1_000, depth: 300, sequence: 100_000, stringChars: 10_000, resultChars: 100_000 };

/** Evaluates with plain JSONata (V8 regexes, its own built-ins), the error's code when it throws. */
async function reference(source: string, input: unknown): Promise<unknown> {
  try {
    return await jsonata(source).evaluate(input);
  } catch (error) {
    return { error: (error as { code?: string }).code };
  }
}

async function bounded(source: string, input: unknown): Promise<unknown> {
  try {
    return await compileBounded(source, LIMITS, await builtins).evaluate(input);
  } catch (error) {
    return { error: (error as { code?: string }).code };
  }
}

const builtins = loadBuiltins();

/** JSON shape only: arrays JSONata marks as sequences compare as the arrays they are. */
const plain = (value: unknown) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

describe('regexes on RE2 mean what they mean in JavaScript', () => {
  // RE2 differs in two documented ways, left out here: `.` and `[^]` match a whole astral character
  // (JavaScript: one UTF-16 unit), and with the m flag ^ and $ are at "\n" only (JavaScript: also \r, \u2028, \u2029)
  const TEXT = 'Order 2024-05-17: 3 items\nfoo bar\u00a0baz\u2028end ÉTÉ été x [b]\x08 A 😀 ok';
  it.each([
    '/\\d+/',
    '/[a-z]+/i',
    '/^foo/m',
    '/end$/',
    '/items$/m',
    '/\\s+/',
    '/\\S+/',
    '/a.b/',
    '/.+/',
    '/(?<year>\\d{4})-(\\d\\d)-(\\d\\d)/',
    '/\\bbar\\b/',
    '/[^]+/',
    '/[]/',
    '/[\\b]/',
    '/\\x41/',
    '/\\u00e9t\\u00e9/',
    '/\\uD83D\\uDE00/',
    '/été/i',
    '/o+?/',
    '/(foo|bar|baz)/',
    '/[\\s\\d]+/',
    '/[\\w-]+:/',
    '/\\[b\\]/',
    '/x*/',
    '/\\cJ/',
    '/\\0/',
    '/[[]/',
    '/a{,3}/',
  ])('%s', async (regex) => {
    for (const source of [`$match(text, ${regex})`, `$replace(text, ${regex}, "<$0>")`, `$split(text, ${regex})`, `$contains(text, ${regex})`]) {
      expect(plain(await bounded(source, { text: TEXT })), source).toEqual(plain(await reference(source, { text: TEXT })));
    }
  });

  it('differs where RE2 reads code points: one astral character is one match of "."', async () => {
    expect(await bounded('$count($match("😀😀", /./))', {})).toBe(2);
    expect(await reference('$count($match("😀😀", /./))', {})).toBe(4);
  });

  it('answers /^([a-z]+)+$/ on 45 "a"s and "!" (29 took 20 s on the backtracking engine, each more doubles it: days)', () => {
    const re = new LinearRegExp(/^([a-z]+)+$/g);
    expect(re.exec(`${'a'.repeat(45)}!`)).toBeNull();
    expect(re.exec('a'.repeat(100_000))).not.toBeNull();
  });

  it.each([
    ['/(a)\\1/', /backreferences \(\\1\)/],
    ['/(?<n>a)\\k<n>/', /backreferences \(\\k<name>\)/],
    ['/a(?=b)/', /lookahead/],
    ['/a(?!b)/', /lookahead/],
    ['/(?<=a)b/', /lookbehind/],
    ['/(?<!a)b/', /lookbehind/],
    ['/\\p{L}/', /the escape \\p is not supported/],
    ['/\\z/', /the escape \\z is not supported/],
    ['/[\\S]/', /\\S inside \[\.\.\.\]/],
    ['/\\01/', /octal/],
    ['/\\uD83D/', /lone surrogate/],
    ['/a{1,2000}/', /RE2 refuses it: .*repeat count/],
  ])('refuses %s, saying why', (regex, why) => {
    const re = jsonata(`$match(x, ${regex})`).ast() as unknown as { arguments: Array<{ value: RegExp }> };
    expect(regexProblem(re.arguments[1]!.value)).toMatch(why);
  });

  it('refuses at compile time, as a problem for the caller to name the field of', () => {
    expect(() => compileExpression('$match(x, /(a)\\1/)')).toThrow(expect.objectContaining({ name: 'PrepareError', field: '', message: expect.stringMatching(/backreferences/) }));
  });
});

describe('growing built-ins: what JSONata gives, bounded by what they build', () => {
  it.each([
    '$pad("ab", 5)',
    '$pad("ab", -5)',
    '$pad("ab", 6, "xyz")',
    '$pad("ab", -7, "xyz")',
    '$pad("ab", 1)',
    '$pad("", 3, "😀")',
    '$pad("😀", 4, "é😀")',
    '$pad("ab", 4.7, "-")',
    '$pad(undefined, 5)',
    '$join(["a", "b", "c"])',
    '$join(["a", "b", "c"], ", ")',
    '$join([], "-")',
    '$join("solo", "-")',
    '$string({ "a": [1, 2.5, "x"], "b": null })',
    '$string({ "a": [1, { "b": 2 }] }, true)',
    '$string("text")',
    '$string(1/3)',
    '$replace("a-b-c", "-", "+")',
    '$replace("a-b-c", /-(\\w)/, "[$1]", 1)',
    '$clone({ "a": [1, 2] })',
  ])('%s', async (source) => {
    expect(plain(await bounded(source, {}))).toEqual(plain(await reference(source, {})));
  });

  it.each([
    ['$pad("", 9000000, "ab")'],
    ['$pad("x", -20000)'],
    ['$join([1..1000].$pad("", 100, "x"), "")'],
    ['$join(["a", "b"], $pad("", 9999, "-") & "--")'],
    ['$string([1..10000].("xxxxxxxxxx"))'],
    ['$replace($pad("", 5000, "a"), "a", "bbb")'],
    ['$clone({ "a": [1..5000].("xxxxxxxxxx") })'],
    ['[1..5000].("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")'],
  ])('%s: result too large, before building what it can measure first', async (source) => {
    expect(await bounded(source, {})).toEqual({ error: 'result too large' });
  });
});
