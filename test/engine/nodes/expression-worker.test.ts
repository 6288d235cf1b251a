import jsonata from 'jsonata';
import { afterAll, describe, expect, it } from 'vitest';
import { compileExpression } from '../../../engine/kinds/support/expression.ts';
import { createExpressionPool } from '../../../engine/kinds/support/expression-pool.ts';
import { compileBounded, loadBuiltins, type EvaluationLimits } from '../../../engine/kinds/support/jsonata-bounds.ts';
import { LinearRegExp, regexProblem } from '../../../engine/kinds/support/linear-regex.ts';
import type { Exchange } from '../../../engine/kinds/types.ts';

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

  it('answers /^([a-z]+)+$/ on 29 "a"s and "!" at once (20 s on the backtracking engine)', () => {
    const re = new LinearRegExp(/^([a-z]+)+$/g);
    const started = performance.now();
    expect(re.exec(`${'a'.repeat(29)}!`)).toBeNull();
    expect(re.exec('a'.repeat(100_000))).not.toBeNull();
    expect(performance.now() - started).toBeLessThan(2_000);
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
    const started = performance.now();
    expect(await bounded(source, {})).toEqual({ error: 'result too large' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('the worker pool', () => {
  const pool = createExpressionPool({ threads: 1, queue: 2 });
  afterAll(() => pool.close());
  let id = 1000;
  const run = (source: string, input: unknown = {}, deadlineMs = 2_000) => pool.run({ expression: id++, source, limits: LIMITS, input: JSON.stringify(input) }, { deadlineMs });
  const STALL = '$count($distinct([1..50000]))'; // one step, O(n²): JSONata's timeout never looks

  it('evaluates and answers JSON text', async () => {
    expect(await run('{ "up": $uppercase(name), "n": $count(items) }', { name: 'x', items: [1, 2] })).toEqual({ json: '{"up":"X","n":2}' });
    expect(await run('nothing')).toEqual({ json: undefined });
  });

  it('stops a worker stuck in one step at the deadline and starts another', async () => {
    const stopped = pool.stats.stopped;
    const started = performance.now();
    await expect(run(STALL, {}, 300)).rejects.toEqual({ code: 'D1012', message: expect.stringMatching(/300 ms deadline/) });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(pool.stats.stopped).toBe(stopped + 1);
    expect(await run('1 + 1')).toEqual({ json: '2' });
  }, 30_000);

  it('refuses an evaluation beyond the queue at once (busy), and serves the queued ones', async () => {
    const running = run(STALL, {}, 300);
    const queued = [run('1'), run('2')];
    await expect(run('3')).rejects.toMatchObject({ code: 'busy' });
    await expect(running).rejects.toMatchObject({ code: 'D1012' });
    expect(await Promise.all(queued)).toEqual([{ json: '1' }, { json: '2' }]);
  }, 30_000);

  it('fails what waits or runs when closed, and everything after', async () => {
    const own = createExpressionPool({ threads: 1, queue: 8 });
    const running = own.run({ expression: 1, source: STALL, limits: LIMITS, input: '{}' }, { deadlineMs: 10_000 });
    const failed = expect(running).rejects.toMatchObject({ code: 'closed' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await own.close();
    await failed;
    await expect(own.run({ expression: 2, source: '1', limits: LIMITS, input: '{}' }, { deadlineMs: 1_000 })).rejects.toMatchObject({ code: 'closed' });
  }, 30_000);
});

describe('what is copied to the worker', () => {
  const pool = createExpressionPool({ threads: 1, queue: 8 });
  afterAll(() => pool.close());
  const exchange = (body: unknown, response?: unknown) =>
    ({ request: { method: 'POST', path: '/x', params: {}, query: { q: '1' }, headers: {}, body }, claims: undefined, partner: 'p', subject: undefined, scopes: [], vars: {}, response: response === undefined ? undefined : { status: 200, headers: {}, body: response } }) as unknown as Exchange;
  const limits = { timeoutMs: 1_000, depth: 300, sequence: 100_000, transferChars: 10_000 };
  const big = { blob: 'x'.repeat(20_000) };

  it.each([
    ['$uppercase(request.method)', 'POST'],
    ['$uppercase(partner) & request.query.q', 'P1'],
    ['$exists(response.status)', true],
  ])('%s: a body it cannot read is not copied, so a large one does not count', async (source, expected) => {
    expect(await compileExpression(source, limits, pool).evaluate(exchange(big, big))).toEqual(expected);
  });

  it.each(['$length(request.body.blob)', '$length(response.body.blob)', '$keys($)', '$count(request.*)', '$string(request)'])('%s: may read a body, and the bound holds (input too large)', async (source) => {
    await expect(compileExpression(source, limits, pool).evaluate(exchange(big, big))).rejects.toMatchObject({ code: 'expression_failed', cause: { code: 'input too large' } });
  });

  it('keeps a Buffer body bytes, both ways', async () => {
    const result = await compileExpression('$exists(request.body) ? request.body : "none"', limits, pool).evaluate(exchange(Buffer.from('raw')));
    expect(Buffer.isBuffer(result) && result.toString()).toBe('raw');
  });
});
