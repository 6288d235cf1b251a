import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectProblem, startGateway, workflow } from '../../helpers/workflow.ts';
import { runtimes } from '../../../engine/kinds/index.ts';
import type { Exchange, PreparedNode } from '../../../engine/kinds/types.ts';
import { describeKind } from './describe-kind.ts';

describeKind('respond', {
  minimal: { config: {}, parsed: { status: 200, headers: {} } },
  accepts: [
    ['a status, headers and a body expression', { status: 404, headers: { 'Cache-Control': 'no-store', 'x-note': 'caf\u00e9\tok' }, bodyExpression: '{ "a": 1 }' }],
  ],
  refuses: [
    ['an informational status', { status: 101 }, ['status']],
    ['a header name with a space', { headers: { 'cache control': 'no' } }, ['headers.cache control']],
    ['a header value with a line break', { headers: { 'x-a': 'a\r\nset-cookie: x' } }, ['headers.x-a']],
  ],
  readsBody: [
    [{ bodyExpression: '{ "path": request.path }' }, false],
    [{ bodyExpression: 'request.body' }, true],
  ],
  faults: ['expression_failed'],
});

describe('respond', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      workflow('respond-static', { path: '/answer/static' }, [
        { id: 'mock', kind: 'respond', config: { status: 201, headers: { 'X-Mock': 'yes', 'cache-control': 'no-cache' }, body: { ok: true, items: [1, 2] } } },
      ]),
      workflow('respond-empty', { path: '/answer/empty', methods: ['DELETE'] }, [{ id: 'gone', kind: 'respond', config: { status: 204 } }]),
      workflow('respond-text', { path: '/answer/text' }, [{ id: 'text', kind: 'respond', config: { body: 'plain words' } }]),
      workflow('respond-template', { path: '/answer/template/:id' }, [
        {
          id: 'tpl',
          kind: 'respond',
          config: {
            status: 202,
            headers: { 'content-type': 'application/vnd.sluice+json' },
            body: { ignored: true },
            bodyExpression: '{ "id": request.params.id, "x": request.query.x, "agent": request.headers."x-agent", "method": request.method }',
          },
        },
      ]),
      workflow('respond-echo', { path: '/answer/echo', methods: ['POST'] }, [{ id: 'echo', kind: 'respond', config: { bodyExpression: '{ "got": request.body, "n": $count(request.body.items) }' } }]),
      workflow('respond-fails', { path: '/answer/fails' }, [{ id: 'bad', kind: 'respond', config: { bodyExpression: '$error("no body for you")' } }]),
      workflow('respond-huge', { path: '/answer/huge' }, [{ id: 'huge', kind: 'respond', config: { bodyExpression: '{ "padding": $pad("", 12000000, "x") }' } }]),
    ]);
  });
  afterAll(() => gw?.close());

  it('answers a static JSON response with its status and headers', async () => {
    const res = await gw.fetch('/answer/static');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-mock')).toBe('yes');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ok: true, items: [1, 2] });
  });

  it('answers without a body', async () => {
    const res = await gw.fetch('/answer/empty', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('answers a static text body as text', async () => {
    const res = await gw.fetch('/answer/text');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('plain words');
  });

  it('answers HEAD on a GET route with the headers only', async () => {
    const res = await gw.fetch('/answer/static', { method: 'HEAD' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-mock')).toBe('yes');
    expect(await res.text()).toBe('');
  });

  it('answers a body templated from the request, the expression winning over the static body', async () => {
    const res = await gw.fetch('/answer/template/42?x=1', { headers: { 'x-agent': 'tests' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/vnd.sluice+json');
    expect(await res.json()).toEqual({ id: '42', x: '1', agent: 'tests', method: 'GET' });
  });

  it('reads the request body in a template', async () => {
    const res = await gw.fetch('/answer/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [1, 2, 3] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: { items: [1, 2, 3] }, n: 3 });
  });

  it('answers 500 expression-failed when the body expression fails', async () => {
    const problem = await expectProblem(await gw.fetch('/answer/fails'), 500, 'expression-failed');
    expect(problem.detail).not.toContain('no body for you'); // the expression's own words stay in the log
  });

  it('answers 500 expression-failed when the body expression builds an oversized answer', async () => {
    await expectProblem(await gw.fetch('/answer/huge'), 500, 'expression-failed');
  });
});

/*
 * The answer a respond node builds, read before the gateway writes it (a simulation shows these
 * headers): what the node says wins, framing is the gateway's.
 */
describe('the answer a respond node builds', () => {
  const answerOf = (config: Parameters<typeof runtimes.respond>[0]) => {
    const node = runtimes.respond(config, undefined as never) as PreparedNode;
    const exchange = {} as Exchange;
    expect(node.run(exchange)).toBe('done');
    return exchange.response!;
  };

  it('leaves out framing headers that reach the runtime, keeping the others lower-cased', () => {
    const answer = answerOf({ status: 202, headers: { 'Content-Length': '5', Connection: 'close', 'X-Note': 'kept' }, body: { a: 1 } });
    expect(answer.status).toBe(202);
    expect(answer.headers).toEqual({ 'x-note': 'kept' });
  });

  it('says a text body is UTF-8 text unless the node names its type', () => {
    expect(answerOf({ status: 200, headers: {}, body: 'hello' }).headers).toEqual({ 'content-type': 'text/plain; charset=utf-8' });
    expect(answerOf({ status: 200, headers: { 'content-type': 'text/csv' }, body: 'a,b' }).headers).toEqual({ 'content-type': 'text/csv' });
    expect(answerOf({ status: 200, headers: {}, body: { a: 1 } }).headers).toEqual({});
  });
});
