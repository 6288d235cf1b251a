import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

/*
 * A real OpenID provider (oidc-provider 8.8.1) in the test process, on 127.0.0.1: discovery,
 * a JWKS, client_credentials, token introspection (RFC 7662) and revocation (RFC 7009). It is
 * the authorization server the identity kinds are tested against, not a hand-written fake.
 * Its clock is the test process's Date, so a test that freezes and moves Date expires its tokens.
 */

/** The client a gateway introspects with (client_secret_basic). */
export const INTROSPECTOR = { clientId: 'sluice-gateway', clientSecret: 'introspector-secret-of-32-bytes-or-more!' };
/** The same gateway as a client that authenticates in the request body (client_secret_post). */
export const INTROSPECTOR_POST = { clientId: 'sluice-gateway-post', clientSecret: 'introspector-post-secret-of-32-bytes-or-more', method: 'client_secret_post' };
/** A partner's client: gets access tokens with client_credentials. */
const PARTNER_CLIENT = { clientId: 'acme-batch', clientSecret: 'acme-batch-secret-of-32-bytes-or-more!!' };
/** A second partner's client. */
export const OTHER_CLIENT = { clientId: 'frozen-app', clientSecret: 'frozen-app-secret-of-32-bytes-or-more!!' };
/** A client no partner is registered with. */
export const STRANGER_CLIENT = { clientId: 'stranger-app', clientSecret: 'stranger-app-secret-of-32-bytes-or-more' };
/** The resource for which the provider issues JWT access tokens (the audience jwt-verify checks). */
export const JWT_RESOURCE = 'https://orders.api.test';
/** Lifetime of the provider's opaque access tokens (s). */
const TOKEN_TTL = 600;
/** Lifetime of its JWT access tokens (s): longer than the metadata's maximum age in the gateway (1h). */
const JWT_TTL = 2 * 3600;

export interface TestProvider {
  /** The issuer, http://127.0.0.1:<port> (no trailing slash). */
  issuer: string;
  /** The provider's signing keys now (public JWKs), first the one it signs with. */
  readonly kids: string[];
  /** An opaque access token for `client` (client_credentials; TOKEN_TTL unless `ttl`). */
  opaqueToken(client?: { clientId: string; clientSecret: string }, options?: { scope?: string; ttl?: number }): Promise<string>;
  /** A JWT access token for JWT_RESOURCE (client_credentials), signed with the current key. */
  jwtToken(client?: { clientId: string; clientSecret: string }, scope?: string): Promise<string>;
  /** Revokes a token at the provider (RFC 7009, as the client that owns it). */
  revoke(token: string, client?: { clientId: string; clientSecret: string }): Promise<void>;
  /** Rotates keys: a new signing key first, the previous ones kept for tokens already issued unless `drop`. */
  rotate(options?: { drop?: boolean }): Promise<string>;
  /** Requests the provider answered, by path (/.well-known/openid-configuration, /jwks, /token/introspection, …). */
  hits(path: string): number;
  /** Answers every request with 503 (the provider is down) until called with false. */
  down(isDown: boolean): void;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

async function newKey(n: number): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `provider-key-${n}`;
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

const basic = (c: { clientId: string; clientSecret: string }) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

/** Starts the provider; close it in afterAll. */
export async function startOidcProvider(): Promise<TestProvider> {
  let keys = [await newKey(1)];
  let keyCount = 1;
  const hits = new Map<string, number>();
  let isDown = false;
  /** Per-token lifetimes asked for by opaqueToken, by the scope that marks the request. */
  const ttls = new Map<string, number>();

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configure = () =>
    new Provider(issuer, {
      clients: [INTROSPECTOR, INTROSPECTOR_POST, PARTNER_CLIENT, OTHER_CLIENT, STRANGER_CLIENT].map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'method' in c ? c.method : 'client_secret_basic',
        scope: 'orders:read orders:write ttl',
      })),
      jwks: { keys: keys.map((k) => k.privateJwk) },
      scopes: ['orders:read', 'orders:write', 'ttl'],
      cookies: { keys: ['test-cookie-key-not-used-by-client-credentials'] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // only the gateway's client may introspect (RFC 7662 §4: the caller must be authorised)
        introspection: { enabled: true, allowedPolicy: (_ctx: unknown, client: { clientId: string }) => client.clientId === INTROSPECTOR.clientId || client.clientId === INTROSPECTOR_POST.clientId },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            if (resource !== JWT_RESOURCE) throw new Error(`unknown resource ${resource}`);
            return { scope: 'orders:read orders:write', audience: JWT_RESOURCE, accessTokenTTL: JWT_TTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
      ttl: {
        // the opaque client_credentials token's lifetime: TOKEN_TTL, or what the test asked for
        ClientCredentials: (_ctx: unknown, token: { scope?: string; resourceServer?: unknown }) => {
          if (token.resourceServer !== undefined) return JWT_TTL;
          const marked = token.scope?.split(' ').includes('ttl') ? ttls.get('next') : undefined;
          return marked ?? TOKEN_TTL;
        },
      },
    });
  let provider = configure();
  // oidc-provider logs every server_error to the console; the tests see them as answers
  const quiet = (p: Provider) => p.on('server_error', () => {});
  quiet(provider);

  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (isDown) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
      return;
    }
    provider.callback()(req, res);
  });

  async function token(client: { clientId: string; clientSecret: string }, form: Record<string, string>): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (res.status !== 200 || body.access_token === undefined) throw new Error(`the provider refused a token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  return {
    issuer,
    get kids() {
      return keys.map((k) => k.kid);
    },
    async opaqueToken(client = PARTNER_CLIENT, options = {}) {
      const scope = options.scope ?? 'orders:read';
      if (options.ttl === undefined) return token(client, { scope });
      ttls.set('next', options.ttl);
      try {
        return await token(client, { scope: `${scope} ttl` });
      } finally {
        ttls.delete('next');
      }
    },
    jwtToken: (client = PARTNER_CLIENT, scope = 'orders:read') => token(client, { scope, resource: JWT_RESOURCE }),
    async revoke(value, client = PARTNER_CLIENT) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: value }),
      });
      if (res.status !== 200) throw new Error(`the provider refused to revoke: ${res.status} ${await res.text()}`);
    },
    async rotate(options = {}) {
      const next = await newKey(++keyCount);
      keys = options.drop ? [next] : [next, ...keys];
      // oidc-provider reads its keys once: the next instance serves and signs with the new set;
      // tokens live in its memory adapter, shared by instances, so they stay introspectable
      provider = configure();
      quiet(provider);
      return next.kid;
    },
    hits: (path) => hits.get(path) ?? 0,
    down(value) {
      isDown = value;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
