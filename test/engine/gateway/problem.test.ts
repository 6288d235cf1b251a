import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { createProblemRenderer, finalProblem, problemHeaders, rawProblem, writeProblem, type ProblemAnswer, type ProblemRenderer } from '../../../engine/gateway/problem.ts';
import { SluiceError } from '../../../engine/kinds/support/errors.ts';
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
/** Made anew for each test, so that preparing the catalog counts as that test's work (per-test mutation runs see it). */
let renderer: ProblemRenderer;
beforeEach(() => {
  renderer = createProblemRenderer(catalog);
});
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
    expect(JSON.parse(answer.body)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'The gateway failed to process the request.', instance: '/x', traceId: TRACE });
    expect(bare.has('internal_error')).toBe(false);
  });

  it('a placeholder whose value is present but undefined renders empty', () => {
    expect(detail('edges', { a: undefined } as unknown as Record<string, string>)).toBe('');
  });

  it('a fixed detail replaces the template', () => {
    const answer = renderer.render('rate_limited', { instance: '/x', traceId: TRACE, params: { limit: '5' }, detail: 'Said otherwise.' });
    expect(JSON.parse(answer.body)).toMatchObject({ status: 429, detail: 'Said otherwise.' });
  });

  it('adds extensions beside the standard members, which they cannot override', () => {
    const answer = renderer.render('not_found', {
      instance: '/x',
      traceId: TRACE,
      extensions: { errors: [{ path: '/a' }], status: 200, type: 'https://evil.example', detail: 'other', instance: '/y', traceId: 'forged' },
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ path: '/a' }],
      type: 'https://problems.example/not-found',
      title: 'not-found',
      status: 404,
      detail: 'No workflow serves this path.',
      instance: '/x',
      traceId: TRACE,
    });
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

/** One problem written by writeProblem on a real Node response, as a client reads it. */
async function written(write: (res: ServerResponse) => void, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const server = createServer((_req, res) => write(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('writeProblem', () => {
  const problem = createProblemRenderer(catalog).render('rate_limited', { instance: '/api', traceId: TRACE, params: { limit: '5', window: '1s', retryAfter: '1' } });

  it('writes the status, the problem headers and the body', async () => {
    const res = await written((r) => writeProblem(r, problem));
    expect(res.status).toBe(429);
    expect(res.headers).toMatchObject({ 'content-type': 'application/problem+json', 'content-length': String(Buffer.byteLength(problem.body)), 'cache-control': 'no-store' });
    expect(res.body).toBe(problem.body);
  });

  it('adds extra headers, and keeps headers set on the response before', async () => {
    const res = await written((r) => {
      r.setHeader('www-authenticate', 'Bearer');
      writeProblem(r, problem, { 'retry-after': '7', 'cache-control': 'private' });
    });
    expect(res.headers).toMatchObject({ 'www-authenticate': 'Bearer', 'retry-after': '7', 'cache-control': 'private', 'content-type': 'application/problem+json' });
    expect(res.body).toBe(problem.body);
  });

  it('sends no body for a HEAD, with the length the body would have', async () => {
    const res = await written((r) => writeProblem(r, problem, undefined, true), 'HEAD');
    expect(res.status).toBe(429);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(problem.body)));
    expect(res.body).toBe('');
  });

  it('a GET is answered with the body when head is not set', async () => {
    const res = await written((r) => writeProblem(r, problem, {}));
    expect(res.body).toBe(problem.body);
  });
});

describe('rawProblem', () => {
  const answer = (status: number): ProblemAnswer => ({ status, error: 'x', type: 'about:blank', body: '{"a":"\u2603"}' });

  it.each([
    [400, 'Bad Request'],
    [405, 'Method Not Allowed'],
    [408, 'Request Timeout'],
    [431, 'Request Header Fields Too Large'],
    [500, 'Internal Server Error'],
    [413, 'Bad Request'],
  ])('%i: a whole HTTP/1.1 answer with the reason "%s", that closes the connection', (status, reason) => {
    const text = rawProblem(answer(status));
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    const [statusLine, ...lines] = head.split('\r\n');
    expect(statusLine).toBe(`HTTP/1.1 ${status} ${reason}`);
    expect(lines).toEqual(['content-type: application/problem+json', 'content-length: 11', 'cache-control: no-store', 'connection: close']);
    expect(body).toBe('{"a":"\u2603"}');
  });

  it('adds extra headers, and the connection closes whatever they say', () => {
    const text = rawProblem(answer(405), { allow: '', connection: 'keep-alive' });
    expect(text.split('\r\n\r\n')[0]!.split('\r\n').slice(1)).toEqual(['content-type: application/problem+json', 'content-length: 11', 'cache-control: no-store', 'allow: ', 'connection: close']);
  });
});

describe('finalProblem', () => {
  const params = { reason: 'r' };
  it.each([
    ['an unwired port: its error', { outcome: 'raise', error: 'not_found' }, undefined, { id: 'not_found', params }],
    ['a finish state without error: internal_error', { outcome: 'finish' }, undefined, { id: 'internal_error', params }],
    ['a node that failed with a catalog error: that error and its params', { outcome: 'fault' }, new SluiceError('rate_limited', 'm', { params: { limit: '1' } }), { id: 'rate_limited', params: { limit: '1' } }],
    ['a node that failed with a catalog error without params: the exchange\'s params', { outcome: 'fault' }, new SluiceError('rate_limited', 'm'), { id: 'rate_limited', params }],
    ['a node that failed with an error the catalog lacks: internal_error', { outcome: 'fault' }, new SluiceError('no_such_error', 'm'), { id: 'internal_error', params }],
    ['a node that failed with a plain error: internal_error', { outcome: 'fault' }, new Error('rate_limited'), { id: 'internal_error', params }],
    ['a raise carrying a SluiceError keeps its port\'s error', { outcome: 'raise', error: 'not_found' }, new SluiceError('rate_limited', 'm'), { id: 'not_found', params }],
  ] as const)('%s', (_name, meta, failure, expected) => {
    expect(finalProblem(meta, failure, params, renderer)).toEqual(expected);
  });
});
