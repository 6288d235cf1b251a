/**
 * The admin API's endpoints as MCP tools: one tool per endpoint, made from the same definition
 * that routes the HTTP request and writes its OpenAPI operation. Adding an endpoint adds its tool.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { PERMISSIONS, type Permission } from '../../../shared/admin/index.ts';
import type { Endpoint, RawInput } from '../http/endpoint.ts';

/** A permission whose calls change what the gateway serves or who may call it: such a tool is destructive and runs only with `confirm: true`. */
const DESTRUCTIVE: ReadonlySet<Permission> = new Set(['publish', 'admin']);

/** Words that end in "s" and name one thing, not a collection. */
const NOT_PLURAL = new Set(['status', 'stats']);
const isCollection = (word: string) => word.endsWith('s') && !NOT_PLURAL.has(word);
const singular = (word: string) => (word.endsWith('ies') ? `${word.slice(0, -3)}y` : word.endsWith('s') ? word.slice(0, -1) : word);

/**
 * A tool's name from its endpoint's method and path: GET /workflows -> list_workflows,
 * GET /workflows/:id -> get_workflow, POST /workflows -> create_workflow, POST
 * /workflows/:id/publish -> publish_workflow, PUT /workflows/:id/draft -> save_workflow_draft,
 * POST /partners/:id/keys/:key/revoke -> revoke_partner_key, DELETE /workflows/:id -> delete_workflow.
 */
export function toolName(endpoint: Pick<Endpoint, 'method' | 'path'>): string {
  const segments = endpoint.path.split('/').filter(Boolean);
  const words = segments.flatMap((segment, i) => (segment.startsWith(':') ? [] : [(segments[i + 1]?.startsWith(':') ? singular(segment) : segment).replaceAll('-', '_')]));
  const last = segments.at(-1) ?? '';
  const all = words.join('_');
  switch (endpoint.method) {
    case 'get':
      return `${!last.startsWith(':') && isCollection(last) ? 'list' : 'get'}_${all}`;
    case 'put':
      return `save_${all}`;
    case 'delete':
      return `delete_${all}`;
    case 'post':
      if (isCollection(last)) return `create_${[...words.slice(0, -1), singular(words.at(-1)!)].join('_')}`;
      return words.length === 1 ? all : `${words.at(-1)}_${words.slice(0, -1).join('_')}`;
  }
}

/** A schema as a tool's arguments or result describe it (JSON Schema draft 7, which MCP clients validate with). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  return rest;
}

interface ObjectSchema {
  type?: unknown;
  properties?: Record<string, unknown>;
  required?: string[];
}

/** Where one argument of a tool goes in the endpoint's request. */
type Place = 'params' | 'query' | 'body';

/** An endpoint as an MCP tool: its listing, and how its arguments become the endpoint's request. */
export interface AdminTool {
  name: string;
  endpoint: Endpoint;
  /** The tools/list entry. */
  listing: Tool;
  /** It changes what the gateway serves or who may call it: it runs only with `confirm: true`. */
  destructive: boolean;
  /** The endpoint's path with the arguments' path parameters in it, as a problem's instance names it. */
  pathOf(args: Record<string, unknown>): string;
  /** The arguments as the endpoint's params, query and body; an argument the tool does not take is an error. */
  inputOf(args: Record<string, unknown>): { ok: true; input: RawInput } | { ok: false; reason: string };
}

