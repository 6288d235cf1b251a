import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from './support.ts';

/** Expressions that fail at run time, each a different way out of bounds. */
const FAILING = [
  { name: '$error()', when: '$error("boom")' },
  { name: 'infinite tail recursion (time bound)', when: '($f := function($n) { $f($n + 1) }; $f(0))' },
  { name: 'deep recursion (depth bound)', when: '($f := function($n) { 1 + $f($n + 1) }; $f(0) > 0)' },
  { name: 'a huge sequence (size bound)', when: '$count([1..10000000]) > 0' },
  { name: 'a type error', when: '"a" + 1 = 2' },
];

const condition = (id: string, path: string, when: string) =>
  workflow(id, { path }, [{ id: 'cond', kind: 'condition', config: { when } }, portNode('yes', 'true'), portNode('no', 'false')], [['cond', 'true', 'yes'], ['cond', 'false', 'no']]);

const switchFlow = (id: string, path: string, cases: Array<{ port: string; when: string }>) =>
  workflow(
    id,
    { path },
    [{ id: 'pick', kind: 'switch', config: { cases } }, ...cases.map((c) => portNode(`to-${c.port}`, c.port)), portNode('to-default', 'default')],
    [...cases.map((c): [string, string, string] => ['pick', c.port, `to-${c.port}`]), ['pick', 'default', 'to-default']],
  );

describe('condition and switch', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      condition('cond-tier', '/flow/condition', 'request.query.tier = "gold"'),
      condition('cond-has-query', '/flow/has-query', 'request.query'),
      condition('cond-header', '/flow/header', '$number(request.headers."x-count")'),
      ...FAILING.map((f, i) => condition(`cond-fail-${i}`, `/flow/condition-fail/${i}`, f.when)),
      switchFlow('switch-tier', '/flow/switch', [
        { port: 'gold', when: 'request.headers."x-tier" = "gold"' },
        { port: 'silver', when: 'request.headers."x-tier" = "silver"' },
        { port: 'any', when: '$exists(request.headers."x-tier")' },
      ]),
      ...FAILING.map((f, i) => switchFlow(`switch-fail-${i}`, `/flow/switch-fail/${i}`, [{ port: 'first', when: 'request.query.first = "yes"' }, { port: 'second', when: f.when }])),
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

  it.each([
    { tier: 'gold', port: 'gold' },
    { tier: 'silver', port: 'silver' },
    { tier: 'bronze', port: 'any' },
    { tier: undefined, port: 'default' },
  ])('switch takes the first matching case: x-tier $tier -> $port', async ({ tier, port }) => {
    await expectPort(await gw.fetch('/flow/switch', { headers: tier === undefined ? {} : { 'x-tier': tier } }), port);
  });

  it.each(FAILING.map((f, i) => ({ ...f, i })))('condition failing at run time with $name answers 500 expression-failed', async ({ i }) => {
    const path = `/flow/condition-fail/${i}`;
    await expectProblem(await gw.fetch(path), 500, 'expression-failed');
    expect(gw.logs.some((l) => l.msg === 'node failed' && l.node === 'cond' && l.workflow === `cond-fail-${i}`)).toBe(true);
  });

  it.each(FAILING.map((f, i) => ({ ...f, i })))('switch failing at run time with $name answers 500 expression-failed', async ({ i }) => {
    // an earlier case that matches never reaches the failing one
    await expectPort(await gw.fetch(`/flow/switch-fail/${i}?first=yes`), 'first');
    await expectProblem(await gw.fetch(`/flow/switch-fail/${i}`), 500, 'expression-failed');
  });
});
