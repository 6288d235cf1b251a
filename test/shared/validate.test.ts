import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODES, validateWorkflow, type ProblemCode, type ValidateOptions, type ValidationProblem } from '../../shared/compile/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, errorCatalogSchema, measureJsonText, type ErrorCatalog, type Route } from '../../shared/schema/index.ts';

const root = new URL('../../', import.meta.url);
const readJson = (path: string): unknown => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
const catalog = errorCatalogSchema.parse(readJson('examples/errors.json'));
const exampleFiles = readdirSync(new URL('examples/workflows/', root)).filter((f) => f.endsWith('.json')).sort();

/** The catalog of the examples without some ids. */
const catalogWithout = (...ids: string[]): ErrorCatalog => ({ errors: Object.fromEntries(Object.entries(catalog.errors).filter(([id]) => !ids.includes(id))) });

interface Doc {
  id: string;
  name: string;
  route: Route;
  start?: string;
  nodes: Array<{ id: string; kind: string; config?: Record<string, unknown>; [extra: string]: unknown }>;
  edges: Array<{ from: string; port: string; to: string }>;
  [extra: string]: unknown;
}

/**
 * A small valid workflow using every way a port can end: wired, finish (shape.ok), a default
 * error (verify.missing, call.timeout...), and a terminal error node.
 *
 *   verify --ok--> gate --true--> call --ok--> shape
 *                       --false-> deny
 */
function base(): Doc {
  return {
    id: 'orders',
    name: 'Orders',
    route: { methods: ['GET'], path: '/api/orders/:id' },
    nodes: [
      { id: 'verify', kind: 'jwt-verify', config: { jwksUri: 'https://issuer.example/jwks.json' } },
      { id: 'gate', kind: 'condition', config: { when: 'request.method = "GET"' } },
      { id: 'call', kind: 'proxy', config: { url: 'http://orders.internal' } },
      { id: 'shape', kind: 'transform-response', config: { body: 'response.body' } },
      { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } },
    ],
    edges: [
      { from: 'verify', port: 'ok', to: 'gate' },
      { from: 'gate', port: 'true', to: 'call' },
      { from: 'gate', port: 'false', to: 'deny' },
      { from: 'call', port: 'ok', to: 'shape' },
    ],
  };
}

/** The base workflow changed by `change`. */
function variant(change: (d: Doc) => void): Doc {
  const d = base();
  change(d);
  return d;
}
const node = (d: Doc, id: string) => d.nodes.find((n) => n.id === id)!;

/** What a case asserts of a problem: its code, node and field (its words: SAYS). */
const pin = (p: ValidationProblem) => ({ code: p.code, node: p.node, field: p.field });

interface Case {
  code: ProblemCode;
  name: string;
  input: unknown;
  options?: ValidateOptions;
  /** Every problem reported, in order. */
  expected: Array<{ code: ProblemCode; node: string | undefined; field: string | undefined }>;
}

