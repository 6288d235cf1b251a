import type { ContractEntry } from '../../shared/compile/contract.ts';
import type { WorkflowDocument } from '../../shared/schema/index.ts';

/** RFC 9457 problem details, as every error answer of Sluice is shaped. */
const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status', 'detail', 'instance', 'traceId'],
  properties: {
    type: { type: 'string', format: 'uri-reference', description: 'Identifies the kind of problem.' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request path.' },
    traceId: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'W3C trace id: quote it when reporting the problem.' },
  },
  additionalProperties: true,
} as const;

/** `/api/orders/:id/*` as an OpenAPI path template: `/api/orders/{id}/{rest}`. */
function openApiPath(path: string): { template: string; params: string[] } {
  const params: string[] = [];
  const template = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        params.push(segment.slice(1));
        return `{${segment.slice(1)}}`;
      }
      if (segment === '*') {
        params.push('rest');
        return '{rest}';
      }
      return segment;
    })
    .join('/');
  return { template, params };
}

type Schema = Record<string, unknown>;

/**
 * What the workflow's validate-request node (the first in the document, when branches have
 * several) says the request must be: the body's schema and one OpenAPI parameter per property of
 * the query, path-parameter and header schemas, with its own schema and whether it is required.
 */
function requestShape(document: WorkflowDocument, pathParams: string[]) {
  const node = document.nodes.find((n) => n.kind === 'validate-request');
  const config = (node?.config ?? {}) as { body?: Schema; query?: Schema; params?: Schema; headers?: Schema };
  const parameters: Schema[] = [];
  const propertiesOf = (schema: Schema | undefined) => ((schema?.properties ?? {}) as Record<string, Schema>);
  const requiredOf = (schema: Schema | undefined) => new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  const paramSchemas = propertiesOf(config.params);
  for (const name of pathParams) parameters.push({ name, in: 'path', required: true, schema: paramSchemas[name] ?? { type: 'string' } });
  for (const [where, schema] of [['query', config.query], ['header', config.headers]] as const) {
    const required = requiredOf(schema);
    for (const [name, property] of Object.entries(propertiesOf(schema))) parameters.push({ name, in: where, required: required.has(name), schema: property });
  }
  const requestBody = config.body ? { required: true, content: { 'application/json': { schema: config.body } } } : undefined;
  return { parameters, requestBody };
}

const exampleName = (e: ContractEntry) => (e.node ? `${e.node}.${e.port}` : e.id).replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * The error contract as an OpenAPI 3.1 document of the workflow's route: the request as its
 * validate-request node checks it (body schema, query, path and header parameters), every answer
 * the workflow gives that is not the upstream's, grouped by status as components (problem+json
 * schema, one example per node and port that raises it), and the upstream's own answers as
 * `default`.
 */
export function contractOpenApi(document: WorkflowDocument, version: number | 'draft', contract: ContractEntry[]) {
  const { template, params } = openApiPath(document.route.path);
  const { parameters, requestBody } = requestShape(document, params);
  const byStatus = new Map<number, ContractEntry[]>();
  for (const entry of contract) byStatus.set(entry.status, [...(byStatus.get(entry.status) ?? []), entry]);
  const responses: Record<string, unknown> = {};
  const operationResponses: Record<string, unknown> = { default: { description: "The upstream's answer, passed through." } };
  for (const [status, entries] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const name = `Status${status}`;
    const problems = entries.filter((e) => e.type !== undefined);
    const answers = entries.filter((e) => e.type === undefined);
    const headers: Record<string, unknown> = {};
    for (const e of entries) for (const [h, example] of Object.entries(e.headers)) headers[h] = { schema: { type: 'string' }, example };
    const content: Record<string, unknown> = {};
    if (problems.length > 0)
      content['application/problem+json'] = {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(problems.map((e) => [exampleName(e), { summary: `${e.title}: ${e.condition}`, value: e.example }])),
      };
    if (answers.length > 0) content['application/json'] = { examples: Object.fromEntries(answers.map((e) => [exampleName(e), { summary: e.condition, value: e.example }])) };
    responses[name] = {
      description: entries.map((e) => `${e.title}${e.node ? ` (${e.node}.${e.port})` : ''}: ${e.condition}`).join('; '),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content,
    };
    operationResponses[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  const operation = {
    summary: document.name,
    ...(document.description ? { description: document.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: operationResponses,
  };
  return {
    openapi: '3.1.0',
    info: { title: `${document.name} — error contract`, version: String(version), description: `Every answer of workflow "${document.id}" that is not the upstream's, derived from its graph and the error catalog.` },
    paths: { [template]: Object.fromEntries(document.route.methods.map((m) => [m.toLowerCase(), { ...operation, operationId: `${document.id}-${m.toLowerCase()}` }])) },
    components: { schemas: { Problem: PROBLEM_SCHEMA }, responses },
  };
}
