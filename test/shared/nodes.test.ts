import { describe, expect, it } from 'vitest';
import { kindConfigJsonSchema } from '../../shared/compile/json-schema.ts';
import { CATEGORIES, faultsOf, isKindName, kindErrorIds, kinds, type AnyKindDescriptor, type KindName } from '../../shared/nodes/index.ts';
import { mentionsBody } from '../../shared/nodes/kind.ts';
import { errorIdSchema } from '../../shared/schema/index.ts';

const descriptor = (kind: KindName): AnyKindDescriptor => kinds[kind];
const KEY_HASH = `sha256:${'ab'.repeat(32)}`;

/** The field paths of a refused config: an unknown key is named by the key. */
function refusedFields(kind: KindName, config: unknown): string[] {
  const result = descriptor(kind).config.safeParse(config);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path]).map((p) => p.join('.')));
}

/** The smallest valid config of each kind, and what it parses to: the documented defaults filled in. */
const minimal: Record<KindName, { config: Record<string, unknown>; parsed: Record<string, unknown> }> = {
  'jwt-verify': {
    config: { jwksUri: 'https://issuer.example/jwks.json' },
    parsed: { jwksUri: 'https://issuer.example/jwks.json', algorithms: ['RS256'], clockTolerance: '30s', header: 'authorization', partnerClaim: 'azp' },
  },
  'api-key': { config: {}, parsed: { header: 'x-api-key', source: 'inline', keys: [] } },
  'scope-check': { config: { all: ['orders:read'] }, parsed: { all: ['orders:read'], any: [] } },
  condition: { config: { when: 'true' }, parsed: { when: 'true' } },
  switch: { config: { cases: [{ port: 'admin', when: 'true' }] }, parsed: { cases: [{ port: 'admin', when: 'true' }] } },
  'rate-limit': { config: { limit: 100 }, parsed: { limit: 100, window: '1m', key: 'partner', onStoreDown: 'local' } },
  'transform-request': { config: {}, parsed: { removeHeaders: [] } },
  'transform-response': { config: {}, parsed: { removeHeaders: [] } },
  proxy: { config: { url: 'http://orders.internal' }, parsed: { url: 'http://orders.internal', timeout: '10s', preserveHost: false, forwardAuthorization: true } },
  respond: { config: {}, parsed: { status: 200, headers: {} } },
  error: { config: { error: 'insufficient_scope' }, parsed: { error: 'insufficient_scope', params: {} } },
};
const kindNames = Object.keys(kinds) as KindName[];

describe('the kind registry', () => {
  it.each(kindNames)('%s is registered under its own name, with palette texts', (kind) => {
    const d = descriptor(kind);
    expect(d.kind).toBe(kind);
    expect(isKindName(kind)).toBe(true);
    expect(CATEGORIES).toContain(d.category);
    expect(d.title).not.toBe('');
    expect(d.description).not.toBe('');
    for (const id of d.errors) expect(errorIdSchema.safeParse(id).success).toBe(true);
  });

  it.each(['constructor', 'toString', '__proto__', 'jwt', ''])('%j is no kind', (name) => {
    expect(isKindName(name)).toBe(false);
  });

  it('kindErrorIds lists every declared error once', () => {
    const ids = kindErrorIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(kindNames.flatMap((k) => descriptor(k).errors)));
  });

  it.each([
    ['jwt-verify', []],
    ['condition', ['expression_failed']],
    ['rate-limit', ['expression_failed']],
    ['transform-request', []],
    ['respond', ['expression_failed']],
  ] as const)('faultsOf(%s) is %j: its errors that are no port default', (kind, faults) => {
    const d = descriptor(kind);
    expect(faultsOf(d, d.ports(d.config.parse(minimal[kind].config)))).toEqual(faults);
  });
});