const cases: Case[] = [
  // invalid_document: the document does not fit the schema, so no graph check runs
  { code: 'invalid_document', name: 'a node id that is not url-safe', input: variant((d) => (node(d, 'call').id = 'Call Service')), expected: [{ code: 'invalid_document', node: 'Call Service', field: 'id' }] },
  { code: 'invalid_document', name: 'an unknown key on a node, named by the key', input: variant((d) => (node(d, 'call').colour = 'red')), expected: [{ code: 'invalid_document', node: 'call', field: 'colour' }] },
  { code: 'invalid_document', name: 'an unknown top-level key', input: variant((d) => (d.owner = 'me')), expected: [{ code: 'invalid_document', node: undefined, field: 'owner' }] },
  { code: 'invalid_document', name: 'a malformed route path', input: variant((d) => (d.route.path = 'api/orders')), expected: [{ code: 'invalid_document', node: undefined, field: 'route.path' }] },
  { code: 'invalid_document', name: 'a route path repeating a :param', input: variant((d) => (d.route.path = '/a/:id/b/:id')), expected: [{ code: 'invalid_document', node: undefined, field: 'route.path' }] },
  { code: 'invalid_document', name: 'an edge without port', input: variant((d) => d.edges.push({ from: 'call', to: 'deny' } as never)), expected: [{ code: 'invalid_document', node: undefined, field: 'edges.4.port' }] },
  { code: 'invalid_document', name: 'not an object', input: 'workflow', expected: [{ code: 'invalid_document', node: undefined, field: '(document)' }] },

  { code: 'duplicate_node', name: 'two nodes with one id', input: variant((d) => d.nodes.push({ id: 'call', kind: 'respond', config: {} })), expected: [{ code: 'duplicate_node', node: 'call', field: 'id' }] },
  { code: 'unknown_kind', name: 'a misspelt kind', input: variant((d) => (node(d, 'verify').kind = 'jwt-verfy')), expected: [{ code: 'unknown_kind', node: 'verify', field: 'kind' }] },

  { code: 'invalid_config', name: 'a config refused by its kind', input: variant((d) => (node(d, 'call').config = { url: 'ftp://orders.internal' })), expected: [{ code: 'invalid_config', node: 'call', field: 'config.url' }] },
  { code: 'invalid_config', name: 'a missing required field', input: variant((d) => (node(d, 'gate').config = {})), expected: [{ code: 'invalid_config', node: 'gate', field: 'config.when' }] },
  { code: 'invalid_config', name: 'an unknown config key, named by the key', input: variant((d) => (node(d, 'call').config!.retriez = 3)), expected: [{ code: 'invalid_config', node: 'call', field: 'config.retriez' }] },
  { code: 'invalid_config', name: 'a cross-field rule (two key sources)', input: variant((d) => (node(d, 'verify').config!.jwksFile = 'keys.json')), expected: [{ code: 'invalid_config', node: 'verify', field: 'config.jwksUri' }] },
  { code: 'invalid_config', name: 'a config left out where the kind needs one', input: variant((d) => delete node(d, 'gate').config), expected: [{ code: 'invalid_config', node: 'gate', field: 'config.when' }] },

  { code: 'expression_syntax', name: 'a condition that does not parse', input: variant((d) => (node(d, 'gate').config = { when: 'request.method = ' })), expected: [{ code: 'expression_syntax', node: 'gate', field: 'config.when' }] },
  {
    code: 'expression_syntax',
    name: 'a switch case that does not parse, named by its index',
    input: variant((d) => {
      Object.assign(node(d, 'gate'), { kind: 'switch', config: { cases: [{ port: 'true', when: 'ok' }, { port: 'false', when: '((' }] } });
      d.edges.push({ from: 'gate', port: 'default', to: 'deny' });
    }),
    expected: [{ code: 'expression_syntax', node: 'gate', field: 'config.cases.1.when' }],
  },

  { code: 'dangling_edge', name: 'an edge to an unknown node', input: variant((d) => d.edges.push({ from: 'call', port: 'error', to: 'ghost' })), expected: [{ code: 'dangling_edge', node: 'call', field: 'edges.4.to' }] },
  { code: 'dangling_edge', name: 'an edge from an unknown node', input: variant((d) => d.edges.push({ from: 'ghost', port: 'ok', to: 'deny' })), expected: [{ code: 'dangling_edge', node: undefined, field: 'edges.4.from' }] },
  { code: 'unknown_port', name: 'a port the kind does not have', input: variant((d) => d.edges.push({ from: 'verify', port: 'expired', to: 'deny' })), expected: [{ code: 'unknown_port', node: 'verify', field: 'edges.4.port' }] },
  { code: 'duplicate_edge', name: 'a port wired twice', input: variant((d) => d.edges.push({ from: 'gate', port: 'true', to: 'deny' })), expected: [{ code: 'duplicate_edge', node: 'gate', field: 'ports.true' }] },
  { code: 'edge_from_terminal', name: 'an edge out of an error node', input: variant((d) => d.edges.push({ from: 'deny', port: 'raise', to: 'call' })), expected: [{ code: 'edge_from_terminal', node: 'deny', field: 'edges.4' }] },
  {
    code: 'edge_into_start',
    name: 'an edge into the named start (here from a node nothing reaches)',
    input: variant((d) => {
      d.start = 'verify';
      d.nodes.push({ id: 'side', kind: 'scope-check', config: { all: ['x'] } });
      d.edges.push({ from: 'side', port: 'ok', to: 'verify' });
    }),
    expected: [
      { code: 'edge_into_start', node: 'verify', field: 'id' },
      { code: 'unreachable', node: 'side', field: undefined },
    ],
  },

  { code: 'no_start', name: 'a named start that does not exist', input: variant((d) => (d.start = 'ghost')), expected: [{ code: 'no_start', node: undefined, field: 'start' }] },
  { code: 'no_start', name: 'every node has an incoming edge', input: variant((d) => d.edges.push({ from: 'call', port: 'error', to: 'verify' })), expected: [{ code: 'no_start', node: undefined, field: 'start' }] },
  { code: 'multiple_starts', name: 'two nodes without incoming edges', input: variant((d) => d.nodes.push({ id: 'extra', kind: 'respond', config: {} })), expected: [{ code: 'multiple_starts', node: 'extra', field: 'start' }] },
  {
    code: 'unreachable',
    name: 'a node the named start never reaches',
    input: variant((d) => {
      d.start = 'verify';
      d.nodes.push({ id: 'extra', kind: 'respond', config: {} });
    }),
    expected: [{ code: 'unreachable', node: 'extra', field: undefined }],
  },
  { code: 'cycle', name: 'a port leading back, named by the edge that closes the cycle', input: variant((d) => d.edges.push({ from: 'call', port: 'error', to: 'gate' })), expected: [{ code: 'cycle', node: 'call', field: 'ports.error' }] },
  {
    code: 'port_unwired',
    name: 'a required port left open',
    input: variant((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'deny');
      d.edges = d.edges.filter((e) => e.to !== 'deny');
    }),
    expected: [{ code: 'port_unwired', node: 'gate', field: 'ports.false' }],
  },

  { code: 'unknown_error', name: "an unwired port's default error missing from the catalog", input: base(), options: { catalog: catalogWithout('upstream_timeout') }, expected: [{ code: 'unknown_error', node: 'call', field: 'ports.timeout' }] },
  { code: 'unknown_error', name: "an error node's error missing from the catalog", input: variant((d) => (node(d, 'deny').config = { error: 'not_in_catalog' })), options: { catalog }, expected: [{ code: 'unknown_error', node: 'deny', field: 'config.error' }] },
  { code: 'unknown_error', name: 'a fault (raised whatever the wiring) missing from the catalog', input: base(), options: { catalog: catalogWithout('expression_failed') }, expected: [{ code: 'unknown_error', node: 'gate', field: undefined }] },

  { code: 'response_missing', name: 'a transform-response reached by a path without a response', input: variant((d) => d.edges.push({ from: 'call', port: 'error', to: 'shape' })), expected: [{ code: 'response_missing', node: 'shape', field: undefined }] },

  { code: 'route_clash', name: 'a route under /admin', input: variant((d) => (d.route.path = '/admin/orders')), expected: [{ code: 'route_clash', node: undefined, field: 'route.path' }] },
  { code: 'route_clash', name: 'the reserved /metrics itself', input: variant((d) => (d.route.path = '/metrics')), expected: [{ code: 'route_clash', node: undefined, field: 'route.path' }] },
  { code: 'route_clash', name: 'a route under /.well-known/sluice', input: variant((d) => (d.route.path = '/.well-known/sluice/keys')), expected: [{ code: 'route_clash', node: undefined, field: 'route.path' }] },
  {
    code: 'route_clash',
    name: 'the same shape and method as another workflow (HEAD is served by GET)',
    input: base(),
    options: { otherRoutes: [{ workflow: 'legacy', route: { methods: ['HEAD', 'POST'], path: '/api/orders/:orderId' } }] },
    expected: [{ code: 'route_clash', node: undefined, field: 'route.path' }],
  },

  {
    code: 'unknown_fragment',
    name: 'a subflow naming a fragment that is not published',
    input: { ...base(), nodes: [...base().nodes.slice(0, 1), { id: 'gate', kind: 'subflow', config: { fragment: 'nope', exits: ['true', 'false'] } }, ...base().nodes.slice(2)] },
    options: { fragments: () => undefined },
    expected: [{ code: 'unknown_fragment', node: 'gate', field: 'config.fragment' }],
  },
  { code: 'too_large', name: 'more nodes than the limit', input: base(), options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, nodes: 3 } }, expected: [{ code: 'too_large', node: undefined, field: 'nodes' }] },
  { code: 'too_large', name: 'more edges than the limit', input: base(), options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, edges: 3 } }, expected: [{ code: 'too_large', node: undefined, field: 'edges' }] },
  { code: 'too_large', name: 'more bytes than the limit', input: base(), options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, bytes: 512 } }, expected: [{ code: 'too_large', node: undefined, field: '(document)' }] },
  { code: 'too_large', name: 'an expression longer than the limit, named by node and field', input: base(), options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, expressionLength: 20 } }, expected: [{ code: 'too_large', node: 'gate', field: 'config.when' }] },
  {
    code: 'too_large',
    name: 'nesting deeper than the limit, named by where it crosses it',
    input: variant((d) => (node(d, 'call').config!.headers = { 'x-a': [[[['deep']]]] } as never)),
    options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, depth: 6 } },
    expected: [{ code: 'too_large', node: undefined, field: 'nodes.2.config.headers.x-a.0' }],
  },
  {
    code: 'invalid_document',
    name: 'a cors node on a route without OPTIONS',
    input: variant((d) => {
      d.nodes.unshift({ id: 'cors', kind: 'cors', config: { origins: ['*'] } });
      d.edges.push({ from: 'cors', port: 'ok', to: 'verify' });
    }),
    expected: [{ code: 'invalid_document', node: undefined, field: 'route.methods' }],
  },
  {
    code: 'invalid_config',
    name: 'a cors node after a node that checks credentials',
    input: variant((d) => {
      d.route.methods = ['GET', 'OPTIONS'];
      d.nodes.push({ id: 'cors', kind: 'cors', config: { origins: ['*'] } });
      d.edges[0] = { from: 'verify', port: 'ok', to: 'cors' };
      d.edges.push({ from: 'cors', port: 'ok', to: 'gate' });
    }),
    expected: [{ code: 'invalid_config', node: 'cors', field: undefined }],
  },
  {
    code: 'invalid_config',
    name: 'a cache-lookup before a node that checks credentials',
    input: variant((d) => {
      d.nodes.unshift({ id: 'lookup', kind: 'cache-lookup', config: { name: 'orders' } });
      d.edges.push({ from: 'lookup', port: 'miss', to: 'verify' });
    }),
    expected: [{ code: 'invalid_config', node: 'lookup', field: undefined }],
  },
  { code: 'expression_syntax', name: 'a log field that does not parse', input: variant((d) => (d.log = { fields: { partner: '$$$(' } })), expected: [{ code: 'expression_syntax', node: undefined, field: 'log.fields.partner' }] },
  {
    code: 'invalid_document',
    name: 'a sample holding a credential as typed',
    input: variant((d) => (d.samples = [{ name: 's', request: { path: '/api/orders/1', headers: { authorization: 'Bearer abc.def' } } }])),
    expected: [{ code: 'invalid_document', node: undefined, field: 'samples.0.request.headers.authorization' }],
  },
  {
    code: 'cycle',
    name: 'a cycle through the named start',
    input: variant((d) => {
      d.start = 'verify';
      d.edges.push({ from: 'call', port: 'error', to: 'verify' });
    }),
    expected: [
      { code: 'edge_into_start', node: 'verify', field: 'id' },
      { code: 'cycle', node: 'call', field: 'ports.error' },
    ],
  },
  {
    code: 'route_clash',
    name: 'two methods served by another workflow, each named',
    input: variant((d) => (d.route.methods = ['GET', 'POST', 'PUT'])),
    options: { otherRoutes: [{ workflow: 'legacy', route: { methods: ['POST', 'GET'], path: '/api/orders/:orderId' } }] },
    expected: [{ code: 'route_clash', node: undefined, field: 'route.path' }],
  },
  { code: 'invalid_document', name: 'a node that is null', input: { ...base(), nodes: [...base().nodes, null] }, expected: [{ code: 'invalid_document', node: undefined, field: 'nodes.5' }] },
  { code: 'invalid_document', name: 'a node whose id is a number, named by its place', input: variant((d) => d.nodes.push({ id: 5, kind: 'respond' } as never)), expected: [{ code: 'invalid_document', node: undefined, field: 'nodes.5.id' }] },
  { code: 'invalid_document', name: 'null', input: null, expected: [{ code: 'invalid_document', node: undefined, field: '(document)' }] },
  { code: 'invalid_document', name: 'a member that is no JSON (a BigInt)', input: { ...base(), name: 10n }, expected: [{ code: 'invalid_document', node: undefined, field: 'name' }] },
  {
    code: 'too_large',
    name: 'nesting deeper than the limit outside the nodes, named by where it crosses it',
    input: variant((d) => (d.layout = { a: { b: { c: {} } } })),
    options: { limits: { ...DEFAULT_DOCUMENT_LIMITS, depth: 4 } },
    expected: [{ code: 'too_large', node: undefined, field: 'layout.a.b.c' }],
  },
];

