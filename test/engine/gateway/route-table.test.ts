import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CompiledWorkflow } from '../../../engine/compile/types.ts';
import { createRouteTable, type RouteMatch, type RouteTable } from '../../../engine/gateway/route-table.ts';
import type { HttpMethod } from '../../../shared/schema/index.ts';

/** The route table reads only a workflow's id and its document's route. */
const workflow = (id: string, methods: HttpMethod[], path: string) => ({ id, graph: { document: { route: { methods, path } } } }) as unknown as CompiledWorkflow;

/** A match as the tests compare it: the workflow id instead of the object. */
function summary(match: RouteMatch) {
  return match.kind === 'found' ? { kind: match.kind, workflow: match.workflow.id, params: match.params, pattern: match.pattern } : match;
}
const found = (id: string, pattern: string, params: Record<string, string> = {}) => ({ kind: 'found', workflow: id, params, pattern });
const notAllowed = (...allowed: string[]) => ({ kind: 'method_not_allowed', allowed });
const NOT_FOUND = { kind: 'not_found' };
const BAD_PATH = { kind: 'bad_path' };

const ROUTES = [
  workflow('list', ['GET'], '/api/orders'),
  workflow('create', ['POST'], '/api/orders'),
  workflow('new', ['GET'], '/api/orders/new'),
  workflow('detail', ['GET', 'DELETE'], '/api/orders/:id'),
  workflow('item', ['GET'], '/api/orders/:id/items/:item'),
  workflow('files', ['GET'], '/files/*'),
  workflow('upload', ['POST'], '/files/upload'),
  workflow('posts', ['GET'], '/users/:name/posts'),
  workflow('user', ['PUT'], '/users/:id'),
  workflow('home', ['GET'], '/'),
];
/**
 * Each test builds its tables (in beforeEach), so that building them counts as that test's work:
 * a table built once when the file loads would hide construction faults from per-test mutation runs.
 */
let table: RouteTable;
beforeEach(() => {
  table = createRouteTable(ROUTES);
});

