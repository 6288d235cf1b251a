import { z } from 'zod';
import { adminProblemSchema, PERMISSIONS } from '../../../shared/admin/index.ts';
import type { Endpoint } from './endpoint.ts';

/** A schema as OpenAPI 3.1 reads it (JSON Schema 2020-12); what JSON cannot say (a custom check) is left open. */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** A stable, unique operation id from method and path: put /workflows/:id/draft -> putWorkflowsByIdDraft. */
function operationId(method: string, path: string): string {
  const cap = (word: string) => word.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
  return method + path.split('/').filter(Boolean).map((segment) => (segment.startsWith(':') ? `By${cap(segment.slice(1))}` : cap(segment))).join('');
}

/** The admin API as an OpenAPI 3.1 document, generated from the same endpoint table that routes requests. */
export function adminOpenApi(endpoints: readonly Endpoint[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = `/admin/api${e.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
    const parameters: unknown[] = [...e.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (e.query) {
      const schema = jsonSchema(e.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(schema.properties ?? {})) parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s });
    }
    const errors = { $ref: '#/components/responses/Problem' };
    const success = String(e.status ?? 200);
    (paths[path] ??= {})[e.method] = {
      operationId: operationId(e.method, e.path),
      summary: e.summary,
      description: `Roles: ${PERMISSIONS[e.permission].join(', ')}.`,
      security: [{ bearer: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      // a body that may be empty (publish, validate the stored draft) is not required
      ...(e.body ? { requestBody: { required: !e.body.safeParse({}).success, content: { 'application/json': { schema: jsonSchema(e.body, 'input') } } } } : {}),
      responses: {
        [success]: { description: success === '201' ? 'Created' : 'OK', content: e.streamed ? Object.fromEntries(e.streamed.map((type) => [type, { schema: { type: 'string' } }])) : { 'application/json': { schema: jsonSchema(e.response, 'output') } } },
        ...(e.accepted ? { '202': { description: 'Accepted: taken, not done yet (waits for approval)', content: { 'application/json': { schema: jsonSchema(e.response, 'output') } } } } : {}),
        '400': errors, '401': errors, '403': errors, '404': errors, '409': errors, '422': errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sluice admin API', version, description: 'Drafts, versions, publishing, the error catalog and the audit log. Bearer tokens from SLUICE_ADMIN_TOKENS.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: { Problem: { description: 'An RFC 9457 problem', content: { 'application/problem+json': { schema: jsonSchema(adminProblemSchema, 'output') } } } },
    },
  };
}
