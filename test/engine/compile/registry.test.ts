import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLifecycle } from '../../../engine/admin/commands/workflows.ts';
import { createWorkflowRegistry } from '../../../engine/compile/registry.ts';
import { createValidatedGraphs, type ValidatedGraphs } from '../../../engine/compile/validated-graphs.ts';
import type { ValidGraph } from '../../../shared/compile/index.ts';
import { createStoredCatalogs } from '../../../engine/store/catalogs.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { turnsDuring } from '../../helpers/turns.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { workflow } from '../../helpers/workflow.ts';

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

  it('gives the event loop its turns through a sync that compiles many workflows, each well within a slice', async () => {
    const { store, logger } = gw.sluice;
    // a second registry over the same store compiles every workflow in one sync, with 1 ms slices
    const fresh = createWorkflowRegistry({ deps: { ...gw.sluice.registry.deps, sliceMs: 1 }, store, catalogs: createStoredCatalogs(store), logger, activate: () => {} });
    const { turns, ms, cpuMs } = await turnsDuring(() => fresh.sync());
    expect(fresh.active.size).toBe(COUNT);
    // 1 ms slices; asked: a turn per 8 ms of the process's CPU (GC helpers and all), judged on CPU
    // time since a shared core stretches the wall time, not the work (19 turns in 44-48 ms of CPU
    // here). One pace per workflow gave 2 turns in 17.8 ms (the store's reads).
    expect(turns, `${turns} turns in ${ms.toFixed(1)} ms (${cpuMs.toFixed(1)} ms of CPU)`).toBeGreaterThanOrEqual(Math.max(3, Math.floor(cpuMs / 8)));
    for (const workflow of fresh.active.values()) workflow.close();
  });

  it("serves a version published in this process with the graph the publish's check validated: it is not validated again", async () => {
    const { store, logger } = gw.sluice;
    const inner = createValidatedGraphs();
    const kept: Array<{ hash: string; graph: ValidGraph }> = [];
    const validated: ValidatedGraphs = {
      keep: (hash, catalog, graph) => {
        kept.push({ hash, graph });
        inner.keep(hash, catalog, graph);
      },
      take: (hash, catalog) => inner.take(hash, catalog),
    };
    const lifecycle = createLifecycle({ store, catalogs: createStoredCatalogs(store), fourEyes: false, prepare: async () => [], validated });
    await lifecycle.saveDraft(actor, 'w9', stamped('w9', 'checked'), (await store.state()).workflows.get('w9')!.draft!.revision);
    const { version } = await lifecycle.publish(actor, 'w9');
    const record = (await store.state()).workflows.get('w9')!;
    const hash = record.versions.find((v) => v.version === version)!.hash;
    expect(kept.map((k) => k.hash)).toEqual([hash]);
    // a second registry of the same store, given what the check kept: every other version is validated, this one taken
    const fresh = createWorkflowRegistry({ deps: gw.sluice.registry.deps, store, catalogs: createStoredCatalogs(store), logger, validated, activate: () => {} });
    await fresh.sync();
    expect(fresh.active.get('w9')!.graph).toBe(kept[0]!.graph);
    expect(fresh.active.get('w8')!.graph).not.toBe(gw.sluice.registry.active.get('w8')!.graph);
    expect(validated.take(hash, (await store.state()).catalog), 'taken once').toBeUndefined();
    for (const workflow of fresh.active.values()) workflow.close();
  });

  it('keeps checked graphs within a bound of nodes, the oldest let go first', () => {
    const graph = (nodes: number) => ({ fragments: [], nodes: new Map(Array.from({ length: nodes }, (_, i) => [`n${i}`, {}])) }) as unknown as ValidGraph;
    const validated = createValidatedGraphs(10);
    const [a, b, c] = [graph(4), graph(4), graph(4)];
    validated.keep('a', undefined, a);
    validated.keep('b', undefined, b);
    validated.keep('c', 'catalog', c); // 12 nodes: a goes
    expect(validated.take('a', undefined)).toBeUndefined();
    expect(validated.take('c', undefined), 'another catalog').toBeUndefined();
    expect(validated.take('c', 'catalog')).toBe(c);
    expect(validated.take('b', undefined)).toBe(b);
    validated.keep('big', undefined, graph(11));
    validated.keep('sub', undefined, { ...graph(1), fragments: [{ node: 'x', fragment: 'f', version: 1, pinned: true }] } as ValidGraph);
    expect(validated.take('big', undefined), 'larger than the bound').toBeUndefined();
    expect(validated.take('sub', undefined), 'with subflows').toBeUndefined();
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

describe('workflow registry: a sync that fails partway', () => {
  let gw: TestGateway;
  /** Checked by the gateway's own versions (the clock), and by those of a second registry. */
  let clock: TestUpstream;
  let checked: TestUpstream;
  const checks = (up: TestUpstream) => up.received.filter((r) => r.url === '/hc').length;
  const checking = (id: string) => workflow(id, { path: `/sync/${id}` }, [{ id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_CHECKED}', healthCheck: { path: '/hc', interval: '1s' } } }]);

  beforeAll(async () => {
    [clock, checked] = [await startUpstream(), await startUpstream()];
    gw = await startTestGateway({ workflows: [checking('sync-a'), checking('sync-b')], env: { SLUICE_UPSTREAM_CHECKED: clock.url } });
  });
  afterAll(async () => {
    await gw?.close();
    await clock?.close();
    await checked?.close();
  });

  it('closes the versions it compiled before it failed: nothing they hold (health checks, connection pools) outlives them', async () => {
    const { store } = gw.sluice;
    const state = await store.state();
    const hashes = new Set(['sync-a', 'sync-b'].map((id) => state.workflows.get(id)!.versions[0]!.hash));
    // the second of the two documents cannot be read, once: the first was compiled by then
    const read = store.documentText.bind(store);
    let reads = 0;
    const documents = vi.spyOn(store, 'documentText').mockImplementation(async (hash) => {
      if (hashes.has(hash) && ++reads === 2) throw new Error('the store connection was cut');
      return read(hash);
    });
    // a second registry of the same store, its versions checking another upstream
    const deps = gw.sluice.registry.deps;
    const registry = createWorkflowRegistry({ deps: { ...deps, env: { ...deps.env, SLUICE_UPSTREAM_CHECKED: checked.url } }, store, catalogs: createStoredCatalogs(store), logger: pino({ level: 'silent' }), activate: () => undefined });
    try {
      await registry.sync(); // fails, and is tried again a second later
      await registry.whenApplied(state.revision);
    } finally {
      documents.mockRestore();
    }
    expect(reads).toBeGreaterThan(2);
    expect([...registry.active.keys()].sort()).toEqual(['sync-a', 'sync-b']);
    for (const served of registry.active.values()) served.close();

    // the gateway's versions go on checking their upstream: its checks are the clock
    let ticks = checks(clock);
    await vi.waitFor(() => expect(checks(clock)).toBeGreaterThan(ticks), { timeout: 15_000 }); // a check under way when they closed has ended
    const after = checks(checked);
    ticks = checks(clock);
    await vi.waitFor(() => expect(checks(clock)).toBeGreaterThanOrEqual(ticks + 4), { timeout: 15_000, interval: 100 }); // two intervals more
    expect(checks(checked)).toBe(after);
  });
});
