/**
 * Hostile workflow documents: a document over any size limit (nodes, edges, bytes, expression
 * length, nesting depth) is refused with a 4xx naming the limit, never a 500; and the largest
 * document allowed is published and simulated while a bystander route keeps being answered:
 * validation, compilation and simulation run in slices, never in one long stretch (how late the
 * bystander is answered meanwhile is measured by `npm run bench -- scale`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONTRACT_PATH } from '../../shared/compile/index.ts';
import { DEFAULT_DOCUMENT_LIMITS as LIMITS } from '../../shared/schema/index.ts';
import { longWorkflow } from '../../bench/fixture.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminCall, PEOPLE, startAdminGateway, type AdminAnswer } from '../engine/admin/support.ts';
import { adversarialGroup, snapshotOf, type Snapshot } from './support.ts';
import { scheduledBystander } from './bystander.ts';

const group = adversarialGroup('documents');

const small = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, route: { methods: ['GET'], path: `/docs/${id}` }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 204 } }], edges: [], ...extra });

/** JSON text of arrays nested `depth` deep, written by hand (JSON.stringify itself overflows). */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const expectRefused = (answer: AdminAnswer, status: number, slug: string, named: RegExp, field?: string) => {
  expect(answer.status, JSON.stringify(answer.body).slice(0, 400)).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body.type).toMatch(new RegExp(`/${slug}$`));
  expect(JSON.stringify(answer.body)).toMatch(named);
  if (field !== undefined) expect(answer.body.problems).toContainEqual(expect.objectContaining({ code: 'too_large', field, message: expect.stringMatching(named) }));
  group.counted();
};

