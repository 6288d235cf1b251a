/**
 * Hostile JSONata: every evaluation is bounded in time, depth and size and answers a 500
 * problem, while a bystander partner's requests keep being served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../helpers/issuer.ts';
import { startGateway, workflow, type NodeDoc } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, SOAK, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('expressions');

/** Each hostile expression, answered by a respond node: the expression decides the body. */
const HOSTILE: Array<[name: string, expression: string]> = [
  ['infinite recursion', '($f := function($x) { $f($x) }; $f(1))'],
  ['deep recursion', '($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(1000000))'],
  ['an endless loop', '($loop := function($i) { $i < 1e12 ? $loop($i + 1) : $i }; $loop(0))'],
  ['a huge $pad', '$pad("x", 50000000)'],
  ['a huge $join', '$join([1..200000].$string($), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")'],
  ['a huge range', '$count([1..100000000])'],
  ['a quadratic blow-up', '$count([1..5000].([1..5000]))'],
];

describe('hostile expressions', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let before: Snapshot;
  let bystander: ReturnType<typeof startBystander>;

  beforeAll(async () => {
    issuer = await createIssuer();
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    gw = await startGateway([
      workflow('bystander', { path: '/adv/bystander' }, [verify, { id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: '{ "partner": partner }' } }], [['verify', 'ok', 'answer']]),
      ...HOSTILE.map(([, expression], i) => workflow(`hostile-${i}`, { path: `/adv/hostile/${i}` }, [{ id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: expression } }])),
      workflow('proto', { path: '/adv/proto', methods: ['POST'] }, [{ id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: '{ "ctor": request.body.constructor, "proto": request.body.__proto__, "lookup": $lookup(request.body, "constructor"), "keys": $keys(request.body) }' } }]),
      workflow('reshape', { path: '/adv/reshape', methods: ['POST'] }, [{ id: 'shape', kind: 'transform-request', config: { body: '$merge([request.body, { "seen": true }])' } }, { id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: 'request.body' } }], [['shape', 'ok', 'answer']]),
    ]);
    before = await snapshotOf(gw);
    bystander = startBystander(gw, '/adv/bystander', await bystanderToken(issuer), 10);
  });

  afterAll(async () => {
    await bystander?.stopAndCheck();
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
  });

  // unbounded, each would run until the test's timeout or the process's memory ran out: the 500 is the bound at work
  it.each(HOSTILE.map(([name], i) => [name, i] as const))('%s: stopped by the evaluation bounds, 500 expression-failed', async (_name, i) => {
    await group.refused(await gw.fetch(`/adv/hostile/${i}`), 500, 'expression-failed');
  });

  it('all hostile expressions at once: each bounded, the bystander keeps being served', async () => {
    const answers = await Promise.all(Array.from({ length: SOAK }, () => HOSTILE.map((_, i) => gw.fetch(`/adv/hostile/${i}`))).flat());
    for (const res of answers) await group.refused(res, 500, 'expression-failed');
    expect(bystander.results.length).toBeGreaterThan(0);
  });

  it('prototype names in the input are plain data: nothing of Object leaks, nothing is polluted', async () => {
    const res = await gw.fetch('/adv/proto', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "a": 1}' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/function|native code|\[object/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    group.counted();
  });

  it('a 10 MB input is refused before any expression reads it: 413 payload-too-large', async () => {
    const body = JSON.stringify({ blob: 'x'.repeat(10 * 1024 * 1024) });
    await group.refused(await gw.fetch('/adv/reshape', { method: 'POST', headers: { 'content-type': 'application/json' }, body }), 413, 'payload-too-large');
  });

  it('a transform over a hostile but allowed input stays bounded', async () => {
    // 5,000 items: with 20,000 (~700 KB) the request took ~130 ms on a quiet machine, near the 50 ms
    // bound plus its copy allowance, and a loaded CI refused it by the time bound (the bound at work)
    const body = JSON.stringify({ items: Array.from({ length: 5_000 }, (_, i) => ({ i, nested: { deep: [i, i, i] } })) });
    const res = await gw.fetch('/adv/reshape', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status, await res.clone().text().then((t) => t.slice(0, 300))).toBe(200);
    expect(((await res.json()) as { seen: boolean; items: unknown[] }).items).toHaveLength(5_000);
    group.counted();
  });
});
