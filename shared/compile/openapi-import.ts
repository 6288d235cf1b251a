/**
 * OpenAPI 3.x to workflows: one draft per operation, with its route, the identity node the
 * operator chose, a scope-check for the operation's OAuth scopes, a validate-request node built
 * from its parameters and JSON body, and a proxy to the upstream. Pure: the CLI (`sluice import
 * openapi`) and the editor's import dialog both call it and send the drafts to the admin API.
 */
import { MAX_SCHEMA_CHARS } from '../nodes/validate-request.ts';
import { HTTP_METHODS, type HttpMethod } from '../schema/workflow.ts';

type Json = Record<string, unknown>;
/** The identity node each imported operation starts with. */
export const IMPORT_IDENTITIES = ['api-key', 'jwt-verify', 'introspect', 'client-cert', 'hmac-verify', 'none'] as const;
export type ImportIdentity = (typeof IMPORT_IDENTITIES)[number];
/** The identities whose callers carry OAuth scopes: the operation's scopes are checked after them. */
const SCOPED: ReadonlySet<ImportIdentity> = new Set(['api-key', 'jwt-verify', 'introspect']);

export interface OpenApiImportOptions {
  /** The proxy's URL for every operation, e.g. `${SLUICE_UPSTREAM_ORDERS}`. */
  upstream: string;
  identity: ImportIdentity;
  /** For jwt-verify: the issuer (its keys found by OIDC discovery) or its keys' URL, and the audience. */
  jwt?: { jwksUri?: string; issuer?: string; audience?: string };
  /** For introspect: the authorization server (issuer, found by discovery, or its endpoint) and the gateway's client there. */
  introspection?: { issuer?: string; endpoint?: string; clientId?: string; clientSecretEnv?: string; audience?: string };
}

/** A workflow document made from one operation (a draft: the admin API checks it like any other). */
export interface ImportedWorkflow {
  operation: string;
  document: Json;
  /** What could not be carried over, in words (a schema too large for validate-request, a cookie parameter…). */
  notes: string[];
}

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The identity node an operation starts with, as chosen; what is left to fill in is said in `notes`. */
function identityNodes(options: OpenApiImportOptions, notes: string[]): Json[] {
  switch (options.identity) {
    case 'api-key':
      return [{ id: 'identify', kind: 'api-key', label: 'API key', config: { source: 'partners' } }];
    case 'jwt-verify': {
      const jwt = options.jwt ?? {};
      if (!jwt.jwksUri && !jwt.issuer) notes.push('jwt-verify needs the issuer (or its JWKS URL)');
      const keys = jwt.jwksUri ? { jwksUri: jwt.jwksUri, ...(jwt.issuer ? { issuer: jwt.issuer } : {}) } : { issuer: jwt.issuer ?? 'https://issuer.example' };
      return [{ id: 'identify', kind: 'jwt-verify', label: 'Verify JWT', config: { ...keys, ...(jwt.audience ? { audience: jwt.audience } : {}) } }];
    }
    case 'introspect': {
      const at = options.introspection ?? {};
      if (!at.endpoint && !at.issuer) notes.push('introspect needs the authorization server (issuer or endpoint)');
      if (!at.clientId || !at.clientSecretEnv) notes.push('introspect needs the gateway\'s client id and the variable holding its secret');
      const server = at.endpoint ? { endpoint: at.endpoint } : { issuer: at.issuer ?? 'https://issuer.example' };
      return [{ id: 'identify', kind: 'introspect', label: 'Introspect token', config: { ...server, clientId: at.clientId ?? 'sluice-gateway', clientSecretEnv: at.clientSecretEnv ?? 'SLUICE_SECRET_INTROSPECTION', ...(at.audience ? { audience: at.audience } : {}) } }];
    }
    case 'client-cert':
      return [{ id: 'identify', kind: 'client-cert', label: 'Client certificate', config: {} }];
    case 'hmac-verify':
      return [{ id: 'identify', kind: 'hmac-verify', label: 'Signed request', config: {} }];
    case 'none':
      return [];
  }
}

/** A workflow id from an operation id or its method and path: a-z, 0-9, - and _, at most 64 characters. */
function slug(text: string): string {
  const s = text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 64)
    .replace(/[-_]+$/, '');
  return s === '' ? 'operation' : s;
}

/** A path parameter's name as a route may hold it (`order-id` -> `order_id`). */
const paramName = (name: string) => (/^[A-Za-z_]/.test(name) ? name : `p_${name}`).replace(/[^A-Za-z0-9_]/g, '_');

/** `/orders/{order-id}/items` as a route: `/orders/:order_id/items`. */
function routePath(path: string): string {
  return path.replace(/\{([^}/]+)\}/g, (_m, name: string) => `:${paramName(name)}`);
}

/**
 * A schema with its `#/components/schemas/X` references pointing into its own `$defs`, which
 * carry the components it needs (and theirs): validate-request never resolves a reference outside
 * its schema.
 */