/**
 * What each case of `cases` says, in the words a person reads (the editor, the CLI, a refused
 * publish): the facts that let them fix it without reading the document again (the node, port, id,
 * count and the setting that bounds it). Keyed by case name.
 */
const SAYS: Record<string, string[]> = {
  'a node id that is not url-safe': ['must be 1-64 chars of a-z, 0-9, "-" or "_", starting with a letter or digit'],
  'an unknown key on a node, named by the key': ['"colour" is not a known field here'],
  'an unknown top-level key': ['"owner" is not a known field here'],
  'a malformed route path': ['must look like /api/orders/:id (literal or :param segments, optional trailing /*)'],
  'a route path repeating a :param': ['each :param name may appear once'],
  'an edge without port': ['is required'],
  'not an object': ['must be an object, not text'],
  'two nodes with one id': ['node id "call" is used twice'],
  'a misspelt kind': ['unknown node kind "jwt-verfy"'],
  'a config refused by its kind': ['must be an http(s) URL, or ${ENV_VAR} alone or followed by a path (/, ? or #)'],
  'a missing required field': ['is required'],
  'an unknown config key, named by the key': ['"retriez" is not a known field here'],
  'a cross-field rule (two key sources)': ['set exactly one key source: jwksUri, jwks, jwksFile or secretEnv, or an issuer alone (OIDC discovery)'],
  'a config left out where the kind needs one': ['is required'],
  'a condition that does not parse': ['JSONata: Unexpected end of expression (at 17)'],
  'a switch case that does not parse, named by its index': ['JSONata: Expected ")" before end of expression (at 2)'],
  'an edge to an unknown node': ['edge to unknown node "ghost"'],
  'an edge from an unknown node': ['edge from unknown node "ghost"'],
  'a port the kind does not have': ['jwt-verify has no port "expired" (ports: ok, missing, invalid, unavailable, suspended, unsubscribed)'],
  'a port wired twice': ['port "true" is wired twice'],
  'an edge out of an error node': ['an error node ends the request and has no outgoing edges'],
  'an edge into the named start (here from a node nothing reaches)': ['the start node "verify" cannot have incoming edges', 'node "side" cannot be reached from the start "verify"'],
  'a named start that does not exist': ['start node "ghost" does not exist'],
  'every node has an incoming edge': ['every node has an incoming edge, so there is no start node'],
  'two nodes without incoming edges': ['nodes "verify", "extra" have no incoming edge; set "start" or wire them'],
  'a node the named start never reaches': ['node "extra" cannot be reached from the start "verify"'],
  'a port leading back, named by the edge that closes the cycle': ['port "error" leads back to "gate", closing a cycle; workflows must be acyclic'],
  'a required port left open': ['port "false" must be wired'],
  "an unwired port's default error missing from the catalog": ['error "upstream_timeout" is not in the error catalog'],
  "an error node's error missing from the catalog": ['error "not_in_catalog" is not in the error catalog'],
  'a fault (raised whatever the wiring) missing from the catalog': ['error "expression_failed" raised by condition is not in the error catalog'],
  'a transform-response reached by a path without a response': ['transform-response needs a response, but some path reaches it before any proxy or respond node'],
  'a route under /admin': ['paths under /admin are reserved for the gateway itself'],
  'the reserved /metrics itself': ['paths under /metrics are reserved for the gateway itself'],
  'a route under /.well-known/sluice': ['paths under /.well-known/sluice are reserved for the gateway itself'],
  'the same shape and method as another workflow (HEAD is served by GET)': ['HEAD /api/orders/:id is already served by workflow "legacy" (/api/orders/:orderId)'],
  'a subflow naming a fragment that is not published': ['no published fragment "nope"'],
  'more nodes than the limit': ['the document has 5 nodes; at most 3 are allowed (SLUICE_MAX_NODES)'],
  'more edges than the limit': ['the document has 4 edges; at most 3 are allowed (SLUICE_MAX_EDGES)'],
  'more bytes than the limit': ['the document is 659 B as JSON; at most 512 B is allowed (SLUICE_MAX_DOCUMENT)'],
  'an expression longer than the limit, named by node and field': ['the expression has 22 characters; at most 20 are allowed (SLUICE_MAX_EXPRESSION)'],
  'nesting deeper than the limit, named by where it crosses it': ['the document nests objects and arrays deeper than 6 levels (SLUICE_MAX_JSON_DEPTH)'],
  'a cors node on a route without OPTIONS': ["a cors node answers browsers' preflight requests, which use OPTIONS: add OPTIONS to the route's methods"],
  'a cors node after a node that checks credentials': ['this cors node comes after a node that checks credentials: browsers send preflights without credentials, so they would be refused before reaching it; put the cors node first'],
  'a cache-lookup before a node that checks credentials': ['this cache-lookup comes before a node that checks credentials: its hits would be answered to callers who were never identified, keyed by no partner; put it after the identity node (or set acrossPartners for answers meant for everyone)'],
  'a log field that does not parse': ['JSONata: Expected ")" before end of expression (at 4)'],
  'a sample holding a credential as typed': ['header "authorization" holds a credential as typed; stored documents never hold one: use request.token (a demo token minted at run time), request.apiKey (a key minted for the run), request.hmac (signed for the run) or request.introspected'],
  'a cycle through the named start': ['the start node "verify" cannot have incoming edges', 'port "error" leads back to "verify", closing a cycle; workflows must be acyclic'],
  'two methods served by another workflow, each named': ['GET, POST, HEAD /api/orders/:id is already served by workflow "legacy" (/api/orders/:orderId)'],
  'a node that is null': ['must be an object, not null'],
  'a node whose id is a number, named by its place': ['must be text, not a number'],
  'null': ['must be an object, not null'],
  'a member that is no JSON (a BigInt)': ['must be text, not a whole number'],
  'nesting deeper than the limit outside the nodes, named by where it crosses it': ['the document nests objects and arrays deeper than 4 levels (SLUICE_MAX_JSON_DEPTH)'],
};

