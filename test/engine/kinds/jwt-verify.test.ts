import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportSPKI, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, unsignedToken, type TestIssuer } from '../../helpers/issuer.ts';
import { JWT_RESOURCE, OTHER_CLIENT, startOidcProvider, type TestProvider } from '../../helpers/oidc-provider.ts';
import { bearer, expectPort, expectProblem, portNode, registerPartners, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { prepareNode } from '../../../engine/compile/compile.ts';
import { createSharedResources } from '../../../engine/compile/dependencies.ts';
import { createSyntheticExchange } from '../../../engine/gateway/exchange.ts';
import { LOCAL_KEY_SETS } from '../../../engine/kinds/jwt-verify.ts';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import { RECENTLY_SHARED } from '../../../engine/kinds/support/recently-shared.ts';
import type { PreparedNode } from '../../../engine/kinds/types.ts';
import { kinds } from '../../../shared/nodes/index.ts';
import { adminCall, ADMIN_TOKENS } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';
import { deadUrl } from './fixtures.ts';

/** A config with a key source, for the cases that vary the rest. */
const jwt = { jwksUri: 'https://issuer.example/jwks.json' };

describeKind('jwt-verify', {
  minimal: {
    config: { jwksUri: 'https://issuer.example/jwks.json' },
    parsed: { jwksUri: 'https://issuer.example/jwks.json', algorithms: ['RS256'], clockTolerance: '30s', header: 'authorization', partnerClaim: 'azp' },
  },
  accepts: [
    ['an inline JWKS', { jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } }],
    ['a JWKS file', { jwksFile: 'demo-jwks.json' }],
    ['an HMAC secret with HS* only', { secretEnv: 'JWT_SECRET', algorithms: ['HS256', 'HS512'] }],
    ['an issuer alone, its keys found by OIDC discovery', { issuer: 'https://login.example.com/tenant-a' }],
    [
      'several issuers, each with its own audience and partner claim',
      { issuers: [{ issuer: 'https://login.example.com' }, { issuer: 'https://idp.partner.example', jwksUri: 'https://idp.partner.example/keys', audience: 'orders', partnerClaim: 'client_id' }], algorithms: ['RS256', 'ES256'] },
    ],
    ['several public-key algorithms and every check', { ...jwt, algorithms: ['RS256', 'ES256', 'EdDSA'], issuer: 'urn:i', audience: 'a', clockTolerance: '0s', maxTokenAge: '1h' }],
  ],
  refuses: [
    ['no key source', {}, ['jwksUri']],
    ['two key sources', { ...jwt, jwksFile: 'keys.json' }, ['jwksUri']],
    ['HS256 with a JWKS (public key set must never verify HMAC)', { ...jwt, algorithms: ['HS256'] }, ['algorithms']],
    ['a secret with an RS algorithm', { secretEnv: 'JWT_SECRET', algorithms: ['HS256', 'RS256'] }, ['algorithms']],
    ['a secret with the default algorithms (RS256)', { secretEnv: 'JWT_SECRET' }, ['algorithms']],
    ['the none algorithm', { ...jwt, algorithms: ['none'] }, ['algorithms.0']],
    ['no algorithm at all', { ...jwt, algorithms: [] }, ['algorithms']],
    ['a JWKS URL that is not http(s)', { jwksUri: 'file:///etc/keys.json' }, ['jwksUri']],
    ['an env var name in lower case', { secretEnv: 'jwt_secret', algorithms: ['HS256'] }, ['secretEnv']],
    ['an empty inline JWKS', { jwks: { keys: [] } }, ['jwks.keys']],
    ['a clock tolerance that is no duration', { ...jwt, clockTolerance: '30 seconds' }, ['clockTolerance']],
    ['an unknown key', { ...jwt, cache: true }, ['cache']],
    ['an issuer alone that is no http(s) URL (nothing to discover)', { issuer: 'urn:issuer' }, ['issuer']],
    ['issuers beside a key source of the node', { ...jwt, issuers: [{ issuer: 'https://login.example.com' }] }, ['issuers']],
    ['issuers beside an issuer of the node', { issuer: 'https://a.example', issuers: [{ issuer: 'https://login.example.com' }] }, ['issuers']],
    ['an issuer listed twice', { issuers: [{ issuer: 'https://login.example.com' }, { issuer: 'https://login.example.com' }] }, ['issuers.1.issuer']],
    ['no issuer in the list', { issuers: [] }, ['issuers']],
    ['an issuer in the list that is no http(s) URL', { issuers: [{ issuer: 'file:///etc/passwd' }] }, ['issuers.0.issuer']],
    ['an unknown key in an issuer', { issuers: [{ issuer: 'https://login.example.com', secretEnv: 'X' }] }, ['issuers.0.secretEnv']],
  ],
  faults: [],
});

/** Answers {"port":"ok"} with what the token put in the context. */
const whoNode: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "sub": claims.sub, "partner": partner, "scopes": scopes, "subject": subject }' } };

const verifyConfig = (keys: Record<string, unknown>) => ({ ...keys, issuer: TEST_ISSUER, audience: TEST_AUDIENCE });

/** A JWKS server that counts its hits and can change its keys or go down. */
interface KeyServer {
  url: string;
  hits: number;
  /** The paths asked for (query included), in order. */
  asked: string[];
  serve(jwks: { keys: JWK[] }): void;
  close(): Promise<void>;
}

/** What an OIDC issuer at any path of the key server publishes: itself, and the server's key set. */
const DISCOVERY = '/.well-known/openid-configuration';

