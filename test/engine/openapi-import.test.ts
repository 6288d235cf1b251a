import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createAdminClient } from '../../engine/admin/client.ts';
import { importOpenApi } from '../../engine/cli/openapi-import.ts';
import { workflowsFromOpenApi } from '../../shared/compile/openapi-import.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { expectProblem } from '../helpers/workflow.ts';
import { adminOf, PEOPLE, startAdminGateway, type Admin } from './admin/support.ts';

/** An OpenAPI 3.1 file with five operations, in YAML as people write them. */
const SPEC = `
openapi: 3.1.0
info: { title: Orders, version: '1' }
security: [{ oauth: [orders:read] }]
paths:
  /orders:
    get:
      operationId: listOrders
      summary: List orders
      parameters:
        - { name: limit, in: query, schema: { type: integer, maximum: 50 } }
    post:
      operationId: createOrder
      security: [{ oauth: [orders:write] }]
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/NewOrder' }
  /orders/{order-id}:
    parameters:
      - { name: order-id, in: path, required: true, schema: { type: string, pattern: '^ord-[0-9]+$' } }
    get: { operationId: getOrder }
    delete:
      operationId: cancelOrder
      parameters:
        - { name: X-Reason, in: header, required: true, schema: { type: string, minLength: 3 } }
  /health:
    get: { summary: Health, security: [] }
components:
  schemas:
    NewOrder:
      type: object
      required: [sku, quantity]
      properties:
        sku: { type: string }
        quantity: { $ref: '#/components/schemas/Quantity' }
    Quantity: { type: integer, minimum: 1 }
`;

