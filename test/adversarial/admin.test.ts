/**
 * Hostile workflows and admin calls: generated documents never crash the validator or the
 * compiler, malformed ids and huge documents get clear answers, unknown fields are refused,
 * token guessing is cut off, and the admin API answers no cookie and no foreign origin.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CODES, toMachineConfig, validateWorkflow } from '../../shared/compile/index.ts';
import { kinds } from '../../shared/nodes/index.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../../shared/schema/index.ts';
import { compileWorkflow } from '../../engine/compile/compile.ts';
import { createWorkflowMachine } from '../../engine/compile/machine.ts';
import { createMemoryRateLimitStore } from '../../engine/kinds/support/rate-limit-store.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { adminCall, startAdminGateway } from '../engine/admin/support.ts';
import { adversarialGroup, snapshotOf, SOAK, type Snapshot } from './support.ts';

const group = adversarialGroup('workflows-and-admin');

const KIND_NAMES = Object.keys(kinds);
const PORTS = ['ok', 'missing', 'invalid', 'denied', 'limited', 'true', 'false', 'error', 'timeout', 'default', 'constructor', '__proto__', 'x'];
/** Configs that are valid for some kinds and wrong for others, plus junk. */
const CONFIGS = [
  {},
  { status: 200, body: { ok: true } },
  { status: 204 },
  { url: 'http://127.0.0.1:9' },
  { all: ['orders:read'] },
  { limit: 5, window: '1m' },
  { when: 'request.method = "GET"' },
  { when: 'request.(' },
  { cases: [{ port: 'a', when: 'true' }] },
  { body: '{ "a": 1 }' },
  { error: 'forbidden', params: { reason: 'no' } },
  { jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } },
  { keys: [{ hash: `sha256:${'a'.repeat(64)}`, partner: 'p' }] },
];

const nodeId = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'constructor', '__proto__', 'A B', '../x');
const documentArbitrary = fc.record(
  {
    id: fc.oneof(fc.constantFrom('fuzz', '../etc/passwd', '', 'x'.repeat(70)), fc.string()),
    name: fc.oneof(fc.constant('Fuzz'), fc.string()),
    route: fc.record({ methods: fc.subarray(['GET', 'POST', 'TRACE', 'DELETE']), path: fc.oneof(fc.constantFrom('/fuzz', '/fuzz/:id', '/admin/x', '/a/../b', '/*'), fc.string()) }),
    start: fc.option(nodeId, { nil: undefined }),
    nodes: fc.array(fc.record({ id: nodeId, kind: fc.oneof(fc.constantFrom(...KIND_NAMES), fc.string()), config: fc.oneof(fc.constantFrom(...CONFIGS), fc.anything()) }), { maxLength: 8 }),
    edges: fc.array(fc.record({ from: nodeId, port: fc.constantFrom(...PORTS), to: nodeId }), { maxLength: 12 }),
  },
  { requiredKeys: ['id', 'name', 'route', 'nodes', 'edges'] },
);

const deps = () => ({ env: {}, dataDir: '/nonexistent', rateLimits: createMemoryRateLimitStore(), shared: { get: <T>(_key: string, create: () => T) => create() } });