describe('kind configs', () => {
  it('every kind has a minimal config here', () => {
    expect(Object.keys(minimal).sort()).toEqual([...kindNames].sort());
  });

  it.each(kindNames)('%s accepts its smallest config and fills in the documented defaults', (kind) => {
    const parsed = descriptor(kind).config.parse(minimal[kind].config);
    expect(parsed).toEqual(minimal[kind].parsed);
    // a parsed config parses to itself (what the admin API stores is re-validated on load)
    expect(descriptor(kind).config.parse(parsed)).toEqual(parsed);
  });

  it.each(kindNames)('%s: every default its JSON Schema shows is the default it parses to', (kind) => {
    const properties = kindConfigJsonSchema(kind).properties as Record<string, { default?: unknown; title?: string }>;
    const parsed = descriptor(kind).config.parse(minimal[kind].config) as Record<string, unknown>;
    for (const [name, property] of Object.entries(properties)) {
      if ('default' in property && !(name in minimal[kind].config)) expect({ [name]: parsed[name] }).toEqual({ [name]: property.default });
      expect(property.title, `${kind}.${name} has a title for the editor's form`).toBeTruthy();
    }
  });

  const jwt = { jwksUri: 'https://issuer.example/jwks.json' };
  const accepted: Array<[KindName, string, Record<string, unknown>]> = [
    ['jwt-verify', 'an inline JWKS', { jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } }],
    ['jwt-verify', 'a JWKS file', { jwksFile: 'demo-jwks.json' }],
    ['jwt-verify', 'an HMAC secret with HS* only', { secretEnv: 'JWT_SECRET', algorithms: ['HS256', 'HS512'] }],
    ['jwt-verify', 'several public-key algorithms and every check', { ...jwt, algorithms: ['RS256', 'ES256', 'EdDSA'], issuer: 'urn:i', audience: 'a', clockTolerance: '0s', maxTokenAge: '1h' }],
    ['api-key', 'keys, a header and a query parameter', { header: 'X-Key', query: 'key', keys: [{ hash: KEY_HASH, partner: 'acme', scopes: ['a'] }] }],
    ['scope-check', 'any only', { any: ['a', 'b'] }],
    ['switch', 'several cases', { cases: [{ port: 'a', when: 'true' }, { port: 'b-2', when: 'false' }] }],
    ['rate-limit', 'a claim key with its name', { limit: 1, key: 'claim', name: 'tenant' }],
    ['rate-limit', 'a header key with its name', { limit: 1, key: 'header', name: 'x-tenant', window: '1ms' }],
    ['rate-limit', 'an expression key', { limit: 1, key: 'expression', expression: 'request.query.tenant' }],
    ['proxy', 'an env-var URL, a path rewrite and a prefix', { url: '${UPSTREAM}/v2', path: '/orders/:id', stripPrefix: '/api', timeout: '1ms' }],
    ['proxy', 'the longest timeout a timer honours', { url: 'https://x.example', timeout: '2147483647ms' }],
    ['respond', 'a status, headers and a body expression', { status: 404, headers: { 'Cache-Control': 'no-store', 'x-note': 'caf\u00e9\tok' }, bodyExpression: '{ "a": 1 }' }],
    ['error', 'detail values', { error: 'order_not_visible', params: { id: '42' } }],
  ];
  it.each(accepted)('%s accepts %s', (kind, _name, config) => {
    expect(refusedFields(kind, config)).toEqual([]);
  });

  const refused: Array<[KindName, string, unknown, string[]]> = [
    ['jwt-verify', 'no key source', {}, ['jwksUri']],
    ['jwt-verify', 'two key sources', { ...jwt, jwksFile: 'keys.json' }, ['jwksUri']],
    ['jwt-verify', 'HS256 with a JWKS (public key set must never verify HMAC)', { ...jwt, algorithms: ['HS256'] }, ['algorithms']],
    ['jwt-verify', 'a secret with an RS algorithm', { secretEnv: 'JWT_SECRET', algorithms: ['HS256', 'RS256'] }, ['algorithms']],
    ['jwt-verify', 'a secret with the default algorithms (RS256)', { secretEnv: 'JWT_SECRET' }, ['algorithms']],
    ['jwt-verify', 'the none algorithm', { ...jwt, algorithms: ['none'] }, ['algorithms.0']],
    ['jwt-verify', 'no algorithm at all', { ...jwt, algorithms: [] }, ['algorithms']],
    ['jwt-verify', 'a JWKS URL that is not http(s)', { jwksUri: 'file:///etc/keys.json' }, ['jwksUri']],
    ['jwt-verify', 'an env var name in lower case', { secretEnv: 'jwt_secret', algorithms: ['HS256'] }, ['secretEnv']],
    ['jwt-verify', 'an empty inline JWKS', { jwks: { keys: [] } }, ['jwks.keys']],
    ['jwt-verify', 'a clock tolerance that is no duration', { ...jwt, clockTolerance: '30 seconds' }, ['clockTolerance']],
    ['jwt-verify', 'an unknown key', { ...jwt, cache: true }, ['cache']],
    ['api-key', 'a key stored in clear', { keys: [{ hash: 'secret', partner: 'acme' }] }, ['keys.0.hash']],
    ['api-key', 'one key listed twice', { keys: [{ hash: KEY_HASH, partner: 'acme' }, { hash: KEY_HASH, partner: 'globex' }] }, ['keys.1.hash']],
    ['api-key', 'a key without partner', { keys: [{ hash: KEY_HASH }] }, ['keys.0.partner']],
    ['scope-check', 'no scopes', {}, ['all']],
    ['scope-check', 'empty lists', { all: [], any: [] }, ['all']],
    ['scope-check', 'a scope with a space', { all: ['orders read'] }, ['all.0']],
    ['condition', 'no predicate', {}, ['when']],
    ['condition', 'an empty predicate', { when: '' }, ['when']],
    ['switch', 'no cases', { cases: [] }, ['cases']],
    ['switch', 'duplicate ports', { cases: [{ port: 'a', when: 'true' }, { port: 'a', when: 'false' }] }, ['cases.1.port']],
    ['switch', 'a case named "default"', { cases: [{ port: 'default', when: 'true' }] }, ['cases.0.port']],
    ['switch', 'a port name in capitals', { cases: [{ port: 'Admin', when: 'true' }] }, ['cases.0.port']],
    ['rate-limit', 'key "claim" without name', { limit: 10, key: 'claim' }, ['name']],
    ['rate-limit', 'key "header" without name', { limit: 10, key: 'header' }, ['name']],
    ['rate-limit', 'key "expression" without expression', { limit: 10, key: 'expression' }, ['expression']],
    ['rate-limit', 'an unknown key', { limit: 10, key: 'cookie' }, ['key']],
    ['rate-limit', 'an unknown onStoreDown choice', { limit: 10, onStoreDown: 'retry' }, ['onStoreDown']],
    ['rate-limit', 'no limit', {}, ['limit']],
    ['rate-limit', 'a limit of 0', { limit: 0 }, ['limit']],
    ['rate-limit', 'a fractional limit', { limit: 1.5 }, ['limit']],
    ['rate-limit', 'a zero window', { limit: 10, window: '0s' }, ['window']],
    ['rate-limit', 'a window that rounds to 0ms', { limit: 10, window: '0.4ms' }, ['window']],
    ['transform-request', 'an empty expression', { body: '' }, ['body']],
    ['transform-response', 'an unknown field', { statusCode: '201' }, ['statusCode']],
    ['proxy', 'no URL', {}, ['url']],
    ['proxy', 'a URL without scheme', { url: 'orders.internal' }, ['url']],
    ['proxy', 'a path rewrite without leading slash', { url: 'http://x', path: 'orders/:id' }, ['path']],
    ['proxy', 'a prefix without leading slash', { url: 'http://x', stripPrefix: 'api' }, ['stripPrefix']],
    ['proxy', 'a zero timeout (undici reads 0 as none)', { url: 'http://x', timeout: '0ms' }, ['timeout']],
    ['proxy', 'a timeout longer than a timer honours', { url: 'http://x', timeout: '25d' }, ['timeout']],
    ['respond', 'an informational status', { status: 101 }, ['status']],
    ['respond', 'a header name with a space', { headers: { 'cache control': 'no' } }, ['headers.cache control']],
    ['respond', 'a header value with a line break', { headers: { 'x-a': 'a\r\nset-cookie: x' } }, ['headers.x-a']],
    ['error', 'no error', {}, ['error']],
    ['error', 'an error id that is not snake_case', { error: 'Not-Found' }, ['error']],
    ['error', 'a detail value that is not text', { error: 'not_found', params: { id: 42 } }, ['params.id']],
  ];
  it.each(refused)('%s refuses %s', (kind, _name, config, fields) => {
    expect(refusedFields(kind, config)).toEqual(fields);
  });

  it('every kind has refusal cases', () => {
    expect(new Set(refused.map(([kind]) => kind))).toEqual(new Set(kindNames));
  });
});

