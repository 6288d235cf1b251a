import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogJsonSchema, kindConfigJsonSchema, workflowJsonSchema } from '../../shared/compile/json-schema.ts';
import { kinds, type KindName } from '../../shared/nodes/index.ts';

const root = new URL('../../', import.meta.url);
const readText = (path: string) => readFileSync(new URL(path, root), 'utf8');
const readJson = (path: string): unknown => JSON.parse(readText(path));
const kindNames = Object.keys(kinds) as KindName[];

type Schema = Record<string, unknown>;
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'format', 'default']);

/**
 * A tiny JSON Schema check (no ajv here) for exactly the keywords the generated schemas use.
 * An unknown keyword fails loudly, so this check never passes by ignoring a rule.
 * Returns the JSON pointers of the values that break a rule.
 */
function check(schema: Schema, value: unknown, at = ''): string[] {
  const errors: string[] = [];
  const fail = () => errors.push(at || '/');
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case 'type': {
        const ok = {
          object: () => typeof value === 'object' && value !== null && !Array.isArray(value),
          array: () => Array.isArray(value),
          string: () => typeof value === 'string',
          number: () => typeof value === 'number',
          integer: () => Number.isInteger(value),
          boolean: () => typeof value === 'boolean',
          null: () => value === null,
        }[rule as string];
        if (!ok) throw new Error(`type ${String(rule)} not supported`);
        if (!ok()) return [at || '/'];
        break;
      }
      case 'const':
        if (value !== rule) fail();
        break;
      case 'enum':
        if (!(rule as unknown[]).includes(value)) fail();
        break;
      case 'anyOf':
        if (!(rule as Schema[]).some((s) => check(s, value, at).length === 0)) fail();
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string).test(value)) fail();
        break;
      case 'minLength':
      case 'maxLength':
        if (typeof value === 'string' && (keyword === 'minLength' ? [...value].length < (rule as number) : [...value].length > (rule as number))) fail();
        break;
      case 'minimum':
      case 'maximum':
        if (typeof value === 'number' && (keyword === 'minimum' ? value < (rule as number) : value > (rule as number))) fail();
        break;
      case 'minItems':
      case 'maxItems':
        if (Array.isArray(value) && (keyword === 'minItems' ? value.length < (rule as number) : value.length > (rule as number))) fail();
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => errors.push(...check(rule as Schema, item, `${at}/${i}`)));
        break;
      case 'required':
        if (isObject(value)) for (const name of rule as string[]) if (!Object.hasOwn(value, name)) errors.push(`${at}/${name}`);
        break;
      case 'properties':
        if (isObject(value))
          for (const [name, sub] of Object.entries(rule as Record<string, Schema>)) if (Object.hasOwn(value, name)) errors.push(...check(sub, value[name], `${at}/${name}`));
        break;
      case 'propertyNames':
        if (isObject(value)) for (const name of Object.keys(value)) if (check(rule as Schema, name).length > 0) errors.push(`${at}/${name}`);
        break;
      case 'additionalProperties':
        if (isObject(value)) {
          const known = Object.keys((schema.properties as Schema | undefined) ?? {});
          for (const [name, item] of Object.entries(value)) {
            if (known.includes(name)) continue;
            if (rule === false) errors.push(`${at}/${name}`);
            else errors.push(...check(rule as Schema, item, `${at}/${name}`));
          }
        }
        break;
      default:
        throw new Error(`JSON Schema keyword ${keyword} not supported by this check`);
    }
  }
  return errors;
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const committedWorkflowSchema = readJson('shared/schema/workflow.schema.json') as Schema;
const committedCatalogSchema = readJson('shared/schema/errors.schema.json') as Schema;