/** Kinds with a config valid for them: generated graphs of these are often valid workflows. */
const VALID_NODES: Array<{ kind: string; config: Record<string, unknown>; ports: string[] }> = [
  { kind: 'respond', config: { status: 200, body: { ok: true } }, ports: [] },
  { kind: 'error', config: { error: 'forbidden', params: { reason: 'no' } }, ports: [] },
  { kind: 'condition', config: { when: 'request.method = "GET"' }, ports: ['true', 'false'] },
  { kind: 'scope-check', config: { all: ['orders:read'] }, ports: ['ok', 'denied'] },
  { kind: 'transform-request', config: { vars: '{ "a": 1 }' }, ports: ['ok', 'error'] },
  { kind: 'rate-limit', config: { limit: 5, window: '1m', key: 'ip' }, ports: ['ok', 'limited'] },
  { kind: 'proxy', config: { url: 'http://127.0.0.1:9' }, ports: ['ok', 'error', 'timeout'] },
];
const graphArbitrary = fc
  .array(fc.nat(VALID_NODES.length - 1), { minLength: 1, maxLength: 7 })
  .chain((picks) =>
    fc.record({
      picks: fc.constant(picks),
      wires: fc.array(fc.record({ from: fc.nat(picks.length - 1), port: fc.nat(3), to: fc.nat(picks.length - 1) }), { maxLength: 10 }),
    }),
  )
  .map(({ picks, wires }) => ({
    id: 'fuzz',
    name: 'Fuzz',
    route: { methods: ['GET'], path: '/fuzz' },
    nodes: picks.map((k, i) => ({ id: `n${i}`, kind: VALID_NODES[k]!.kind, config: VALID_NODES[k]!.config })),
    edges: wires
      .filter((w) => VALID_NODES[picks[w.from]!]!.ports.length > 0)
      .map((w) => {
        const ports = VALID_NODES[picks[w.from]!]!.ports;
        return { from: `n${w.from}`, port: ports[w.port % ports.length]!, to: `n${w.to}` };
      }),
  }));

describe('generated workflow documents', () => {
  it('never crash the validator or the compiler: a list of problems or a machine', async () => {
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: documentArbitrary }, { weight: 3, arbitrary: graphArbitrary }, { weight: 1, arbitrary: fc.anything() }), async (document) => {
        const result = validateWorkflow(document);
        group.counted();
        if (!result.ok) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const problem of result.problems) {
            expect(PROBLEM_CODES).toContain(problem.code);
            expect(typeof problem.message).toBe('string');
          }
          return;
        }
        valid++;
        const config = toMachineConfig(result.graph);
        expect(JSON.parse(JSON.stringify(config))).toEqual(config); // pure JSON
        createWorkflowMachine(config);
        try {
          (await compileWorkflow(result.graph, 1, deps())).close();
        } catch (error) {
          // a valid document may still not prepare here (keys it cannot load): a refusal naming the node
          expect((error as Error).name).toBe('WorkflowRefused');
        }
      }),
      { numRuns: 400 * SOAK, seed: SOAK > 1 ? Date.now() : 20261129 },
    );
    expect(valid).toBeGreaterThan(0); // the generator reaches valid documents too
  });
});

