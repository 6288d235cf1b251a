import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { openGraphCache, validatingBuild } from '../../../engine/compile/graph-cache.ts';
import { lineOf } from '../../../engine/compile/line-file.ts';
import { createWorkflowRegistry } from '../../../engine/compile/registry.ts';
import { createStoredCatalogs } from '../../../engine/store/catalogs.ts';
import { validateWorkflow, type ValidGraph } from '../../../shared/compile/index.ts';
import { kinds } from '../../../shared/nodes/index.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../../../shared/schema/index.ts';
import { REPO, startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/*
 * Graphs validated by this build before: a restart serves its stored versions without validating
 * each again, and takes a graph only where validation would give the same one (the same document,
 * catalog, limits and validating code).
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A cache folder, and the file a build's graphs go to in it. */
const cacheDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-graphs-'));
  dirs.push(dir);
  return join(dir, 'cache');
};
const fileOf = (dir: string, build: string) => join(dir, `validated-graphs-${build}.jsonl`);

/** The example workflows without subflows, validated (a subflow's graph depends on its fragment's version: not cached). */
function exampleGraphs(): Array<{ file: string; graph: ValidGraph }> {
  const dir = join(REPO, 'examples', 'workflows');
  return readdirSync(dir).flatMap((file) => {
    const result = validateWorkflow(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    return result.ok ? [{ file, graph: result.graph }] : [];
  });
}

describe('graph cache', () => {
  it('gives back, in a process after, the very graph validation made: document, start, nodes (kind, config, ports, wiring) in order', async () => {
    const dir = cacheDir();
    const graphs = exampleGraphs();
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    const first = await openGraphCache(dir, 'build-1');
    for (const { file: name, graph } of graphs) first.put(first.keyOf(`hash-${name}`, 'catalog-1', undefined), graph);
    await first.flush();
    const second = await openGraphCache(dir, 'build-1');
    expect(second.loaded).toEqual({ entries: graphs.length, refused: 0 });
    for (const { file: name, graph } of graphs) {
      const key = second.keyOf(`hash-${name}`, 'catalog-1', undefined);
      const taken = second.take(key)!;
      expect(taken, name).toEqual(graph);
      expect([...taken.nodes.keys()], name).toEqual([...graph.nodes.keys()]);
      for (const node of taken.nodes.values()) expect(node.descriptor).toBe(kinds[node.kind as keyof typeof kinds]);
      expect(second.take(key), 'taken once').toBeUndefined();
    }
  });

  it("shares with the document the config fields validation left as they were: held once, in the validated config's order", async () => {
    const jwks = { keys: [{ alg: 'RS256', e: 'AQAB', kid: 'k1', kty: 'RSA', n: 'x'.repeat(342), use: 'sig' }] };
    const document = {
      id: 'shared', name: 'Shared', route: { methods: ['GET'], path: '/shared' },
      nodes: [
        { id: 'verify', kind: 'jwt-verify', config: { jwks, algorithms: ['RS256'], issuer: 'https://issuer.example', audience: 'orders' } },
        { id: 'call', kind: 'proxy', config: { url: 'http://127.0.0.1:1', path: '/api' } },
      ],
      edges: [{ from: 'verify', port: 'ok', to: 'call' }],
    };
    const result = validateWorkflow(document);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const dir = cacheDir();
    const first = await openGraphCache(dir, 'build-1');
    const key = first.keyOf('shared', undefined, undefined);
    first.put(key, result.graph);
    await first.flush();
    // the keys are written once: in the document, not again in the node's config
    expect(readFileSync(fileOf(dir, 'build-1'), 'utf8').split('x'.repeat(342)).length - 1).toBe(1);
    const taken = (await openGraphCache(dir, 'build-1')).take(key)!;
    expect(taken).toEqual(result.graph);
    const verify = taken.nodes.get('verify')!.config as Record<string, unknown>;
    const own = taken.document.nodes[0]!.config as Record<string, unknown>;
    expect(Object.keys(verify)).toEqual(Object.keys(result.graph.nodes.get('verify')!.config as object));
    expect(verify.jwks).toBe(own.jwks);
    expect(verify.algorithms).toBe(own.algorithms);
    // a field validation filled in (a default) is the graph's own
    expect(verify.clockTolerance).toBe((result.graph.nodes.get('verify')!.config as Record<string, unknown>).clockTolerance);
    expect(Object.hasOwn(own, 'clockTolerance')).toBe(false);
  });

  it('keys a graph by the document, the catalog, the limits and the validating build: any other is validated again', async () => {
    const cache = await openGraphCache(cacheDir(), 'build-1');
    const key = cache.keyOf('doc', 'catalog', undefined);
    expect(cache.keyOf('doc', 'catalog', undefined)).toBe(key);
    const others = [
      cache.keyOf('doc2', 'catalog', undefined),
      cache.keyOf('doc', 'catalog2', undefined),
      cache.keyOf('doc', undefined, undefined),
      cache.keyOf('doc', 'catalog', DEFAULT_DOCUMENT_LIMITS),
      cache.keyOf('doc', 'catalog', { ...DEFAULT_DOCUMENT_LIMITS, nodes: 10 }),
      (await openGraphCache(undefined, 'build-2')).keyOf('doc', 'catalog', undefined),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it('refuses a line altered or torn, keeps no graph with subflows, and lets go of the graphs not taken', async () => {
    const dir = cacheDir();
    const file = fileOf(dir, 'b');
    const { graph } = exampleGraphs()[0]!;
    const cache = await openGraphCache(dir, 'b');
    const key = cache.keyOf('h', undefined, undefined);
    cache.put(key, graph);
    cache.put(cache.keyOf('with-subflow', undefined, undefined), { ...graph, fragments: [{ node: 'x', fragment: 'f', version: 1, pinned: true }] });
    await cache.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    // the start moved, its checksum left as it was; a line cut short
    const moved = lines[0]!.replace(`"s":"${graph.start}"`, '"s":"elsewhere"');
    expect(moved).not.toBe(lines[0]);
    writeFileSync(file, `${moved}\n`);
    appendFileSync(file, lines[0]!.slice(0, 40));
    const altered = await openGraphCache(dir, 'b');
    expect(altered.loaded).toEqual({ entries: 0, refused: 2 });
    expect(altered.take(key)).toBeUndefined();

    // a line whose checksum holds but names no kind this build has: validated again
    writeFileSync(file, lineOf(key, JSON.stringify({ d: graph.document, s: graph.start, n: [['a', 'no-such-kind', {}, []]] })));
    const unknown = await openGraphCache(dir, 'b');
    expect(unknown.loaded.entries).toBe(1);
    expect(unknown.take(key)).toBeUndefined();

    writeFileSync(file, lineOf(key, JSON.stringify({ d: graph.document, s: graph.start, n: [] })));
    const released = await openGraphCache(dir, 'b');
    released.release();
    expect(released.take(key)).toBeUndefined();
  });

  it('keeps one file per build: a new build removes the files of the builds before, unread', async () => {
    const dir = cacheDir();
    const { graph } = exampleGraphs()[0]!;
    const old = await openGraphCache(dir, 'old-build');
    old.put(old.keyOf('h', undefined, undefined), graph);
    await old.flush();
    expect(readdirSync(dir)).toEqual(['validated-graphs-old-build.jsonl']);
    const next = await openGraphCache(dir, 'new-build');
    expect(next.loaded).toEqual({ entries: 0, refused: 0 });
    next.put(next.keyOf('h', undefined, undefined), graph);
    await next.flush();
    expect(readdirSync(dir)).toEqual(['validated-graphs-new-build.jsonl']);
  });

  it('every kind config validates to plain JSON (no transform, date or map), so a cached graph is the graph', () => {
    for (const [name, descriptor] of Object.entries(kinds)) expect(() => z.toJSONSchema(descriptor.config, { io: 'output' }), name).not.toThrow();
  });

  it('is off when the engine runs from its sources: their code can change under a data dir without a build to say so', () => {
    expect(validatingBuild()).toBeUndefined();
  });
});

describe('graph cache in the registry', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ demo: true });
  });
  afterAll(() => gw?.close());

  /** A registry of the gateway's store with `graphs`, and the version documents it read from the store. */
  async function syncWith(graphs: Awaited<ReturnType<typeof openGraphCache>>, limits = gw.sluice.registry.deps.limits) {
    const { store } = gw.sluice;
    const state = await store.state();
    const versionHashes = new Set([...state.workflows.values()].flatMap((record) => record.versions.map((v) => v.hash)));
    const read = store.documentText.bind(store);
    const documentsRead: string[] = [];
    const spy = vi.spyOn(store, 'documentText').mockImplementation(async (hash) => {
      if (versionHashes.has(hash)) documentsRead.push(hash);
      return read(hash);
    });
    const registry = createWorkflowRegistry({ deps: { ...gw.sluice.registry.deps, limits }, store, catalogs: createStoredCatalogs(store), graphs, logger: pino({ level: 'silent' }), activate: () => undefined });
    try {
      await registry.sync();
      await graphs.flush(); // what it validated anew is written before the folder is removed
    } finally {
      spy.mockRestore();
    }
    const active = new Map(registry.active);
    for (const workflow of active.values()) workflow.close();
    return { active, documentsRead };
  }

  it('serves a restart\'s stored versions from the graphs validated before, without reading or validating their documents; the same graphs', async () => {
    const dir = cacheDir();
    const served = gw.sluice.registry.active;
    const withSubflows = [...served.values()].filter((w) => w.graph.fragments.length > 0).map((w) => w.id);
    expect(withSubflows.length).toBeGreaterThan(0); // the examples have one: validated every time

    const first = await openGraphCache(dir, 'test-build');
    const before = await syncWith(first);
    await first.flush();
    expect(before.active.size).toBe(served.size);
    expect(before.documentsRead).toHaveLength(served.size);
    expect(readFileSync(fileOf(dir, 'test-build'), 'utf8').trim().split('\n')).toHaveLength(served.size - withSubflows.length);

    const after = await syncWith(await openGraphCache(dir, 'test-build'));
    expect([...after.active.keys()].sort()).toEqual([...served.keys()].sort());
    expect(after.documentsRead).toHaveLength(withSubflows.length);
    for (const [id, workflow] of after.active) expect(workflow.graph, id).toEqual(before.active.get(id)!.graph);
  });

  it('validates again under other limits: a graph cached under looser ones is not taken, and the version too large is refused', async () => {
    const dir = cacheDir();
    const first = await openGraphCache(dir, 'test-build');
    await syncWith(first);
    await first.flush();
    const smallest = Math.min(...[...gw.sluice.registry.active.values()].map((w) => w.graph.nodes.size));
    const tight = { ...DEFAULT_DOCUMENT_LIMITS, nodes: smallest };
    const { active, documentsRead } = await syncWith(await openGraphCache(dir, 'test-build'), tight);
    expect(documentsRead).toHaveLength(gw.sluice.registry.active.size);
    expect(active.size).toBeGreaterThan(0);
    expect(active.size).toBeLessThan(gw.sluice.registry.active.size);
    for (const workflow of active.values()) expect(workflow.graph.nodes.size).toBeLessThanOrEqual(smallest);
  });
});
