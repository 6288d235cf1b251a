import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from './support.ts';

const proxy: NodeDoc = { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } };

/** transform-request configs that produce something the gateway must refuse, with the reason it names. */
const BAD_REQUEST_TRANSFORMS = [
  { name: 'a CR/LF header value from the query', config: { headers: '{ "x-echo": request.query.v }' }, query: '?v=a%0D%0Ax-injected:%201', reason: 'contains CR, LF' },
  { name: 'a control character in a header value', config: { headers: '{ "x-echo": request.query.v }' }, query: '?v=a%01b', reason: 'x-echo' },
  { name: 'a character no header can carry', config: { headers: '{ "x-echo": request.query.v }' }, query: '?v=%E2%82%AC', reason: 'x-echo' },
  { name: 'a header name with a space', config: { headers: '{ "bad name": "x" }' }, query: '', reason: 'not a valid header name' },
  { name: 'a header the gateway manages', config: { headers: '{ "host": "evil.example" }' }, query: '', reason: 'managed by the gateway' },
  { name: 'headers that are not an object', config: { headers: '"x-a: 1"' }, query: '', reason: 'headers must be an object' },
  { name: 'a header value that is an object', config: { headers: '{ "x-a": { "b": 1 } }' }, query: '', reason: 'must be a string' },
  { name: 'a query that is not an object', config: { query: '"a=1"' }, query: '', reason: 'query must be an object' },
  { name: 'a path without a leading slash', config: { path: '"v2/items"' }, query: '', reason: 'path must' },
  { name: 'a path that is not a string', config: { path: '42' }, query: '', reason: 'path must' },
  { name: 'vars that are not an object', config: { vars: '[1, 2]' }, query: '', reason: 'vars must be an object' },
  { name: 'an expression failing at run time', config: { body: '$error("boom")' }, query: '', reason: 'the body expression failed (D3137)' },
  { name: 'a runaway expression', config: { vars: '{ "n": ($f := function($n) { $f($n + 1) }; $f(0)) }' }, query: '', reason: 'the vars expression failed (D1012)' },
];

/** transform-response configs that fail, with the reason they name. */
const BAD_RESPONSE_TRANSFORMS = [
  { name: 'a status that is not a number', config: { status: '"abc"' }, reason: 'status must' },
  { name: 'an informational status', config: { status: '150' }, reason: 'status must' },
  { name: 'a status out of range', config: { status: '700' }, reason: 'status must' },
  { name: 'a CR/LF header value from the upstream', config: { headers: '{ "x-a": "v\\r\\nset-cookie: a=b" }' }, reason: 'contains CR, LF' },
  { name: 'an expression failing at run time', config: { body: '$error("boom")' }, reason: 'the body expression failed' },
  { name: 'an oversized body', config: { body: '$pad("", 12000000, "x")' }, reason: 'result too large' },
];

