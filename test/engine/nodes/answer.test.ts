import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from './support.ts';

describe('respond and error', () => {
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
      workflow('error-order', { path: '/answer/orders/:id' }, [{ id: 'hidden', kind: 'error', config: { error: 'order_not_visible' } }]),
      workflow('error-params', { path: '/answer/params/:id' }, [{ id: 'refuse', kind: 'error', config: { error: 'bad_request', params: { reason: 'the id must be numeric', id: 'ignored' } } }]),
      workflow(
        'error-guard',
        { path: '/answer/guard/:id' },
        [{ id: 'numeric', kind: 'condition', config: { when: '$contains(request.params.id, /^[0-9]+$/)' } }, portNode('found'), { id: 'hidden', kind: 'error', config: { error: 'order_not_visible' } }],
        [['numeric', 'true', 'found'], ['numeric', 'false', 'hidden']],
      ),
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

  it.each([
    { path: '/answer/orders/42', detail: 'No order 42 is visible to you.' },
    { path: '/answer/orders/a%3Cb%3E', detail: 'No order a<b> is visible to you.' },
  ])('error node answers a custom catalog error with the route params in its detail: $path', async ({ path, detail }) => {
    const problem = await expectProblem(await gw.fetch(path), 404, 'order-not-visible');
    expect(problem.detail).toBe(detail);
    expect(problem.title).toBe('Order Not Found');
    expect(problem.instance).toBe(path);
  });

  it('error node fills the detail from its own params, which win over route params', async () => {
    const problem = await expectProblem(await gw.fetch('/answer/params/x'), 400, 'bad-request');
    expect(problem.detail).toBe('The request is malformed: the id must be numeric.');
  });

  it('error node answers on the path that leads to it only', async () => {
    await expectPort(await gw.fetch('/answer/guard/42'), 'found');
    const problem = await expectProblem(await gw.fetch('/answer/guard/abc'), 404, 'order-not-visible');
    expect(problem.detail).toBe('No order abc is visible to you.');
  });
});