describe('documents over a size limit', () => {
  let gw: TestGateway;
  let before: Snapshot;

  beforeAll(async () => {
    gw = await startAdminGateway();
    before = await snapshotOf(gw);
  });

  afterAll(async () => {
    // nothing refused was stored, published or served
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
  });

  const nodes = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `n${i}`, kind: 'respond', config: { status: 204 } }));
  it.each([
    ['more nodes than SLUICE_MAX_NODES', { nodes: nodes(LIMITS.nodes + 1) }, /SLUICE_MAX_NODES/, 'nodes'],
    ['more edges than SLUICE_MAX_EDGES', { edges: Array.from({ length: LIMITS.edges + 1 }, (_, i) => ({ from: 'answer', port: `p${i}`, to: 'answer' })) }, /SLUICE_MAX_EDGES/, 'edges'],
    ['more bytes than SLUICE_MAX_DOCUMENT', { description: 'x'.repeat(4000), layout: Object.fromEntries(Array.from({ length: 31_000 }, (_, i) => [`node-${i}`, { x: i, y: i }])) }, /SLUICE_MAX_DOCUMENT/, '(document)'],
  ])('a draft with %s: 422 validation-failed naming the limit, nothing stored', async (_name, extra, named, field) => {
    const document = small('oversized', extra);
    expect(JSON.stringify(document).length).toBeLessThan(LIMITS.bytes + 64 * 1024); // within the body limit: the document's own limit answers
    if (field === '(document)') expect(JSON.stringify(document).length).toBeGreaterThan(LIMITS.bytes);
    expectRefused(await adminCall(gw.url, 'editor', 'POST', '/workflows', { document }), 422, 'validation-failed', named, field);
  });

  it('an expression longer than SLUICE_MAX_EXPRESSION: the validation names the node and field, the publish is refused 422', async () => {
    const long = `request.method = "GET" and (${Array.from({ length: 180 }, (_, i) => `request.query.q${i} = "${i}"`).join(' or ')})`;
    expect(long.length).toBeGreaterThan(LIMITS.expressionLength);
    const document = small('long-expression', {
      nodes: [{ id: 'check', kind: 'condition', config: { when: long } }, { id: 'yes', kind: 'respond', config: { status: 204 } }, { id: 'no', kind: 'respond', config: { status: 404 } }],
      edges: [{ from: 'check', port: 'true', to: 'yes' }, { from: 'check', port: 'false', to: 'no' }],
    });
    const checked = await adminCall(gw.url, 'editor', 'POST', '/workflows/long-expression/validate', { document });
    expect(checked.status).toBe(200);
    expect(checked.body.problems).toContainEqual({ code: 'too_large', node: 'check', field: 'config.when', message: expect.stringMatching(/SLUICE_MAX_EXPRESSION/) });
    group.counted();
    expect((await adminCall(gw.url, 'editor', 'POST', '/workflows', { document })).status).toBe(201);
    expectRefused(await adminCall(gw.url, 'publisher', 'POST', '/workflows/long-expression/publish', {}), 422, 'validation-failed', /SLUICE_MAX_EXPRESSION/);
    before = await snapshotOf(gw); // the draft was stored (drafts may be half drawn); nothing was published
  });

  it.each([
    ['a new workflow', 'POST', '/workflows', (deep: string) => `{"document":${JSON.stringify(small('deep')).slice(0, -1)},"layout":${deep}}}`],
    ['a draft', 'PUT', '/workflows/long-expression/draft', (deep: string) => `{"baseRevision":1,"document":${JSON.stringify(small('long-expression')).slice(0, -1)},"description":${deep}}}`],
    ['a simulation', 'POST', '/simulate', (deep: string) => `{"document":${JSON.stringify(small('deep'))},"request":{"method":"POST","path":"/docs/deep","body":${deep}}}`],
    ['a workflow test run', 'POST', '/workflows/long-expression/test', (deep: string) => `{"document":${JSON.stringify(small('long-expression')).slice(0, -1)},"tests":${deep}}}`],
  ])('%s nested 50,000 deep: 400 bad-request naming SLUICE_MAX_JSON_DEPTH, never a 500', async (_name, method, path, body) => {
    expectRefused(await adminCall(gw.url, 'editor', method, path, body(nested(50_000))), 400, 'bad-request', /SLUICE_MAX_JSON_DEPTH/);
  });

  it('a document nested one level past SLUICE_MAX_JSON_DEPTH: 400 bad-request naming it', async () => {
    // the body wraps the document: a document at the limit is accepted, one level deeper is not
    const at = `{"document":${JSON.stringify(small('at-depth')).slice(0, -1)},"layout":{"a":{"x":0,"y":0}},"description":"d","log":{"fields":{}},"samples":[{"name":"s","request":{"path":"/docs/at-depth","body":${nested(LIMITS.depth - 4)}}}]}}`;
    const answer = await adminCall(gw.url, 'editor', 'POST', '/workflows/at-depth/validate', at);
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
    const past = at.replace(nested(LIMITS.depth - 4), nested(LIMITS.depth - 3));
    expectRefused(await adminCall(gw.url, 'editor', 'POST', '/workflows/at-depth/validate', past), 400, 'bad-request', /SLUICE_MAX_JSON_DEPTH/);
  });

  it('a body larger than SLUICE_MAX_DOCUMENT allows: 413 payload-too-large naming it', async () => {
    const document = small('huge', { description: 'x'.repeat(4000), layout: { big: { x: 1, y: 2 } }, samples: [{ name: 'big', request: { path: '/docs/huge', body: 'y'.repeat(LIMITS.bytes + 128 * 1024) } }] });
    expectRefused(await adminCall(gw.url, 'editor', 'POST', '/workflows', { document }), 413, 'payload-too-large', /SLUICE_MAX_DOCUMENT/);
  });

  it('a workflow file nested 50,000 deep or larger than the limit is refused naming the limit; the files beside it are served', async () => {
    writeFileSync(join(gw.dataDir, 'workflows', 'a-deep.json'), `${JSON.stringify(small('file-deep')).slice(0, -1)},"layout":${nested(50_000)}}`);
    writeFileSync(join(gw.dataDir, 'workflows', 'b-huge.json'), JSON.stringify(small('file-huge', { description: 'x'.repeat(4000), samples: [{ name: 'big', request: { path: '/docs/file-huge', body: 'y'.repeat(4 * LIMITS.bytes + 1) } }] })));
    writeFileSync(join(gw.dataDir, 'workflows', 'c-many.json'), JSON.stringify(small('file-many', { nodes: nodes(LIMITS.nodes + 1) })));
    await gw.putWorkflow(small('file-good'), 'd-good.json');
    expect((await gw.fetch('/docs/file-good')).status).toBe(204);
    const refusals = gw.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('workflow refused')).map((l) => `${String(l.origin)}: ${String(l.msg)}`);
    expect(refusals).toEqual(expect.arrayContaining([expect.stringMatching(/^a-deep\.json: .*SLUICE_MAX_JSON_DEPTH/), expect.stringMatching(/^b-huge\.json: .*SLUICE_MAX_DOCUMENT/), expect.stringMatching(/^c-many\.json: .*SLUICE_MAX_NODES/)]));
    for (const path of ['/docs/file-deep', '/docs/file-huge', '/docs/file-many']) expect((await gw.fetch(path)).status).toBe(404);
    group.counted();
    before = await snapshotOf(gw);
  });
});

describe('the limits are settings', () => {
  it('SLUICE_MAX_NODES=20: a 21-node workflow is refused naming it', async () => {
    const gw = await startAdminGateway({ settings: { SLUICE_MAX_NODES: '20' } });
    try {
      const document = longWorkflow('twenty-one', '/docs/21', 21, 'http://127.0.0.1:9');
      expectRefused(await adminCall(gw.url, 'editor', 'POST', '/workflows', { document }), 422, 'validation-failed', /at most 20 .*SLUICE_MAX_NODES/, 'nodes');
      expect((await adminCall(gw.url, 'editor', 'POST', '/workflows', { document: longWorkflow('twenty', '/docs/20', 20, 'http://127.0.0.1:9') })).status).toBe(201);
    } finally {
      await gw.close();
    }
  });
});

