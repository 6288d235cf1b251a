import { afterAll, describe, expect, it } from 'vitest';
import { compileExpression } from '../../../../engine/kinds/support/expression.ts';
import { createExpressionPool } from '../../../../engine/kinds/support/expression-pool.ts';
import type { Exchange } from '../../../../engine/kinds/types.ts';

describe('what is copied to the worker', () => {
  const pool = createExpressionPool({ threads: 1, queue: 8 });
  afterAll(() => pool.close());
  const exchange = (body: unknown, response?: unknown) =>
    ({ request: { method: 'POST', path: '/x', params: {}, query: { q: '1' }, headers: {}, body }, claims: undefined, partner: 'p', subject: undefined, scopes: [], vars: {}, response: response === undefined ? undefined : { status: 200, headers: {}, body: response }, onClientGone: () => undefined }) as unknown as Exchange;
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

describe('on the calling thread (the compiled subset)', () => {
  /** An exchange whose query is parsed when read, counting the reads (as the gateway's request does). */
  const exchange = () => {
    const reads = { query: 0 };
    const request = { method: 'GET', path: '/x', params: { id: '7' }, headers: { 'x-team': 'a' }, body: undefined, get query() {
      reads.query++;
      return { q: '1' };
    } };
    return { reads, exchange: { request, claims: undefined, partner: 'p', subject: undefined, scopes: [], vars: {}, response: undefined, onClientGone: () => undefined } as unknown as Exchange };
  };

  it.each([
    ['request.query.q', '1', 1],
    ['request', { method: 'GET', path: '/x', params: { id: '7' }, query: { q: '1' }, headers: { 'x-team': 'a' } }, 1],
    ['{ "r": request }', { r: { method: 'GET', path: '/x', params: { id: '7' }, query: { q: '1' }, headers: { 'x-team': 'a' } } }, 1],
    ['request.params.id = "7" and request.headers."x-team" = "a"', true, 0],
    ['partner = "p"', true, 0],
  ])('%s: the query is read when the expression may read it, and only then', (source, expected, queryReads) => {
    const compiled = compileExpression(source);
    expect(compiled.evaluateNow, 'in the subset').toBeDefined();
    const { reads, exchange: ex } = exchange();
    expect(compiled.evaluateNow!(ex)).toEqual(expected);
    expect(reads.query).toBe(queryReads);
  });
});
