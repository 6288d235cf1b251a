import { z } from 'zod';
import { defineKind } from './kind.ts';

/** The largest schema, in characters of its JSON: compiling costs in proportion (about a second for 20 KB, in a worker). */
export const MAX_SCHEMA_CHARS = 32_768;

/** A JSON Schema (draft 2020-12) as a JSON object; compiled and checked when the workflow is published. */
const jsonSchema = () =>
  z
    .record(z.string(), z.unknown())
    .refine((schema) => JSON.stringify(schema).length <= MAX_SCHEMA_CHARS, `a schema may have at most ${MAX_SCHEMA_CHARS} characters of JSON`)
    .optional();

/** The parts of a request a validate-request node checks, in the order its problems name them. */
export const REQUEST_PARTS = ['body', 'query', 'params', 'headers'] as const;

const validateRequestConfig = z
  .object({
    body: jsonSchema().meta({ title: 'Body schema', description: 'JSON Schema the parsed JSON body must match (a body that is not JSON fails it).' }),
    query: jsonSchema().meta({ title: 'Query schema', description: 'JSON Schema of the query parameters as an object of strings (repeated names: arrays); "type": "integer" and the like are read from the text.' }),
    params: jsonSchema().meta({ title: 'Path parameters schema', description: 'JSON Schema of the route\'s path parameters (:id), read from the text like the query.' }),
    headers: jsonSchema().meta({ title: 'Headers schema', description: 'JSON Schema of the request headers, with lower-case names.' }),
    maxErrors: z.number().int().min(1).max(100).default(20).meta({ title: 'Most problems listed', description: 'The most failing fields the problem\'s errors member lists.' }),
  })
  .strict()
  .refine((c) => REQUEST_PARTS.some((part) => c[part] !== undefined), { path: ['body'], message: 'give a schema for at least one of body, query, params or headers' });

export type ValidateRequestConfig = z.infer<typeof validateRequestConfig>;

export const validateRequestKind = defineKind<ValidateRequestConfig>({
  kind: 'validate-request',
  title: 'Validate request',
  category: 'Access',
  description: 'Checks the body, query, path parameters and headers against JSON Schemas compiled at publish; a failing request is refused listing every failing field (JSON pointer and message) in the problem\'s errors member.',
  config: validateRequestConfig,
  ports: () => [
    { name: 'ok', description: 'Every part matches its schema.', unwired: 'required' },
    { name: 'invalid', description: 'Some part does not match: the problem lists each failing field.', unwired: { error: 'request_invalid' } },
  ],
  errors: ['request_invalid'],
  expressions: () => [],
  readsRequestBody: (c) => c.body !== undefined,
});