async function startKeyServer(jwks: { keys: JWK[] }, host = '127.0.0.1'): Promise<KeyServer> {
  let current = jwks;
  const state = { hits: 0, asked: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.hits += 1;
    state.asked.push(req.url ?? '');
    const url = `http://${host}:${(server.address() as AddressInfo).port}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.endsWith(DISCOVERY)) res.end(JSON.stringify({ issuer: `${url}${req.url.slice(0, -DISCOVERY.length)}`, jwks_uri: `${url}/jwks.json` }));
    else res.end(JSON.stringify(current));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    get hits() {
      return state.hits;
    },
    asked: state.asked,
    serve(next) {
      current = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}


const HS_SECRET = 'a-shared-secret-of-at-least-32-bytes!';

describe('jwt-verify with inline keys and a shared secret', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let impostor: TestIssuer; // same kid, other key
  let stranger: TestIssuer; // a kid the node does not know
  let dead: string;

  beforeAll(async () => {
    issuer = await createIssuer('test-key-1');
    impostor = await createIssuer('test-key-1');
    stranger = await createIssuer('unknown-kid');
    dead = await deadUrl();
    const inline = verifyConfig({ jwks: issuer.jwks });
    gw = await startGateway(
      [
        workflow('jwt-default', { path: '/jwt/default' }, [{ id: 'verify', kind: 'jwt-verify', config: inline }, whoNode], [['verify', 'ok', 'who']]),
        workflow(
          'jwt-ports',
          { path: '/jwt/ports' },
          [{ id: 'verify', kind: 'jwt-verify', config: inline }, whoNode, portNode('missing'), portNode('invalid')],
          [['verify', 'ok', 'who'], ['verify', 'missing', 'missing'], ['verify', 'invalid', 'invalid']],
        ),
        workflow(
          'jwt-unavailable-port',
          { path: '/jwt/unavailable-port' },
          [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksUri: `${dead}/port.json` }) }, whoNode, portNode('unavailable')],
          [['verify', 'ok', 'who'], ['verify', 'unavailable', 'unavailable']],
        ),
        workflow(
          'jwt-options',
          { path: '/jwt/options' },
          [{ id: 'verify', kind: 'jwt-verify', config: { ...inline, header: 'X-Token', partnerClaim: 'client_id', maxTokenAge: '1h', clockTolerance: '0s' } }, whoNode],
          [['verify', 'ok', 'who']],
        ),
        workflow(
          'jwt-hs',
          { path: '/jwt/hs' },
          [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ secretEnv: 'TEST_JWT_SECRET', algorithms: ['HS256'] }) }, whoNode],
          [['verify', 'ok', 'who']],
        ),
        workflow(
          'jwt-lifetime',
          { path: '/jwt/lifetime' },
          [{ id: 'verify', kind: 'jwt-verify', config: { ...inline, maxLifetime: '1h' } }, whoNode],
          [['verify', 'ok', 'who']],
        ),
        workflow(
          'jwt-twins',
          { path: '/jwt/twins' },
          // two keys without kid: a token without kid matches both
          [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwks: { keys: [...issuer.jwks.keys, ...stranger.jwks.keys].map(({ kid: _kid, ...key }) => key) } }) }, whoNode],
          [['verify', 'ok', 'who']],
        ),
        // a shared secret must have 32 bytes (a shorter one is published below, and refused)
        workflow('jwt-hs-exact', { path: '/jwt/hs-exact' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ secretEnv: 'TEST_JWT_EXACT', algorithms: ['HS256'] }) }, whoNode], [['verify', 'ok', 'who']]),
      ],
      // room in the request head for a token over the node's own 16 KiB limit
      // the shared secrets' variables are allowed as secrets (SLUICE_SECRET_ENV), as an operator would
      {
        env: { TEST_JWT_SECRET: HS_SECRET, TEST_JWT_SHORT: 'x'.repeat(31), TEST_JWT_EXACT: 'x'.repeat(32) },
        settings: { SLUICE_MAX_HEADER: '64kb', SLUICE_SECRET_ENV: 'TEST_JWT_SECRET,TEST_JWT_SHORT,TEST_JWT_EXACT' },
      },
    );
    // refused at publish, so not in startGateway's list (which must all activate)
    await gw.putWorkflow(workflow('jwt-hs-short', { path: '/jwt/hs-short' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ secretEnv: 'TEST_JWT_SHORT', algorithms: ['HS256'] }) }, whoNode], [['verify', 'ok', 'who']]));
    // key files of the keys folder: the issuer's key set, and a file that is no key set (refused at publish)
    mkdirSync(join(gw.dataDir, 'keys'), { recursive: true });
    writeFileSync(join(gw.dataDir, 'keys', 'issuer-jwks.json'), JSON.stringify(issuer.jwks));
    writeFileSync(join(gw.dataDir, 'keys', 'not-keys.json'), 'secret-password {');
    for (const [id, jwksFile] of [['jwt-file', 'issuer-jwks.json'], ['jwt-file-bad', 'not-keys.json']] as const)
      await gw.putWorkflow(workflow(id, { path: `/jwt/${id}` }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksFile }) }, whoNode], [['verify', 'ok', 'who']]));
  });
  afterAll(() => gw?.close());

  it('accepts a valid RS256 token and puts claims, partner and scopes in the context', async () => {
    const token = await issuer.sign({ sub: 'alice', azp: 'acme', scope: 'orders:read orders:write' });
    const res = await gw.fetch('/jwt/default', { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ port: 'ok', sub: 'alice', partner: 'acme', scopes: ['orders:read', 'orders:write'], subject: 'alice' });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<{ name: string; headers: () => Promise<Record<string, string>>; slug: string; detail: string | RegExp; port: string }> = [
    { name: 'no token', headers: async () => ({}), slug: 'missing-token', detail: 'bearer token', port: 'missing' },
    { name: 'an empty bearer token', headers: async () => ({ authorization: 'Bearer ' }), slug: 'missing-token', detail: 'bearer token', port: 'missing' },
    { name: 'a Basic credential instead of a bearer token', headers: async () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), slug: 'missing-token', detail: 'bearer token', port: 'missing' },
    { name: 'a bad signature', headers: async () => bearer(await impostor.sign({ sub: 'mallory' })), slug: 'invalid-token', detail: 'signature does not verify', port: 'invalid' },
    {
      name: 'a tampered payload',
      headers: async () => {
        const [h, , s] = (await issuer.sign({ sub: 'alice' })).split('.');
        const forged = Buffer.from(JSON.stringify({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'admin', exp: now() + 600 })).toString('base64url');
        return bearer(`${h}.${forged}.${s}`);
      },
      slug: 'invalid-token',
      detail: 'signature does not verify',
      port: 'invalid',
    },
    {
      name: 'an alg:none token',
      headers: async () => bearer(unsignedToken({ alg: 'none', typ: 'JWT', kid: issuer.kid }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'mallory', exp: now() + 600 })),
      slug: 'invalid-token',
      detail: /not allowed|unsupported|malformed/,
      port: 'invalid',
    },
    {
      name: 'an HS256 token signed with the RS256 public key as the secret',
      headers: async () => {
        const pem = await exportSPKI((await importJWK(issuer.jwks.keys[0]!, 'RS256', { extractable: true })) as CryptoKey);
        const token = await new SignJWT({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'mallory', exp: now() + 600 })
          .setProtectedHeader({ alg: 'HS256', kid: issuer.kid, typ: 'JWT' })
          .sign(new TextEncoder().encode(pem));
        return bearer(token);
      },
      slug: 'invalid-token',
      detail: 'algorithm is not allowed',
      port: 'invalid',
    },
    { name: 'an expired token', headers: async () => bearer(await issuer.sign({ iat: now() - 7200, exp: now() - 3600 })), slug: 'invalid-token', detail: 'expired', port: 'invalid' },
    { name: 'a token without exp', headers: async () => bearer(await issuer.sign({ exp: undefined })), slug: 'invalid-token', detail: 'no "exp" claim', port: 'invalid' },
    { name: 'a token not yet valid', headers: async () => bearer(await issuer.sign({ nbf: now() + 3600 })), slug: 'invalid-token', detail: '"nbf"', port: 'invalid' },
    { name: 'the wrong audience', headers: async () => bearer(await issuer.sign({ aud: 'billing' })), slug: 'invalid-token', detail: '"aud"', port: 'invalid' },
    { name: 'the wrong issuer', headers: async () => bearer(await issuer.sign({ iss: 'https://evil.test' })), slug: 'invalid-token', detail: '"iss"', port: 'invalid' },
    { name: 'a token from an unknown kid', headers: async () => bearer(await stranger.sign()), slug: 'invalid-token', detail: 'no known key', port: 'invalid' },
    { name: 'garbage', headers: async () => bearer('not.a.jwt'), slug: 'invalid-token', detail: 'malformed', port: 'invalid' },
    { name: 'a token over the size limit', headers: async () => bearer(`${'a'.repeat(17 * 1024)}.b.c`), slug: 'invalid-token', detail: 'too large', port: 'invalid' },
    { name: 'a scheme that only contains "bearer "', headers: async () => ({ authorization: `Token1 bearer ${'x'.repeat(20)}` }), slug: 'missing-token', detail: 'bearer token', port: 'missing' },
    { name: 'a bearer token of whitespace alone', headers: async () => ({ authorization: 'Bearer \u00a0\u00a0' }), slug: 'missing-token', detail: 'bearer token', port: 'missing' },
    { name: 'a one-character token', headers: async () => bearer('x'), slug: 'invalid-token', detail: 'malformed', port: 'invalid' },
    { name: 'a token just at the size limit (16 KiB), read as a token', headers: async () => bearer(`${'a'.repeat(16 * 1024 - 4)}.b.c`), slug: 'invalid-token', detail: 'malformed', port: 'invalid' },
    { name: 'a token one character over the size limit', headers: async () => bearer(`${'a'.repeat(16 * 1024 - 3)}.b.c`), slug: 'invalid-token', detail: 'too large', port: 'invalid' },
    { name: 'a token without aud', headers: async () => bearer(await issuer.sign({ aud: undefined })), slug: 'invalid-token', detail: 'claim "aud" is not valid (missing)', port: 'invalid' },
    { name: 'a token without iss', headers: async () => bearer(await issuer.sign({ iss: undefined })), slug: 'invalid-token', detail: 'claim "iss" is not valid (missing)', port: 'invalid' },
    { name: 'an exp that is no number', headers: async () => bearer(await issuer.sign({ exp: 'tomorrow' as unknown as number })), slug: 'invalid-token', detail: 'claim "exp" is not valid (invalid)', port: 'invalid' },
    { name: 'an iat in the future', headers: async () => bearer(await issuer.sign({ iat: now() + 3600 })), slug: 'invalid-token', detail: 'claim "iat" is in the future', port: 'invalid' },
  ];

  it.each(cases)('unwired, $name answers $slug', async ({ headers, slug, detail }) => {
    const res = await gw.fetch('/jwt/default', { headers: await headers() });
    const problem = await expectProblem(res, 401, slug, detail);
    expect(problem.instance).toBe('/jwt/default');
  });

  it.each(cases)('wired, $name takes the $port port', async ({ headers, port }) => {
    await expectPort(await gw.fetch('/jwt/ports', { headers: await headers() }), port);
  });

  it('one key set per content: a workflow holding another key under the same kid verifies with its own', async () => {
    // inline key sets are shared by content (each key imported once for every workflow holding it)
    await gw.putWorkflow(workflow('jwt-other-keys', { path: '/jwt/other-keys' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwks: impostor.jwks }) }, whoNode], [['verify', 'ok', 'who']]));
    await gw.putWorkflow(workflow('jwt-same-keys', { path: '/jwt/same-keys' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwks: structuredClone(issuer.jwks) }) }, whoNode], [['verify', 'ok', 'who']]));
    const own = bearer(await issuer.sign({ sub: 'alice' }));
    const other = bearer(await impostor.sign({ sub: 'mallory' }));
    expect((await gw.fetch('/jwt/default', { headers: own })).status).toBe(200);
    expect((await gw.fetch('/jwt/same-keys', { headers: own })).status).toBe(200);
    await expectProblem(await gw.fetch('/jwt/other-keys', { headers: own }), 401, 'invalid-token', 'signature does not verify');
    expect((await gw.fetch('/jwt/other-keys', { headers: other })).status).toBe(200);
    await expectProblem(await gw.fetch('/jwt/same-keys', { headers: other }), 401, 'invalid-token', 'signature does not verify');
  });

  it('reads the scheme in any case and the token without the blanks around it', async () => {
    const token = await issuer.sign({ sub: 'spaces' });
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer    ${token}`, `Bearer \u00a0${token}\u00a0`]) {
      const res = await gw.fetch('/jwt/default', { headers: { authorization } });
      expect(res.status, authorization.slice(0, 12)).toBe(200);
      expect(await res.json()).toMatchObject({ sub: 'spaces' });
    }
  });

  it('takes scopes from scope or scp, strings only', async () => {
    const scopes = async (claims: Record<string, unknown>) => ((await (await gw.fetch('/jwt/default', { headers: bearer(await issuer.sign(claims)) })).json()) as { scopes: unknown }).scopes;
    expect(await scopes({ scope: '  a  b ' })).toEqual(['a', 'b']);
    expect(await scopes({ scp: 'c d' })).toEqual(['c', 'd']);
    expect(await scopes({ scp: ['e', 1, null, 'f'] })).toEqual(['e', 'f']);
    expect(await scopes({ scope: 'g', scp: ['h'] })).toEqual(['g']);
    expect(await scopes({ scope: 7 })).toEqual([]);
    expect(await scopes({})).toEqual([]);
  });

  it('a partner claim or sub that is no string names no partner or subject', async () => {
    const res = await gw.fetch('/jwt/default', { headers: bearer(await issuer.sign({ sub: 42 as unknown as string, azp: 7 })) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ port: 'ok', sub: 42 });
    expect([body.partner, body.subject]).toEqual([undefined, undefined]);
  });

  it('several keys without kid matching a token without kid: refused, asking for a kid', async () => {
    await expectProblem(await gw.fetch('/jwt/twins', { headers: bearer(await issuer.sign({}, { kid: undefined })) }), 401, 'invalid-token', 'several keys match the token; it needs a kid');
  });

  it('refuses a token that lives longer than the maximum lifetime (plus the clock tolerance), by iat or else from now', async () => {
    const ok = async (claims: Record<string, unknown>) => expect((await gw.fetch('/jwt/lifetime', { headers: bearer(await issuer.sign(claims)) })).status).toBe(200);
    const refused = async (claims: Record<string, unknown>) => expectProblem(await gw.fetch('/jwt/lifetime', { headers: bearer(await issuer.sign(claims)) }), 401, 'invalid-token', 'lifetime is longer than this API allows');
    const t = now();
    await ok({ iat: t, exp: t + 3600 + 30 });
    await refused({ iat: t, exp: t + 3600 + 31 });
    await ok({ iat: t - 3000, exp: t + 600 + 30 });
    await refused({ iat: t - 3000, exp: t + 600 + 31 });
    await ok({ iat: undefined, exp: t + 3600 });
    await refused({ iat: undefined, exp: t + 2 * 3600 });
    // the default route has no maximum lifetime
    expect((await gw.fetch('/jwt/default', { headers: bearer(await issuer.sign({ iat: t, exp: t + 30 * 24 * 3600 })) })).status).toBe(200);
  });

  it('a shared secret shorter than 32 bytes is refused at publish; 32 bytes are enough', async () => {
    expect(gw.sluice.registry.active.has('jwt-hs-short')).toBe(false);
    const refusal = gw.logs.find((l) => l.workflow === 'jwt-hs-short' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'verify', field: 'config.secretEnv', message: 'the secret in TEST_JWT_SHORT is shorter than 32 bytes' })]);
    expect(gw.sluice.registry.active.has('jwt-hs-exact')).toBe(true);
    const token = await new SignJWT({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'exact', exp: now() + 600 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await (await gw.fetch('/jwt/hs-exact', { headers: bearer(token) })).json()).toMatchObject({ port: 'ok', sub: 'exact' });
  });

  it('a shared secret from a variable that is not set is refused at publish, naming the field', async () => {
    await gw.putWorkflow(workflow('jwt-hs-unset', { path: '/jwt/hs-unset' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ secretEnv: 'TEST_JWT_UNSET', algorithms: ['HS256'] }) }, whoNode], [['verify', 'ok', 'who']]));
    expect(gw.sluice.registry.active.has('jwt-hs-unset')).toBe(false);
    const refusal = gw.logs.find((l) => l.workflow === 'jwt-hs-unset' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'verify', field: 'config.secretEnv', message: expect.stringContaining('TEST_JWT_UNSET') })]);
  });

  it('verifies with the key set of a key file; a file that is no key set is refused at publish, without a byte of it', async () => {
    const res = await gw.fetch('/jwt/jwt-file', { headers: bearer(await issuer.sign({ sub: 'filed' })) });
    expect(await res.json()).toMatchObject({ port: 'ok', sub: 'filed' });
    await expectProblem(await gw.fetch('/jwt/jwt-file', { headers: bearer(await impostor.sign()) }), 401, 'invalid-token', 'signature does not verify');
    expect(gw.sluice.registry.active.has('jwt-file-bad')).toBe(false);
    const refusal = gw.logs.find((l) => l.workflow === 'jwt-file-bad' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'verify', field: 'config.jwksFile', message: 'file "not-keys.json" is not a JSON Web Key Set' })]);
  });

  it('takes the unavailable port when the key server was never reachable', async () => {
    await expectPort(await gw.fetch('/jwt/unavailable-port', { headers: bearer(await issuer.sign()) }), 'unavailable');
  });

  it('reads the configured header and partner claim, and refuses tokens older than the maximum age', async () => {
    const token = await issuer.sign({ sub: 'carol', client_id: 'initech', azp: 'not-this-one' });
    const res = await gw.fetch('/jwt/options', { headers: { 'x-token': `Bearer ${token}` } });
    expect(await res.json()).toMatchObject({ port: 'ok', sub: 'carol', partner: 'initech' });
    await expectProblem(await gw.fetch('/jwt/options', { headers: bearer(token) }), 401, 'missing-token');
    const old = await issuer.sign({ iat: now() - 2 * 3600, exp: now() + 600 });
    await expectProblem(await gw.fetch('/jwt/options', { headers: { 'x-token': `Bearer ${old}` } }), 401, 'invalid-token', '"iat"');
    const late = await issuer.sign({ exp: now() - 1 });
    await expectProblem(await gw.fetch('/jwt/options', { headers: { 'x-token': `Bearer ${late}` } }), 401, 'invalid-token', 'expired');
  });

  it('the clock tolerance accepts what is off by less: exp 20 s ago and nbf 20 s ahead pass the default 30 s, not 40 s, nor 0 s', async () => {
    const who = async (path: string, headers: Record<string, string>) => {
      const res = await gw.fetch(path, { headers });
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json();
    };
    const expired20 = await issuer.sign({ sub: 'late-20', iat: now() - 600, exp: now() - 20 });
    const early20 = await issuer.sign({ sub: 'early-20', nbf: now() + 20 });
    expect(await who('/jwt/default', bearer(expired20))).toMatchObject({ port: 'ok', sub: 'late-20' });
    expect(await who('/jwt/default', bearer(early20))).toMatchObject({ port: 'ok', sub: 'early-20' });
    await expectProblem(await gw.fetch('/jwt/default', { headers: bearer(await issuer.sign({ iat: now() - 600, exp: now() - 40 })) }), 401, 'invalid-token', 'expired');
    await expectProblem(await gw.fetch('/jwt/default', { headers: bearer(await issuer.sign({ nbf: now() + 40 })) }), 401, 'invalid-token', '"nbf"');
    // the same two tokens where the tolerance is 0s
    await expectProblem(await gw.fetch('/jwt/options', { headers: { 'x-token': `Bearer ${expired20}` } }), 401, 'invalid-token', 'expired');
    await expectProblem(await gw.fetch('/jwt/options', { headers: { 'x-token': `Bearer ${early20}` } }), 401, 'invalid-token', '"nbf"');
  });

  it('verifies HS256 tokens with the secret from the environment', async () => {
    const secret = new TextEncoder().encode(HS_SECRET);
    const sign = (key: Uint8Array, claims: Record<string, unknown> = {}) =>
      new SignJWT({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'svc', azp: 'internal', exp: now() + 600, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);

    const ok = await gw.fetch('/jwt/hs', { headers: bearer(await sign(secret)) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ port: 'ok', sub: 'svc', partner: 'internal' });

    await expectProblem(await gw.fetch('/jwt/hs', { headers: bearer(await sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'))) }), 401, 'invalid-token', 'signature does not verify');
    await expectProblem(await gw.fetch('/jwt/hs', { headers: bearer(await issuer.sign()) }), 401, 'invalid-token', 'algorithm is not allowed');
    await expectProblem(await gw.fetch('/jwt/hs', { headers: bearer(await sign(secret, { exp: now() - 3600 })) }), 401, 'invalid-token', 'expired');
  });
});

/**
 * Remote key sets and the verified-token cache depend on time (cooldown, maximum key age, exp).
 * The clock is frozen (only Date is faked; timers and sockets are real) and moved by hand.
 */
describe('jwt-verify with a remote JWKS and the verified-token cache', () => {
  let gw: TestGateway;
  let a: TestIssuer;
  let b: TestIssuer;
  let c: TestIssuer;
  let rotating: KeyServer;
  let flaky: KeyServer;
  let cached: KeyServer;
  let gone: KeyServer;
  let goneAged: KeyServer;
  let dead: string;
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  /** Moves the clock to the next whole second and answers it (s): token times in seconds then meet the node's in ms exactly. */
  const wholeSecond = () => {
    vi.setSystemTime(Math.floor(Date.now() / 1000) * 1000 + 1000);
    return Date.now() / 1000;
  };
  const COOLDOWN = 30_000;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    a = await createIssuer('key-a');
    b = await createIssuer('key-b');
    c = await createIssuer('key-c');
    rotating = await startKeyServer(a.jwks);
    flaky = await startKeyServer(a.jwks);
    cached = await startKeyServer(a.jwks);
    gone = await startKeyServer(a.jwks);
    goneAged = await startKeyServer(a.jwks);
    dead = await deadUrl();
    const verify = (jwksUri: string): NodeDoc => ({ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksUri }) });
    gw = await startGateway([
      workflow('jwks-rotate', { path: '/jwks/rotate' }, [verify(`${rotating.url}/jwks.json`), whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-stale', { path: '/jwks/stale' }, [verify(`${flaky.url}/jwks.json`), whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-cache', { path: '/jwks/cache' }, [verify(`${cached.url}/jwks.json`), whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-down', { path: '/jwks/down' }, [verify(`${dead}/jwks.json`), whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-gone', { path: '/jwks/gone' }, [verify(`${gone.url}/jwks.json`), whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-gone-aged', { path: '/jwks/gone-aged' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksUri: `${goneAged.url}/jwks.json`, maxTokenAge: '1h' }) }, whoNode], [['verify', 'ok', 'who']]),
      workflow('jwks-times', { path: '/jwks/times' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwks: a.jwks, maxLifetime: '1h' }) }, whoNode], [['verify', 'ok', 'who']]),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([rotating?.close(), flaky?.close(), cached?.close(), gone?.close(), goneAged?.close()]);
    vi.useRealTimers();
  });

  it('fetches on first use and refetches on an unknown kid at most once per cooldown', async () => {
    const call = async (issuer: TestIssuer) => gw.fetch('/jwks/rotate', { headers: bearer(await issuer.sign({ sub: `u${Math.random()}` })) });
    expect(rotating.hits).toBe(0); // nothing is fetched at publish

    expect((await call(a)).status).toBe(200);
    expect(rotating.hits).toBe(1);
    expect((await call(a)).status).toBe(200);
    expect(rotating.hits).toBe(1);

    // key-b is not served yet, and the set was fetched just now: no refetch within the cooldown
    await expectProblem(await call(b), 401, 'invalid-token', 'no known key');
    expect(rotating.hits).toBe(1);

    // the issuer rotates; after the cooldown an unknown kid refetches, once for many callers
    rotating.serve({ keys: [...a.jwks.keys, ...b.jwks.keys] });
    advance(COOLDOWN + 1_000);
    const answers = await Promise.all([call(b), call(b), call(b), call(b)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(rotating.hits).toBe(2);

    // a kid nobody serves: one refetch per cooldown, however many tokens name it
    await expectProblem(await call(c), 401, 'invalid-token', 'no known key');
    await expectProblem(await call(c), 401, 'invalid-token', 'no known key');
    expect(rotating.hits).toBe(2);
    advance(COOLDOWN + 1_000);
    await expectProblem(await call(c), 401, 'invalid-token', 'no known key');
    await expectProblem(await call(c), 401, 'invalid-token', 'no known key');
    expect(rotating.hits).toBe(3);
    expect((await call(a)).status).toBe(200);
    expect((await call(b)).status).toBe(200);
    expect(rotating.hits).toBe(3);
  });

  it('keeps verifying with the known keys when the key server goes down', async () => {
    const call = async (issuer: TestIssuer) => gw.fetch('/jwks/stale', { headers: bearer(await issuer.sign({ sub: `u${Math.random()}` })) });
    expect((await call(a)).status).toBe(200);
    expect(flaky.hits).toBe(1);
    await flaky.close();

    expect((await call(a)).status).toBe(200);
    // past the cooldown and the maximum key age: refreshes are tried and fail, the keys stay
    advance(11 * 60_000);
    expect((await call(a)).status).toBe(200);
    expect((await call(a)).status).toBe(200);
    // an unknown kid is still a bad token, not missing keys
    await expectProblem(await call(b), 401, 'invalid-token', 'no known key');
    expect((await call(a)).status).toBe(200);
  });

  it('answers 503 keys-unavailable when the key server is down from the start', async () => {
    const token = await a.sign();
    await expectProblem(await gw.fetch('/jwks/down', { headers: bearer(token) }), 503, 'keys-unavailable', 'cannot be fetched');
    await expectProblem(await gw.fetch('/jwks/down', { headers: bearer(token) }), 503, 'keys-unavailable');
    advance(COOLDOWN + 1_000);
    await expectProblem(await gw.fetch('/jwks/down', { headers: bearer(token) }), 503, 'keys-unavailable');
    // a missing token is still missing, whatever the key server does
    await expectProblem(await gw.fetch('/jwks/down'), 401, 'missing-token');
  });

  it('answers a verified token from the cache, until the token expires', async () => {
    const token = await a.sign({ sub: 'cached', exp: Math.floor(Date.now() / 1000) + 3600 });
    expect((await gw.fetch('/jwks/cache', { headers: bearer(token) })).status).toBe(200);
    expect(cached.hits).toBe(1);

    // the keys are now older than their maximum age: verifying any new token refreshes them,
    // the cached token is answered without touching the key set
    advance(11 * 60_000);
    const again = await gw.fetch('/jwks/cache', { headers: bearer(token) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ sub: 'cached' });
    expect(cached.hits).toBe(1);
    expect((await gw.fetch('/jwks/cache', { headers: bearer(await a.sign({ sub: 'fresh' })) })).status).toBe(200);
    await vi.waitFor(() => expect(cached.hits).toBe(2), { timeout: 15_000 }); // the refresh runs in the background

    // a cached token is refused once expired (exp plus the 30s clock tolerance)
    const short = await a.sign({ sub: 'short', exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await gw.fetch('/jwks/cache', { headers: bearer(short) })).status).toBe(200);
    expect((await gw.fetch('/jwks/cache', { headers: bearer(short) })).status).toBe(200);
    advance(60_000 + 20_000); // 20 s past exp, within the tolerance: still answered from the cache
    expect((await gw.fetch('/jwks/cache', { headers: bearer(short) })).status).toBe(200);
    expect(cached.hits).toBe(2);
    advance(11_000); // 31 s past exp
    await expectProblem(await gw.fetch('/jwks/cache', { headers: bearer(short) }), 401, 'invalid-token', 'expired');
    await expectProblem(await gw.fetch('/jwks/cache', { headers: bearer(short) }), 401, 'invalid-token', 'expired');
  });

  /**
   * Drops key-a from `server`'s key set, as the node sees it: the set is refetched (a key-b token
   * after the cooldown), and a new key-a token no longer verifies.
   */
  async function dropKeyA(path: string, server: KeyServer) {
    server.serve(b.jwks);
    advance(COOLDOWN + 1_000);
    expect((await gw.fetch(path, { headers: bearer(await b.sign()) })).status).toBe(200);
    expect(server.hits).toBe(2);
    await expectProblem(await gw.fetch(path, { headers: bearer(await a.sign()) }), 401, 'invalid-token', 'no known key');
  }

  it('answers a verified token from the cache until exp plus the clock tolerance, to the millisecond, even once its key left the key set', async () => {
    const t = wholeSecond();
    const token = await a.sign({ sub: 'kept', iat: t, exp: t + 120 });
    expect((await gw.fetch('/jwks/gone', { headers: bearer(token) })).status).toBe(200);
    await dropKeyA('/jwks/gone', gone);
    vi.setSystemTime((t + 120) * 1000 + 30_000 - 1);
    const kept = await gw.fetch('/jwks/gone', { headers: bearer(token) });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ sub: 'kept' });
    vi.setSystemTime((t + 120) * 1000 + 30_000);
    await expectProblem(await gw.fetch('/jwks/gone', { headers: bearer(token) }), 401, 'invalid-token');
  });

  it('with a maximum token age, a token is answered from the cache until iat plus that age plus the tolerance, not until exp', async () => {
    const t = wholeSecond();
    const token = await a.sign({ sub: 'aged', iat: t, exp: t + 7200 });
    expect((await gw.fetch('/jwks/gone-aged', { headers: bearer(token) })).status).toBe(200);
    await dropKeyA('/jwks/gone-aged', goneAged);
    vi.setSystemTime((t + 3600) * 1000 + 30_000 - 1);
    expect((await gw.fetch('/jwks/gone-aged', { headers: bearer(token) })).status).toBe(200);
    vi.setSystemTime((t + 3600) * 1000 + 30_000);
    await expectProblem(await gw.fetch('/jwks/gone-aged', { headers: bearer(token) }), 401, 'invalid-token');
  });

  it('iat may be ahead by the clock tolerance, to the second, and no more', async () => {
    const t = wholeSecond();
    expect((await gw.fetch('/jwks/times', { headers: bearer(await a.sign({ iat: t + 30 })) })).status).toBe(200);
    await expectProblem(await gw.fetch('/jwks/times', { headers: bearer(await a.sign({ iat: t + 31 })) }), 401, 'invalid-token', 'claim "iat" is in the future');
  });

  it('a token without iat may live the maximum lifetime plus the tolerance from now, to the second, and no more', async () => {
    const t = wholeSecond();
    expect((await gw.fetch('/jwks/times', { headers: bearer(await a.sign({ iat: undefined, exp: t + 3630 })) })).status).toBe(200);
    await expectProblem(await gw.fetch('/jwks/times', { headers: bearer(await a.sign({ iat: undefined, exp: t + 3631 })) }), 401, 'invalid-token', 'lifetime is longer');
  });

  it('takes from the cache only the very header verified: a cached token\'s signature on other claims is verified and refused', async () => {
    const token = await a.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });
    const ok = await gw.fetch('/jwks/cache', { headers: bearer(token) });
    expect(await ok.json()).toMatchObject({ sub: 'alice' });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url'), signature].join('.');
    await expectProblem(await gw.fetch('/jwks/cache', { headers: bearer(forged) }), 401, 'invalid-token', 'signature');
    // the forged header took nothing from the entry: the verified one is still accepted as alice
    const again = await gw.fetch('/jwks/cache', { headers: bearer(token) });
    expect(await again.json()).toMatchObject({ sub: 'alice' });
  });
});

