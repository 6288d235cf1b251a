import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { FAILING_EXPRESSIONS } from './fixtures.ts';

describeKind('condition', {
  minimal: { config: { when: 'true' }, parsed: { when: 'true' } },
  accepts: [],
  refuses: [
    ['no predicate', {}, ['when']],
    ['an empty predicate', { when: '' }, ['when']],
  ],
  readsBody: [
    [{ when: 'request.body.express = true' }, true],
    [{ when: 'request.path = "/x"' }, false],
  ],
  faults: ['expression_failed'],
});

const condition = (id: string, path: string, when: string) =>
  workflow(id, { path }, [{ id: 'cond', kind: 'condition', config: { when } }, portNode('yes', 'true'), portNode('no', 'false')], [['cond', 'true', 'yes'], ['cond', 'false', 'no']]);

describe('condition', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      condition('cond-tier', '/flow/condition', 'request.query.tier = "gold"'),
      condition('cond-has-query', '/flow/has-query', 'request.query'),
      condition('cond-header', '/flow/header', '$number(request.headers."x-count")'),
      ...FAILING_EXPRESSIONS.map((f, i) => condition(`cond-fail-${i}`, `/flow/condition-fail/${i}`, f.source)),
    ]);
  });
  afterAll(() => gw?.close());

  it.each([
    { path: '/flow/condition?tier=gold', port: 'true' },
    { path: '/flow/condition?tier=silver', port: 'false' },
    { path: '/flow/condition', port: 'false' },
    // JSONata truthiness: an empty object, array or a number 0 is false
    { path: '/flow/has-query?a=1', port: 'true' },
    { path: '/flow/has-query', port: 'false' },
  ])('condition $path takes $port', async ({ path, port }) => {
    await expectPort(await gw.fetch(path), port);
  });

  it.each([
    { count: '3', port: 'true' },
    { count: '0', port: 'false' },
  ])('condition on a header: x-count $count takes $port', async ({ count, port }) => {
    await expectPort(await gw.fetch('/flow/header', { headers: { 'x-count': count } }), port);
  });

  it.each(FAILING_EXPRESSIONS.map((f, i) => ({ ...f, i })))('condition failing at run time with $name answers 500 expression-failed', async ({ i }) => {
    const path = `/flow/condition-fail/${i}`;
    await expectProblem(await gw.fetch(path), 500, 'expression-failed');
    expect(gw.logs.some((l) => l.msg === 'node failed' && l.node === 'cond' && l.workflow === `cond-fail-${i}`)).toBe(true);
  });
});
