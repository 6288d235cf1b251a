import { describe, expect, it } from 'vitest';
import { clashingMethods, RESERVED_PREFIXES, reservedPrefixOf, routeShape } from '../../shared/compile/index.ts';
import { routeSchema, type HttpMethod } from '../../shared/schema/index.ts';

describe('route paths', () => {
  it.each(['/', '/*', '/api', '/api/orders/:id', '/api/:version/orders/:id/*', '/files/*', '/a-b/c_d/e.f/~g', '/..well', '/v1.2'])('accepts %s', (path) => {
    expect(routeSchema.safeParse({ methods: ['GET'], path }).success).toBe(true);
  });

  it.each([
    ['no leading slash', 'api/orders'],
    ['a trailing slash', '/api/orders/'],
    ['an empty segment', '/api//orders'],
    ['a "*" that is not last', '/api/*/orders'],
    ['a "*" glued to a segment', '/api*'],
    ['the old "//*" spelling of a catch-all', '//*'],
    ['a "." segment', '/api/./orders'],
    ['a ".." segment', '/api/..'],
    ['a param without name', '/api/:'],
    ['a param starting with a digit', '/api/:1d'],
    ['a repeated param', '/a/:id/b/:id'],
    ['a query string', '/api?x=1'],
    ['an encoded character', '/api/%2F'],
    ['a space', '/api/my orders'],
  ])('refuses %s: %s', (_name, path) => {
    expect(routeSchema.safeParse({ methods: ['GET'], path }).success).toBe(false);
  });

  it.each([
    ['no methods', { methods: [], path: '/x' }],
    ['an unknown method', { methods: ['TRACE'], path: '/x' }],
    ['a lower-case method', { methods: ['get'], path: '/x' }],
  ])('refuses %s', (_name, route) => {
    expect(routeSchema.safeParse(route).success).toBe(false);
  });
});

describe('routeShape', () => {
  it.each([
    ['/api/orders/:id', '/api/orders/:'],
    ['/api/:a/x/:b/*', '/api/:/x/:/*'],
    ['/', '/'],
    ['/*', '/*'],
    ['/a/:_x9/:Ab_c/b', '/a/:/:/b'],
  ])('%s -> %s', (path, shape) => {
    expect(routeShape(path)).toBe(shape);
  });
});

