import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinds } from '../../../shared/nodes/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('error', {
  minimal: { config: { error: 'insufficient_scope' }, parsed: { error: 'insufficient_scope', params: {} } },
  accepts: [
    ['detail values', { error: 'order_not_visible', params: { id: '42' } }],
  ],
  refuses: [
    ['no error', {}, ['error']],
    ['an error id that is not snake_case', { error: 'Not-Found' }, ['error']],
    ['a detail value that is not text', { error: 'not_found', params: { id: 42 } }, ['params.id']],
  ],
});

describe('the error descriptor', () => {
  it('error raises the error its config names', () => {
    const d = kinds.error;
    expect(d.ports(d.config.parse({ error: 'order_not_visible' }))).toEqual([expect.objectContaining({ name: 'raise', unwired: { error: 'order_not_visible' } })]);
  });
});

describe('error', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
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