describe('jwt-verify and registered partners: client ids, suspension and products', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createIssuer();
    const config = verifyConfig({ jwks: issuer.jwks });
    gw = await startGateway([
      workflow('jwt-access', { path: '/jwt/access' }, [{ id: 'verify', kind: 'jwt-verify', config }, whoNode, portNode('suspended'), portNode('unsubscribed')], [['verify', 'ok', 'who'], ['verify', 'suspended', 'suspended'], ['verify', 'unsubscribed', 'unsubscribed']]),
      workflow('jwt-access-default', { path: '/jwt/access-default' }, [{ id: 'verify', kind: 'jwt-verify', config }, whoNode], [['verify', 'ok', 'who']]),
    ]);
    await registerPartners(
      gw,
      { orders: ['jwt-access', 'jwt-access-default'] },
      { acme: { products: ['orders'], clientIds: ['acme-web', 'acme-batch'] }, frozen: { products: ['orders'], clientIds: ['frozen-app'], suspended: true } },
    );
  });
  afterAll(() => gw?.close());

  it('a client id of a registered partner becomes that partner; its products allow the workflow', async () => {
    const res = await gw.fetch('/jwt/access', { headers: bearer(await issuer.sign({ sub: 'u1', azp: 'acme-batch' })) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ port: 'ok', partner: 'acme' });
  });

  it('a suspended partner exits by "suspended"; an unknown client by "unsubscribed"; unwired, both are 403 problems', async () => {
    const frozen = await issuer.sign({ sub: 'u2', azp: 'frozen-app' });
    const unknown = await issuer.sign({ sub: 'u3', azp: 'who-knows' });
    await expectPort(await gw.fetch('/jwt/access', { headers: bearer(frozen) }), 'suspended');
    await expectPort(await gw.fetch('/jwt/access', { headers: bearer(unknown) }), 'unsubscribed');
    await expectProblem(await gw.fetch('/jwt/access-default', { headers: bearer(frozen) }), 403, 'partner-suspended', 'frozen');
    await expectProblem(await gw.fetch('/jwt/access-default', { headers: bearer(unknown) }), 403, 'product-not-subscribed', 'orders');
  });
});

