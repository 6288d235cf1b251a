// What every target is benchmarked with: a fresh RS256 key, one token signed by it, and the Sluice
// workflows of the targets — (a) a proxy node alone, (b) jwt-verify → scope-check → proxy,
// (c) b + rate-limit, (d) c + transform-response. The peers (peer-config.ts) are configured from
// the same values, so every target checks the same token the same way. The many-token targets
// (tokens.ts) sign more tokens of the same shape with these keys and a fresh ES256 one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import type { JWK } from 'jose';

export const ISSUER = 'https://bench.sluice.local';
export const AUDIENCE = 'orders';
export const SCOPE = 'orders:read';
export const PARTNER = 'acme';
export const SUBJECT = 'bench-user';
const KID = 'bench-1';
const EC_KID = 'bench-ec-1';
/** The path every target asks the upstream for, so all of them fetch exactly the same answer. */
export const UPSTREAM_PATH = '/api/orders';
/** A limit that is never reached: the point is the cost of counting, not of refusing. */
export const RATE_LIMIT = 1_000_000_000;

/** One signing key of a run: what verifiers are given, and what tokens.ts signs more tokens with. */
export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  publicJwk: JWK;
  /** The public key as PEM (SPKI), for the peers. */
  publicPem: string;
  /** The private key as PEM (PKCS #8), for bench/sign-tokens.ts. */
  privatePem: string;
}

export interface Credentials {
  publicJwk: JWK;
  /** The same public key as PEM (SPKI), for the peers. */
  publicPem: string;
  token: string;
  /** The RS256 key of publicJwk and token. */
  rs256: SigningKey;
  /** An ES256 (P-256) key, for the many-token targets of ES256. */
  es256: SigningKey;
}

async function signingKey(alg: SigningKey['alg'], kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const key: SigningKey = { alg, kid, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey), privatePem: await exportPKCS8(privateKey) };
  return { key, privateKey };
}

/** A new key pair every run: nothing secret is checked in, and nothing can go stale. */
export async function makeCredentials(): Promise<Credentials> {
  const { key: rs256, privateKey } = await signingKey('RS256', KID);
  const { key: es256 } = await signingKey('ES256', EC_KID);
  // Two hours is far longer than any run.
  const token = await new SignJWT({ azp: PARTNER, scope: SCOPE })
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setSubject(SUBJECT)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { publicJwk: rs256.publicJwk, publicPem: rs256.publicPem, token, rs256, es256 };
}

type Node = { id: string; kind: string; config: Record<string, unknown> };

const verifyNode = (publicJwk: JWK, alg = 'RS256'): Node => ({ id: 'verify', kind: 'jwt-verify', config: { jwks: { keys: [publicJwk] }, algorithms: [alg], issuer: ISSUER, audience: AUDIENCE } });
const scopeNode: Node = { id: 'scopes', kind: 'scope-check', config: { all: [SCOPE] } };
const limitNode: Node = { id: 'limit', kind: 'rate-limit', config: { limit: RATE_LIMIT, window: '1m', key: 'partner' } };
const proxyNode = (upstream: string): Node => ({ id: 'call', kind: 'proxy', config: { url: upstream, path: UPSTREAM_PATH } });
/** A typical response transform: pick and rename fields of the upstream's JSON with JSONata. */
const shapeNode: Node = { id: 'shape', kind: 'transform-response', config: { body: '{ "partner": partner, "items": [response.body.orders.{ "id": id, "total": total }] }' } };

/** Nodes run in the order given, each one's `ok` port wired to the next. */
function chainWorkflow(id: string, path: string, nodes: Node[]) {
  return {
    id,
    name: `Bench ${id}`,
    route: { methods: ['GET'], path },
    nodes,
    edges: nodes.slice(1).map((node, i) => ({ from: nodes[i]!.id, port: 'ok', to: node.id })),
  };
}