/** The tool of one endpoint. A body that is not an object of named fields is the one argument `body`. */
function toolOf(endpoint: Endpoint): AdminTool {
  const name = toolName(endpoint);
  const destructive = DESTRUCTIVE.has(endpoint.permission);
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const places = new Map<string, Place>();
  let wholeBody = false;
  const add = (field: string, schema: unknown, place: Place, isRequired: boolean) => {
    if (places.has(field) || field === 'confirm') throw new Error(`${endpoint.method.toUpperCase()} ${endpoint.path}: its tool ${name} would take "${field}" twice (from the ${places.get(field) ?? 'tool'} and the ${place})`);
    places.set(field, place);
    properties[field] = schema;
    if (isRequired) required.push(field);
  };
  for (const match of endpoint.path.matchAll(/:([A-Za-z]+)/g)) add(match[1]!, { type: 'string' }, 'params', true);
  if (endpoint.query) {
    const query = jsonSchema(endpoint.query, 'input') as ObjectSchema;
    for (const [field, schema] of Object.entries(query.properties ?? {})) add(field, schema, 'query', query.required?.includes(field) ?? false);
  }
  if (endpoint.body) {
    const body = jsonSchema(endpoint.body, 'input') as ObjectSchema;
    if (body.type === 'object' && body.properties !== undefined) {
      for (const [field, schema] of Object.entries(body.properties)) add(field, schema, 'body', body.required?.includes(field) ?? false);
    } else {
      wholeBody = true;
      add('body', body, 'body', !endpoint.body.safeParse(undefined).success);
    }
  }
  if (destructive) {
    properties.confirm = { type: 'boolean', const: true, description: 'Say true to make this change: it alters what the gateway serves or who may call it.' };
    required.push('confirm');
  }
  const output = jsonSchema(endpoint.response, 'output');
  const readOnly = endpoint.method === 'get';
  const listing: Tool = {
    name,
    title: endpoint.summary.length > 80 ? `${endpoint.summary.slice(0, 77)}…` : endpoint.summary,
    description: `${endpoint.summary}. Roles: ${PERMISSIONS[endpoint.permission].join(', ')} (permission "${endpoint.permission}"). Admin API: ${endpoint.method.toUpperCase()} /admin/api${endpoint.path}.${endpoint.secret ? ' The answer carries a secret shown this once: keep it, it is never shown again.' : ''}`,
    inputSchema: { type: 'object', properties: properties as Record<string, object>, ...(required.length > 0 ? { required } : {}), additionalProperties: false },
    // a result that is not one JSON object (an OpenAPI document or a list) has no schema to declare
    ...(output.type === 'object' ? { outputSchema: output as Tool['outputSchema'] } : {}),
    annotations: { readOnlyHint: readOnly, ...(readOnly ? {} : { destructiveHint: destructive, idempotentHint: endpoint.method === 'put' || endpoint.method === 'delete' }), openWorldHint: false },
  };
  return {
    name,
    endpoint,
    listing,
    destructive,
    pathOf: (args) => `/admin/api${endpoint.path.replace(/:([A-Za-z]+)/g, (_, param: string) => encodeURIComponent(String(args[param] ?? `:${param}`)))}`,
    inputOf(args) {
      const input = { params: {} as Record<string, unknown>, query: {} as Record<string, unknown>, body: undefined as unknown };
      const body: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(args)) {
        if (field === 'confirm' && destructive) continue;
        const place = places.get(field);
        if (place === undefined) return { ok: false, reason: `${name} takes no argument "${field.slice(0, 64)}" (it takes ${[...places.keys(), ...(destructive ? ['confirm'] : [])].join(', ') || 'none'})` };
        // a path parameter is text in a URL: a version number given as a number is the same version
        if (place === 'params') input.params[field] = typeof value === 'number' ? String(value) : value;
        else if (place === 'query') input.query[field] = value;
        else if (wholeBody) input.body = value;
        else body[field] = value;
      }
      if (!wholeBody && endpoint.body) input.body = body;
      return { ok: true, input };
    },
  };
}

/**
 * The tools of an endpoint table, by name; two endpoints that would make one name are a mistake in
 * the table. A streamed endpoint (an export for scripts and browsers) is no tool: its query is.
 */
export function adminTools(endpoints: readonly Endpoint[]): Map<string, AdminTool> {
  const tools = new Map<string, AdminTool>();
  for (const endpoint of endpoints) {
    if (endpoint.streamed) continue;
    const tool = toolOf(endpoint);
    const taken = tools.get(tool.name);
    if (taken) throw new Error(`${endpoint.method.toUpperCase()} ${endpoint.path} and ${taken.endpoint.method.toUpperCase()} ${taken.endpoint.path} would both be the MCP tool ${tool.name}`);
    tools.set(tool.name, tool);
  }
  return tools;
}

/** A short account of a result for people: the answer's plain fields and the size of its lists. */
export function resultSummary(tool: AdminTool, answer: unknown): string {
  const facts: string[] = [];
  if (typeof answer === 'object' && answer !== null && !Array.isArray(answer)) {
    for (const [field, value] of Object.entries(answer)) {
      if (facts.length === 8) break;
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) facts.push(`${field}: ${String(value).slice(0, 80)}`);
      else if (Array.isArray(value)) facts.push(`${field}: ${value.length} item${value.length === 1 ? '' : 's'}`);
    }
  }
  return `${tool.name}: done${facts.length > 0 ? `. ${facts.join('; ')}` : ''}.`;
}