describe('createRouteTable: match', () => {
  it.each([
    ['a literal route', 'GET', '/api/orders', found('list', '/api/orders')],
    ['another method on the same path', 'POST', '/api/orders', found('create', '/api/orders')],
    ['a literal beats a param', 'GET', '/api/orders/new', found('new', '/api/orders/new')],
    ['a param', 'GET', '/api/orders/42', found('detail', '/api/orders/:id', { id: '42' })],
    ['a literal segment without the method falls back to a param with it', 'DELETE', '/api/orders/new', found('detail', '/api/orders/:id', { id: 'new' })],
    ['params in order', 'GET', '/api/orders/42/items/7', found('item', '/api/orders/:id/items/:item', { id: '42', item: '7' })],
    ['a percent-decoded param', 'GET', '/api/orders/caf%C3%A9%20au%20lait', found('detail', '/api/orders/:id', { id: 'café au lait' })],
    ['%2F inside one segment (never a split)', 'GET', '/api/orders/a%2Fb', found('detail', '/api/orders/:id', { id: 'a/b' })],
    ['%2F in a param before more segments', 'GET', '/api/orders/a%2F..%2Fb/items/1', found('item', '/api/orders/:id/items/:item', { id: 'a/../b', item: '1' })],
    ['a "+" left as it is (paths are not forms)', 'GET', '/api/orders/a+b', found('detail', '/api/orders/:id', { id: 'a+b' })],
    ['dots inside a segment', 'GET', '/api/orders/.hidden', found('detail', '/api/orders/:id', { id: '.hidden' })],
    ['three dots', 'GET', '/api/orders/...', found('detail', '/api/orders/:id', { id: '...' })],
    ['a trailing slash', 'GET', '/api/orders/', found('list', '/api/orders')],
    ['a trailing slash after a param', 'GET', '/api/orders/42/', found('detail', '/api/orders/:id', { id: '42' })],
    ['the root', 'GET', '/', found('home', '/')],
    ['a rest route', 'GET', '/files/a/b/c.txt', found('files', '/files/*')],
    ['a rest route at its bare prefix', 'GET', '/files', found('files', '/files/*')],
    ['a rest route beside a literal of another method', 'GET', '/files/upload', found('files', '/files/*')],
    ['the literal beside a rest route', 'POST', '/files/upload', found('upload', '/files/upload')],
    ['HEAD by a GET route', 'HEAD', '/api/orders/42', found('detail', '/api/orders/:id', { id: '42' })],
    ['HEAD by a GET rest route', 'HEAD', '/files/x', found('files', '/files/*')],
    ['params of the route that matched, not of a sibling', 'GET', '/users/bob/posts', found('posts', '/users/:name/posts', { name: 'bob' })],
    ['a sibling param route', 'PUT', '/users/7', found('user', '/users/:id', { id: '7' })],

    ['405 listing the methods of the path, HEAD included', 'POST', '/api/orders/42', notAllowed('DELETE', 'GET', 'HEAD')],
    ['405 listing the methods of every route that fits the path', 'PATCH', '/api/orders/new', notAllowed('DELETE', 'GET', 'HEAD')],
    ['405 on a literal path', 'DELETE', '/api/orders', notAllowed('GET', 'HEAD', 'POST')],
    ['405 on a rest route', 'PUT', '/files/x', notAllowed('GET', 'HEAD')],
    ['405 by a param route', 'GET', '/users/7', notAllowed('PUT')],

    ['404 for an unknown path', 'GET', '/nope', NOT_FOUND],
    ['404 for a path that stops inside a route', 'GET', '/api/orders/42/items', NOT_FOUND],
    ['404 for a path that goes past a route', 'GET', '/api/orders/42/items/7/more', NOT_FOUND],
    ['404 for an empty segment where a param is expected', 'GET', '/api/orders//items/7', NOT_FOUND],
    ['404 for a doubled slash', 'GET', '/api//orders', NOT_FOUND],
    ['404 for a path opening with two slashes (not the root)', 'GET', '//api/orders', NOT_FOUND],
    ['404 for an encoded literal (segments match as received)', 'GET', '/api/%6Frders', NOT_FOUND],
    ['404 for another case', 'GET', '/API/orders', NOT_FOUND],

    ['bad_path for a "." segment', 'GET', '/api/orders/.', BAD_PATH],
    ['bad_path for a ".." segment', 'GET', '/api/orders/..', BAD_PATH],
    ['bad_path for ".." under a rest route', 'GET', '/files/../etc/passwd', BAD_PATH],
    ['bad_path for an encoded ".."', 'GET', '/api/%2e%2e/admin', BAD_PATH],
    ['bad_path for a half-encoded ".." in capitals', 'GET', '/api/orders/.%2E', BAD_PATH],
    ['bad_path for an encoded "."', 'GET', '/api/orders/%2E', BAD_PATH],
    ['bad_path for a malformed percent-encoding in a param', 'GET', '/api/orders/%zz', BAD_PATH],
    ['bad_path for a truncated percent-encoding', 'GET', '/api/orders/%E2%82', BAD_PATH],
    ['bad_path for an empty path', 'GET', '', BAD_PATH],
    ['bad_path for the asterisk form (OPTIONS *)', 'OPTIONS', '*', BAD_PATH],
    ['bad_path for the absolute form', 'GET', 'http://gateway.example/api/orders', BAD_PATH],
    ['405 at the root', 'POST', '/', notAllowed('GET', 'HEAD')],
    ['a param spelled like its pattern is a value', 'GET', '/api/orders/:id', found('detail', '/api/orders/:id', { id: ':id' })],
    ['bad_path for a raw backslash', 'GET', '/api/orders/a\\b', BAD_PATH],
    ['bad_path for ".." beside an encoded backslash', 'GET', '/api/orders/..%5Cadmin', BAD_PATH],
    ['an encoded backslash without a dot segment is a value', 'GET', '/api/orders/a%5Cb', found('detail', '/api/orders/:id', { id: 'a\\b' })],
  ])('%s: %s %s', (_name, method, path, expected) => {
    // strict: a match carries no params beyond the route's own
    expect(summary(table.match(method, path))).toStrictEqual(expected);
  });

  it('keeps the workflows it was built from', () => {
    expect(table.workflows.map((w) => w.id)).toEqual(['list', 'create', 'new', 'detail', 'item', 'files', 'upload', 'posts', 'user', 'home']);
  });

  it('answers 404 for everything when empty', () => {
    expect(summary(createRouteTable([]).match('GET', '/'))).toEqual(NOT_FOUND);
  });

  it.each([
    ['declared first', [workflow('probe', ['HEAD'], '/probe'), workflow('page', ['GET'], '/probe')]],
    ['declared last', [workflow('page', ['GET'], '/probe'), workflow('probe', ['HEAD'], '/probe')]],
  ])('an explicit HEAD route wins over the HEAD a GET route implies (%s)', (_name, workflows) => {
    const t = createRouteTable(workflows);
    expect(summary(t.match('HEAD', '/probe'))).toEqual(found('probe', '/probe'));
    expect(summary(t.match('GET', '/probe'))).toEqual(found('page', '/probe'));
  });

  it('a catch-all /* route serves every path no other route takes', () => {
    const t = createRouteTable([workflow('all', ['GET'], '/*'), workflow('status', ['GET'], '/status')]);
    expect(summary(t.match('GET', '/'))).toEqual(found('all', '/*'));
    expect(summary(t.match('GET', '/any/thing'))).toEqual(found('all', '/*'));
    expect(summary(t.match('GET', '/status'))).toEqual(found('status', '/status'));
    expect(summary(t.match('POST', '/status'))).toEqual(notAllowed('GET', 'HEAD'));
  });

  it('a path spelled like a rest route\'s pattern is a path under it, not the route at its prefix', () => {
    const t = createRouteTable([workflow('list', ['GET'], '/files'), workflow('any', ['GET'], '/files/*')]);
    expect(summary(t.match('GET', '/files/*'))).toStrictEqual(found('any', '/files/*'));
    expect(summary(t.match('GET', '/files'))).toStrictEqual(found('list', '/files'));
  });

  it('a path a param route does not fit falls back to the rest route beside it', () => {
    const t = createRouteTable([workflow('doc', ['GET'], '/docs/:id'), workflow('docs', ['GET'], '/docs/*')]);
    expect(summary(t.match('GET', '/docs/a'))).toStrictEqual(found('doc', '/docs/:id', { id: 'a' }));
    expect(summary(t.match('GET', '/docs/a/b'))).toStrictEqual(found('docs', '/docs/*'));
  });

  it('takes params only from the branch that matched, after a branch that failed half-way', () => {
    // /a/b/1/d: the literal b, then :x, fails at d; the params come from /a/:y/:z/d alone
    const t = createRouteTable([workflow('deep', ['GET'], '/a/b/:x/c'), workflow('wide', ['GET'], '/a/:y/:z/d')]);
    expect(summary(t.match('GET', '/a/b/1/d'))).toStrictEqual(found('wide', '/a/:y/:z/d', { y: 'b', z: '1' }));
    expect(summary(t.match('GET', '/a/b/1/c'))).toStrictEqual(found('deep', '/a/b/:x/c', { x: '1' }));
  });

  it('gives each match its own params', () => {
    const a = table.match('GET', '/api/orders/1');
    const b = table.match('GET', '/api/orders/2');
    expect([summary(a), summary(b)]).toEqual([found('detail', '/api/orders/:id', { id: '1' }), found('detail', '/api/orders/:id', { id: '2' })]);
  });

  describe('with 1,000 routes', () => {
    const size = 1000;
    const routes = Array.from({ length: size }, (_, i) => [
      workflow(`get-${i}`, ['GET'], `/svc${i}/items/:id`),
      workflow(`special-${i}`, ['POST'], `/svc${i}/items/special`),
      workflow(`any-${i}`, ['GET'], `/tenants/:tenant/svc${i}/*`),
    ]).flat();
    let big: RouteTable;
    beforeEach(() => {
      big = createRouteTable(routes);
    });

    it.each([0, 1, 9, 10, 99, 100, 500, 998, 999])('finds the routes of service %i', (i) => {
      expect(summary(big.match('GET', `/svc${i}/items/${i * 7}`))).toEqual(found(`get-${i}`, `/svc${i}/items/:id`, { id: String(i * 7) }));
      expect(summary(big.match('POST', `/svc${i}/items/special`))).toEqual(found(`special-${i}`, `/svc${i}/items/special`));
      expect(summary(big.match('GET', `/svc${i}/items/special`))).toEqual(found(`get-${i}`, `/svc${i}/items/:id`, { id: 'special' }));
      expect(summary(big.match('GET', `/tenants/acme/svc${i}/a/b`))).toEqual(found(`any-${i}`, `/tenants/:tenant/svc${i}/*`, { tenant: 'acme' }));
      expect(summary(big.match('DELETE', `/svc${i}/items/1`))).toEqual(notAllowed('GET', 'HEAD'));
    });

    it.each(['/svc1000/items/1', '/svc-1/items/1', '/svc1/items', '/tenants/acme/svc1000/x', '/svc01/items/1'])('does not find %s', (path) => {
      expect(summary(big.match('GET', path))).toEqual(NOT_FOUND);
    });

    it('finds every one of them', () => {
      const misses = Array.from({ length: size }, (_, i) => i).filter((i) => {
        const match = big.match('GET', `/svc${i}/items/x`);
        return match.kind !== 'found' || match.workflow.id !== `get-${i}`;
      });
      expect(misses).toEqual([]);
    });
  });
});

