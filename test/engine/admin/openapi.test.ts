import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../../shared/admin/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import type { Endpoint } from '../../../engine/admin/http/endpoint.ts';
import { endpointTable, startAdminGateway } from './support.ts';

/* The admin API's own description: served without a token, OpenAPI 3.1, generated from the endpoint table. */

interface Operation {
  operationId: string;
  summary: string;
  description: string;
  security: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description?: string; $ref?: string; content?: Record<string, unknown> }>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }>; responses: Record<string, { content: Record<string, { schema: { required: string[] } }> }> };
}

describe('GET /admin/api/openapi.json', () => {
  let gw: TestGateway;
  let doc: OpenApi;
  let endpoints: Endpoint[];

  beforeAll(async () => {
    gw = await startAdminGateway();
    const res = await fetch(`${gw.url}/admin/api/openapi.json`); // no token
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApi;
    // the same table the running router was built from
    endpoints = endpointTable(gw);
  });
  afterAll(() => gw.close());

  const operations = () => endpoints.map((e) => ({ endpoint: e, path: `/admin/api${e.path.replace(/:([A-Za-z]+)/g, '{$1}')}` }));

  it('is OpenAPI 3.1 with bearer security and an RFC 9457 problem response', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.components.responses.Problem!.content['application/problem+json']!.schema.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance']));
  });

  it('describes every endpoint of the table, and nothing else', () => {
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(described.sort()).toEqual(operations().map(({ endpoint, path }) => `${endpoint.method} ${path}`).sort());
    expect(endpoints.length).toBeGreaterThanOrEqual(18);
  });

  it('each operation: a unique id, its roles, bearer security, its path parameters, its success and problem responses', () => {
    const ids = new Set<string>();
    for (const { endpoint, path } of operations()) {
      const op = doc.paths[path]![endpoint.method]!;
      const name = `${endpoint.method} ${path}`;
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      ids.add(op.operationId);
      expect(op.summary, name).toBe(endpoint.summary);
      expect(op.description, name).toBe(`Roles: ${PERMISSIONS[endpoint.permission].join(', ')}.`);
      expect(op.security, name).toEqual([{ bearer: [] }]);
      const pathParams = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]);
      expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name), name).toEqual(pathParams);
      for (const p of op.parameters ?? []) if (p.in === 'path') expect(p.required, name).toBe(true);
      const success = endpoint.method === 'post' && ['/workflows', '/fragments', '/partners', '/partners/:id/keys', '/partners/:id/keys/:key/rotate', '/partners/:id/certificates', '/partners/:id/hmac-secrets', '/partners/:id/hmac-secrets/:secret/rotate'].includes(endpoint.path) ? '201' : '200';
      // a streamed answer (an export) names its types; the others are JSON
      expect(op.responses[success], name).toMatchObject({ content: endpoint.streamed ? Object.fromEntries(endpoint.streamed.map((type) => [type, { schema: { type: 'string' } }])) : { 'application/json': expect.anything() } });
      for (const status of ['400', '401', '403', '404', '409', '422']) expect(op.responses[status], `${name} ${status}`).toEqual({ $ref: '#/components/responses/Problem' });
    }
    expect(ids.size).toBe(endpoints.length);
  });

  it('request bodies carry their zod schemas, strict (no additional properties), required only when an empty body would not do', () => {
    for (const { endpoint, path } of operations()) {
      const op = doc.paths[path]![endpoint.method]!;
      const name = `${endpoint.method} ${path}`;
      if (!endpoint.body) {
        expect(op.requestBody, name).toBeUndefined();
        continue;
      }
      const schema = op.requestBody!.content['application/json']!.schema;
      expect(schema.type, name).toBe('object');
      expect(schema.additionalProperties, name).toBe(false);
      expect(op.requestBody!.required, name).toBe(!endpoint.body.safeParse({}).success);
    }
    const draft = doc.paths['/admin/api/workflows/{id}/draft']!.put!.requestBody!;
    expect(draft.required).toBe(true);
    expect(draft.content['application/json']!.schema).toMatchObject({ required: ['document', 'baseRevision'] });
    expect(doc.paths['/admin/api/workflows/{id}/publish']!.post!.requestBody!.required).toBe(false);
  });

  it('query parameters are listed with their schemas', () => {
    const diff = doc.paths['/admin/api/workflows/{id}/diff']!.get!.parameters!.filter((p) => p.in === 'query');
    expect(diff.map((p) => [p.name, p.required])).toEqual([
      ['from', true],
      ['to', true],
    ]);
    const audit = doc.paths['/admin/api/audit']!.get!.parameters!.filter((p) => p.in === 'query');
    expect(audit.map((p) => [p.name, p.required])).toEqual([
      ['after', false],
      ['limit', false],
    ]);
  });
});
