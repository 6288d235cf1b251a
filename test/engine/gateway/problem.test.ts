import { describe, expect, it } from 'vitest';
import { createProblemRenderer, problemHeaders } from '../../../engine/gateway/problem.ts';
import { problemDetailsSchema, type ErrorCatalog } from '../../../shared/schema/index.ts';

const entry = (status: number, slug: string, detail: string) => ({ status, type: `https://problems.example/${slug}`, title: slug, detail });
const catalog: ErrorCatalog = {
  errors: {
    internal_error: entry(500, 'internal-error', 'Quote the traceId.'),
    rate_limited: entry(429, 'rate-limited', 'The limit of {limit} requests per {window} is reached. Retry after {retryAfter} seconds.'),
    not_found: entry(404, 'not-found', 'No workflow serves this path.'),
    twice: entry(400, 'twice', '{a} and {a}'),
    adjacent: entry(400, 'adjacent', '{a}{b}'),
    edges: entry(400, 'edges', '{a}'),
    not_placeholders: entry(400, 'not-placeholders', '{ x } {1x} {} {a-b} {x'),
    prototype: entry(400, 'prototype', '[{constructor}][{toString}][{__proto__}]'),
    empty: entry(400, 'empty', ''),
  },
};
const renderer = createProblemRenderer(catalog);
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('createProblemRenderer', () => {
  it('renders RFC 9457 problem details: type, title, status, detail, instance and traceId', () => {
    const answer = renderer.render('rate_limited', { instance: '/api/orders', traceId: TRACE, params: { limit: '100', window: '1m', retryAfter: '7' } });
    expect(answer).toMatchObject({ status: 429, error: 'rate_limited', type: 'https://problems.example/rate-limited' });
    const body = JSON.parse(answer.body) as unknown;
    expect(problemDetailsSchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      type: 'https://problems.example/rate-limited',
      title: 'rate-limited',
      status: 429,
      detail: 'The limit of 100 requests per 1m is reached. Retry after 7 seconds.',
      instance: '/api/orders',
      traceId: TRACE,
    });
  });

  const detail = (id: string, params?: Record<string, string>) => (JSON.parse(renderer.render(id, { instance: '/', traceId: TRACE, params }).body) as { detail: string }).detail;

  // the detail is what the client reads, so here the text itself is the product
  it.each([
    ['every placeholder filled', 'rate_limited', { limit: '5', window: '1s', retryAfter: '1' }, 'The limit of 5 requests per 1s is reached. Retry after 1 seconds.'],
    ['missing values render empty', 'rate_limited', { limit: '5' }, 'The limit of 5 requests per  is reached. Retry after  seconds.'],
    ['no params at all', 'rate_limited', undefined, 'The limit of  requests per  is reached. Retry after  seconds.'],
    ['a template without placeholders', 'not_found', { a: 'x' }, 'No workflow serves this path.'],
    ['one placeholder twice', 'twice', { a: 'x' }, 'x and x'],
    ['adjacent placeholders', 'adjacent', { a: '1', b: '2' }, '12'],
    ['a template that is one placeholder', 'edges', { a: 'all' }, 'all'],
    ['braces that are no placeholders stay', 'not_placeholders', { x: 'X', '1x': 'Y', 'a-b': 'Z' }, '{ x } {1x} {} {a-b} {x'],
    ['values are not expanded again', 'twice', { a: '{a}' }, '{a} and {a}'],
    ['values with quotes, newlines and unicode', 'edges', { a: 'say "hi"\n\u2603 </script>' }, 'say "hi"\n\u2603 </script>'],
    ['names of Object.prototype are no values', 'prototype', {}, '[][][]'],
    ['names of Object.prototype when given', 'prototype', { constructor: 'c', toString: 't' }, '[c][t][]'],
    ['an empty template', 'empty', { a: 'x' }, ''],
  ])('%s', (_name, id, params, expected) => {
    expect(detail(id, params)).toBe(expected);
  });

  it('renders an unknown id as internal_error, so an answer always goes out', () => {
    const answer = renderer.render('no_such_error', { instance: '/x', traceId: TRACE });
    expect(answer).toMatchObject({ status: 500, error: 'internal_error', type: 'https://problems.example/internal-error' });
    expect(JSON.parse(answer.body)).toMatchObject({ status: 500, type: 'https://problems.example/internal-error', instance: '/x', traceId: TRACE });
    expect(renderer.has('no_such_error')).toBe(false);
    expect(renderer.has('rate_limited')).toBe(true);
  });

  it('falls back to a built-in 500 when the catalog has no internal_error either', () => {
    const bare = createProblemRenderer({ errors: {} });
    const answer = bare.render('not_found', { instance: '/x', traceId: TRACE });
    expect(answer).toMatchObject({ status: 500, error: 'internal_error', type: 'about:blank' });
    expect(problemDetailsSchema.safeParse(JSON.parse(answer.body)).success).toBe(true);
  });

  it.each(['/api/orders/42', '/caf\u00e9?q="x"', ''])('keeps the instance %j as given, in valid JSON', (instance) => {
    expect(JSON.parse(renderer.render('not_found', { instance, traceId: TRACE }).body)).toMatchObject({ instance, traceId: TRACE });
  });

  it('keeps the catalog it was made from', () => {
    expect(renderer.catalog).toBe(catalog);
  });
});

describe('problemHeaders', () => {
  it.each([
    ['ascii', '{"a":"b"}', '9'],
    ['multi-byte', '{"a":"\u2603"}', '11'],
  ])('%s body: problem+json, its length in bytes, no caching', (_name, body, length) => {
    expect(problemHeaders(body)).toEqual({ 'content-type': 'application/problem+json', 'content-length': length, 'cache-control': 'no-store' });
  });
});
