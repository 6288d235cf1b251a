import { z } from 'zod';
import { PERMISSIONS } from './auth.ts';

interface EndpointLike {
  method: string;
  path: string;
  permission: keyof typeof PERMISSIONS;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
}

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    traceId: { type: 'string' },
    problems: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, node: { type: 'string' }, field: { type: 'string' } } } },
  },
};

/** The admin API as an OpenAPI 3.1 document, generated from the same endpoint table that routes requests. */
export function adminOpenApi(endpoints: ReadonlyArray<EndpointLike>, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = `/admin/api${e.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
    const parameters: unknown[] = [...e.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (e.query) {
      const schema = z.toJSONSchema(e.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(schema.properties ?? {})) parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s });
    }
    const errors = { $ref: '#/components/responses/Problem' };
    (paths[path] ??= {})[e.method] = {
      summary: e.summary,
      description: `Roles: ${PERMISSIONS[e.permission].join(', ')}.`,
      security: [{ bearer: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(e.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(e.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: {} } } }, '400': errors, '401': errors, '403': errors, '404': errors, '409': errors, '422': errors },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sluice admin API', version, description: 'Drafts, versions, publishing, the error catalog and the audit log. Bearer tokens from SLUICE_ADMIN_TOKENS.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: { Problem: { description: 'An RFC 9457 problem', content: { 'application/problem+json': { schema: problemSchema } } } },
    },
  };
}