/** The Sluice targets' workflows by route: a ⊂ b ⊂ c ⊂ d, one step each. */
export function targetWorkflows(publicJwk: JWK, upstream: string) {
  const verify = verifyNode(publicJwk);
  const call = proxyNode(upstream);
  return [
    chainWorkflow('bench-a', '/a', [call]),
    chainWorkflow('bench-b', '/b', [verify, scopeNode, call]),
    chainWorkflow('bench-c', '/c', [verify, scopeNode, limitNode, call]),
    chainWorkflow('bench-d', '/d', [verify, scopeNode, limitNode, call, shapeNode]),
  ];
}

/**
 * Workflow b (jwt-verify → scope-check → proxy) at another route, verifying with `key`: the
 * many-token targets (tokens.ts) each get a node of their own, so each starts with an empty
 * verified-token cache whatever the others sent.
 */
export function tokenWorkflow(id: string, path: string, key: SigningKey, upstream: string) {
  return chainWorkflow(id, path, [verifyNode(key.publicJwk, key.alg), scopeNode, proxyNode(upstream)]);
}

/**
 * d with a transform off the compiled fast path (a function call), which runs in an expression
 * worker: `AB_ROUTE=/e npx tsx bench/ab.ts …` measures what the worker's round trip costs.
 */
export function offFastPathWorkflow(publicJwk: JWK, upstream: string) {
  const shape: Node = { id: 'shape', kind: 'transform-response', config: { body: '{ "partner": partner, "items": [response.body.orders.{ "id": id, "total": $string(total) }] }' } };
  return chainWorkflow('bench-e', '/e', [verifyNode(publicJwk), scopeNode, limitNode, proxyNode(upstream), shape]);
}

/**
 * The edge palette in front of a proxy, (f): cors (the bench's requests carry no Origin, so it
 * only looks) and validate-request checking the query and the Authorization header by a pattern
 * (RE2), per request.
 */
function edgeWorkflow(upstream: string) {
  const cors: Node = { id: 'cors', kind: 'cors', config: { origins: ['https://app.example.com'] } };
  const check: Node = { id: 'check', kind: 'validate-request', config: { query: { type: 'object', properties: { limit: { type: 'integer', maximum: 100 } } }, headers: { type: 'object', required: ['authorization'], properties: { authorization: { type: 'string', pattern: '^Bearer [A-Za-z0-9._-]+$' } } } } };
  return { ...chainWorkflow('bench-f', '/f', [cors, check, proxyNode(upstream)]), route: { methods: ['GET', 'OPTIONS'], path: '/f' } };
}

/**
 * (m): client-cert → proxy on the gateway's TLS listener with a client CA: the partner is found
 * by its certificate's fingerprint in the partner directory, then the proxy as in (a).
 */