describe('the committed JSON Schemas', () => {
  it.each([
    ['shared/schema/workflow.schema.json', workflowJsonSchema],
    ['shared/schema/errors.schema.json', catalogJsonSchema],
  ] as const)('%s is what the zod schemas generate now (regenerate: npm run -s sluice -- schema)', (file, generate) => {
    expect(readText(file)).toBe(`${JSON.stringify(generate(), null, 2)}\n`);
  });

  it('is draft 2020-12', () => {
    expect(committedWorkflowSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(committedCatalogSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });
});

const nodeSchemas = () => ((committedWorkflowSchema.properties as Record<string, Schema>).nodes!.items as { anyOf: Schema[] }).anyOf;
const nodeSchemaOf = (kind: string) => nodeSchemas().find((s) => (s.properties as Record<string, Schema>).kind!.const === kind);

describe('the workflow JSON Schema', () => {
  it('has one node schema per kind', () => {
    expect(nodeSchemas().map((s) => (s.properties as Record<string, Schema>).kind!.const)).toEqual(kindNames);
  });

  it.each(kindNames)('%s: a node schema with its kind as const and exactly its config fields', (kind) => {
    const schema = nodeSchemaOf(kind)!;
    const properties = schema.properties as Record<string, Schema>;
    expect(properties.kind).toEqual({ type: 'string', const: kind });
    expect(schema.additionalProperties).toBe(false);
    const shape = (kinds[kind].config as unknown as z.ZodObject).shape;
    expect(Object.keys(properties.config!.properties as Schema)).toEqual(Object.keys(shape));
    expect(properties.config!.additionalProperties).toBe(false);
    expect(properties.config!.properties).toEqual(kindConfigJsonSchema(kind).properties);
    // config may be left out exactly when the kind accepts {} (the document defaults it to {})
    expect((schema.required as string[]).includes('config')).toBe(!kinds[kind].config.safeParse({}).success);
  });

  it.each(readdirSync(new URL('examples/workflows/', root)).filter((f) => f.endsWith('.json')))('examples/workflows/%s fits it', (file) => {
    expect(check(committedWorkflowSchema, readJson(`examples/workflows/${file}`))).toEqual([]);
  });

  const document = (node: Record<string, unknown>) => ({ id: 'w', name: 'W', route: { methods: ['GET'], path: '/w' }, nodes: [node] });
  it.each([
    ['a proxy without url', { id: 'n', kind: 'proxy', config: {} }],
    ['a condition whose predicate is not a string', { id: 'n', kind: 'condition', config: { when: true } }],
    ["another kind's config", { id: 'n', kind: 'condition', config: { url: 'http://x' } }],
    ['an unknown config key', { id: 'n', kind: 'api-key', config: { header: 'x-key', colour: 'red' } }],
    ['a rate-limit key that does not exist', { id: 'n', kind: 'rate-limit', config: { limit: 1, key: 'cookie' } }],
    ['a switch without cases', { id: 'n', kind: 'switch', config: { cases: [] } }],
    ['a jwt-verify with the none algorithm', { id: 'n', kind: 'jwt-verify', config: { jwksUri: 'https://x', algorithms: ['none'] } }],
    ['an unknown kind', { id: 'n', kind: 'lambda', config: {} }],
    ['a node id that is not url-safe', { id: 'Node 1', kind: 'respond', config: {} }],
    ['a condition without config', { id: 'n', kind: 'condition' }],
  ])('refuses %s', (_name, node) => {
    expect(check(committedWorkflowSchema, document(node))).not.toEqual([]);
  });

  it.each([
    ['a minimal respond', { id: 'n', kind: 'respond', config: {} }],
    ['an api-key without config (it defaults to {})', { id: 'n', kind: 'api-key' }],
    ['a labelled condition', { id: 'n', kind: 'condition', label: 'Is it GET?', config: { when: 'request.method = "GET"' } }],
  ])('accepts %s', (_name, node) => {
    expect(check(committedWorkflowSchema, document(node))).toEqual([]);
  });

  it.each([
    ['/*', true],
    ['/', true],
    ['/api/orders/:id', true],
    ['/files/*', true],
    ['//*', false],
    ['/api/../admin', false],
    ['/api/orders/', false],
  ])('route path %s fits: %s', (path, fits) => {
    expect(check(committedWorkflowSchema, { ...document({ id: 'n', kind: 'respond' }), route: { methods: ['GET'], path } })).toEqual(fits ? [] : ['/route/path']);
  });
});

describe('the error catalog JSON Schema', () => {
  it('examples/errors.json fits it', () => {
    expect(check(committedCatalogSchema, readJson('examples/errors.json'))).toEqual([]);
  });

  it.each([
    ['an id that is not snake_case', { errors: { 'Not-Found': { status: 404, type: 't', title: 'T', detail: '' } } }, '/errors/Not-Found'],
    ['a 3xx status', { errors: { moved: { status: 301, type: 't', title: 'T', detail: '' } } }, '/errors/moved/status'],
    ['an entry without title', { errors: { gone: { status: 410, type: 't', detail: '' } } }, '/errors/gone/title'],
  ])('refuses %s', (_name, catalog, pointer) => {
    expect(check(committedCatalogSchema, catalog)).toContain(pointer);
  });
});
