/**
 * Preview before it ships: simulations in the real engine with a trace, the error contract
 * derived from the graph (checked against every path the XState-computed table can take, and
 * as an OpenAPI 3.1 document), and workflow tests that gate publishing.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorContract, validateWorkflow, type ContractEntry } from '../../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../../shared/schema/index.ts';
import { kinds, type AnyKindDescriptor } from '../../../shared/nodes/index.ts';
import { ensureDemoKeys, signDemoToken } from '../../../engine/demo/keys.ts';
import { compileWorkflow } from '../../../engine/compile/compile.ts';
import type { Step } from '../../../engine/compile/types.ts';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import { createEgressPolicy } from '../../../engine/kinds/support/egress.ts';
import { sluice } from '../../helpers/cli.ts';
import { REPO, startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { adminCall, PEOPLE } from '../admin/support.ts';

const ADMIN_TOKENS = Object.values(PEOPLE).map((p) => `${p.name}:${p.role}:${p.token}`).join(',');
const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
const EXAMPLES = ['orders', 'order-detail', 'status'];
const example = (id: string) => JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', `${id}.json`), 'utf8')) as Record<string, any>;

describe('simulation', () => {
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
    token = await signDemoToken(gw.dataDir, { sub: 'alice', scopes: ['orders:read'], partner: 'acme' });
  });
  afterAll(() => gw?.close());

  const simulate = (body: Record<string, unknown>, who: 'editor' | 'viewer' = 'editor') => adminCall(gw.url, who, 'POST', '/simulate', body);

  it('runs a request through the active version and answers the response and a trace of every node', async () => {
    const answer = await simulate({ workflow: 'orders', version: 'active', request: { method: 'GET', path: '/api/orders', headers: { authorization: `Bearer ${token}` } }, upstream: { status: 200, body: { orders: [{ id: 'o-1', total: 5, internalNote: 'x' }] } } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const result = answer.body as { ok: true; response: { status: number; body: unknown }; trace: Array<{ node: string; kind: string; port: string; ms: number; input: any; changes: Array<{ field: string; after: unknown }> }>; path: string[] };
    expect(result.ok).toBe(true);
    expect(result.response.status).toBe(200);
    expect(result.path).toEqual(['verify', 'scopes', 'limit', 'call', 'shape']);
    expect(result.trace.map((s) => `${s.node}:${s.port}`)).toEqual(['verify:ok', 'scopes:ok', 'limit:ok', 'call:ok', 'shape:ok']);
    for (const step of result.trace) expect(step.ms).toBeGreaterThanOrEqual(0);
    const verify = result.trace[0]!;
    expect(verify.changes.map((c) => c.field)).toEqual(expect.arrayContaining(['claims', 'partner', 'subject', 'scopes']));
    expect(verify.changes.find((c) => c.field === 'partner')!.after).toBe('acme');
    expect(result.trace.find((s) => s.node === 'call')!.changes.map((c) => c.field)).toContain('response');
    // secrets never appear in a trace
    expect(verify.input.request.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(answer.body)).not.toContain(token);
    expect(JSON.stringify(answer.body)).not.toContain(token.split('.')[2]!);
  });

  it('answers the problem a failing path gives, with the node that raised it', async () => {
    const result = (await simulate({ workflow: 'orders', request: { method: 'GET', path: '/api/orders' }, version: 'active' })).body as any;
    expect(result.response.status).toBe(401);
    expect(result.response.headers['content-type']).toBe('application/problem+json');
    expect(result.response.body.type).toMatch(/missing-token$/);
    expect(result.trace).toEqual([expect.objectContaining({ node: 'verify', port: 'missing' })]);
  });

  it('simulates an unsaved document given in the body and refuses an invalid one naming node and field', async () => {
    const document: Record<string, any> = { ...example('status'), nodes: [{ id: 'answer', kind: 'respond', config: { status: 201, body: { fresh: true } } }] };
    const ok = (await simulate({ document, request: { method: 'GET', path: document.route.path } })).body as any;
    expect(ok.response).toMatchObject({ status: 201, body: { fresh: true } });
    const broken = (await simulate({ document: { ...document, nodes: [{ id: 'answer', kind: 'respond', config: { status: 99 } }] }, request: { method: 'GET', path: '/x' } })).body as any;
    expect(broken.ok).toBe(false);
    expect(broken.problems).toEqual([expect.objectContaining({ node: 'answer', field: 'config.status' })]);
  });

  it('changes no counter, no version and no audit entry except who simulated', async () => {
    const before = await gw.sluice.store.state();
    const auditBefore = await gw.sluice.store.audit();
    // the example allows 100 a minute per partner: 120 previews would exhaust a real budget
    for (let i = 0; i < 120; i++) {
      const r = (await simulate({ workflow: 'orders', version: 'active', request: { method: 'GET', path: '/api/orders', headers: { authorization: `Bearer ${token}` } }, upstream: { status: 200, body: { orders: [] } } })).body as any;
      expect(r.response.status).toBe(200);
    }
    const real = await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } });
    expect(real.status).toBe(200);
    expect(real.headers.get('ratelimit-remaining')).toBe('99'); // the real budget is untouched
    const after = await gw.sluice.store.state();
    expect(after.workflows).toEqual(before.workflows);
    const added = (await gw.sluice.store.audit()).slice(auditBefore.length);
    expect(added).toHaveLength(120);
    expect(new Set(added.map((e) => `${e.action} ${e.actor} ${e.workflow}`))).toEqual(new Set(['workflow.simulate eddie orders']));
    expect((await gw.sluice.store.verifyAudit() as { ok: boolean }).ok).toBe(true);
  });

  it('mints a demo token with the claims a request asks for, each time it runs', async () => {
    const result = (await simulate({ workflow: 'orders', version: 'active', request: { method: 'GET', path: '/api/orders', token: { sub: 'carol', scopes: ['orders:read'], partner: 'globex' } }, upstream: { status: 200, body: { orders: [] } } })).body as any;
    expect(result.response.status).toBe(200);
    expect(result.trace[0].changes.find((c: { field: string }) => c.field === 'partner').after).toBe('globex');
    const denied = (await simulate({ workflow: 'orders', version: 'active', request: { method: 'GET', path: '/api/orders', token: { sub: 'carol', scopes: ['profile'] } } })).body as any;
    expect(denied.response.status).toBe(403);
  });

  it('needs the editor role; a viewer is refused', async () => {
    const answer = await simulate({ workflow: 'orders', request: { method: 'GET', path: '/api/orders' } }, 'viewer');
    expect(answer.status).toBe(403);
  });

  it('mints a demo token with chosen claims for the request builder', async () => {
    const answer = await adminCall(gw.url, 'editor', 'POST', '/demo-token', { sub: 'bob', scopes: ['orders:read'], partner: 'globex' });
    expect(answer.status).toBe(200);
    const res = await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${answer.body.token}` } });
    expect(res.status).toBe(200);
  });
});

const demoData = mkdtempSync(join(tmpdir(), 'sluice-contract-'));
await ensureDemoKeys(demoData);

/** Every (error, node, port) the machine can end in: all port choices walked through the XState-computed table. */
async function bruteForce(document: unknown) {
  const result = validateWorkflow(document, { catalog });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const resources = new Map<string, unknown>();
  const compiled = await compileWorkflow(result.graph, 1, {
    env: { SLUICE_DEMO_UPSTREAM: 'http://127.0.0.1:9' },
    egress: createEgressPolicy({ allow: '127.0.0.1:9' }),
    dataDir: demoData,
    rateLimits: createMemoryRateLimitStore(),
    shared: { get: <T,>(k: string, c: () => T) => (resources.has(k) ? (resources.get(k) as T) : (resources.set(k, c()).get(k) as T)) },
  });
  const found = new Set<string>();
  const nodesOf = result.graph.nodes;
  const visit = (step: Step, via: { node: string; port: string } | undefined, seen: Set<string>) => {
    if (step.final) {
      const meta = step.meta;
      if (meta.outcome === 'raise') found.add(`${meta.error}@${meta.node}.${meta.port}`);
      if (meta.outcome === 'fault' && via) found.add(`expression_failed@${via.node}.$fault`);
      if (meta.outcome === 'finish' && via && nodesOf.get(via.node)!.kind === 'respond') found.add(`answer:${via.node}@${via.node}.done`);
      return;
    }
    if (seen.has(step.state)) return;
    const node = nodesOf.get(step.state)!;
    const descriptor = kinds[node.kind as keyof typeof kinds] as AnyKindDescriptor;
    for (const port of node.ports) visit(step.next[port.name]!, { node: node.id, port: port.name }, new Set([...seen, step.state]));
    // a node with expressions can fail by an expression: the machine's onError
    if (descriptor.errors.includes('expression_failed') && descriptor.expressions(node.config).length > 0 && !node.ports.some((p) => typeof p.unwired === 'object' && p.unwired.error === 'expression_failed'))
      visit(step.fault, { node: node.id, port: '$fault' }, seen);
  };
  visit(compiled.start, undefined, new Set());
  compiled.close();
  return { found, graph: result.graph };
}