/**
 * Keys found by OIDC discovery, from a real OpenID provider (oidc-provider) that issues JWT access
 * tokens with client_credentials. The clock is frozen as above; the provider runs in this process,
 * so its clock moves with the gateway's.
 */
describe('jwt-verify with OIDC discovery from a real OpenID provider, and several issuers', () => {
  let gw: TestGateway;
  let provider: TestProvider;
  let second: TestProvider;
  let legacy: TestIssuer;
  let legacyKeys: KeyServer;
  /** A JWKS on another loopback address, which the test gateway's egress policy (127.0.0.1 only) refuses. */
  let internal: KeyServer;
  /** An issuer whose discovery document sends the gateway to `internal`. */
  let hostile: Server;
  let hostileUrl: string;
  let dead: string;
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  const COOLDOWN = 30_000;
  const who = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { port: string; partner: string; scopes: string[]; sub: string };
  };

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    [provider, second, legacy] = await Promise.all([startOidcProvider(), startOidcProvider(), createIssuer('legacy-key')]);
    legacyKeys = await startKeyServer(legacy.jwks);
    internal = await startKeyServer(legacy.jwks, '127.0.0.2');
    hostile = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // under /nokeys: an issuer that publishes no jwks_uri
      if (req.url?.startsWith('/nokeys/')) res.end(JSON.stringify({ issuer: `${hostileUrl}/nokeys` }));
      else res.end(JSON.stringify({ issuer: hostileUrl, jwks_uri: `${internal.url}/jwks.json` }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    dead = await deadUrl();
    const one = (id: string, path: string, config: Record<string, unknown>) => workflow(id, { path }, [{ id: 'verify', kind: 'jwt-verify', config }, whoNode], [['verify', 'ok', 'who']]);
    gw = await startGateway([
      one('oidc-one', '/oidc/one', { issuer: provider.issuer, audience: JWT_RESOURCE, partnerClaim: 'client_id' }),
      one('oidc-multi', '/oidc/multi', {
        issuers: [
          { issuer: provider.issuer, audience: JWT_RESOURCE, partnerClaim: 'client_id' },
          { issuer: second.issuer, audience: JWT_RESOURCE, partnerClaim: 'client_id' },
          { issuer: TEST_ISSUER, jwksUri: `${legacyKeys.url}/jwks.json`, audience: TEST_AUDIENCE },
        ],
      }),
      one('oidc-down', '/oidc/down', { issuer: dead }),
      one('oidc-hostile', '/oidc/hostile', { issuer: hostileUrl }),
      one('oidc-nokeys', '/oidc/nokeys', { issuer: `${hostileUrl}/nokeys` }),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([provider?.close(), second?.close(), legacyKeys?.close(), internal?.close(), new Promise((resolve) => (hostile ? hostile.close(resolve) : resolve(undefined)))]);
    vi.useRealTimers();
  });

  it('finds jwks_uri by discovery, once, and verifies the provider\'s access tokens', async () => {
    expect(provider.hits('/.well-known/openid-configuration')).toBe(0); // nothing is fetched at publish
    const answer = await who(await gw.fetch('/oidc/one', { headers: bearer(await provider.jwtToken()) }));
    expect(answer).toMatchObject({ port: 'ok', partner: 'acme-batch', scopes: ['orders:read'] });
    expect((await who(await gw.fetch('/oidc/one', { headers: bearer(await provider.jwtToken(OTHER_CLIENT, 'orders:write')) }))).partner).toBe('frozen-app');
    expect(provider.hits('/.well-known/openid-configuration')).toBe(1);
    expect(provider.hits('/jwks')).toBe(1);
    // a token for another resource (an opaque one is no JWT at all) is refused
    await expectProblem(await gw.fetch('/oidc/one', { headers: bearer(await provider.opaqueToken()) }), 401, 'invalid-token', 'malformed');
  });

  it('picks up a key rotation at the provider: a token signed with the new key is accepted once the cooldown allows a refetch', async () => {
    const kid = await provider.rotate();
    const token = await provider.jwtToken();
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid });
    // the keys were fetched moments ago: an unknown kid does not refetch within the cooldown
    await expectProblem(await gw.fetch('/oidc/one', { headers: bearer(token) }), 401, 'invalid-token', 'no known key');
    expect(provider.hits('/jwks')).toBe(1);
    advance(COOLDOWN + 1_000);
    expect((await who(await gw.fetch('/oidc/one', { headers: bearer(token) }))).partner).toBe('acme-batch');
    expect(provider.hits('/jwks')).toBe(2);
    expect(provider.hits('/.well-known/openid-configuration')).toBe(1); // the metadata is still fresh
  });

  it('refreshes the metadata when old, and keeps the known keys while the provider is down', async () => {
    const tokens = [await provider.jwtToken(), await provider.jwtToken(OTHER_CLIENT)];
    provider.down(true);
    try {
      // past the metadata's maximum age (1h; the tokens live 2h): verifying refreshes keys and metadata in the background
      advance(61 * 60_000);
      const before = provider.hits('/.well-known/openid-configuration');
      expect((await who(await gw.fetch('/oidc/one', { headers: bearer(tokens[0]!) }))).port).toBe('ok');
      await vi.waitFor(() => expect(provider.hits('/.well-known/openid-configuration')).toBe(before + 1), { timeout: 15_000 }); // tried, and failed
      expect((await who(await gw.fetch('/oidc/one', { headers: bearer(tokens[1]!) }))).partner).toBe('frozen-app');
    } finally {
      provider.down(false);
    }
  });

  it('several issuers: each token is verified with its issuer\'s keys, audience and partner claim', async () => {
    expect((await who(await gw.fetch('/oidc/multi', { headers: bearer(await provider.jwtToken()) }))).partner).toBe('acme-batch');
    expect((await who(await gw.fetch('/oidc/multi', { headers: bearer(await second.jwtToken(OTHER_CLIENT)) }))).partner).toBe('frozen-app');
    expect((await who(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ azp: 'initech', client_id: 'not-this' })) }))).partner).toBe('initech');
    // the legacy issuer's audience is its own
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ aud: JWT_RESOURCE })) }), 401, 'invalid-token', '"aud"');
    // an issuer not in the list, and a token naming one issuer but signed by another's key
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ iss: 'https://evil.test' })) }), 401, 'invalid-token', 'issuer is not accepted');
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ iss: provider.issuer, aud: JWT_RESOURCE, client_id: 'acme-batch' })) }), 401, 'invalid-token', 'no known key');
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer('not-a-jwt') }), 401, 'invalid-token', 'names no issuer');
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ iss: 123 as unknown as string })) }), 401, 'invalid-token', 'names no issuer');
  });

  it('several issuers: a listed issuer\'s keys are looked up every time, so a key its set dropped no longer verifies', async () => {
    const before = await legacy.sign({ sub: 'before' });
    expect((await who(await gw.fetch('/oidc/multi', { headers: bearer(before) }))).sub).toBe('before');
    const successor = await createIssuer('legacy-key-2');
    legacyKeys.serve(successor.jwks);
    advance(COOLDOWN + 1_000);
    // a token of the new key: its kid is unknown, so the set is fetched again, without the old key
    expect((await who(await gw.fetch('/oidc/multi', { headers: bearer(await successor.sign({ sub: 'after' })) }))).sub).toBe('after');
    await expectProblem(await gw.fetch('/oidc/multi', { headers: bearer(await legacy.sign({ sub: 'dropped' })) }), 401, 'invalid-token', 'no known key');
    legacyKeys.serve(legacy.jwks);
  });

  it('answers 503 keys-unavailable when the issuer never answered discovery', async () => {
    await expectProblem(await gw.fetch('/oidc/down', { headers: bearer(await legacy.sign({ iss: dead })) }), 503, 'keys-unavailable');
  });

  it('answers 503 keys-unavailable when the issuer publishes no jwks_uri', async () => {
    await expectProblem(await gw.fetch('/oidc/nokeys', { headers: bearer(await legacy.sign({ iss: `${hostileUrl}/nokeys` })) }), 503, 'keys-unavailable');
  });

  it('a discovery document cannot send the gateway to an internal address: its jwks_uri is refused at connect time', async () => {
    const res = await gw.fetch('/oidc/hostile', { headers: bearer(await legacy.sign({ iss: hostileUrl })) });
    await expectProblem(res, 503, 'keys-unavailable');
    expect(internal.hits).toBe(0);
    expect(gw.logs.some((l) => l.msg === 'egress policy refused a connection' && JSON.stringify(l.egress).includes('127.0.0.2'))).toBe(true);
  });

  it.each([
    ['metadata', 'an issuer on the metadata address', { issuer: 'http://169.254.169.254' }, 'config.issuer', /metadata|link-local/],
    ['loopback', 'an issuer on another loopback address', { issuer: 'http://127.0.0.2:8080/realms/x' }, 'config.issuer', /loopback/],
    ['private', 'a listed issuer on a private address', { issuers: [{ issuer: 'http://127.0.0.1:9/' }, { issuer: 'http://10.1.2.3/' }] }, 'config.issuers.1.issuer', /private/],
    ['jwks', 'a JWKS URL on the metadata address', { jwksUri: 'http://169.254.169.254/keys' }, 'config.jwksUri', /^"http:\/\/169\.254\.169\.254\/keys" is refused by the egress policy: 169\.254\.169\.254:80 is .*(metadata|link-local)/],
    ['listed-jwks', 'a listed issuer\'s JWKS URL on a private address', { issuers: [{ issuer: 'https://login.example.com', jwksUri: 'http://10.1.2.3/keys' }] }, 'config.issuers.0.jwksUri', /^"http:\/\/10\.1\.2\.3\/keys" is refused by the egress policy: 10\.1\.2\.3:80 is .*private/],
  ])('publish refuses a key source (%s): %s, as fetching keys passes the egress policy', async (tag, _name, config, field, words) => {
    const id = `oidc-egress-${tag}`;
    await gw.putWorkflow(workflow(id, { path: `/oidc/${id}` }, [{ id: 'verify', kind: 'jwt-verify', config }, whoNode], [['verify', 'ok', 'who']]));
    expect(gw.sluice.registry.active.has(id)).toBe(false);
    const refusal = gw.logs.find((l) => l.workflow === id && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'verify', field, message: expect.stringMatching(words) })]);
  });
});

