import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kinds } from '../../../shared/nodes/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { FAILING_EXPRESSIONS } from './fixtures.ts';

describeKind('switch', {
  minimal: { config: { cases: [{ port: 'admin', when: 'true' }] }, parsed: { cases: [{ port: 'admin', when: 'true' }] } },
  accepts: [
    ['several cases', { cases: [{ port: 'a', when: 'true' }, { port: 'b-2', when: 'false' }] }],
  ],
  refuses: [
    ['no cases', { cases: [] }, ['cases']],
    ['duplicate ports', { cases: [{ port: 'a', when: 'true' }, { port: 'a', when: 'false' }] }, ['cases.1.port']],
    ['a case named "default"', { cases: [{ port: 'default', when: 'true' }] }, ['cases.0.port']],
    ['a port name in capitals', { cases: [{ port: 'Admin', when: 'true' }] }, ['cases.0.port']],
  ],
  readsBody: [
    [{ cases: [{ port: 'a', when: 'request.query.a' }, { port: 'b', when: 'request.body.b' }] }, true],
  ],
});

describe('the switch descriptor', () => {
  it('switch has one port per case, then "default"', () => {
    const d = kinds.switch;
    const config = d.config.parse({ cases: [{ port: 'admin', when: 'true' }, { port: 'partner', when: 'false' }] });
    expect(d.ports(config).map((p) => [p.name, p.unwired])).toEqual([
      ['admin', 'required'],
      ['partner', 'required'],
      ['default', 'required'],
    ]);
    expect(d.expressions(config)).toEqual([
      { field: 'cases.0.when', source: 'true' },
      { field: 'cases.1.when', source: 'false' },
    ]);
  });
});

const switchFlow = (id: string, path: string, cases: Array<{ port: string; when: string }>) =>
  workflow(
    id,
    { path },
    [{ id: 'pick', kind: 'switch', config: { cases } }, ...cases.map((c) => portNode(`to-${c.port}`, c.port)), portNode('to-default', 'default')],
    [...cases.map((c): [string, string, string] => ['pick', c.port, `to-${c.port}`]), ['pick', 'default', 'to-default']],
  );

describe('switch', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      switchFlow('switch-tier', '/flow/switch', [
        { port: 'gold', when: 'request.headers."x-tier" = "gold"' },
        { port: 'silver', when: 'request.headers."x-tier" = "silver"' },
        { port: 'any', when: '$exists(request.headers."x-tier")' },
      ]),
      // every case plain code (a path compared with a literal): the switch runs without a promise hop
      switchFlow('switch-plain', '/flow/switch-plain', [
        { port: 'gold', when: 'request.headers."x-tier" = "gold"' },
        { port: 'silver', when: 'request.headers."x-tier" = "silver" or request.query.tier = "silver"' },
      ]),
      ...FAILING_EXPRESSIONS.map((f, i) => switchFlow(`switch-fail-${i}`, `/flow/switch-fail/${i}`, [{ port: 'first', when: 'request.query.first = "yes"' }, { port: 'second', when: f.source }])),
    ]);
  });
  afterAll(() => gw?.close());

  it.each([
    { tier: 'gold', port: 'gold' },
    { tier: 'silver', port: 'silver' },
    { tier: 'bronze', port: 'any' },
    { tier: undefined, port: 'default' },
  ])('switch takes the first matching case: x-tier $tier -> $port', async ({ tier, port }) => {
    await expectPort(await gw.fetch('/flow/switch', { headers: tier === undefined ? {} : { 'x-tier': tier } }), port);
  });

  it.each([
    { tier: 'gold', query: '', port: 'gold' },
    { tier: 'silver', query: '', port: 'silver' },
    { tier: 'bronze', query: '?tier=silver', port: 'silver' },
    { tier: 'bronze', query: '', port: 'default' },
  ])('switch of plain-code cases takes the first matching case: x-tier $tier$query -> $port', async ({ tier, query, port }) => {
    await expectPort(await gw.fetch(`/flow/switch-plain${query}`, { headers: { 'x-tier': tier } }), port);
  });

  it.each(FAILING_EXPRESSIONS.map((f, i) => ({ ...f, i })))('switch failing at run time with $name answers 500 expression-failed', async ({ i }) => {
    // an earlier case that matches never reaches the failing one
    await expectPort(await gw.fetch(`/flow/switch-fail/${i}?first=yes`), 'first');
    await expectProblem(await gw.fetch(`/flow/switch-fail/${i}`), 500, 'expression-failed');
  });
});