describe('hostile admin calls', () => {
  let gw: TestGateway;
  let before: Snapshot;

  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_ADMIN_MAX_FAILURES: '10' } });
    before = await snapshotOf(gw);
  });

  afterAll(async () => {
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
  });

  const doc = (extra: Record<string, unknown> = {}) => ({ id: 'hostile', name: 'Hostile', route: { methods: ['GET'], path: '/hostile' }, nodes: [{ id: 'a', kind: 'respond', config: { status: 204 } }], ...extra });
  const expectRefused = (answer: { status: number; body: Record<string, any>; headers: Headers }, status: number, slug: string, field?: string) => {
    expect(answer.status, JSON.stringify(answer.body).slice(0, 400)).toBe(status);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body.type).toMatch(new RegExp(`/${slug}$`));
    if (field) expect((answer.body.problems as Array<{ field?: string }>).map((p) => p.field)).toContain(field);
    group.counted();
  };

  it.each([
    ['an id climbing out of the store', { id: '../../etc/passwd' }, 'id'],
    ['an id with a slash', { id: 'a/b' }, 'id'],
    ['a 10,000-character id', { id: 'x'.repeat(10_000) }, 'id'],
    ['a 100,000-character name', { name: 'n'.repeat(100_000) }, 'name'],
    ['a route under /admin', { route: { methods: ['GET'], path: '/admin/api/whoami' } }, 'route.path'],
    ['10,001 nodes', { nodes: Array.from({ length: 10_001 }, (_, i) => ({ id: `n${i}`, kind: 'respond', config: {} })) }, 'nodes'],
  ])('a workflow with %s: refused naming the field', async (_name, extra, field) => {
    const checked = await adminCall(gw.url, 'admin', 'POST', '/workflows/hostile/validate', { document: doc(extra) });
    expect(checked.status).toBe(200);
    expect(checked.body.ok).toBe(false);
    expect((checked.body.problems as Array<{ field?: string }>).map((p) => p.field)).toContain(field);
    group.counted();
    // a draft may be half drawn, so only a bad id stops its creation; the rest stops its publication
    if (field === 'id') expectRefused(await adminCall(gw.url, 'admin', 'POST', '/workflows', { document: doc(extra) }), 422, 'validation-failed', field);
  });

  it(`a chain of the most nodes allowed (${DEFAULT_DOCUMENT_LIMITS.nodes}) validates in bounded time`, async () => {
    const size = DEFAULT_DOCUMENT_LIMITS.nodes;
    const nodes = Array.from({ length: size }, (_, i) => ({ id: `n${i}`, kind: i === size - 1 ? 'respond' : 'transform-request', config: i === size - 1 ? { status: 204 } : { vars: `{ "step": ${i} }` } }));
    const edges = nodes.slice(0, -1).map((n, i) => ({ from: n.id, port: 'ok', to: `n${i + 1}` }));
    const started = performance.now();
    const answer = await adminCall(gw.url, 'admin', 'POST', '/workflows/hostile/validate', { document: doc({ nodes, edges }) });
    expect(answer.status).toBe(200);
    expect(answer.body.ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(15_000);
    group.counted();
  });

  it.each([
    ['POST /workflows', 'POST', '/workflows', { document: doc(), owner: 'mallory' }, 'owner'],
    ['PUT /workflows/:id/draft', 'PUT', '/workflows/hostile/draft', { document: doc(), baseRevision: 0, publishedBy: 'admin' }, 'publishedBy'],
    ['POST /workflows/:id/rollback', 'POST', '/workflows/hostile/rollback', { version: 1, force: true }, 'force'],
    ['POST /workflows/:id/publish', 'POST', '/workflows/hostile/publish', { approvedBy: 'someone-else' }, 'approvedBy'],
  ])('mass assignment on %s: 400 bad-request naming the unknown field', async (_name, method, path, body, field) => {
    expectRefused(await adminCall(gw.url, 'admin', method, path, body), 400, 'bad-request', field);
  });

  it('a cookie is never a credential: 401 unauthorized without the bearer header', async () => {
    const res = await fetch(`${gw.url}/admin/api/workflows`, { method: 'POST', headers: { cookie: 'sluice.adminToken=admin-token-0123456789abcdef; session=1', 'content-type': 'application/json' }, body: JSON.stringify({ document: doc() }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { type: string }).type).toMatch(/\/unauthorized$/);
    group.counted();
  });

  it('CORS is closed: no foreign origin is allowed, preflight or not', async () => {
    const preflight = await fetch(`${gw.url}/admin/api/workflows`, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
    const simple = await fetch(`${gw.url}/admin/api/whoami`, { headers: { origin: 'https://evil.test', authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    group.counted();
  });

  it('token guessing is cut off: 10 wrong tokens, then 429 too-many-attempts even for a right one', async () => {
    for (let i = 0; i < 10; i++) expectRefused(await adminCall(gw.url, { authorization: `Bearer guess-${i}` }, 'GET', '/whoami'), 401, 'unauthorized');
    const locked = await adminCall(gw.url, { authorization: 'Bearer guess-10' }, 'GET', '/whoami');
    expectRefused(locked, 429, 'too-many-attempts');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expectRefused(await adminCall(gw.url, 'admin', 'GET', '/whoami'), 429, 'too-many-attempts');
    const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } });
    expect(metrics.status).toBe(429);
    group.counted();
  });
});
