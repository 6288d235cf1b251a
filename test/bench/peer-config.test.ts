// The peers' configuration is generated (bench/peer-config.ts); a mistake in it would make a peer
// look fast by refusing requests, or slow by checking something else. The code Node-RED runs is
// run here the way its function node runs it, against real tokens signed by jose.
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nodeCrypto from 'node:crypto';
import { AUDIENCE, ISSUER, SCOPE, UPSTREAM_PATH, makeCredentials } from '../../bench/fixture.ts';
import { expressGatewayConfig, nodeRedFlow, nodeRedVerifierBody, nodeRedVerifierSetup } from '../../bench/peer-config.ts';
import { unsignedToken } from '../helpers/issuer.ts';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
type Msg = { req: { headers: Record<string, string> }; statusCode?: number; headers?: Record<string, string>; payload?: unknown };

/** A function node: "On Start" once, then the body per message, with node-context and libs in scope. */
function functionNode(publicPem: string) {
  const store = new Map<string, unknown>();
  const context = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, v) };
  new Function('context', 'crypto', nodeRedVerifierSetup(publicPem))(context, nodeCrypto);
  const body = new Function('msg', 'context', 'crypto', 'Buffer', nodeRedVerifierBody());
  return (headers: Record<string, string>): [Msg | null, Msg | null] => body({ req: { headers } }, context, nodeCrypto, Buffer);
}

const sign = (keys: Keys, claims: Record<string, unknown>, exp = '1h') =>
  new SignJWT({ azp: 'acme', scope: SCOPE, ...claims }).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime(exp).sign(keys.privateKey);

describe('Node-RED verifier function', () => {
  let keys: Keys;
  let run: ReturnType<typeof functionNode>;
  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    run = functionNode(await exportSPKI(keys.publicKey));
  });

  it('passes a valid token on to the http request node with the forwardable headers', async () => {
    const token = await sign(keys, {});
    const [forward, answer] = run({ authorization: `Bearer ${token}`, host: 'gw', connection: 'keep-alive', accept: 'application/json' });
    expect(answer).toBeNull();
    expect(forward!.headers).toEqual({ authorization: `Bearer ${token}`, accept: 'application/json' });
  });

  it('answers 401 without a token, with a forged or foreign one, and 403 without the scope', async () => {
    const other = await generateKeyPair('RS256');
    const cases: Array<[string, string | undefined, number]> = [
      ['no token', undefined, 401],
      ['signed by another key', await sign(other as Keys, {}), 401],
      ['wrong audience', await new SignJWT({ scope: SCOPE }).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience('billing').setExpirationTime('1h').sign(keys.privateKey), 401],
      ['wrong issuer', await new SignJWT({ scope: SCOPE }).setProtectedHeader({ alg: 'RS256' }).setIssuer('https://evil').setAudience(AUDIENCE).setExpirationTime('1h').sign(keys.privateKey), 401],
      ['expired', await sign(keys, {}, '-1m'), 401],
      ['alg none', unsignedToken({ alg: 'none' }, { iss: ISSUER, aud: AUDIENCE, scope: SCOPE, exp: 9e9 }), 401],
      ['missing scope', await sign(keys, { scope: 'orders:write' }), 403],
    ];
    for (const [name, token, status] of cases) {
      const [forward, answer] = run(token ? { authorization: `Bearer ${token}` } : {});
      expect({ name, forward, status: answer?.statusCode }).toEqual({ name, forward: null, status });
    }
  });
});

describe('peer configuration', () => {
  it('gives both peers the same key, upstream and route as the Sluice targets', async () => {
    const { publicPem } = await makeCredentials();
    const upstream = 'http://127.0.0.1:4321';
    const { gateway } = expressGatewayConfig({ publicPem, upstream, port: 1234 });
    const policies = Object.assign({}, ...gateway.pipelines.orders.policies) as Record<string, Array<{ action: Record<string, unknown> }>>;
    expect(policies.jwt![0]!.action).toMatchObject({ secretOrPublicKey: publicPem, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE, checkCredentialExistence: false });
    expect(gateway.serviceEndpoints.upstream.url).toBe(upstream);
    expect(gateway.apiEndpoints.orders.paths).toEqual([UPSTREAM_PATH]);

    const flow = nodeRedFlow({ publicPem, upstream });
    expect(flow.find((n) => n.type === 'http request')).toMatchObject({ url: `${upstream}${UPSTREAM_PATH}`, persist: true });
    expect(flow.find((n) => n.type === 'http in')).toMatchObject({ url: UPSTREAM_PATH, method: 'get' });
    expect(flow.find((n) => n.type === 'function')).toMatchObject({ initialize: nodeRedVerifierSetup(publicPem) });
  });

  it("express-gateway's scope condition holds exactly when the token has the scope", () => {
    const { gateway } = expressGatewayConfig({ publicPem: '', upstream: 'http://127.0.0.1:1', port: 1 });
    const terminate = gateway.pipelines.orders.policies.find((p) => 'terminate' in p) as { terminate: Array<{ condition: { name: string; condition: { expression: string } } }> };
    const { name, condition } = terminate.terminate[0]!.condition;
    expect(name).toBe('not');
    // express-gateway evaluates the expression with the request in scope as `req`.
    const holds = (user: unknown) => new Function('req', `return ${condition.expression}`)({ user }) as boolean;
    expect(holds({ scope: `profile ${SCOPE}` })).toBe(true);
    expect(holds({ scope: 'orders:write' })).toBe(false);
    expect(holds(undefined)).toBe(false);
  });

  it('express-gateway runs its rate limit like (c), or not like (b) for the many-token targets', () => {
    const names = (rateLimit?: boolean) => expressGatewayConfig({ publicPem: '', upstream: 'http://127.0.0.1:1', port: 1, ...(rateLimit === undefined ? {} : { rateLimit }) }).gateway.pipelines.orders.policies.map((p) => Object.keys(p)[0]);
    expect(names()).toEqual(['jwt', 'terminate', 'rate-limit', 'proxy']);
    expect(names(false)).toEqual(['jwt', 'terminate', 'proxy']);
    expect(expressGatewayConfig({ publicPem: '', upstream: 'http://127.0.0.1:1', port: 1, rateLimit: false }).gateway.policies).toEqual(['jwt', 'terminate', 'proxy']);
  });
});
