import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kindErrorIds, kinds, type AnyKindDescriptor, type KindName } from '../../shared/nodes/index.ts';
import { errorCatalogSchema, GATEWAY_ERRORS, problemDetailsSchema } from '../../shared/schema/index.ts';

const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(new URL('../../examples/errors.json', import.meta.url), 'utf8')));

/** A valid config per kind, to ask each kind for its ports (switch and error need one). */
const configs: Record<KindName, unknown> = {
  cors: { origins: ['*'] },
  'validate-request': { body: { type: 'object' } },
  'prompt-guard': { maxInputTokens: 4000 },
  'http-call': { name: 'profile', url: 'https://profiles.example/v1' },
  'cache-lookup': { name: 'orders' },
  'cache-store': { name: 'orders' },
  'jwt-verify': { jwksUri: 'https://issuer.example/jwks.json' },
  'api-key': {},
  'client-cert': {},
  'hmac-verify': {},
  introspect: { issuer: 'https://login.example.com', clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_AS' },
  'scope-check': { all: ['x'] },
  condition: { when: 'true' },
  subflow: { fragment: 'auth', exits: ['ok'] },
  switch: { cases: [{ port: 'a', when: 'true' }] },
  'mcp-tool': { tools: [{ name: 'delete_file', port: 'delete' }] },
  'rate-limit': { limit: 1 },
  'transform-request': {},
  'transform-response': {},
  proxy: { url: 'http://x' },
  respond: {},
  error: { error: 'order_not_visible' },
};
const kindNames = Object.keys(kinds) as KindName[];

describe('examples/errors.json', () => {
  it.each([...GATEWAY_ERRORS])('defines the gateway error %s', (id) => {
    expect(catalog.errors).toHaveProperty([id]);
  });

  it.each(kindErrorIds())('defines %s, which a kind declares', (id) => {
    expect(catalog.errors).toHaveProperty([id]);
  });

  it.each(Object.entries(catalog.errors))('%s renders as problem details: a type URI, a title, an error status', (_id, entry) => {
    expect(new URL(entry.type).protocol).toBe('https:');
    expect(entry.status).toBeGreaterThanOrEqual(400);
    expect(problemDetailsSchema.safeParse({ ...entry, instance: '/x', traceId: '0'.repeat(32) }).success).toBe(true);
  });

  it('gives every error its own type URI', () => {
    const types = Object.values(catalog.errors).map((e) => e.type);
    expect(new Set(types).size).toBe(types.length);
  });
});

describe('the errors kinds declare', () => {
  it('every kind has a config here', () => {
    expect(Object.keys(configs).sort()).toEqual([...kindNames].sort());
  });

  it.each(kindNames)("%s: every unwired port's error is among the kind's declared errors", (kind) => {
    const d: AnyKindDescriptor = kinds[kind];
    const ports = d.ports(d.config.parse(configs[kind]));
    const portErrors = ports.flatMap((p) => (typeof p.unwired === 'object' ? [p.unwired.error] : []));
    // the error kind raises the error its config names; every other kind declares its port defaults
    if (kind === 'error') expect(portErrors).toEqual(['order_not_visible']);
    else for (const id of portErrors) expect(d.errors).toContain(id);
  });

  it.each(kindNames)('%s: declares each error once', (kind) => {
    expect(new Set(kinds[kind].errors).size).toBe(kinds[kind].errors.length);
  });
});

describe('errorCatalogSchema', () => {
  const entry = { status: 404, type: 'https://e.example/x', title: 'X', detail: 'x' };
  it.each([
    ['an id that is not snake_case', { errors: { 'Not-Found': entry } }, ['errors', 'Not-Found']],
    ['a 3xx status', { errors: { moved: { ...entry, status: 301 } } }, ['errors', 'moved', 'status']],
    ['a fractional status', { errors: { odd: { ...entry, status: 404.5 } } }, ['errors', 'odd', 'status']],
    ['an empty type', { errors: { x: { ...entry, type: '' } } }, ['errors', 'x', 'type']],
    ['an unknown entry field', { errors: { x: { ...entry, code: 1 } } }, ['errors', 'x']],
  ])('refuses %s', (_name, input, path) => {
    const result = errorCatalogSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(path);
  });
});