describe('createRouteTable: routes by host and header', () => {
  const routed = (id: string, methods: HttpMethod[], path: string, conditions: { hosts?: string[]; headers?: Record<string, string> }) =>
    ({ id, graph: { document: { route: { methods, path, ...conditions } } } }) as unknown as CompiledWorkflow;
  const hostRoutes = [
    workflow('any-host', ['GET'], '/v/orders'),
    routed('eu', ['GET'], '/v/orders', { hosts: ['*.eu.example.com'] }),
    routed('api', ['GET'], '/v/orders', { hosts: ['api.eu.example.com', 'api.example.com'] }),
    routed('v2', ['GET'], '/v/orders', { headers: { 'x-api-version': '2' } }),
    routed('v2-api', ['GET'], '/v/orders', { hosts: ['api.example.com'], headers: { 'x-api-version': '2' } }),
    routed('only-partner', ['POST'], '/v/partner/:id', { hosts: ['partner.example.com'] }),
  ];
  let hosts: RouteTable;
  beforeEach(() => {
    hosts = createRouteTable(hostRoutes);
  });
  const match = (method: string, path: string, headers: Record<string, string | string[]>) => summary(hosts.match(method, path, headers));

  it.each([
    ['no conditions match: the route without them', { host: 'other.example.com' }, 'any-host'],
    ['a wildcard host (port aside, any case)', { host: 'Shop.EU.example.com:8443' }, 'eu'],
    ['an exact host beats a wildcard', { host: 'api.eu.example.com' }, 'api'],
    ['the wildcard never matches its own apex', { host: 'eu.example.com' }, 'any-host'],
    ['a header condition beats a host', { host: 'api.eu.example.com', 'x-api-version': '2' }, 'v2'],
    ['a header and a host beat a header alone', { host: 'api.example.com', 'x-api-version': '2' }, 'v2-api'],
    ['a header with another value is no match', { host: 'other.example.com', 'x-api-version': '3' }, 'any-host'],
    ['HEAD follows the GET routes and their conditions', { host: 'api.example.com' }, 'api', 'HEAD'],
    ['no Host header: the route without conditions', {}, 'any-host'],
    ['a Host that is the wildcard\'s suffix alone (no label before it)', { host: '.eu.example.com' }, 'any-host'],
    ['an exact host is no suffix', { host: 'xapi.example.com' }, 'any-host'],
    ['an exact host with a port', { host: 'API.example.com:443' }, 'api'],
    ['a Host opening with "[" is an IP literal: only the bracketed part is the host', { host: '[x]shop.eu.example.com' }, 'any-host'],
    ['a Host given as a list: its first value', { host: ['api.example.com', 'other.example.com'] }, 'api'],
    ['a header given as a list: its first value', { host: 'other.example.com', 'x-api-version': ['2', '3'] }, 'v2'],
    ['a header list whose first value differs is no match', { host: 'other.example.com', 'x-api-version': ['3', '2'] }, 'any-host'],
  ])('%s', (_name, headers, id, method = 'GET') => {
    expect(match(method, '/v/orders', headers)).toMatchObject({ kind: 'found', workflow: id });
  });

  it('answers 404, not 405, for a host that no route of the path is for', () => {
    expect(match('POST', '/v/partner/7', { host: 'partner.example.com' })).toEqual(found('only-partner', '/v/partner/:id', { id: '7' }));
    expect(match('POST', '/v/partner/7', { host: 'evil.example.com' })).toEqual(NOT_FOUND);
    expect(match('GET', '/v/partner/7', { host: 'partner.example.com' })).toEqual(notAllowed('POST'));
    expect(match('GET', '/v/partner/7', { host: 'evil.example.com' })).toEqual(NOT_FOUND);
  });

  it('a lone route with header conditions answers only requests that carry them', () => {
    const t = createRouteTable([routed('beta', ['GET'], '/beta', { headers: { 'x-channel': 'beta' } })]);
    expect(summary(t.match('GET', '/beta', { 'x-channel': 'beta' }))).toEqual(found('beta', '/beta'));
    expect(summary(t.match('HEAD', '/beta', { 'x-channel': 'beta' }))).toEqual(found('beta', '/beta'));
    expect(summary(t.match('GET', '/beta', { 'x-channel': 'stable' }))).toEqual(NOT_FOUND);
    expect(summary(t.match('GET', '/beta'))).toEqual(NOT_FOUND);
    expect(summary(t.match('POST', '/beta', { 'x-channel': 'beta' }))).toEqual(notAllowed('GET', 'HEAD'));
  });

  it('a lone route with hosts answers only its hosts, on a rest route too', () => {
    const t = createRouteTable([routed('docs', ['GET'], '/docs/*', { hosts: ['docs.example.com'] })]);
    expect(summary(t.match('GET', '/docs/a/b', { host: 'docs.example.com' }))).toEqual(found('docs', '/docs/*'));
    expect(summary(t.match('GET', '/docs/a/b', { host: 'evil.example.com' }))).toEqual(NOT_FOUND);
    expect(summary(t.match('GET', '/docs/a/b'))).toEqual(NOT_FOUND);
    expect(summary(t.match('PUT', '/docs/a/b', { host: 'docs.example.com' }))).toEqual(notAllowed('GET', 'HEAD'));
    expect(summary(t.match('PUT', '/docs/a/b', { host: 'evil.example.com' }))).toEqual(NOT_FOUND);
  });

  it('a matching host outranks an explicit method: the HEAD a GET route for the host implies wins over a HEAD route for any host', () => {
    const t = createRouteTable([workflow('probe', ['HEAD'], '/p'), routed('shop', ['GET'], '/p', { hosts: ['*.example.com'] })]);
    expect(summary(t.match('HEAD', '/p', { host: 'shop.example.com' }))).toEqual(found('shop', '/p'));
    expect(summary(t.match('HEAD', '/p', { host: 'other.test' }))).toEqual(found('probe', '/p'));
  });

  it('the HEAD a route without conditions implies answers hosts the other routes are not for', () => {
    const t = createRouteTable([routed('shop', ['GET'], '/p', { hosts: ['shop.example.com'] }), workflow('page', ['GET'], '/p')]);
    expect(summary(t.match('HEAD', '/p', { host: 'other.test' }))).toEqual(found('page', '/p'));
    expect(summary(t.match('HEAD', '/p', { host: 'shop.example.com' }))).toEqual(found('shop', '/p'));
  });
});