/** The chat completion every sluice-l request POSTs (a model the allow-list names). */
export const LLM_REQUEST = { model: 'bench-model', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello to the benchmark.' }] };

/**
 * An LLM proxy, (l): a proxy with `llm` (OpenAI, a model allow-list) in front of the upstream's
 * /v1/chat/completions: the body read for its model, the answer's usage read as it passes.
 */
export function llmWorkflow(upstream: string) {
  const call: Node = { id: 'call', kind: 'proxy', config: { url: upstream, stripPrefix: '/l', llm: { api: 'openai', models: ['bench-model'] } } };
  return { ...chainWorkflow('bench-l', '/l/*', [call]), route: { methods: ['POST'], path: '/l/*' } };
}

/** The same proxy without `llm` (/p/*): what the gateway's hop costs a streamed answer by itself. */
export function plainStreamWorkflow(upstream: string) {
  const call: Node = { id: 'call', kind: 'proxy', config: { url: upstream, stripPrefix: '/p' } };
  return { ...chainWorkflow('bench-p', '/p/*', [call]), route: { methods: ['POST'], path: '/p/*' } };
}

/**
 * prompt-guard in front of the llm proxy, (pg): a deny pattern and the card and e-mail detectors
 * blocking, on the chat completion's texts (which pass), then the proxy of (l).
 */
export function promptGuardWorkflow(upstream: string) {
  const guard: Node = { id: 'guard', kind: 'prompt-guard', config: { deny: ['ignore (all )?previous instructions'], detectors: { card: 'block', email: 'block' } } };
  const call: Node = { id: 'call', kind: 'proxy', config: { url: upstream, stripPrefix: '/pg', llm: { api: 'openai', models: ['bench-model'] } } };
  return { ...chainWorkflow('bench-pg', '/pg/*', [guard, call]), route: { methods: ['POST'], path: '/pg/*' } };
}

/** The MCP tools/call every sluice-mcp request POSTs. */
export const MCP_REQUEST = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_order', arguments: { id: 1 } } };

/**
 * MCP traffic through a workflow, (mcp): mcp-tool reads the JSON-RPC body for the tool a
 * tools/call names (get_order leaves by `orders`; anything else by `other`), both ports to a
 * proxy in front of the upstream's MCP endpoint.
 */
export function mcpWorkflow(upstream: string) {
  const tool: Node = { id: 'tool', kind: 'mcp-tool', config: { tools: [{ name: 'get_order', port: 'orders' }] } };
  const call: Node = { id: 'call', kind: 'proxy', config: { url: upstream, path: '/mcp' } };
  return {
    id: 'bench-mcp',
    name: 'Bench bench-mcp',
    route: { methods: ['POST'], path: '/tools' },
    nodes: [tool, call],
    edges: ['orders', 'other'].map((port) => ({ from: 'tool', port, to: 'call' })),
  };
}

export function mtlsWorkflow(upstream: string) {
  const cert: Node = { id: 'cert', kind: 'client-cert', config: { match: ['fingerprint'] } };
  return chainWorkflow('bench-m', '/m', [cert, proxyNode(upstream)]);
}

/**
 * A cache in front of a proxy, (g): after the first request every request is a hit answered from
 * the process's memory, with no upstream call. The bench's answers do not depend on who asks,
 * so the cache is shared across partners.
 */
function cachedWorkflow(upstream: string) {
  const lookup: Node = { id: 'lookup', kind: 'cache-lookup', config: { name: 'bench', acrossPartners: true } };
  const store: Node = { id: 'store', kind: 'cache-store', config: { name: 'bench', ttl: '1h' } };
  return {
    id: 'bench-g',
    name: 'Bench bench-g',
    route: { methods: ['GET'], path: '/g' },
    nodes: [lookup, proxyNode(upstream), store],
    edges: [
      { from: 'lookup', port: 'miss', to: 'call' },
      { from: 'call', port: 'ok', to: 'store' },
    ],
  };
}

/**
 * A switch in front of a proxy, (s): three cases tried in order (a method, a header, the path;
 * JSONata comparisons, compiled at publish), the third taken, every port wired to the proxy.
 */
function switchWorkflow(upstream: string) {
  const route: Node = {
    id: 'route',
    kind: 'switch',
    config: { cases: [{ port: 'writes', when: 'request.method = "POST"' }, { port: 'gold', when: 'request.headers.`x-tier` = "gold"' }, { port: 'orders', when: 'request.path = "/s"' }] },
  };
  return {
    id: 'bench-s',
    name: 'Bench bench-s',
    route: { methods: ['GET'], path: '/s' },
    nodes: [route, proxyNode(upstream)],
    edges: ['writes', 'gold', 'orders', 'default'].map((port) => ({ from: 'route', port, to: 'call' })),
  };
}

/**
 * A call to a side service mid-flow, (h): http-call GETs the upstream's orders (as a profile or a
 * price would be fetched) into vars, then the proxy: two upstream calls per request.
 */
function httpCallWorkflow(upstream: string) {
  const lookup: Node = { id: 'lookup', kind: 'http-call', config: { name: 'profile', url: `${upstream}${UPSTREAM_PATH}` } };
  return chainWorkflow('bench-h', '/h', [lookup, proxyNode(upstream)]);
}

/**
 * Signed requests, (hmac): hmac-verify (sha256, replay protection in memory) → proxy. The skew is
 * the largest allowed, an hour: the run's signatures are made once, before its rounds.
 */
function hmacWorkflow(upstream: string) {
  const check: Node = { id: 'check', kind: 'hmac-verify', config: { skew: '1h' } };
  return chainWorkflow('bench-hmac', '/hm', [check, proxyNode(upstream)]);
}

/** The variable holding sluice-i's client secret for the introspection call (SLUICE_SECRET_* are secrets by default). */
const INTROSPECTION_SECRET_ENV = 'SLUICE_SECRET_BENCH_INTROSPECTION';

/**
 * Token introspection in front of a proxy, (i): the bench's upstream plays the authorization
 * server (POST /introspect); after the first request every request is a cache hit (the token's
 * hash looked up in memory), so this measures the identity step as partners meet it, not the
 * authorization server.
 */
function introspectionWorkflow(upstream: string) {
  const check: Node = { id: 'check', kind: 'introspect', config: { endpoint: `${upstream}/introspect`, clientId: 'sluice-bench', clientSecretEnv: INTROSPECTION_SECRET_ENV, cacheTtl: '1h' } };
  return chainWorkflow('bench-i', '/i', [check, proxyNode(upstream)]);
}

/**
 * The gateway that serves sluice-a to sluice-hmac, one process: every row's workflow, with sluice-i's
 * client secret and its authorization server (the upstream) as a host that may receive it. The
 * instruction counts (callgrind.ts) start the same gateway, so a route counted there is the row.
 */
export function sharedGateway(publicJwk: JWK, upstream: string, secret: string) {
  return {
    workflows: [
      ...targetWorkflows(publicJwk, upstream),
      edgeWorkflow(upstream),
      cachedWorkflow(upstream),
      introspectionWorkflow(upstream),
      switchWorkflow(upstream),
      httpCallWorkflow(upstream),
      hmacWorkflow(upstream),
    ],
    env: { [INTROSPECTION_SECRET_ENV]: secret, SLUICE_CALLOUT_HOSTS: '127.0.0.1', SLUICE_SECRET_HOSTS: `${INTROSPECTION_SECRET_ENV}=127.0.0.1` },
  };
}

/** The reference workflow (c) at another route: the 4-node workflow the scale mode loads by the thousand. */
export function referenceWorkflow(id: string, path: string, publicJwk: JWK, upstream: string) {
  return chainWorkflow(id, path, [verifyNode(publicJwk), scopeNode, limitNode, proxyNode(upstream)]);
}

/**
 * A workflow of `size` nodes: size - 1 cheap nodes before the proxy, alternately a condition
 * (both ports wired onward) and a transform-request setting a variable. What grows is the
 * engine's per-node work, not what any node does.
 */
export function longWorkflow(id: string, path: string, size: number, upstream: string) {
  const nodes: Node[] = [];
  for (let i = 1; i < size; i++) {
    nodes.push(i % 2 ? { id: `when-${i}`, kind: 'condition', config: { when: 'request.method = "GET"' } } : { id: `set-${i}`, kind: 'transform-request', config: { vars: `{ "step": ${i} }` } });
  }
  nodes.push(proxyNode(upstream));
  const edges = nodes.slice(1).flatMap((node, i) => {
    const from = nodes[i]!;
    return (from.kind === 'condition' ? ['true', 'false'] : ['ok']).map((port) => ({ from: from.id, port, to: node.id }));
  });
  return { id, name: `Bench ${size} nodes`, route: { methods: ['GET'], path }, nodes, edges };
}

export function writeWorkflows(dataDir: string, workflows: Array<{ id: string }>): void {
  const dir = join(dataDir, 'workflows');
  mkdirSync(dir, { recursive: true });
  for (const workflow of workflows) writeFileSync(join(dir, `${workflow.id}.json`), JSON.stringify(workflow));
}
