import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, startAdminGateway, type Admin } from './support.ts';

/*
 * POST /admin/api/expressions/evaluate: the editor's "Evaluate" runs an expression against a
 * sample request through the gateway's own bounded path. An editor-role caller controls both the
 * expression and the sample, so every bound is tried here as an attacker would: huge strings,
 * catastrophic regexes, endless recursion, big inputs, reading the gateway's env. Each answers a
 * clear problem (the deadline's, when it is time that ran out); a viewer is refused.
 */

const SECRET = 'evaluate-test-secret-value-4711';
const sample = { method: 'POST', path: '/orders/ord-1?x=1', params: { id: 'ord-1' }, headers: { 'X-Trace': 't-1', authorization: 'Bearer abc' }, body: { items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-2', qty: 3 }] } };

describe('evaluating an expression against a sample request', () => {
  let gw: TestGateway;
  let admin: Admin;
  const evaluate = (expression: string, extra: Record<string, unknown> = {}) => admin('editor', 'POST', '/expressions/evaluate', { expression, request: sample, ...extra });
  /** A refusal in words (unbounded, the hostile ones below would run until the test's timeout, or answer a value). */
  async function refused(expression: string, words: RegExp, extra: Record<string, unknown> = {}) {
    const body = expectProblem(await evaluate(expression, extra), 422, 'validation-failed');
    expect(body.detail).toMatch(words);
    return body;
  }

  beforeAll(async () => {
    gw = await startAdminGateway({ env: { SLUICE_EVAL_SECRET: SECRET } });
    admin = adminOf(gw.url);
  });
  afterAll(() => gw?.close());

  it('answers the value of an expression over the request, claims, scopes, vars and response', async () => {
    const answer = await evaluate('{ "m": request.method, "p": request.path, "id": request.params.id, "t": request.headers."x-trace", "skus": request.body.items.sku, "total": $sum(request.body.items.qty), "sub": claims.sub, "admin": "admin" in scopes, "v": vars.step, "s": response.status }', {
      claims: { sub: 'u-1' },
      scopes: ['admin'],
      vars: { step: 2 },
      response: { status: 201, body: { ok: true } },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ defined: true, value: { m: 'POST', p: '/orders/ord-1', id: 'ord-1', t: 't-1', skus: ['A-1', 'B-2'], total: 5, sub: 'u-1', admin: true, v: 2, s: 201 }, ms: expect.any(Number) });
    // the fast path and the worker path answer alike; a worker evaluates a regex
    expect((await evaluate('$replace(request.body.items[0].sku, /-\\d/, "")')).body).toMatchObject({ defined: true, value: 'A' });
    expect((await evaluate('request.body.nothing')).body).toEqual({ defined: false, ms: expect.any(Number) });
  });

  it('a syntax error is a problem in words, naming where', async () => {
    const body = await refused('request.', /does not parse: JSONata: .*\(at \d+\)/);
    expect(body.problems).toEqual([expect.objectContaining({ code: 'expression_syntax', field: 'expression' })]);
  });

  it('a viewer is refused, and nobody without a token gets in', async () => {
    expectProblem(await admin('viewer', 'POST', '/expressions/evaluate', { expression: '1 + 1' }), 403, 'forbidden');
    expectProblem(await admin({}, 'POST', '/expressions/evaluate', { expression: '1 + 1' }), 401, 'unauthorized');
  });

  it('a huge $pad, a sequence of a billion, endless recursion and a long loop are stopped by the bounds: a problem, not a value', async () => {
    await refused('$pad("", 100000000, "ab")', /failed: .*(characters|large)/i);
    await refused('$count([1..1000000000])', /failed/);
    await refused('($f := function($n) { $f($n + 1) + 1 }; $f(0))', /failed/);
    await refused('$count([1..90000].($map([1..90000], function($v) { $v * 2 })))', /failed/);
    await refused('$eval("$pad(\\"\\", 100000000, \\"ab\\")")', /failed/);
    // the gateway keeps answering the next evaluation at once
    expect((await evaluate('1 + 1')).body).toMatchObject({ value: 2 });
  });

  it('one person runs at most two evaluations at once: a loop of slow expressions is refused, not queued', async () => {
    const slow = '$count([1..90000].($map([1..90000], function($v) { $v * 2 })))';
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => evaluate(slow)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 429).length, JSON.stringify(statuses)).toBeGreaterThanOrEqual(1);
    const refused = answers.find((a) => a.status === 429)!;
    expect(expectProblem(refused, 429, 'too-many-attempts').detail).toMatch(/eddie already has 2 expressions being evaluated/);
    expect((await evaluate('1 + 1')).body).toMatchObject({ value: 2 });
  });

  it('a catastrophic regex runs in linear time, and one that cannot is refused before it runs', async () => {
    // 5,000 a's: a backtracking engine would never finish; the worker's deadline would answer a problem, not the value
    const answer = await evaluate('$contains($pad("", 5000, "a") & "!", /^(a+)+$/)');
    expect(answer.body).toMatchObject({ defined: true, value: false });
    await refused('$contains(request.path, /(a)\\1/)', /cannot run/);
  });

  it('big inputs are refused before they are evaluated', async () => {
    const big = await admin('editor', 'POST', '/expressions/evaluate', { expression: 'request.body', request: { path: '/', body: { blob: 'x'.repeat(100_000) } } });
    expect(expectProblem(big, 413, 'payload-too-large').detail).toMatch(/sample request and context are larger than/);
    const long = await admin('editor', 'POST', '/expressions/evaluate', { expression: `${'1 + '.repeat(2000)}1` });
    expect(expectProblem(long, 413, 'payload-too-large').detail).toMatch(/at most 4000 are allowed/);
  });

  it('reads nothing but the sample: no env, no secrets, no files', async () => {
    const whole = await evaluate('$string($$)');
    expect(whole.status).toBe(200);
    expect(whole.body.value).not.toContain(SECRET);
    expect(JSON.parse(whole.body.value)).toEqual({ request: expect.objectContaining({ method: 'POST', path: '/orders/ord-1' }), scopes: [], vars: {} });
    for (const probe of ['$env("SLUICE_EVAL_SECRET")', '$readFile("/etc/passwd")', '$process.env.SLUICE_EVAL_SECRET', '$httpGet("http://127.0.0.1/")']) {
      const answer = await evaluate(probe);
      expect(JSON.stringify(answer.body)).not.toContain(SECRET);
      expect(JSON.stringify(answer.body)).not.toContain('root:');
      expect(answer.status === 422 || answer.body.defined === false, `${probe}: ${JSON.stringify(answer.body)}`).toBe(true);
    }
  });
});
