import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/*
 * The registry syncs what changed: a publish of one workflow among many compiles that workflow
 * only, and every other one stays the very object it was (its prepared nodes, counters, timers).
 */

/** A workflow answering its own stamp at /w/<id>. */
const stamped = (id: string, stamp: string) => ({
  id,
  name: `Stamped ${id}`,
  route: { methods: ['GET'], path: `/w/${id}` },
  nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { stamp } } }],
  edges: [],
});

const COUNT = 60;
const actor = { name: 'registry-test', role: 'admin' };

describe('workflow registry: a sync looks at what changed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ workflows: Array.from({ length: COUNT }, (_, i) => stamped(`w${i}`, 'one')) });
  });
  afterAll(() => gw.close());

  const stampOf = async (id: string) => ((await (await gw.fetch(`/w/${id}`)).json()) as { stamp: string }).stamp;

  it('compiles only the workflow published; the others are served by the same objects', async () => {
    const { registry, lifecycle } = gw.sluice;
    expect(registry.active.size).toBe(COUNT);
    const before = new Map(registry.active);
    const table = gw.sluice.gateway.routes;
    const activated = () => gw.logs.filter((l) => l.msg === 'workflow activated').length;
    const count = activated();

    await lifecycle.saveDraft(actor, 'w7', stamped('w7', 'two'), 1);
    const { version } = await lifecycle.publish(actor, 'w7');
    await registry.whenApplied((await gw.sluice.store.state()).revision);

    expect(version).toBe(2);
    expect(activated() - count).toBe(1);
    expect(await stampOf('w7')).toBe('two');
    expect(await stampOf('w8')).toBe('one');
    for (const [id, workflow] of registry.active) if (id !== 'w7') expect(workflow, id).toBe(before.get(id));
    expect(registry.active.get('w7')).not.toBe(before.get('w7'));
    expect(registry.active.get('w7')!.version).toBe(2);
    // the route table answered for the change, and routes all the others still
    expect(gw.sluice.gateway.routes).not.toBe(table);
    expect(gw.sluice.gateway.routes.workflows).toHaveLength(COUNT);
  });

  it('stops serving a workflow unpublished, and only that one', async () => {
    const { registry, lifecycle } = gw.sluice;
    const before = new Map(registry.active);
    await lifecycle.unpublish(actor, 'w3');
    await registry.whenApplied((await gw.sluice.store.state()).revision);
    expect(registry.active.has('w3')).toBe(false);
    expect((await gw.fetch('/w/w3')).status).toBe(404);
    expect(await stampOf('w4')).toBe('one');
    for (const [id, workflow] of registry.active) expect(workflow, id).toBe(before.get(id));
    expect(gw.logs.some((l) => l.msg === 'workflow no longer served' && l.workflow === 'w3')).toBe(true);
  });
});
