import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import type { TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, expectProblem, portNode, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { PROXY_TO_UPSTREAM as proxy, startWithUpstream } from './fixtures.ts';

describeKind('transform-request', {
  minimal: { config: {}, parsed: { removeHeaders: [] } },
  accepts: [],
  refuses: [
    ['an empty expression', { body: '' }, ['body']],
  ],
  readsBody: [
    [{ body: '{ "x": 1 }' }, true],
    [{ headers: '{ "x-a": request.path }' }, false],
  ],
  faults: [],
});

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

describe('transform-request', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  beforeAll(async () => {
    ({ gw, upstream } = await startWithUpstream([
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
    ]));
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
});