describe('OpenAPI import', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let admin: Admin;
  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startAdminGateway({ env: { SLUICE_UPSTREAM_ORDERS: upstream.url } });
    admin = adminOf(gw.url);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('makes five drafts from five operations with `sluice import openapi`, which publish and serve', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-openapi-')), 'orders.yaml');
    writeFileSync(file, SPEC);
    const lines: string[] = [];
    const code = await importOpenApi(['openapi', file, '--upstream', '${SLUICE_UPSTREAM_ORDERS}', '--identity', 'none'], () => createAdminClient(gw.url, PEOPLE.editor.token), (line) => lines.push(line));
    expect(code).toBe(0);
    expect(lines.map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'draft list-orders (GET /orders)',
      'draft create-order (POST /orders)',
      'draft get-order (GET /orders/:order_id)',
      'draft cancel-order (DELETE /orders/:order_id)',
      'draft get-health (GET /health)',
    ]);
    for (const id of ['list-orders', 'create-order', 'get-order', 'cancel-order', 'get-health']) expect((await admin('publisher', 'POST', `/workflows/${id}/publish`)).status, id).toBe(200);

    expect((await gw.fetch('/orders?limit=10')).status).toBe(200);
    await expectProblem(await gw.fetch('/orders?limit=500'), 422, 'request-invalid', '/query/limit must be <= 50');
    const created = await gw.fetch('/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', quantity: 2 }) });
    expect(created.status).toBe(200);
    await expectProblem(await gw.fetch('/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A', quantity: 0 }) }), 422, 'request-invalid', '/body/quantity must be >= 1');
    expect((await gw.fetch('/orders/ord-7')).status).toBe(200);
    await expectProblem(await gw.fetch('/orders/7'), 422, 'request-invalid', '/params/order_id must match pattern');
    await expectProblem(await gw.fetch('/orders/ord-7', { method: 'DELETE' }), 422, 'request-invalid', '/headers/x-reason is required');
    expect((await gw.fetch('/health')).status).toBe(200);
    expect(upstream.received.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /orders?limit=10', 'POST /orders', 'GET /orders/ord-7', 'GET /health']);

    // a second import leaves what exists alone
    const again: string[] = [];
    expect(await importOpenApi(['openapi', file, '--upstream', '${SLUICE_UPSTREAM_ORDERS}', '--identity', 'none'], () => createAdminClient(gw.url, PEOPLE.editor.token), (line) => again.push(line))).toBe(0);
    expect(again.every((l) => l.startsWith('exists'))).toBe(true);
  });

  it('puts the chosen identity node and the operation\'s OAuth scopes first', () => {
    const [list, create, , , health] = workflowsFromOpenApi(parseYaml(SPEC), { upstream: '${SLUICE_UPSTREAM_ORDERS}', identity: 'jwt-verify', jwt: { jwksUri: 'https://idp.example/jwks', issuer: 'https://idp.example' } });
    const kinds = (w: { document: Record<string, unknown> }) => (w.document.nodes as Array<{ kind: string; config: Record<string, unknown> }>).map((n) => (n.kind === 'scope-check' ? `scope-check ${(n.config.all as string[]).join(' ')}` : n.kind));
    expect(kinds(list!)).toEqual(['jwt-verify', 'scope-check orders:read', 'validate-request', 'proxy']);
    expect(kinds(create!)).toEqual(['jwt-verify', 'scope-check orders:write', 'validate-request', 'proxy']);
    expect(kinds(health!)).toEqual(['jwt-verify', 'proxy']); // `security: []` asks for no scope
    expect(() => workflowsFromOpenApi({ swagger: '2.0' }, { upstream: 'http://x', identity: 'none' })).toThrow(/not an OpenAPI 3 document/);
  });

  it.each<[identity: 'jwt-verify' | 'introspect' | 'client-cert' | 'hmac-verify', args: string[], node: Record<string, unknown>, scoped: boolean]>([
    ['jwt-verify', ['--issuer', 'https://idp.example'], { kind: 'jwt-verify', config: { issuer: 'https://idp.example' } }, true],
    [
      'introspect',
      ['--issuer', 'https://idp.example', '--client-id', 'gw', '--client-secret-env', 'SLUICE_SECRET_AS'],
      { kind: 'introspect', config: { issuer: 'https://idp.example', clientId: 'gw', clientSecretEnv: 'SLUICE_SECRET_AS' } },
      true,
    ],
    ['introspect', ['--introspection-endpoint', 'https://idp.example/introspect', '--client-id', 'gw', '--client-secret-env', 'SLUICE_SECRET_AS'], { kind: 'introspect', config: { endpoint: 'https://idp.example/introspect', clientId: 'gw', clientSecretEnv: 'SLUICE_SECRET_AS' } }, true],
    ['client-cert', [], { kind: 'client-cert', config: {} }, false],
    ['hmac-verify', [], { kind: 'hmac-verify', config: {} }, false],
  ])('the CLI\'s --identity %s %j starts each draft with that node; scopes only for callers that carry them', async (identity, args, node, scoped) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-openapi-'));
    const file = join(dir, 'orders.yaml');
    writeFileSync(file, SPEC);
    const prefix = `${identity}-${args[0]?.replace(/^--/, '') ?? 'plain'}`;
    const spec = (parseYaml(SPEC) as { paths: Record<string, Record<string, { operationId?: string }>> });
    for (const operations of Object.values(spec.paths)) for (const operation of Object.values(operations)) if (operation.operationId) operation.operationId = `${prefix}-${operation.operationId}`;
    writeFileSync(file, JSON.stringify(spec));
    const lines: string[] = [];
    const code = await importOpenApi(['openapi', file, '--upstream', '${SLUICE_UPSTREAM_ORDERS}', '--identity', identity, ...args], () => createAdminClient(gw.url, PEOPLE.editor.token), (line) => lines.push(line));
    expect(code, lines.join('\n')).toBe(0);
    const drafted = lines.filter((l) => l.startsWith('draft')).map((l) => l.split(/\s+/)[1]!);
    expect(drafted.length).toBeGreaterThan(0);
    const listing = (await admin('editor', 'GET', `/workflows/${drafted[0]}`)).body as { draft?: { document: { nodes: Array<Record<string, unknown>> } }; document?: { nodes: Array<Record<string, unknown>> } };
    const nodes = (listing.draft?.document ?? listing.document)!.nodes;
    expect(nodes[0]).toMatchObject(node);
    expect(nodes.some((n) => n.kind === 'scope-check')).toBe(scoped);
    if (!scoped) expect(lines.find((l) => l.includes(drafted[0]!))).toMatch(/OAuth scopes \(orders:read\) are not checked/);
  });

  it('refuses an identity it does not know, with the usage', async () => {
    const lines: string[] = [];
    expect(await importOpenApi(['openapi', 'x.yaml', '--upstream', 'http://x', '--identity', 'saml'], () => createAdminClient(gw.url, PEOPLE.editor.token), (line) => lines.push(line))).toBe(2);
    expect(lines.join('\n')).toMatch(/--identity api-key\|jwt-verify\|introspect\|client-cert\|hmac-verify\|none/);
  });
});

