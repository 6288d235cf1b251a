/**
 * Everything hostile at once: a catastrophic regex, a $pad bomb and a publish of a 10,000-node
 * document (the ceiling of SLUICE_MAX_NODES, limits raised to it) in flight together, while a
 * bystander route is called on a fixed schedule. Each of them alone
 * is covered by its own group (expression-deadline, documents); this proves they do not add up
 * to a stall: every bystander call is answered, and answered while the work runs (how late is the
 * bench's to measure: `npm run bench -- scale`).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { longWorkflow } from '../../bench/fixture.ts';
import { MAX_NODES } from '../../shared/schema/index.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminCall, startAdminGateway } from '../engine/admin/support.ts';
import { scheduledBystander } from './bystander.ts';
import { adversarialGroup } from './support.ts';

const group = adversarialGroup('stall');

/** The most nodes SLUICE_MAX_NODES may allow: every step of a publish (size check, schema, graph, hash, machine, table, preparation) runs in slices. */
const NODES = MAX_NODES;
const EVIL_NAME = `${'a'.repeat(29)}!`;
const respond = (id: string, path: string, bodyExpression: string, extra: object = {}) => ({ id, name: id, route: { methods: ['GET'], path }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, bodyExpression } }], edges: [], ...extra });

describe(`a ReDoS, a $pad bomb and a ${NODES}-node publish at once`, () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_MAX_NODES: String(NODES), SLUICE_MAX_EDGES: String(2 * NODES), SLUICE_MAX_DOCUMENT: '8mb' } });
    const documents = [
      { id: 'bystander', name: 'bystander', route: { methods: ['GET'], path: '/stall/bystander' }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }], edges: [] },
      {
        id: 'redos',
        name: 'redos',
        route: { methods: ['GET'], path: '/stall/redos' },
        nodes: [
          { id: 'check', kind: 'condition', config: { when: '$exists($match(request.query.name, /^([a-z]+)+$/)[0])' } },
          { id: 'yes', kind: 'respond', config: { status: 200, body: { matched: true } } },
          { id: 'no', kind: 'respond', config: { status: 200, body: { matched: false } } },
        ],
        edges: [
          { from: 'check', port: 'true', to: 'yes' },
          { from: 'check', port: 'false', to: 'no' },
        ],
      },
      respond('pad', '/stall/pad', '{ "n": $length($pad("", 9000000, "ab")) }'),
    ];
    for (const document of documents) {
      const created = await adminCall(gw.url, 'editor', 'POST', '/workflows', { document });
      expect(created.status, JSON.stringify(created.body).slice(0, 300)).toBe(201);
      expect((await adminCall(gw.url, 'publisher', 'POST', `/workflows/${document.id}/publish`, {})).status).toBe(200);
    }
    const big = await adminCall(gw.url, 'editor', 'POST', '/workflows', { document: { ...longWorkflow('big', '/stall/big', NODES, 'http://127.0.0.1:9'), name: 'big' } });
    expect(big.status, JSON.stringify(big.body).slice(0, 300)).toBe(201);
    // warm: the first expression off the fast path may wait for its worker to start
    await (await gw.fetch('/stall/redos?name=abc')).arrayBuffer();
  }, 180_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('every bystander call is served, and served while the hostile work runs', async () => {
    const bystander = scheduledBystander(gw.url, '/stall/bystander');
    const answers = await bystander.around(async () => {
      const publish = adminCall(gw.url, 'publisher', 'POST', '/workflows/big/publish', {});
      const hostile = Array.from({ length: 5 }, () => [gw.fetch(`/stall/redos?name=${EVIL_NAME}`), gw.fetch('/stall/pad')]).flat();
      const [published, ...responses] = await Promise.all([publish, ...hostile]);
      // a publish is acknowledged after at most 5 s even while this process still compiles it: the busy window lasts until it is served
      await vi.waitFor(() => expect(gw.sluice.registry.active.get('big')?.version).toBe(1), { timeout: 120_000, interval: 200 });
      return { published, bodies: await Promise.all(responses.map(async (res) => ({ status: res.status, body: await res.text() }))) };
    });
    const seen = await bystander.stop();
    console.log(`ReDoS x5, $pad x5 and a ${NODES}-node publish at once; ${seen.summary}`);
    expect(answers.published.status, JSON.stringify(answers.published.body).slice(0, 300)).toBe(200);
    for (const [i, answer] of answers.bodies.entries()) {
      if (i % 2 === 0) expect(answer).toEqual({ status: 200, body: '{"matched":false}' });
      else expect(answer.status).toBe(500);
      group.counted();
    }
    expect(seen.failures).toEqual([]);
    expect(seen.busy.count).toBeGreaterThan(0);
    expect(seen.answeredDuringWork).toBeGreaterThan(0);
    group.counted();
  }, 240_000);
});
