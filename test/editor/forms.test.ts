import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../editor/src/api/types.ts';
import { jsonataError } from '../../editor/src/forms/jsonata-check.ts';
import { controlOf, fieldsOf, humanize, withField } from '../../editor/src/forms/schema-form.ts';
import { kindConfigJsonSchema } from '../../shared/compile/json-schema.ts';
import { kinds } from '../../shared/nodes/index.ts';

describe('form generation from JSON Schema (editor/src/forms/schema-form.ts)', () => {
  it.each<[string, JsonSchema, string]>([
    ['string', { type: 'string' }, 'text'],
    ['string, format uri', { type: 'string', format: 'uri' }, 'url'],
    ['string, format jsonata', { type: 'string', format: 'jsonata' }, 'jsonata'],
    ['string, format duration', { type: 'string', format: 'duration' }, 'duration'],
    ['string, format secret-env', { type: 'string', format: 'secret-env' }, 'secret-env'],
    ['string, format catalog-error', { type: 'string', format: 'catalog-error' }, 'catalog-error'],
    ['string, format fragment', { type: 'string', format: 'fragment' }, 'fragment'],
    ['string enum', { type: 'string', enum: ['a', 'b'] }, 'select'],
    ['integer', { type: 'integer' }, 'integer'],
    ['number', { type: 'number' }, 'number'],
    ['boolean', { type: 'boolean' }, 'checkbox'],
    ['array of enum strings', { type: 'array', items: { type: 'string', enum: ['a'] } }, 'multi-select'],
    ['array of strings', { type: 'array', items: { type: 'string' } }, 'string-list'],
    ['array of objects', { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } }, 'object-list'],
    ['object of strings (a record)', { type: 'object', additionalProperties: { type: 'string' } }, 'key-value'],
    ['object with properties, open to others', { type: 'object', properties: { keys: { type: 'array' } } }, 'json'],
    ['object with properties and no others (a strict zod object)', { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false }, 'object'],
    ['anything (no type)', {}, 'json'],
  ])('%s -> %s', (_name, schema, control) => {
    expect(controlOf(schema)).toBe(control);
  });

  /** Every field of every kind, as the gateway serves its schema: kind.field -> control (required marked *). */
  const EXPECTED: Record<string, string[]> = {
    'jwt-verify': ['jwksUri: url', 'jwks: json', 'jwksFile: text', 'secretEnv: secret-env', 'algorithms: multi-select', 'issuer: text', 'issuers: object-list', 'audience: text', 'clockTolerance: duration', 'maxTokenAge: duration', 'maxLifetime: duration', 'header: text', 'partnerClaim: text'],
    'api-key': ['header: text', 'query: text', 'source: select', 'keys: object-list'],
    'client-cert': ['match: multi-select'],
    'hmac-verify': ['header: text', 'algorithms: multi-select', 'skew: duration'],
    introspect: ['endpoint: url', 'issuer: url', 'clientId*: text', 'clientSecretEnv*: secret-env', 'authMethod: select', 'audience: text', 'header: text', 'partnerClaim: text', 'cacheTtl: duration', 'negativeCacheTtl: duration', 'cacheSize: integer', 'timeout: duration'],
    'scope-check': ['all: string-list', 'any: string-list'],
    cors: ['origins*: string-list', 'methods: multi-select', 'headers: string-list', 'expose: string-list', 'credentials: checkbox', 'maxAge: integer'],
    'validate-request': ['body: json', 'query: json', 'params: json', 'headers: json', 'maxErrors: integer'],
    'prompt-guard': ['maxInputTokens: integer', 'deny: string-list', 'allow: string-list', 'ignoreCase: checkbox', 'detectors: object', 'nonLlm: select'],
    condition: ['when*: jsonata'],
    switch: ['cases*: object-list'],
    'mcp-tool': ['tools*: object-list'],
    subflow: ['fragment*: fragment', 'version: integer', 'exits*: string-list'],
    'rate-limit': ['limit*: integer-or-word', 'fallbackLimit: integer', 'window: duration', 'key: select', 'name: text', 'expression: jsonata', 'cost: jsonata', 'onStoreDown: select'],
    'transform-request': ['headers: jsonata', 'query: jsonata', 'body: jsonata', 'path: jsonata', 'vars: jsonata', 'removeHeaders: string-list'],
    'transform-response': ['status: jsonata', 'headers: jsonata', 'body: jsonata', 'removeHeaders: string-list'],
    'http-call': ['name*: text', 'method: select', 'url*: text', 'query: jsonata', 'headers: jsonata', 'body: jsonata', 'timeout: duration', 'maxBytes: integer'],
    'cache-lookup': ['name*: text', 'key: jsonata', 'acrossPartners: checkbox', 'wait: duration'],
    'cache-store': ['name*: text', 'ttl: duration', 'stale: duration', 'maxBytes: integer', 'entries: integer'],
    proxy: ['url: text', 'targets: object-list', 'sticky: select', 'retries: integer', 'retryUnsafe: checkbox', 'retryOn: json', 'breaker: object', 'healthCheck: object', 'path: text', 'stripPrefix: text', 'timeout: duration', 'preserveHost: checkbox', 'forwardAuthorization: checkbox', 'llm: object'],
    respond: ['status: integer', 'headers: key-value', 'body: json', 'bodyExpression: jsonata'],
    error: ['error*: catalog-error', 'params: key-value'],
  };

  it('covers every kind', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(kinds).sort());
  });

  it.each(Object.keys(kinds) as Array<keyof typeof kinds>)('%s: every config field gets its control', (kind) => {
    const fields = fieldsOf(kindConfigJsonSchema(kind) as JsonSchema);
    expect(fields.map((f) => `${f.name}${f.required ? '*' : ''}: ${f.control}`)).toEqual(EXPECTED[kind]);
    for (const f of fields) expect(f.title).not.toBe('');
  });

  it('carries titles, descriptions, defaults, choices and the fields of list items from the schema', () => {
    const [cases] = fieldsOf(kindConfigJsonSchema('switch') as JsonSchema);
    expect(cases!.title).toBe('Cases');
    expect(cases!.fields!.map((f) => [f.name, f.control, f.required, f.title])).toEqual([
      ['port', 'text', true, 'Port'],
      ['when', 'jsonata', true, 'Condition'],
    ]);
    const rateLimit = fieldsOf(kindConfigJsonSchema('rate-limit') as JsonSchema);
    const key = rateLimit.find((f) => f.name === 'key')!;
    expect([key.default, key.options]).toEqual(['partner', ['partner', 'subject', 'ip', 'claim', 'header', 'expression', 'global']]);
    const algorithms = fieldsOf(kindConfigJsonSchema('jwt-verify') as JsonSchema).find((f) => f.name === 'algorithms')!;
    expect(algorithms.default).toEqual(['RS256']);
    expect(algorithms.options).toContain('EdDSA');
    const keys = fieldsOf(kindConfigJsonSchema('api-key') as JsonSchema).find((f) => f.name === 'keys')!;
    expect(keys.fields!.map((f) => `${f.name}: ${f.control}`)).toEqual(['hash: text', 'partner: text', 'scopes: string-list']);
  });

  it('gives a closed nested object its own fields, nested objects within it too', () => {
    const proxy = fieldsOf(kindConfigJsonSchema('proxy') as JsonSchema);
    const fieldsOfField = (name: string) => proxy.find((f) => f.name === name)!.fields!.map((f) => [`${f.name}${f.required ? '*' : ''}: ${f.control}`, f.title, f.default ?? null]);
    expect(fieldsOfField('breaker')).toEqual([
      ['failures: integer', 'Failures', 5],
      ['failureRatio: number', 'Failure ratio', null],
      ['cooldown: duration', 'Cool-down', '30s'],
    ]);
    expect(fieldsOfField('healthCheck')).toEqual([
      ['path*: text', 'Path', null],
      ['interval: duration', 'Interval', '10s'],
    ]);
    expect(fieldsOfField('llm')).toEqual([
      ['api*: select', 'API', null],
      ['models: string-list', 'Allowed models', null],
      ['estimate: checkbox', 'Estimate missing usage', true],
    ]);
    const breaker = proxy.find((f) => f.name === 'breaker')!;
    expect([breaker.required, breaker.title, breaker.fields![0]!.minimum, breaker.fields![0]!.maximum]).toEqual([false, 'Circuit breaker', 1, 1000]);
    const nested = fieldsOf({
      type: 'object',
      properties: { outer: { type: 'object', additionalProperties: false, properties: { inner: { type: 'object', additionalProperties: false, required: ['on'], properties: { on: { type: 'boolean' } } } } } },
    });
    expect(nested[0]!.fields![0]!.control).toBe('object');
    expect(nested[0]!.fields![0]!.fields!.map((f) => [f.name, f.control, f.required])).toEqual([['on', 'checkbox', true]]);
  });

  it('names untitled fields from their key', () => {
    expect(humanize('partnerClaim')).toBe('Partner claim');
    expect(humanize('strip_prefix')).toBe('Strip prefix');
  });

  it('drops an emptied field so its default applies', () => {
    expect(withField({ a: 1, b: 2 }, 'a', undefined)).toEqual({ b: 2 });
    expect(withField({ b: 2 }, 'a', 3)).toEqual({ b: 2, a: 3 });
    const same = { b: 2 };
    expect(withField(same, 'a', undefined)).toBe(same);
  });

  it.each([
    ['request.headers.x', undefined],
    ['{ "a": 1 }', undefined],
    ['', undefined],
    ['request.', 'position'],
    ['{ "a": }', 'position'],
    ['$count(', 'position'],
  ])('JSONata %j parses in the browser: %s', (source, error) => {
    const result = jsonataError(source);
    if (error === undefined) expect(result).toBeUndefined();
    else {
      expect(result?.message).toBeTruthy();
      expect(typeof result?.position).toBe('number');
    }
  });
});