describe('validateWorkflow', () => {
  it('has a case for every problem code', () => {
    expect(new Set(cases.map((c) => c.code))).toEqual(new Set(PROBLEM_CODES));
  });

  it.each(cases)('$code: $name', ({ input, options, expected }) => {
    const result = validateWorkflow(input, options);
    expect(result.ok).toBe(false);
    expect(result.problems.map(pin)).toEqual(expected);
    for (const problem of result.problems) expect(problem.message).not.toBe('');
    for (const problem of result.problems) expect(Object.values(problem), 'a problem has no empty members').not.toContain(undefined);
  });

  it.each(cases)('$code: $name, said in words', ({ name, input, options }) => {
    expect(validateWorkflow(input, options).problems.map((p) => p.message)).toEqual(SAYS[name]);
  });

  it('accepts a cors node first on a route with OPTIONS, a cache-lookup after the identity node, and one across partners before it', () => {
    const corsFirst = variant((d) => {
      d.route.methods = ['GET', 'OPTIONS'];
      d.nodes.unshift({ id: 'cors', kind: 'cors', config: { origins: ['*'] } });
      d.edges.push({ from: 'cors', port: 'ok', to: 'verify' });
    });
    expect(validateWorkflow(corsFirst).problems).toEqual([]);
    const lookupAfter = variant((d) => {
      d.nodes.push({ id: 'lookup', kind: 'cache-lookup', config: { name: 'orders' } });
      d.edges[0] = { from: 'verify', port: 'ok', to: 'lookup' };
      d.edges.push({ from: 'lookup', port: 'miss', to: 'gate' });
    });
    expect(validateWorkflow(lookupAfter).problems).toEqual([]);
    const acrossBefore = variant((d) => {
      d.nodes.unshift({ id: 'lookup', kind: 'cache-lookup', config: { name: 'orders', acrossPartners: true } });
      d.edges.push({ from: 'lookup', port: 'miss', to: 'verify' });
    });
    expect(validateWorkflow(acrossBefore).problems).toEqual([]);
  });

  it('reports every problem of a document at once', () => {
    const input = variant((d) => {
      d.route.path = '/admin/orders';
      node(d, 'verify').kind = 'jwt';
      node(d, 'call').config = { url: 'http://orders.internal', timeout: 'soon' };
      node(d, 'gate').config = { when: '$$$(' };
      d.nodes.push({ id: 'gate', kind: 'respond', config: {} });
      d.edges.push({ from: 'shape', port: 'ok', to: 'ghost' }, { from: 'deny', port: 'raise', to: 'shape' });
    });
    const result = validateWorkflow(input, { catalog });
    expect(result.ok).toBe(false);
    expect(result.problems.map(pin)).toEqual([
      { code: 'unknown_kind', node: 'verify', field: 'kind' },
      { code: 'expression_syntax', node: 'gate', field: 'config.when' },
      { code: 'invalid_config', node: 'call', field: 'config.timeout' },
      { code: 'duplicate_node', node: 'gate', field: 'id' },
      { code: 'dangling_edge', node: 'shape', field: 'edges.4.to' },
      { code: 'edge_from_terminal', node: 'deny', field: 'edges.5' },
      { code: 'route_clash', node: undefined, field: 'route.path' },
    ]);
  });

  it('accepts a valid document: its start, its nodes in document order, their ports and edges', () => {
    const result = validateWorkflow(base(), { catalog, otherRoutes: [{ workflow: 'orders', route: { methods: ['GET'], path: '/api/orders/:id' } }] });
    expect(result.problems).toEqual([]);
    if (!result.ok) throw new Error('expected ok');
    const { graph } = result;
    expect(graph.start).toBe('verify');
    expect([...graph.nodes.keys()]).toEqual(['verify', 'gate', 'call', 'shape', 'deny']);
    expect(Object.fromEntries(graph.nodes.get('gate')!.next)).toEqual({ true: 'call', false: 'deny' });
    expect(graph.nodes.get('verify')!.ports.map((p) => p.name)).toEqual(['ok', 'missing', 'invalid', 'unavailable', 'suspended', 'unsubscribed']);
    // configs come back parsed, with their defaults
    expect(graph.nodes.get('call')!.config).toMatchObject({ url: 'http://orders.internal', timeout: '10s' });
    expect(graph.document.edges).toHaveLength(4);
    expect(graph.fragments).toEqual([]); // none given, none inlined
  });

  it('accepts a document of one node without an edge list, and a cors node after a node that checks no credentials', () => {
    expect(validateWorkflow({ id: 'ping', name: 'Ping', route: { methods: ['GET'], path: '/ping' }, nodes: [{ id: 'pong', kind: 'respond', config: {} }] }).problems).toEqual([]);
    const corsSecond = variant((d) => {
      d.route.methods = ['GET', 'OPTIONS'];
      d.nodes.unshift({ id: 'cors', kind: 'cors', config: { origins: ['*'] } }, { id: 'mode', kind: 'condition', config: { when: 'true' } }, { id: 'closed', kind: 'respond', config: { status: 503 } });
      d.edges.push({ from: 'mode', port: 'true', to: 'cors' }, { from: 'mode', port: 'false', to: 'closed' }, { from: 'cors', port: 'ok', to: 'verify' });
    });
    expect(validateWorkflow(corsSecond).problems).toEqual([]);
  });

  it('serves a version already published with a credential in a sample (allowStoredCredentials), which a new document may not hold', () => {
    const input = variant((d) => (d.samples = [{ name: 's', request: { path: '/api/orders/1', headers: { authorization: 'Bearer abc.def' } } }]));
    expect(validateWorkflow(input).problems.map(pin)).toEqual([{ code: 'invalid_document', node: undefined, field: 'samples.0.request.headers.authorization' }]);
    expect(validateWorkflow(input, { allowStoredCredentials: true }).problems).toEqual([]);
  });

  it('bounds are inclusive: an expression as long as the limit, a document of exactly the bytes and depth allowed, pass', () => {
    const when = node(base(), 'gate').config!.when as string;
    expect(validateWorkflow(base(), { limits: { ...DEFAULT_DOCUMENT_LIMITS, expressionLength: when.length } }).problems).toEqual([]);
    expect(validateWorkflow(base(), { limits: { ...DEFAULT_DOCUMENT_LIMITS, expressionLength: when.length - 1 } }).problems.map(pin)).toEqual([{ code: 'too_large', node: 'gate', field: 'config.when' }]);
    expect(validateWorkflow(base(), { limits: { ...DEFAULT_DOCUMENT_LIMITS, depth: 0 } }).problems.map(pin)).toEqual([{ code: 'too_large', node: undefined, field: '(document)' }]); // the document itself is a level
    const deep = variant((d) => (d.layout = { a: { b: { c: {} } } })); // the document, layout, a, b and c: 5 levels
    expect(validateWorkflow(deep, { limits: { ...DEFAULT_DOCUMENT_LIMITS, depth: 5 } }).problems.filter((p) => p.code === 'too_large')).toEqual([]); // (a layout holds positions: the schema has more to say)
  });

  it.each<[string, unknown]>([
    ['a workflow', base()],
    ['a workflow with non-ASCII text', variant((d) => (d.name = 'Bestellungen – Übersicht'))],
    ['a workflow with characters outside the BMP (4 bytes each, 2 UTF-16 units)', variant((d) => (d.name = 'orders 🚀🚀🚀'))],
    ['one whose edge list holds a hole (written as null)', { ...base(), edges: [...base().edges, undefined] }],
    ['one whose node list is no list', { ...base(), nodes: 'none' }],
    ['text', 'workflow'],
    ['null', null],
  ])('measures %s in bytes as its JSON text: refused one byte under its size, not at it', (_name, input) => {
    const bytes = Buffer.byteLength(JSON.stringify(input));
    const at = validateWorkflow(input, { limits: { ...DEFAULT_DOCUMENT_LIMITS, bytes } });
    expect(at.problems.filter((p) => p.code === 'too_large')).toEqual([]);
    const under = validateWorkflow(input, { limits: { ...DEFAULT_DOCUMENT_LIMITS, bytes: bytes - 1 } });
    expect(under.problems).toEqual([{ code: 'too_large', message: `the document is ${bytes} B as JSON; at most ${bytes - 1} B is allowed (SLUICE_MAX_DOCUMENT)`, field: '(document)' }]);
  });

  it.each<[string, unknown]>([
    ['a workflow', base()],
    ['a workflow with non-ASCII text', variant((d) => (d.name = 'Bestellungen – Übersicht 🚀'))],
    ['one nested deepest in its layout', variant((d) => (d.layout = { a: { b: { c: { d: [[{}]] } } } }))],
    ['one with brackets and escapes inside its strings', variant((d) => (d.name = '[{"quoted"}] \\ \u0001'))],
  ])('measured on its compact JSON text, %s gets the verdict the walk gives, at and past each bound', (_name, input) => {
    const measure = measureJsonText(JSON.stringify(input), { depth: 1_000 });
    expect(measure.bytes).toBe(Buffer.byteLength(JSON.stringify(input)));
    for (const limits of [
      { ...DEFAULT_DOCUMENT_LIMITS, bytes: measure.bytes, depth: measure.depth },
      { ...DEFAULT_DOCUMENT_LIMITS, bytes: measure.bytes - 1 },
      { ...DEFAULT_DOCUMENT_LIMITS, depth: measure.depth - 1 },
    ]) {
      const walked = validateWorkflow(input, { limits });
      const measured = validateWorkflow(input, { limits, measured: measureJsonText(JSON.stringify(input), limits) });
      expect(measured.problems).toEqual(walked.problems);
    }
    expect(validateWorkflow(input, { limits: { ...DEFAULT_DOCUMENT_LIMITS, depth: measure.depth - 1 } }).problems.map((p) => p.code)).toContain('too_large');
  });

  it.each([
    ['a config left out where {} is valid', variant((d) => delete node(d, 'shape').config), catalog],
    ['a wired port whose default error is missing from the catalog', variant((d) => d.edges.push({ from: 'verify', port: 'missing', to: 'deny' })), catalogWithout('missing_token')],
    ['a route of the same shape for another method', base(), catalog],
    ['a route differing by a literal segment', variant((d) => (d.route.path = '/api/orders/:id/items')), catalog],
    ['a catch-all route', variant((d) => (d.route.path = '/*')), catalog],
  ])('accepts %s', (_name, input, withCatalog) => {
    const otherRoutes = [{ workflow: 'writer', route: { methods: ['POST' as const], path: '/api/orders/:orderId' } }];
    const result = validateWorkflow(input, { catalog: withCatalog, otherRoutes });
    expect(result.problems.map(pin)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('refuses a cycle among 10,000 nodes without overflowing the stack', () => {
    const size = 10_000;
    const nodes = Array.from({ length: size }, (_, i) => ({ id: `n${i}`, kind: 'scope-check', config: { all: ['s'] } }));
    const edges = nodes.slice(1).map((n, i) => ({ from: `n${i}`, port: 'ok', to: n.id }));
    edges.push({ from: `n${size - 1}`, port: 'ok', to: 'n1' });
    // the most nodes any setting allows (SLUICE_MAX_NODES tops out at 10,000)
    const result = validateWorkflow({ id: 'long', name: 'Long', route: { methods: ['GET'], path: '/long' }, nodes, edges }, { limits: { ...DEFAULT_DOCUMENT_LIMITS, nodes: size, edges: size } });
    expect(result.problems.map(pin)).toEqual([{ code: 'cycle', node: `n${size - 1}`, field: 'ports.ok' }]);
  });
});

describe('the example workflows', () => {
  const examples = exampleFiles.map((file) => [file, readJson(`examples/workflows/${file}`)] as const);

  it('are there', () => {
    expect(exampleFiles.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s validates against examples/errors.json and beside the other examples', (file, document) => {
    const otherRoutes = examples
      .filter(([other]) => other !== file)
      .map(([, d]) => ({ workflow: (d as Doc).id, route: (d as Doc).route }));
    const result = validateWorkflow(document, { catalog, otherRoutes });
    expect(result.problems.map(pin)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('the messages a person reads', () => {
  /** zod's own English wording, which must never reach a person. */
  const ZOD_WORDING = /Too small|Too big|Invalid input|Invalid option|Unrecognized key|expected \w+, received|>=|<=/;
  const messageAt = (input: unknown, field: string, node?: string) => validateWorkflow(input).problems.find((p) => p.field === field && p.node === node)?.message;

  it.each<[string, unknown, string, string | undefined, string]>([
    ['an empty method list', { ...base(), route: { methods: [], path: '/api/orders' } }, 'route.methods', undefined, 'needs at least one item'],
    ['a missing method list', { ...base(), route: { path: '/api/orders' } }, 'route.methods', undefined, 'is required'],
    ['a name of 201 characters', { ...base(), name: 'x'.repeat(201) }, 'name', undefined, 'is too long: at most 200 characters are allowed'],
    ['an empty name', { ...base(), name: '' }, 'name', undefined, 'must not be empty'],
    ['an unknown method', { ...base(), route: { methods: ['FETCH'], path: '/api/orders' } }, 'route.methods.0', undefined, 'must be one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"'],
    ['an unknown top-level key', { ...base(), colour: 'blue' }, 'colour', undefined, '"colour" is not a known field here'],
    ['a label that is a number', variant((d) => (node(d, 'call').label = 3)), 'label', 'call', 'must be text, not a number'],
    ['a proxy without its url', variant((d) => (node(d, 'call').config = {})), 'config.url', 'call', 'is required'],
    ['a timeout that is not a number', variant((d) => (node(d, 'call').config = { url: 'http://x', timeout: 5 })), 'config.timeout', 'call', 'must be text, not a number'],
    ['an unknown config key', variant((d) => (node(d, 'call').config = { url: 'http://x', retriez: 3 })), 'config.retriez', 'call', '"retriez" is not a known field here'],
    // a message the schema gives is kept as written
    ['a route path the schema describes', { ...base(), route: { methods: ['GET'], path: 'orders' } }, 'route.path', undefined, 'must look like /api/orders/:id (literal or :param segments, optional trailing /*)'],
  ])('%s reads as plain words', (_name, input, field, at, expected) => {
    const message = messageAt(input, field, at);
    expect(message).toBe(expected);
    expect(message).not.toMatch(ZOD_WORDING);
  });

  it('puts "an" before a vowel: an error node ends the request', () => {
    const result = validateWorkflow(variant((d) => d.edges.push({ from: 'deny', port: 'raise', to: 'call' })));
    expect(result.problems.find((p) => p.code === 'edge_from_terminal')?.message).toBe('an error node ends the request and has no outgoing edges');
  });
});