describe('ports', () => {
  it.each(kindNames)('%s has uniquely named ports', (kind) => {
    const d = descriptor(kind);
    const names = d.ports(d.config.parse(minimal[kind].config)).map((p) => p.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
  });

  it('switch has one port per case, then "default"', () => {
    const d = descriptor('switch');
    const config = d.config.parse({ cases: [{ port: 'admin', when: 'true' }, { port: 'partner', when: 'false' }] });
    expect(d.ports(config).map((p) => [p.name, p.unwired])).toEqual([
      ['admin', 'required'],
      ['partner', 'required'],
      ['default', 'required'],
    ]);
    expect(d.expressions(config)).toEqual([
      { field: 'cases.0.when', source: 'true' },
      { field: 'cases.1.when', source: 'false' },
    ]);
  });

  it('error raises the error its config names', () => {
    const d = descriptor('error');
    expect(d.ports(d.config.parse({ error: 'order_not_visible' }))).toEqual([expect.objectContaining({ name: 'raise', unwired: { error: 'order_not_visible' } })]);
  });
});

describe('mentionsBody (does an expression make the gateway buffer the request body?)', () => {
  it.each([
    ['request.body.total > 10', true],
    ['request.body', true],
    ['request.*', true],
    ['request.$string()', true],
    ['$r := request; $r.total', true],
    ['$keys(request)', true],
    ['request.**.total', true],
    ['request.headers.%.body', true],
    ['$', true],
    ['$$.request', true],
    ['$.request.path', true],
    ['request.path', false],
    ['request.method = "GET" and request.headers.accept = "json"', false],
    ['request . params.id', false],
    ['$uppercase(request.query.q)', false],
    ['claims.sub & partner', false],
    ['"orders:admin" in scopes', false],
  ])('%s -> %s', (source, reads) => {
    expect(mentionsBody([{ field: 'when', source }])).toBe(reads);
  });

  it.each([
    ['condition', { when: 'request.body.express = true' }, true],
    ['condition', { when: 'request.path = "/x"' }, false],
    ['switch', { cases: [{ port: 'a', when: 'request.query.a' }, { port: 'b', when: 'request.body.b' }] }, true],
    ['rate-limit', { limit: 1, key: 'expression', expression: 'request.body.tenant' }, true],
    ['rate-limit', { limit: 1, key: 'partner' }, false],
    ['transform-request', { body: '{ "x": 1 }' }, true],
    ['transform-request', { headers: '{ "x-a": request.path }' }, false],
    ['transform-response', { body: 'response.body.items' }, false],
    ['transform-response', { body: '{ "echo": request.body }' }, true],
    ['respond', { bodyExpression: '{ "path": request.path }' }, false],
    ['respond', { bodyExpression: 'request.body' }, true],
  ] as const)('%s %j reads the request body: %s', (kind, config, reads) => {
    const d = descriptor(kind);
    expect(d.readsRequestBody?.(d.config.parse(config)) ?? false).toBe(reads);
  });
});
