import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/*
 * One expression worker and a queue of one: while a long expression holds the worker, requests
 * that find the queue full are answered 503 expressions-busy with Retry-After (the gateway is
 * overloaded; the workflow is not wrong), never 500.
 */
describe('expression workers all busy', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      workflows: [
        {
          id: 'long',
          name: 'Long expression',
          route: { methods: ['GET'], path: '/long' },
          // off the compiled fast path (a function), long enough to hold the worker until its deadline
          nodes: [
            { id: 'check', kind: 'condition', config: { when: '$reduce([1..100000], function($a, $b) { $a + $b }) > 0' } },
            { id: 'yes', kind: 'respond', config: { body: 'yes' } },
            { id: 'no', kind: 'respond', config: { body: 'no' } },
          ],
          edges: [
            { from: 'check', port: 'true', to: 'yes' },
            { from: 'check', port: 'false', to: 'no' },
          ],
        },
        {
          id: 'guarded',
          name: 'Guarded prompt',
          route: { methods: ['POST'], path: '/guarded' },
          // the deny pattern is checked in the same workers
          nodes: [
            { id: 'guard', kind: 'prompt-guard', config: { deny: ['forbidden'] } },
            { id: 'passed', kind: 'respond', config: { body: 'passed' } },
          ],
          edges: [{ from: 'guard', port: 'ok', to: 'passed' }],
        },
      ],
      settings: { SLUICE_EXPRESSION_WORKERS: '1', SLUICE_EXPRESSION_QUEUE: '1' },
    });
  });
  afterAll(() => gw?.close());

  it('answers the requests that find the queue full with 503 expressions-busy and Retry-After', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${gw.url}/long`);
        const body = (await res.json()) as { type: string };
        return { status: res.status, type: body.type, retryAfter: res.headers.get('retry-after') };
      }),
    );
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const a of busy) expect(a).toEqual({ status: 503, type: 'https://problems.sluice.example/expressions-busy', retryAfter: '1' });
    // the others ran (and met the expression's deadline): never a busy pool answered as a failed expression
    for (const a of answers.filter((x) => x.status !== 503)) expect(a.type).toBe('https://problems.sluice.example/expression-failed');
  });

  it('answers a prompt check that finds the queue full with 503 expressions-busy and Retry-After, never as a refused prompt', async () => {
    const holding = Array.from({ length: 2 }, () => fetch(`${gw.url}/long`).then((r) => r.arrayBuffer()));
    const prompt = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    const answers: Array<{ status: number; type?: string; retryAfter: string | null }> = [];
    await expect
      .poll(async () => {
        const batch = await Promise.all(
          Array.from({ length: 4 }, async () => {
            const res = await fetch(`${gw.url}/guarded`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: prompt });
            const text = await res.text();
            return { status: res.status, type: res.status === 200 ? undefined : (JSON.parse(text) as { type: string }).type, retryAfter: res.headers.get('retry-after') };
          }),
        );
        answers.push(...batch);
        return answers.some((a) => a.status === 503);
      })
      .toBe(true);
    await Promise.all(holding);
    // the log says why, the pool's own words kept as the cause
    const failed = gw.logs.find((l) => l.msg === 'node failed' && l.node === 'guard') as { err: { code: string; message: string } } | undefined;
    expect(failed?.err).toMatchObject({ code: 'expressions_busy', message: 'every expression worker is busy and the queue is full: 1 expressions are already waiting for a worker' });
    for (const a of answers) expect(a).toEqual(a.status === 200 ? { status: 200, type: undefined, retryAfter: null } : { status: 503, type: 'https://problems.sluice.example/expressions-busy', retryAfter: '1' });
  });
});