/**
 * What nodes share across workflows and versions is bounded: previews, simulations and workflow
 * tests prepare drafts too, so an editor naming new key sets each time must not grow the gateway.
 */
describe('jwt-verify: key sets shared across workflows are bounded', () => {
  it(`keeps ${LOCAL_KEY_SETS} inline key sets by content: past them the oldest is imported anew, while a recent one is shared`, async () => {
    const issuer = await createIssuer('unused');
    const deps = { env: {}, dataDir: '/nonexistent', rateLimits: createMemoryRateLimitStore(), shared: createSharedResources() };
    /** A node prepared as a publish prepares it, holding key set `n`: the issuer's key under kid set-<n>. */
    const prepare = async (n: number) => {
      const config = kinds['jwt-verify'].config.parse(verifyConfig({ jwks: { keys: [{ ...issuer.jwks.keys[0], kid: `set-${n}` }] } }));
      const outcome = await prepareNode('bounded', 'verify', 'jwt-verify', config, new Set(['ok']), deps);
      if ('problem' in outcome) throw new Error(outcome.problem.message);
      return outcome.prepared;
    };
    // a key set imports each key once, on its first use (jose's createLocalJWKSet): an import is a key set made anew
    const imports = vi.spyOn(crypto.subtle, 'importKey');
    /** The keys imported while `node` verifies a new token of key set `n`. */
    const importsVerifying = async (node: PreparedNode, n: number) => {
      const token = await issuer.sign({ sub: `user-${Math.random()}` }, { kid: `set-${n}` });
      const before = imports.mock.calls.length;
      expect(await node.run(createSyntheticExchange({ method: 'GET', url: '/bounded', headers: bearer(token) }))).toBe('ok');
      return imports.mock.calls.length - before;
    };
    try {
      const first = await prepare(0);
      expect(await importsVerifying(first, 0)).toBe(1);
      let last = first;
      for (let n = 1; n <= LOCAL_KEY_SETS; n++) last = await prepare(n); // with the first, one more than are kept
      expect(await importsVerifying(last, LOCAL_KEY_SETS)).toBe(1);
      // the most recent set is shared: a node prepared with it again finds its key imported
      expect(await importsVerifying(await prepare(LOCAL_KEY_SETS), LOCAL_KEY_SETS)).toBe(0);
      // the first was forgotten (LOCAL_KEY_SETS others came after it): a node prepared with it now imports its own
      expect(await importsVerifying(await prepare(0), 0)).toBe(1);
      // and the node that held it all along still verifies
      expect(await importsVerifying(first, 0)).toBe(0);
    } finally {
      imports.mockRestore();
    }
  });

  describe(`remote key sets and discoveries: at most ${RECENTLY_SHARED}, and a served workflow keeps its own`, () => {
    let gw: TestGateway;
    let issuer: TestIssuer;
    let keys: KeyServer;
    /** An issuer found by discovery on the key server. */
    let tenant: string;
    const asked = (path: string) => keys.asked.filter((p) => p === path).length;
    const served = (jwksUri: string) => workflow('served-jwks', { path: '/served/jwks' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksUri }) }, whoNode], [['verify', 'ok', 'who']]);
    const discovered = (audience: string) =>
      workflow('served-oidc', { path: '/served/oidc' }, [{ id: 'verify', kind: 'jwt-verify', config: { issuer: tenant, audience } }, whoNode], [['verify', 'ok', 'who']]);
    const call = async (path: string, iss = TEST_ISSUER) => gw.fetch(path, { headers: bearer(await issuer.sign({ iss, sub: `user-${Math.random()}` })) });
    /** Simulates, as an editor, a draft whose key set is `/jwks.json?draft=<n>` (its own URL), with a token. */
    const preview = async (n: number) => {
      const document = workflow('draft', { path: '/draft' }, [{ id: 'verify', kind: 'jwt-verify', config: verifyConfig({ jwksUri: `${keys.url}/jwks.json?draft=${n}` }) }, whoNode], [['verify', 'ok', 'who']]);
      const answer = await adminCall(gw.url, 'editor', 'POST', '/simulate', { document, request: { method: 'GET', path: '/draft', headers: bearer(await issuer.sign({ sub: `draft-${n}` })) } });
      expect(answer.body.response?.status, JSON.stringify(answer.body)).toBe(200);
    };

    beforeAll(async () => {
      issuer = await createIssuer('remote-key');
      keys = await startKeyServer(issuer.jwks);
      tenant = `${keys.url}/tenant`;
      gw = await startGateway([served(`${keys.url}/served.json`), discovered(TEST_AUDIENCE)], { settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } });
    });
    afterAll(async () => {
      await gw?.close();
      await keys?.close();
    });

    it('drafts naming new URLs past the bound forget the least recently asked for; served workflows verify on with the keys they hold, fetching nothing again', async () => {
      expect((await call('/served/jwks')).status).toBe(200);
      expect((await call('/served/oidc', tenant)).status).toBe(200);
      expect([asked('/served.json'), asked(`/tenant${DISCOVERY}`), asked('/jwks.json')]).toEqual([1, 1, 1]);

      // as many new URLs as the bound, and one more: the served workflows' three entries (a key set, a discovery and its key set) are forgotten, and the first draft's
      for (let n = 0; n <= RECENTLY_SHARED; n++) await preview(n);
      for (let n = 0; n <= RECENTLY_SHARED; n++) expect(asked(`/jwks.json?draft=${n}`)).toBe(1);

      // the served versions hold their key sets and discovery: new tokens verify, nothing is fetched again
      for (let i = 0; i < 3; i++) {
        expect((await call('/served/jwks')).status).toBe(200);
        expect((await call('/served/oidc', tenant)).status).toBe(200);
      }
      expect([asked('/served.json'), asked(`/tenant${DISCOVERY}`), asked('/jwks.json')]).toEqual([1, 1, 1]);

      // exactly the bound is remembered: the last drafts' key sets are shared (each is still fetched once in all)...
      for (let n = RECENTLY_SHARED; n >= 1; n--) await preview(n);
      expect(keys.asked.filter((p) => p.startsWith('/jwks.json?draft=')).length).toBe(RECENTLY_SHARED + 1);
      // ...and the first draft's was forgotten: a draft naming its URL again fetches it anew
      await preview(0);
      expect(asked('/jwks.json?draft=0')).toBe(2);
      // which forgot the one least recently asked for (the last draft, asked for first above), not the oldest made
      await preview(1);
      expect(asked('/jwks.json?draft=1')).toBe(1);
      await preview(RECENTLY_SHARED);
      expect(asked(`/jwks.json?draft=${RECENTLY_SHARED}`)).toBe(2);
    });

    it('a new version of a served workflow whose key set was forgotten verifies too: its first token fetches the keys again, once', async () => {
      await gw.putWorkflow({ ...served(`${keys.url}/served.json`), name: 'served again' });
      await gw.putWorkflow(discovered(`${TEST_AUDIENCE}-2`));
      const version = (id: string) => gw.sluice.registry.active.get(id)!.version;
      expect([version('served-jwks'), version('served-oidc')]).toEqual([2, 2]);
      for (let i = 0; i < 2; i++) {
        expect((await call('/served/jwks')).status).toBe(200);
        expect((await gw.fetch('/served/oidc', { headers: bearer(await issuer.sign({ iss: tenant, aud: `${TEST_AUDIENCE}-2` })) })).status).toBe(200);
      }
      expect([asked('/served.json'), asked(`/tenant${DISCOVERY}`), asked('/jwks.json')]).toEqual([2, 2, 2]);
    });
  });
});