const contractKeys = (entries: ContractEntry[]) => new Set(entries.filter((e) => e.node !== undefined).map((e) => `${e.id}@${e.node}.${e.port}`));

describe('the error contract', () => {
  it.each(EXAMPLES)('of %s lists exactly the answers every path through its machine can end in', async (id) => {
    const { found, graph } = await bruteForce(example(id));
    expect(contractKeys(errorContract(graph, catalog))).toEqual(found);
  });

  it('names status, type, title, node, port, condition, path, headers and an example body', () => {
    const result = validateWorkflow(example('orders'), { catalog });
    if (!result.ok) throw new Error('invalid example');
    const contract = errorContract(result.graph, catalog, { deprecated: { sunset: '2030-01-01T00:00:00Z' } });
    const limited = contract.find((e) => e.id === 'rate_limited')!;
    expect(limited).toMatchObject({ status: 429, type: 'https://problems.sluice.example/rate-limited', node: 'limit', port: 'limited', condition: 'the caller sends more than 100 requests per 1m per partner' });
    expect(limited.path).toEqual([{ node: 'verify', port: 'ok' }, { node: 'scopes', port: 'ok' }, { node: 'limit', port: 'limited' }]);
    expect(limited.headers).toMatchObject({ 'retry-after': '<seconds>', deprecation: '@<unix time>', sunset: 'Tue, 01 Jan 2030 00:00:00 GMT' });
    expect(limited.example).toMatchObject({ status: 429, type: limited.type, instance: '/api/orders' });
    expect(contract.filter((e) => e.status === 401).map((e) => e.id).sort()).toEqual(['invalid_token', 'missing_token']);
    expect(contract.find((e) => e.id === 'insufficient_scope')).toMatchObject({ status: 403, node: 'scopes', port: 'denied' });
  });

  it('is served by the admin API, as JSON and as an OpenAPI 3.1 document that validates against the OpenAPI 3.1 schema', async () => {
    const gw = await startTestGateway({ demo: true, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
    try {
      const json = await adminCall(gw.url, 'viewer', 'GET', '/workflows/orders/contract');
      expect(json.status).toBe(200);
      expect((json.body.entries as ContractEntry[]).map((e) => e.status)).toEqual(expect.arrayContaining([401, 403, 429]));
      const openapi = await adminCall(gw.url, 'viewer', 'GET', '/workflows/orders/contract?format=openapi');
      expect(openapi.status).toBe(200);
      // ajv 8 mishandles $dynamicRef with unevaluatedProperties; in this schema "#meta" is the anchor of $defs/schema, so a plain $ref means the same
      const text = readFileSync(join(REPO, 'node_modules', '@apidevtools', 'openapi-schemas', 'schemas', 'v3.1', 'schema.json'), 'utf8');
      const schema = JSON.parse(text.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'));
      const ajv = new Ajv2020({ strict: false, validateFormats: false });
      const valid = ajv.validate(schema, openapi.body);
      expect(ajv.errors ?? [], JSON.stringify(ajv.errors?.slice(0, 3))).toEqual([]);
      expect(valid).toBe(true);
      expect(ajv.validate(schema, { ...openapi.body, paths: { '/api/orders': { get: { responses: { '429': { content: 'not an object' } } } } } })).toBe(false); // the check can fail
      const adminApi = await (await fetch(`${gw.url}/admin/api/openapi.json`)).json();
      expect(ajv.validate(schema, adminApi), JSON.stringify(ajv.errors?.slice(0, 3))).toBe(true);
      expect(Object.keys(openapi.body.paths)).toEqual(['/api/orders']);
      expect(openapi.body.paths['/api/orders'].get.responses['429']).toEqual({ $ref: '#/components/responses/Status429' });
      expect(openapi.body.components.responses.Status401.content['application/problem+json'].examples).toHaveProperty(['verify.missing']);
    } finally {
      await gw.close();
    }
  });
});

describe('workflow tests', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ demo: true, workflows: [], settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
  });
  afterAll(() => gw?.close());

  const doc = (status: number, expected: number) => ({
    id: 'gated',
    name: 'Gated',
    route: { methods: ['GET'], path: '/gated' },
    nodes: [{ id: 'answer', kind: 'respond', config: { status, body: { status } } }],
    tests: [{ name: 'answers its status', request: { method: 'GET', path: '/gated' }, expect: { status: expected, body: { status: expected } } }],
  });

  it('a failing test blocks publish, naming expected and actual; the active version keeps serving', async () => {
    expect((await adminCall(gw.url, 'editor', 'POST', '/workflows', { document: doc(200, 200) })).status).toBe(201);
    expect((await adminCall(gw.url, 'publisher', 'POST', '/workflows/gated/publish', {})).status).toBe(200);
    expect((await gw.fetch('/gated')).status).toBe(200);
    const draft = await adminCall(gw.url, 'editor', 'PUT', '/workflows/gated/draft', { document: doc(202, 200), baseRevision: 1 });
    expect(draft.status).toBe(200);
    const tested = await adminCall(gw.url, 'editor', 'POST', '/workflows/gated/test', {});
    expect(tested.body).toMatchObject({ passed: false, tests: [{ name: 'answers its status', passed: false }] });
    const refused = await adminCall(gw.url, 'publisher', 'POST', '/workflows/gated/publish', {});
    expect(refused.status).toBe(422);
    expect(refused.body.problems).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'test_failed', field: 'tests.0', message: 'test "answers its status": status expected 200, got 202' })]));
    expect(refused.body.tests).toEqual([expect.objectContaining({ name: 'answers its status', passed: false, failures: expect.arrayContaining([{ what: 'status', expected: 200, actual: 202 }]) })]);
    const still = await gw.fetch('/gated');
    expect(still.status).toBe(200);
    expect((await adminCall(gw.url, 'viewer', 'GET', '/workflows/gated/versions')).body.active).toBe(1);
    // fixed test: publishes, once a second publisher approves the answer's 200 becoming a 202 (the contract gate)
    expect((await adminCall(gw.url, 'editor', 'PUT', '/workflows/gated/draft', { document: doc(202, 202), baseRevision: 2 })).status).toBe(200);
    expect((await adminCall(gw.url, 'publisher', 'POST', '/workflows/gated/publish', {})).status).toBe(202);
    expect((await adminCall(gw.url, 'publisher2', 'POST', '/workflows/gated/approval/approve', {})).status).toBe(200);
    expect((await gw.fetch('/gated')).status).toBe(202);
  });

  it('sluice test runs tests offline with a report and an exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-test-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify(doc(200, 200)));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...doc(500, 200), id: 'bad', route: { methods: ['GET'], path: '/bad' }, tests: [{ ...doc(500, 200).tests[0], request: { method: 'GET', path: '/bad' } }] }));
    const run = (files: string[]) => sluice(['test', ...files], { env: { ...process.env, SLUICE_DATA: join(dir, 'data') } }).then((r) => ({ code: r.code, out: r.stdout }));
    const good = await run([join(dir, 'good.json'), ...EXAMPLES.map((id) => join(REPO, 'examples', 'workflows', `${id}.json`))]);
    expect(good.code, good.out).toBe(0);
    expect(good.out).toMatch(/ok {4}.*good\.json: answers its status \(200 via answer\)/);
    expect(good.out).toContain('0 failed');
    const bad = await run([join(dir, 'bad.json')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('FAIL  ');
    expect(bad.out).toContain('status: expected 200, got 500');
  }, 60_000);
});