describe('clashingMethods', () => {
  const route = (methods: HttpMethod[], path: string) => ({ methods, path });
  it.each([
    ['same path, same method (and the HEAD both GETs answer)', route(['GET'], '/a/:id'), route(['GET', 'POST'], '/a/:id'), ['GET', 'HEAD']],
    ['same path, one method in common', route(['POST', 'PUT'], '/a/:id'), route(['PUT', 'DELETE'], '/a/:id'), ['PUT']],
    ['same shape, other param name', route(['PUT'], '/a/:id'), route(['PUT'], '/a/:key'), ['PUT']],
    ['GET also answers HEAD', route(['GET'], '/a'), route(['HEAD'], '/a'), ['HEAD']],
    ['HEAD against GET', route(['HEAD'], '/a'), route(['GET'], '/a'), ['HEAD']],
    ['different methods', route(['GET'], '/a'), route(['POST'], '/a'), []],
    ['literal and param differ (the literal wins)', route(['GET'], '/a/new'), route(['GET'], '/a/:id'), []],
    ['a rest route and a longer path differ', route(['GET'], '/a/*'), route(['GET'], '/a/b'), []],
    ['two rest routes at one prefix', route(['GET'], '/a/*'), route(['GET'], '/a/*'), ['GET', 'HEAD']],
  ] as const)('%s', (_name, a, b, methods) => {
    expect(clashingMethods({ methods: [...a.methods], path: a.path }, { methods: [...b.methods], path: b.path })).toEqual(methods);
  });

  const on = (conditions: { hosts?: string[]; headers?: Record<string, string> }) => ({ methods: ['GET' as const], path: '/a', ...conditions });
  it.each([
    ['the same host', on({ hosts: ['api.example.com'] }), on({ hosts: ['api.example.com', 'x.example.com'] }), true],
    ['other hosts', on({ hosts: ['api.example.com'] }), on({ hosts: ['www.example.com'] }), false],
    ['exact hosts where one ends with the other', on({ hosts: ['x.example.com'] }), on({ hosts: ['ax.example.com'] }), false],
    ['a host and no host (the host wins)', on({ hosts: ['api.example.com'] }), on({}), false],
    ['no host and a host (the host wins)', on({}), on({ hosts: ['api.example.com'] }), false],
    ['an exact host and a wildcard over it (the exact wins)', on({ hosts: ['api.example.com'] }), on({ hosts: ['*.example.com'] }), false],
    ['a wildcard and an exact host under it (the exact wins)', on({ hosts: ['*.example.com'] }), on({ hosts: ['api.example.com'] }), false],
    ['nested wildcards (both match x.eu.example.com)', on({ hosts: ['*.eu.example.com'] }), on({ hosts: ['*.example.com'] }), true],
    ['nested wildcards, the wider first', on({ hosts: ['*.example.com'] }), on({ hosts: ['*.eu.example.com'] }), true],
    ['the same wildcard', on({ hosts: ['*.example.com'] }), on({ hosts: ['*.example.com'] }), true],
    ['sibling wildcards', on({ hosts: ['*.eu.example.com'] }), on({ hosts: ['*.us.example.com'] }), false],
    ['a wildcard that only ends in the same letters', on({ hosts: ['*.example.com'] }), on({ hosts: ['*.badexample.com'] }), false],
    ['a later host of the list ties', on({ hosts: ['www.example.com', 'api.example.com'] }), on({ hosts: ['api.example.com'] }), true],
    ['the same header condition', on({ headers: { 'x-v': '2' } }), on({ headers: { 'x-v': '2' } }), true],
    ['one header with other values', on({ headers: { 'x-v': '2' } }), on({ headers: { 'x-v': '3' } }), false],
    ['two headers that can both be sent', on({ headers: { 'x-v': '2' } }), on({ headers: { 'x-tenant': 'a' } }), true],
    ['more header conditions (they win)', on({ headers: { 'x-v': '2', 'x-tenant': 'a' } }), on({ headers: { 'x-v': '2' } }), false],
    ['fewer header conditions (the other wins)', on({ headers: { 'x-v': '2' } }), on({ headers: { 'x-v': '2', 'x-tenant': 'a' } }), false],
    ['a header condition and none (the header wins)', on({}), on({ headers: { 'x-v': '2' } }), false],
    ['the same header and the same host', on({ hosts: ['api.example.com'], headers: { 'x-v': '2' } }), on({ hosts: ['api.example.com'], headers: { 'x-v': '2' } }), true],
    ['the same header and other hosts', on({ hosts: ['api.example.com'], headers: { 'x-v': '2' } }), on({ hosts: ['www.example.com'], headers: { 'x-v': '2' } }), false],
  ])('conditions: %s clash: %s', (_name, a, b, clash) => {
    expect(clashingMethods(a, b)).toEqual(clash ? ['GET', 'HEAD'] : []);
  });
});

describe('reservedPrefixOf', () => {
  it('reserves the gateway\'s own paths', () => {
    expect(RESERVED_PREFIXES).toEqual(['/admin', '/editor', '/healthz', '/readyz', '/metrics', '/.well-known/sluice', '/mcp', '/portal']);
  });

  it.each([
    ['/admin', '/admin'],
    ['/admin/api/workflows', '/admin'],
    ['/editor/', '/editor'],
    ['/healthz', '/healthz'],
    ['/readyz', '/readyz'],
    ['/readyzz', undefined],
    ['/metrics', '/metrics'],
    ['/.well-known/sluice/demo-jwks.json', '/.well-known/sluice'],
    ['/administrator', undefined],
    ['/api/admin', undefined],
    ['/.well-known/openid-configuration', undefined],
    ['/', undefined],
    ['/mcp', '/mcp'],
    ['/mcpx', undefined],
    ['/Admin/api', '/admin'],
    ['/HEALTHZ', '/healthz'],
    ['/%61dmin', '/admin'],
    ['/%41DMIN/x', '/admin'],
    ['/%2561dmin', '/admin'],
    ['/%252561dmin/api', '/admin'],
    ['/admin%2Fapi', '/admin'],
    ['/Admin/%zz', '/admin'],
    ['/%zz/admin', undefined],
    ['/%2e%2e/admin', undefined],
  ])('%s -> %s', (path, prefix) => {
    expect(reservedPrefixOf(path)).toBe(prefix);
  });
});
