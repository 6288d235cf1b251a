// What the peers run, generated from the same fixture as Sluice's targets: the same public key,
// issuer, audience, scope and upstream. Pure functions (no I/O), so a test can check them.
import { AUDIENCE, ISSUER, RATE_LIMIT, SCOPE, UPSTREAM_PATH } from './fixture.ts';

export interface PeerFixture {
  /** The RS256 public key, PEM (SPKI). */
  publicPem: string;
  /** Upstream origin, e.g. http://127.0.0.1:1234. */
  upstream: string;
  port: number;
  /** express-gateway: with its rate-limit policy, like Sluice's (c) (default); without, like (b). */
  rateLimit?: boolean;
}

/**
 * express-gateway 1.16: jwt policy (RS256, issuer, audience; the token's subject is not looked
 * up among consumers), a scope check, rate-limit and proxy, like Sluice's (c). express-gateway
 * has no scope check for JWTs, so the scope check is its `terminate` policy under a `not
 * expression` condition. The rate limit is express-rate-limit on express-gateway's in-memory
 * Redis emulation, keyed by partner (`azp`), with its delaying off (`delayAfter: 0`; its
 * default delays every request after the first by a second). Without it (`rateLimit: false`) it
 * does what Sluice's (b) does: the many-token targets (tokens.ts).
 */
export function expressGatewayConfig({ publicPem, upstream, port, rateLimit = true }: PeerFixture) {
  const gateway = {
    http: { port, hostname: '127.0.0.1' },
    // No admin section: express-gateway then starts no admin API.
    apiEndpoints: { orders: { host: '*', paths: [UPSTREAM_PATH] } },
    serviceEndpoints: { upstream: { url: upstream } },
    policies: ['jwt', 'terminate', ...(rateLimit ? ['rate-limit'] : []), 'proxy'],
    pipelines: {
      orders: {
        apiEndpoints: ['orders'],
        policies: [
          { jwt: [{ action: { secretOrPublicKey: publicPem, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE, checkCredentialExistence: false } }] },
          {
            terminate: [
              {
                condition: { name: 'not', condition: { name: 'expression', expression: `String(req.user && req.user.scope).split(' ').includes(${JSON.stringify(SCOPE)})` } },
                action: { statusCode: 403, message: 'insufficient scope' },
              },
            ],
          },
          ...(rateLimit ? [{ 'rate-limit': [{ action: { max: RATE_LIMIT, windowMs: 60_000, delayAfter: 0, rateLimitBy: '${req.user.azp}' } }] }] : []),
          { proxy: [{ action: { serviceEndpoint: 'upstream', changeOrigin: true } }] },
        ],
      },
    },
  };
  // express-gateway's own defaults (lib/config/system.config.yml), its database emulated in memory.
  const system = {
    db: { redis: { emulate: true, namespace: 'EG' } },
    crypto: { cipherKey: 'sensitiveKey', algorithm: 'aes256', saltRounds: 10 },
    session: { secret: 'keyboard cat', resave: false, saveUninitialized: false },
    accessTokens: { timeToExpiry: 7_200_000 },
    refreshTokens: { timeToExpiry: 7_200_000 },
    authorizationCodes: { timeToExpiry: 300_000 },
  };
  return { gateway, system };
}

/**
 * The Node-RED function node's "On Start": the public key, parsed once. `crypto` is node:crypto,
 * given to the node through its `libs` (Node-RED's own way of importing a module).
 */
export function nodeRedVerifierSetup(publicPem: string): string {
  return `context.set('key', crypto.createPublicKey(${JSON.stringify(publicPem)}));`;
}

/**
 * The function node's body: verify the bearer token (RS256 signature, issuer, audience, expiry)
 * and the scope with node:crypto, on every request, as a hand-written Node-RED flow does. Output
 * 1 goes to the http request node with the request's headers to forward; output 2 answers 401/403
 * through the http response node.
 */
export function nodeRedVerifierBody(): string {
  return `
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'];
const deny = (status, error) => {
  msg.statusCode = status;
  msg.headers = { 'content-type': 'application/json' };
  msg.payload = JSON.stringify({ error });
  return [null, msg];
};
const m = /^Bearer ([\\w-]+)\\.([\\w-]+)\\.([\\w-]+)$/.exec(msg.req.headers.authorization || '');
if (!m) return deny(401, 'missing_token');
let header, claims;
try {
  header = JSON.parse(Buffer.from(m[1], 'base64url').toString());
  claims = JSON.parse(Buffer.from(m[2], 'base64url').toString());
} catch (e) {
  return deny(401, 'invalid_token');
}
if (header.alg !== 'RS256') return deny(401, 'invalid_token');
if (!crypto.verify('RSA-SHA256', Buffer.from(m[1] + '.' + m[2]), context.get('key'), Buffer.from(m[3], 'base64url'))) return deny(401, 'invalid_token');
const now = Date.now() / 1000;
const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
if (claims.iss !== ${JSON.stringify(ISSUER)} || !aud.includes(${JSON.stringify(AUDIENCE)}) || typeof claims.exp !== 'number' || claims.exp <= now || (typeof claims.nbf === 'number' && claims.nbf > now)) return deny(401, 'invalid_token');
if (!String(claims.scope || '').split(' ').includes(${JSON.stringify(SCOPE)})) return deny(403, 'insufficient_scope');
const headers = {};
for (const name of Object.keys(msg.req.headers)) if (!HOP_BY_HOP.includes(name)) headers[name] = msg.req.headers[name];
msg.headers = headers;
msg.payload = undefined;
return [msg, null];
`;
}

/** http in → function (verify + scope) → http request (keep-alive) → http response, like Sluice's (b). */
export function nodeRedFlow({ publicPem, upstream }: Omit<PeerFixture, 'port'>) {
  const tab = 'bench';
  return [
    { id: tab, type: 'tab', label: 'bench' },
    { id: 'in', type: 'http in', z: tab, name: '', url: UPSTREAM_PATH, method: 'get', upload: false, swaggerDoc: '', wires: [['verify']] },
    {
      id: 'verify',
      type: 'function',
      z: tab,
      name: 'verify JWT + scope',
      func: nodeRedVerifierBody(),
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: nodeRedVerifierSetup(publicPem),
      finalize: '',
      libs: [{ var: 'crypto', module: 'node:crypto' }],
      wires: [['call'], ['answer']],
    },
    {
      id: 'call',
      type: 'http request',
      z: tab,
      name: '',
      method: 'GET',
      ret: 'bin',
      paytoqs: 'ignore',
      url: `${upstream}${UPSTREAM_PATH}`,
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [['answer']],
    },
    { id: 'answer', type: 'http response', z: tab, name: '', statusCode: '', headers: {}, wires: [] },
  ];
}

/** Node-RED's settings: headless (no editor, no admin API), quiet, nothing installed at run time. */
export function nodeRedSettings(port: number, userDir: string): string {
  const settings = {
    uiPort: port,
    uiHost: '127.0.0.1',
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: '/',
    functionExternalModules: true,
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
  };
  return `module.exports = ${JSON.stringify(settings, null, 2)};\n`;
}