function selfContained(schema: unknown, components: Json): Json {
  const needed = new Map<string, unknown>();
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!isRecord(value)) return value;
    const out: Json = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/components/schemas/')) {
        const name = inner.slice('#/components/schemas/'.length);
        if (!needed.has(name) && isRecord(components[name])) {
          needed.set(name, undefined);
          needed.set(name, rewrite(components[name]));
        }
        out.$ref = `#/$defs/${name}`;
      } else out[key] = rewrite(inner);
    }
    return out;
  };
  const root = rewrite(schema) as Json;
  return needed.size === 0 ? root : { ...root, $defs: { ...(isRecord(root.$defs) ? root.$defs : {}), ...Object.fromEntries(needed) } };
}

/** The object schema of one location's parameters (`query`, `header`, `path`), or undefined when there are none. */
function parametersSchema(parameters: Json[], where: string, components: Json): Json | undefined {
  const own = parameters.filter((p) => p.in === where && typeof p.name === 'string');
  if (own.length === 0) return undefined;
  const name = (p: Json) => (where === 'header' ? String(p.name).toLowerCase() : where === 'path' ? paramName(String(p.name)) : String(p.name));
  const properties = Object.fromEntries(own.map((p) => [name(p), selfContained(p.schema ?? {}, components)]));
  const required = own.filter((p) => p.required === true || where === 'path').map(name);
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}

/** The OAuth scopes an operation's security requirements name (the first requirement's). */
function scopesOf(operation: Json, spec: Json): string[] {
  const security = Array.isArray(operation.security) ? operation.security : Array.isArray(spec.security) ? spec.security : [];
  const first = security.find(isRecord);
  if (!first) return [];
  return [...new Set(Object.values(first).flatMap((scopes) => (Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string' && /^\S+$/.test(s)) : [])))];
}

/**
 * One workflow document per operation of an OpenAPI 3.x document (parsed JSON or YAML).
 * @throws Error when the document is not OpenAPI 3 or has no operations
 */
export function workflowsFromOpenApi(spec: unknown, options: OpenApiImportOptions): ImportedWorkflow[] {
  if (!isRecord(spec) || typeof spec.openapi !== 'string' || !spec.openapi.startsWith('3.')) throw new Error('not an OpenAPI 3 document (no "openapi": "3.x")');
  const paths = isRecord(spec.paths) ? spec.paths : {};
  const components = isRecord(spec.components) && isRecord(spec.components.schemas) ? spec.components.schemas : {};
  const taken = new Set<string>();
  const imported: ImportedWorkflow[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isRecord(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters.filter(isRecord) : [];
    for (const method of HTTP_METHODS) {
      const operation = item[method.toLowerCase()];
      if (!isRecord(operation)) continue;
      const notes: string[] = [];
      const label = typeof operation.operationId === 'string' ? operation.operationId : `${method} ${path}`;
      let id = slug(typeof operation.operationId === 'string' ? operation.operationId : `${method}-${path}`);
      for (let n = 2; taken.has(id); n++) id = `${id.slice(0, 60)}-${n}`;
      taken.add(id);
      const own = Array.isArray(operation.parameters) ? operation.parameters.filter(isRecord) : [];
      // an operation's parameter replaces a path item's of the same name and place
      const parameters = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      if (parameters.some((p) => p.in === 'cookie')) notes.push('cookie parameters are not checked');
      const check: Json = {};
      const body = isRecord(operation.requestBody) && isRecord(operation.requestBody.content) ? operation.requestBody.content['application/json'] : undefined;
      if (isRecord(body) && body.schema !== undefined) check.body = selfContained(body.schema, components);
      for (const [where, field] of [['query', 'query'], ['path', 'params'], ['header', 'headers']] as const) {
        const schema = parametersSchema(parameters, where, components);
        if (schema) check[field] = schema;
      }
      for (const field of Object.keys(check))
        if (JSON.stringify(check[field]).length > MAX_SCHEMA_CHARS) {
          delete check[field];
          notes.push(`the ${field} schema is larger than validate-request takes (${MAX_SCHEMA_CHARS} characters): not checked`);
        }
      const nodes: Json[] = [];
      nodes.push(...identityNodes(options, notes));
      const asked = options.identity === 'none' ? [] : scopesOf(operation, spec);
      const scopes = SCOPED.has(options.identity) ? asked : [];
      if (asked.length > scopes.length) notes.push(`its OAuth scopes (${asked.join(' ')}) are not checked: a ${options.identity} caller carries none`);
      if (scopes.length > 0) nodes.push({ id: 'scopes', kind: 'scope-check', label: 'Required scopes', config: { all: scopes } });
      if (Object.keys(check).length > 0) nodes.push({ id: 'check', kind: 'validate-request', label: 'Validate request', config: check });
      nodes.push({ id: 'upstream', kind: 'proxy', label: 'Upstream', config: { url: options.upstream } });
      const edges = nodes.slice(1).map((node, i) => ({ from: nodes[i]!.id, port: 'ok', to: node.id }));
      const name = (typeof operation.summary === 'string' && operation.summary.trim() !== '' ? operation.summary.trim() : label).slice(0, 200);
      const description = typeof operation.description === 'string' ? operation.description.slice(0, 2000) : undefined;
      const document: Json = { id, name, ...(description ? { description } : {}), route: { methods: [method as HttpMethod], path: routePath(path) }, nodes, edges, layout: {} };
      imported.push({ operation: label, document, notes });
    }
  }
  if (imported.length === 0) throw new Error('the document has no operations under "paths"');
  return imported;
}
