import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import type { TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, expectProblem, portNode, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { PROXY_TO_UPSTREAM as proxy, startWithUpstream } from './fixtures.ts';

describeKind('transform-response', {
  minimal: { config: {}, parsed: { removeHeaders: [] } },
  accepts: [],
  refuses: [
    ['an unknown field', { statusCode: '201' }, ['statusCode']],
  ],
  readsBody: [
    [{ body: 'response.body.items' }, false],
    [{ body: '{ "echo": request.body }' }, true],
  ],
});

/** transform-response configs that fail, with the reason they name. */
const BAD_RESPONSE_TRANSFORMS = [
  { name: 'a status that is not a number', config: { status: '"abc"' }, reason: 'status must' },
  { name: 'an informational status', config: { status: '150' }, reason: 'status must' },
  { name: 'a status out of range', config: { status: '700' }, reason: 'status must' },
  { name: 'a CR/LF header value from the upstream', config: { headers: '{ "x-a": "v\\r\\nset-cookie: a=b" }' }, reason: 'contains CR, LF' },
  { name: 'an expression failing at run time', config: { body: '$error("boom")' }, reason: 'the body expression failed' },
  { name: 'an oversized body', config: { body: '$pad("", 12000000, "x")' }, reason: 'result too large' },
];

describe('transform-response', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  beforeAll(async () => {
    ({ gw, upstream } = await startWithUpstream([
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
    ]));
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
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
    // the bounds: 200 and 599 are statuses, 199, 600 and a fraction are not
    for (const [status, port] of [['200', 'ok'], ['599', 'ok'], ['199', 'error'], ['600', 'error'], ['201.5', 'error']] as const) {
      const res = await gw.fetch(`/tx/response-port?status=${status}`);
      if (port === 'ok') expect(await res.json(), status).toEqual({ port: 'ok', status: Number(status) });
      else await expectPort(res, 'error');
    }
    const ok = await gw.fetch('/tx/response-port?status=202');
    expect(ok.status).toBe(200); // the respond node's own status
    expect(await ok.json()).toEqual({ port: 'ok', status: 202 });
  });
});