describe('transform-request and transform-response', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startGateway(
      [
        workflow(
          'tx-request',
          { path: '/tx/request/:id', methods: ['POST'] },
          [
            {
              id: 'shape',
              kind: 'transform-request',
              config: {
                headers: '{ "x-added": "yes", "x-drop-me": null, "x-from-param": request.params.id }',
                query: '{ "added": "1", "drop": null, "many": ["a", "b"] }',
                body: '{ "wrapped": request.body, "id": request.params.id }',
                path: '"/v2/items/" & request.params.id',
                vars: '{ "tenant": request.headers."x-tenant" }',
                removeHeaders: ['X-Internal'],
              },
            },
            { id: 'tenant', kind: 'transform-request', config: { headers: '{ "x-tenant-id": vars.tenant }' } },
            proxy,
          ],
          [['shape', 'ok', 'tenant'], ['tenant', 'ok', 'call']],
        ),
        ...BAD_REQUEST_TRANSFORMS.map((t, i) =>
          workflow(`tx-request-bad-${i}`, { path: `/tx/request-bad/${i}`, methods: ['POST'] }, [{ id: 'shape', kind: 'transform-request', config: t.config }, proxy], [['shape', 'ok', 'call']]),
        ),
        workflow(
          'tx-request-port',
          { path: '/tx/request-port' },
          [{ id: 'shape', kind: 'transform-request', config: { headers: '{ "x-echo": request.query.v }' } }, proxy, portNode('error')],
          [['shape', 'ok', 'call'], ['shape', 'error', 'error']],
        ),
        workflow(
          'tx-response',
          { path: '/tx/response' },
          [
            proxy,
            {
              id: 'shape',
              kind: 'transform-response',
              config: {
                status: '201',
                headers: '{ "x-shaped": "1", "x-orders": $string($count(response.body.orders)) }',
                body: '{ "count": $count(response.body.orders), "first": response.body.orders[0].id, "method": request.method }',
                removeHeaders: ['X-Upstream'],
              },
            },
          ],
          [['call', 'ok', 'shape']],
        ),
        ...BAD_RESPONSE_TRANSFORMS.map((t, i) =>
          workflow(`tx-response-bad-${i}`, { path: `/tx/response-bad/${i}` }, [proxy, { id: 'shape', kind: 'transform-response', config: t.config }], [['call', 'ok', 'shape']]),
        ),
        workflow(
          'tx-response-port',
          { path: '/tx/response-port' },
          [
            proxy,
            { id: 'shape', kind: 'transform-response', config: { status: 'request.query.status ~> $number' } },
            { id: 'shaped', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "status": response.status }' } },
            portNode('error'),
          ],
          [['call', 'ok', 'shape'], ['shape', 'ok', 'shaped'], ['shape', 'error', 'error']],
        ),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('reshapes headers, query, body, path and vars before the upstream sees them', async () => {
    upstream.received.length = 0;
    const res = await gw.fetch('/tx/request/42?keep=k&drop=d', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-drop-me': '1', 'x-internal': 'secret', 'x-tenant': 't-9', 'x-kept': 'kept' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(200);
    expect(upstream.received).toHaveLength(1);
    const got = upstream.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/v2/items/42?keep=k&added=1&many=a&many=b');
    expect(got.headers).toMatchObject({ 'x-added': 'yes', 'x-from-param': '42', 'x-tenant-id': 't-9', 'x-kept': 'kept', 'content-type': 'application/json' });
    expect(got.headers).not.toHaveProperty('x-drop-me');
    expect(got.headers).not.toHaveProperty('x-internal');
    expect(JSON.parse(got.body)).toEqual({ wrapped: { a: 1 }, id: '42' });
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(got.body)));
  });

  it.each(BAD_REQUEST_TRANSFORMS.map((t, i) => ({ ...t, i })))('transform-request refuses $name: 500 transform-failed', async ({ i, query, reason }) => {
    upstream.received.length = 0;
    const res = await gw.fetch(`/tx/request-bad/${i}${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    await expectProblem(res, 500, 'transform-failed', reason);
    expect(upstream.received).toHaveLength(0);
  });

  it('transform-request takes its error port when wired', async () => {
    await expectPort(await gw.fetch('/tx/request-port?v=a%0D%0Ab'), 'error');
    upstream.received.length = 0;
    expect((await gw.fetch('/tx/request-port?v=fine')).status).toBe(200);
    expect(upstream.received[0]!.headers['x-echo']).toBe('fine');
  });

  it('reshapes status, headers and body of the upstream answer', async () => {
    const res = await gw.fetch('/tx/response');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-shaped')).toBe('1');
    expect(res.headers.get('x-orders')).toBe('1');
    expect(res.headers.get('x-upstream')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ count: 1, first: 1, method: 'GET' });
  });

  it.each(BAD_RESPONSE_TRANSFORMS.map((t, i) => ({ ...t, i })))('transform-response refuses $name: 500 transform-failed', async ({ i, reason }) => {
    await expectProblem(await gw.fetch(`/tx/response-bad/${i}`), 500, 'transform-failed', reason);
  });

  it('transform-response takes its ok and error ports when wired', async () => {
    await expectPort(await gw.fetch('/tx/response-port?status=abc'), 'error');
    const ok = await gw.fetch('/tx/response-port?status=202');
    expect(ok.status).toBe(200); // the respond node's own status
    expect(await ok.json()).toEqual({ port: 'ok', status: 202 });
  });
});
