import type { ValidateRequestConfig } from '../../shared/nodes/index.ts';
import type { CompiledWorkflow } from '../compile/types.ts';

/** A JSON Schema object, as MCP's tool input schema wants it. */
type Schema = Record<string, unknown>;

/** A workflow as an MCP tool: what tools/list says of it. */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, Schema>; required?: string[]; additionalProperties: false };
}

/** The route's `:param` names, in order. */
const routeParams = (workflow: CompiledWorkflow): string[] => (workflow.graph.document.route.path.match(/:[A-Za-z_][A-Za-z0-9_]*/g) ?? []).map((p) => p.slice(1));

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The first validate-request node of the workflow (document order), if any. */
function validation(workflow: CompiledWorkflow): ValidateRequestConfig | undefined {
  for (const node of workflow.graph.nodes.values()) if (node.kind === 'validate-request') return node.config as ValidateRequestConfig;
  return undefined;
}

/**
 * The tool a workflow is: its id as the name, its name and description as the description, and
 * an input schema of three members: `params` (the route's path parameters), `query` and `body`,
 * each from the workflow's validate-request node when it has a schema for it, else the route's
 * params and the query as strings (and any JSON body for methods that take one).
 */
export function toolOf(workflow: CompiledWorkflow): ToolDefinition {
  const document = workflow.graph.document;
  const checked = validation(workflow);
  const names = routeParams(workflow);
  const method = document.route.methods[0]!;
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  if (names.length > 0) {
    properties.params = checked?.params ?? {
      type: 'object',
      properties: Object.fromEntries(names.map((n) => [n, { type: 'string', minLength: 1 }])),
      required: names,
      additionalProperties: false,
    };
    required.push('params');
  }
  properties.query = checked?.query ?? { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } };
  if (checked?.body !== undefined) {
    properties.body = checked.body;
    required.push('body');
  } else if (METHODS_WITH_BODY.has(method)) properties.body = { description: 'The JSON body of the request.' };
  return {
    name: workflow.id,
    title: document.name,
    description: `${document.name}${document.description ? `: ${document.description}` : ''} (${method} ${document.route.path})`,
    inputSchema: { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false },
  };
}

/** A tool call as the gateway request it becomes, or why the arguments cannot make one. */
export type ToolRequest = { ok: true; method: string; url: string; body: Buffer | undefined } | { ok: false; reason: string };

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The request a tools/call makes: the route's first method, its path with each `:param` filled
 * from `arguments.params` (percent-encoded: a value is one path segment, never `/`, `.` or `..`),
 * the query from `arguments.query` (strings or lists of strings), and `arguments.body` as JSON.
 * Anything else in the arguments is refused rather than dropped. A trailing `/*` of the route
 * takes nothing from the arguments.
 */
export function requestOf(workflow: CompiledWorkflow, args: Record<string, unknown> | undefined): ToolRequest {
  const input = args ?? {};
  for (const key of Object.keys(input)) if (key !== 'params' && key !== 'query' && key !== 'body') return { ok: false, reason: `unknown argument "${key}" (params, query and body are taken)` };
  const route = workflow.graph.document.route;
  const method = route.methods[0]!;
  const params = input.params ?? {};
  if (!isPlainObject(params)) return { ok: false, reason: 'params must be an object' };
  const names = new Set(routeParams(workflow));
  for (const key of Object.keys(params)) if (!names.has(key)) return { ok: false, reason: `the route has no path parameter "${key}"` };
  const segments: string[] = [];
  for (const segment of route.path.split('/').slice(1)) {
    if (segment === '*') continue;
    if (!segment.startsWith(':')) {
      segments.push(segment);
      continue;
    }
    const name = segment.slice(1);
    const value = params[name];
    if (typeof value !== 'string' && typeof value !== 'number') return { ok: false, reason: `path parameter "${name}" is missing` };
    const text = String(value);
    if (text === '' || text === '.' || text === '..') return { ok: false, reason: `path parameter "${name}" is not a path segment` };
    segments.push(encodeURIComponent(text));
  }
  const path = `/${segments.join('/')}`;
  const query = input.query ?? {};
  if (!isPlainObject(query)) return { ok: false, reason: 'query must be an object' };
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { ok: false, reason: `query parameter "${name}" must be a string or a list of strings` };
      search.append(name, String(v));
    }
  }
  const text = search.toString();
  const body = input.body === undefined ? undefined : Buffer.from(JSON.stringify(input.body));
  return { ok: true, method, url: text === '' ? path : `${path}?${text}`, body };
}