describe('RouteTable.update: incremental changes', () => {
  /** A workflow whose route may carry host and header conditions; `v` makes each version its own object. */
  const routed = (id: string, methods: HttpMethod[], path: string, hosts?: string[], headers?: Record<string, string>, v = 0) =>
    ({ id, v, graph: { document: { route: { methods, path, ...(hosts ? { hosts } : {}), ...(headers ? { headers } : {}) } } } }) as unknown as CompiledWorkflow;

  const PATHS = ['/', '/a', '/a/', '/a/b', '/a/:x', '/a/:x/c', '/a/*', '/*', '/b/:y/:z', '/b/q/:z', '/svc/1/orders', '/svc/2/orders', '/svc/:n/orders'];
  const METHODS: HttpMethod[][] = [['GET'], ['POST'], ['GET', 'POST'], ['HEAD'], ['DELETE', 'PUT']];
  const HOSTS = [undefined, ['api.example.com'], ['*.example.com']];
  const HEADERS = [undefined, { 'x-version': '2' }];
  const route = fc.record({
    id: fc.constantFrom('w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8'),
    path: fc.constantFrom(...PATHS),
    methods: fc.constantFrom(...METHODS),
    hosts: fc.constantFrom(...HOSTS),
    headers: fc.constantFrom(...HEADERS),
  });
  const step = fc.oneof(fc.record({ set: fc.array(route, { maxLength: 3 }), removed: fc.array(fc.constantFrom('w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'nobody'), { maxLength: 2 }) }));
  const PROBES: Array<[string, string, Record<string, string>]> = [];
  for (const path of ['/', '/a', '/a/', '/a/b', '/a/zz', '/a/zz/c', '/a/b/c/d', '/b/q/1', '/b/r/1', '/svc/1/orders', '/svc/2/orders', '/svc/3/orders', '/other', '/a/..'])
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH'])
      for (const headers of [{}, { host: 'api.example.com' }, { host: 'x.example.com', 'x-version': '2' }] as Array<Record<string, string>>) PROBES.push([method, path, headers]);

  it('answers every request exactly as a table built at once from the same workflows', () => {
    fc.assert(
      fc.property(fc.array(route, { maxLength: 8 }), fc.array(step, { maxLength: 8 }), (initial, steps) => {
        let v = 0;
        const make = (r: { id: string; path: string; methods: HttpMethod[]; hosts: string[] | undefined; headers: Record<string, string> | undefined }) => routed(r.id, r.methods, r.path, r.hosts, r.headers, ++v);
        let table = createRouteTable(initial.map(make));
        /** The model: the workflows routed, by id in the order they came (a replacement keeps its place). */
        const model = new Map<string, CompiledWorkflow>();
        for (const w of table.workflows) model.set(w.id, w);
        for (const { set, removed } of steps) {
          const made = set.map(make);
          table = table.update({ set: made, removed });
          for (const id of removed) model.delete(id);
          for (const w of made) model.set(w.id, w);
          expect(table.workflows).toEqual([...model.values()]);
          const whole = createRouteTable([...model.values()]);
          for (const [method, path, headers] of PROBES) {
            const [a, b] = [table.match(method, path, headers), whole.match(method, path, headers)];
            expect(a.kind === 'found' ? { ...a, workflow: a.workflow } : a).toStrictEqual(b.kind === 'found' ? { ...b, workflow: b.workflow } : b);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a route left alone on its path by a removal keeps its conditions: other hosts still get 404', () => {
    const t = createRouteTable([routed('a', ['GET'], '/p', ['a.example.com']), routed('b', ['GET'], '/p', ['b.example.com'])]).update({ set: [], removed: ['b'] });
    expect(summary(t.match('GET', '/p', { host: 'a.example.com' }))).toEqual(found('a', '/p'));
    expect(summary(t.match('GET', '/p', { host: 'b.example.com' }))).toEqual(NOT_FOUND);
    expect(summary(t.match('GET', '/p'))).toEqual(NOT_FOUND);
  });

  it('a removal frees only its own branch: a child named like its parent, and params beside it, still answer', () => {
    const t = createRouteTable([workflow('ab', ['GET'], '/a/b'), workflow('aax', ['GET'], '/a/a/:x'), workflow('ap', ['GET'], '/a/:p/y'), workflow('bb', ['GET'], '/b/b')]).update({ set: [], removed: ['ab'] });
    expect(summary(t.match('GET', '/a/b'))).toEqual(NOT_FOUND);
    expect(summary(t.match('GET', '/a/a/1'))).toEqual(found('aax', '/a/a/:x', { x: '1' })); // not through the exact map: found in the trie
    expect(summary(t.match('GET', '/a/q/y'))).toEqual(found('ap', '/a/:p/y', { p: 'q' }));
    expect(summary(t.match('GET', '/b/b'))).toEqual(found('bb', '/b/b'));
  });

  it('a method whose last route was removed is no longer allowed on the path', () => {
    const t = createRouteTable([workflow('read', ['GET'], '/q'), workflow('write', ['POST'], '/q')]).update({ set: [], removed: ['read'] });
    expect(summary(t.match('GET', '/q'))).toEqual(notAllowed('POST'));
    expect(summary(t.match('POST', '/q'))).toEqual(found('write', '/q'));
  });

  it('between routes that fit a request equally, the first published wins, and a republished one keeps its place', () => {
    const a = routed('a', ['GET'], '/t', undefined, { 'x-a': '1' });
    const b = routed('b', ['GET'], '/t', undefined, { 'x-b': '1' });
    const both = { 'x-a': '1', 'x-b': '1' };
    const t = createRouteTable([a, b]);
    expect(summary(t.match('GET', '/t', both))).toEqual(found('a', '/t'));
    const republished = t.update({ set: [routed('a', ['GET'], '/t', undefined, { 'x-a': '1' })], removed: [] });
    expect(summary(republished.match('GET', '/t', both))).toEqual(found('a', '/t'));
    const bFirst = createRouteTable([b, a]).update({ set: [routed('a', ['GET'], '/t', undefined, { 'x-a': '1' })], removed: [] });
    expect(summary(bFirst.match('GET', '/t', both))).toEqual(found('b', '/t'));
  });

  it('takes a removed route out whole: its path answers 404 and its empty branches go', () => {
    const orders = routed('orders', ['GET'], '/svc/1/orders');
    const table = createRouteTable([orders, routed('other', ['GET'], '/svc/:n/items')]).update({ set: [], removed: ['orders'] });
    expect(summary(table.match('GET', '/svc/1/orders'))).toEqual(NOT_FOUND);
    expect(summary(table.match('GET', '/svc/1/items'))).toEqual(found('other', '/svc/:n/items', { n: '1' }));
    const again = table.update({ set: [routed('orders', ['POST'], '/svc/1/orders')], removed: [] });
    expect(summary(again.match('GET', '/svc/1/orders'))).toEqual(notAllowed('POST'));
    expect(again.workflows.map((w) => w.id)).toEqual(['other', 'orders']);
  });
});