describe('the largest document allowed, beside a bystander', () => {
  let gw: TestGateway;
  /** The editor sees an upstream mock: the chain ends in a proxy. */
  const chain = (id: string, name = id) => ({ ...longWorkflow(id, `/docs/${id}`, LIMITS.nodes, 'http://127.0.0.1:9'), name });

  beforeAll(async () => {
    gw = await startAdminGateway();
    expect((await adminCall(gw.url, 'editor', 'POST', '/workflows', { document: small('bystander', { nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }] }) })).status).toBe(201);
    expect((await adminCall(gw.url, 'publisher', 'POST', '/workflows/bystander/publish', {})).status).toBe(200);
    // warm up: the first compile of each kind loads and optimizes code, which no document controls
    expect((await adminCall(gw.url, 'editor', 'POST', '/simulate', { document: longWorkflow('warm', '/docs/warm', 50, 'http://127.0.0.1:9'), request: { method: 'GET', path: '/docs/warm' }, upstream: { status: 200 } })).status).toBe(200);
  });

  afterAll(async () => {
    await gw?.close();
  });

  it(`publishing a ${LIMITS.nodes}-node chain twice: every bystander call is served, and served while it publishes`, async () => {
    expect((await adminCall(gw.url, 'editor', 'POST', '/workflows', { document: chain('big') })).status).toBe(201);
    const bystander = scheduledBystander(gw.url, '/docs/bystander');
    const publishMs = await bystander.around(async () => {
      const started = performance.now();
      for (let i = 1; i <= 2; i++) {
        if (i > 1) expect((await adminCall(gw.url, 'editor', 'PUT', '/workflows/big/draft', { document: chain('big', `big ${i}`), baseRevision: i - 1 })).status).toBe(200);
        const published = await adminCall(gw.url, 'publisher', 'POST', '/workflows/big/publish', {});
        expect(published.status, JSON.stringify(published.body).slice(0, 400)).toBe(200);
        expect(published.body.version).toBe(i);
      }
      return performance.now() - started;
    });
    const seen = await bystander.stop();
    console.log(`published a ${LIMITS.nodes}-node chain twice in ${Math.round(publishMs)} ms; ${seen.summary}`);
    expect(seen.failures).toEqual([]);
    expect(seen.busy.count).toBeGreaterThan(0);
    expect(seen.answeredDuringWork).toBeGreaterThan(0);
    expect(gw.sluice.registry.active.get('big')?.version).toBe(2);
    group.counted();
  }, 180_000);

  it(`the contract of the ${LIMITS.nodes}-node chain lists at most ${MAX_CONTRACT_PATH} steps of each path, so it grows with the graph, not its square`, async () => {
    const res = await gw.fetch('/admin/api/workflows/big/contract', { headers: { authorization: `Bearer ${PEOPLE.viewer.token}` } });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
    const entries = (JSON.parse(text) as { entries: Array<{ node?: string; path: unknown[]; pathSkipped?: number }> }).entries;
    expect(Math.max(...entries.map((e) => e.path.length))).toBe(MAX_CONTRACT_PATH);
    // the proxy, last of the chain, is reached after every other node
    const last = entries.find((e) => e.node === 'call' && e.path.length === MAX_CONTRACT_PATH)!;
    expect(last.path.length + (last.pathSkipped ?? 0)).toBe(LIMITS.nodes);
    expect(text.length).toBeLessThan(4 * 1024 * 1024);
    group.counted();
  });

  it(`simulating a ${LIMITS.nodes}-node chain twice: every bystander call is served, and served while it simulates`, async () => {
    const bystander = scheduledBystander(gw.url, '/docs/bystander');
    const simulateMs = await bystander.around(async () => {
      const started = performance.now();
      for (let i = 1; i <= 2; i++) {
        const simulated = await adminCall(gw.url, 'editor', 'POST', '/simulate', { document: chain('simulated'), request: { method: 'GET', path: '/docs/simulated' }, upstream: { status: 200, body: { ok: i } } });
        expect(simulated.status, JSON.stringify(simulated.body).slice(0, 400)).toBe(200);
        expect(simulated.body.response).toMatchObject({ status: 200, body: { ok: i } });
        expect(simulated.body.path).toHaveLength(LIMITS.nodes);
      }
      return performance.now() - started;
    });
    const seen = await bystander.stop();
    console.log(`simulated a ${LIMITS.nodes}-node chain twice in ${Math.round(simulateMs)} ms; ${seen.summary}`);
    expect(seen.failures).toEqual([]);
    expect(seen.busy.count).toBeGreaterThan(0);
    expect(seen.answeredDuringWork).toBeGreaterThan(0);
    group.counted();
  }, 180_000);
});
