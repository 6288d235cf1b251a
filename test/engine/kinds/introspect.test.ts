import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSyntheticExchange } from '../../../engine/gateway/exchange.ts';
import { portWords } from '../../../shared/compile/port-words.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { INTROSPECTOR, INTROSPECTOR_POST, OTHER_CLIENT, STRANGER_CLIENT, startOidcProvider, type TestProvider } from '../../helpers/oidc-provider.ts';
import { bearer, expectPort, expectProblem, portNode, registerPartners, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { deadUrl } from './fixtures.ts';

const as = { clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_AS' };

describeKind('introspect', {
  minimal: {
    config: { endpoint: 'https://login.example.com/introspect', ...as },
    parsed: {
      endpoint: 'https://login.example.com/introspect',
      ...as,
      authMethod: 'client_secret_basic',
      header: 'authorization',
      partnerClaim: 'client_id',
      cacheTtl: '60s',
      negativeCacheTtl: '5s',
      cacheSize: 10_000,
      timeout: '2s',
    },
  },
  accepts: [
    ['an issuer whose discovery names the endpoint', { issuer: 'https://login.example.com/realms/partners', ...as }],
    ['the secret in the body, an audience and every bound', { endpoint: 'https://login.example.com/introspect', ...as, authMethod: 'client_secret_post', audience: 'orders', cacheTtl: '1h', negativeCacheTtl: '0s', cacheSize: 1, timeout: '30s' }],
  ],
  refuses: [
    ['neither endpoint nor issuer', { ...as }, ['endpoint']],
    ['both endpoint and issuer', { endpoint: 'https://a.example/introspect', issuer: 'https://a.example', ...as }, ['endpoint']],
    ['no client id', { endpoint: 'https://a.example/introspect', clientSecretEnv: 'SLUICE_SECRET_AS' }, ['clientId']],
    ['no secret variable', { endpoint: 'https://a.example/introspect', clientId: 'gateway' }, ['clientSecretEnv']],
    ['a secret written inline', { endpoint: 'https://a.example/introspect', ...as, clientSecret: 'hunter2' }, ['clientSecret']],
    ['a secret variable name in lower case', { endpoint: 'https://a.example/introspect', clientId: 'gateway', clientSecretEnv: 'secret' }, ['clientSecretEnv']],
    ['an endpoint that is not http(s)', { endpoint: 'file:///etc/passwd', ...as }, ['endpoint']],
    ['an unknown client authentication', { endpoint: 'https://a.example/introspect', ...as, authMethod: 'private_key_jwt' }, ['authMethod']],
    ['a cache time over an hour', { endpoint: 'https://a.example/introspect', ...as, cacheTtl: '2h' }, ['cacheTtl']],
    ['a negative cache time over a minute', { endpoint: 'https://a.example/introspect', ...as, negativeCacheTtl: '5m' }, ['negativeCacheTtl']],
    ['an empty cache', { endpoint: 'https://a.example/introspect', ...as, cacheSize: 0 }, ['cacheSize']],
    ['a timeout over 30s', { endpoint: 'https://a.example/introspect', ...as, timeout: '1m' }, ['timeout']],
  ],
  faults: [],
});

describe('introspect in the contract\'s words (shared/compile/port-words.ts)', () => {
  const node = { id: 'check', kind: 'introspect', config: {} };
  it.each([
    ['ok', 'the bearer token is active (the authorization server says so)'],
    ['missing', 'the bearer token is missing'],
    ['invalid', 'the bearer token is not active (unknown, expired or revoked) or for someone else'],
    ['unavailable', 'the authorization server cannot be asked about the token'],
    ['suspended', 'the partner is suspended'],
  ])('%s: %s', (port, words) => {
    expect(portWords(node, port)).toBe(words);
  });
});

/** Answers {"port":"ok"} with what the introspection put in the context. */
const whoNode: NodeDoc = { id: 'who', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "sub": subject, "client": claims.client_id, "partner": partner, "scopes": scopes }' } };
const PORTS = ['missing', 'invalid', 'unavailable', 'suspended', 'unsubscribed'] as const;

/** A server that records the requests it gets (and answers 200 active, were it ever asked). */
interface Recorder {
  url: string;
  received: string[];
  close(): Promise<void>;
}

async function startRecorder(host: string): Promise<Recorder> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    received.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"active":true,"client_id":"acme-batch"}');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An issuer whose discovery document names an introspection endpoint of the test's choosing. */
async function startHostileIssuer(endpoint: () => string | undefined): Promise<{ url: string; close(): Promise<void> }> {
  let url = '';
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer: url, introspection_endpoint: endpoint() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Against a real OpenID provider (oidc-provider) issuing opaque client_credentials tokens. The
 * clock is frozen (Date only) and moved by hand; the provider runs in this process, so its tokens
 * expire on the same clock as the gateway's cache.
 */
describe('introspect against a real authorization server', () => {
  let gw: TestGateway;
  let provider: TestProvider;
  let dead: string;
  /** A server the editor controls: a secret sent anywhere but the authorization server would arrive here. */
  let collector: Recorder;
  /** On another loopback address: callouts may go there, the egress policy refuses it. */
  let internal: Recorder;
  let toCollector: { url: string; close(): Promise<void> };
  let toInternal: { url: string; close(): Promise<void> };
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
  const introspections = () => provider.hits('/token/introspection');
  const who = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { port: string; sub: string | null; client: string; partner: string; scopes: string[] };
  };

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    provider = await startOidcProvider();
    dead = await deadUrl();
    collector = await startRecorder('127.0.0.1');
    internal = await startRecorder('127.0.0.2');
    toCollector = await startHostileIssuer(() => `http://localhost:${new URL(collector.url).port}/introspect`);
    toInternal = await startHostileIssuer(() => `${internal.url}/introspect`);
    const endpoint = `${provider.issuer}/token/introspection`;
    const node = (config: Record<string, unknown>): NodeDoc => ({ id: 'check', kind: 'introspect', config: { clientId: INTROSPECTOR.clientId, clientSecretEnv: 'SLUICE_SECRET_INTROSPECTOR', ...config } });
    const plain = (id: string, config: Record<string, unknown>) => workflow(id, { path: `/${id}` }, [node(config), whoNode], [['check', 'ok', 'who']]);
    gw = await startGateway(
      [
        workflow('in-ports', { path: '/in-ports' }, [node({ issuer: provider.issuer }), whoNode, ...PORTS.map((p) => portNode(p))], [['check', 'ok', 'who'], ...PORTS.map((p): [string, string, string] => ['check', p, p])]),
        plain('in-default', { endpoint }),
        plain('in-post', { endpoint, clientId: INTROSPECTOR_POST.clientId, clientSecretEnv: 'SLUICE_SECRET_INTROSPECTOR_POST', authMethod: 'client_secret_post' }),
        plain('in-wrong-secret', { endpoint, clientSecretEnv: 'SLUICE_SECRET_WRONG' }),
        plain('in-down', { endpoint: `${dead}/introspect` }),
        plain('in-audience', { endpoint, audience: 'https://orders.api.test' }),
        plain('in-no-negative', { endpoint, negativeCacheTtl: '0s' }),
        plain('in-to-collector', { issuer: toCollector.url }),
        plain('in-to-internal', { issuer: toInternal.url }),
      ],
      {
        env: { SLUICE_SECRET_INTROSPECTOR: INTROSPECTOR.clientSecret, SLUICE_SECRET_INTROSPECTOR_POST: INTROSPECTOR_POST.clientSecret, SLUICE_SECRET_WRONG: 'not-the-gateway-client-secret-at-all' },
        // the authorization server is on 127.0.0.1; 127.0.0.2 is allowed for callouts but refused by the egress policy
        // room in the request head for a token over the node's own 16 KiB limit
        // each secret is bound to the hosts it may be sent to; SLUICE_SECRET_UNBOUND to none; SLUICE_SECRET_UNSET is bound but not set
        settings: {
          SLUICE_CALLOUT_HOSTS: '127.0.0.1,127.0.0.2',
          SLUICE_SECRET_HOSTS: 'SLUICE_SECRET_INTROSPECTOR=127.0.0.1,127.0.0.2; SLUICE_SECRET_INTROSPECTOR_POST=127.0.0.1; SLUICE_SECRET_WRONG=127.0.0.1; SLUICE_SECRET_UNSET=127.0.0.1; SLUICE_SECRET_TWO=127.0.0.1:1,127.0.0.1:2',
          SLUICE_MAX_HEADER: '64kb',
        },
      },
    );
    await registerPartners(
      gw,
      { orders: ['in-ports', 'in-default'] },
      { acme: { products: ['orders'], clientIds: ['acme-batch'] }, frozen: { products: ['orders'], clientIds: [OTHER_CLIENT.clientId], suspended: true } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([provider?.close(), collector?.close(), internal?.close(), toCollector?.close(), toInternal?.close()]);
    vi.useRealTimers();
  });

  it('an active opaque token: found by discovery, introspected once, its scope, client and partner in the context, then from the cache', async () => {
    const token = await provider.opaqueToken(undefined, { scope: 'orders:read orders:write' });
    const answer = await who(await gw.fetch('/in-ports', { headers: bearer(token) }));
    expect(answer).toEqual({ port: 'ok', client: 'acme-batch', partner: 'acme', scopes: ['orders:read', 'orders:write'] });
    expect(provider.hits('/.well-known/openid-configuration')).toBe(1);
    expect(introspections()).toBe(1);
    for (let i = 0; i < 5; i++) expect((await who(await gw.fetch('/in-ports', { headers: bearer(token) }))).partner).toBe('acme');
    expect(introspections()).toBe(1);
    // many callers of a token not yet known: one introspection
    const fresh = await provider.opaqueToken();
    const answers = await Promise.all(Array.from({ length: 6 }, () => gw.fetch('/in-default', { headers: bearer(fresh) })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(introspections()).toBe(2);
  });

  it('the introspection call authenticates the gateway\'s client: in the body as well, and a wrong secret is unavailable, not invalid', async () => {
    const token = await provider.opaqueToken();
    expect((await who(await gw.fetch('/in-post', { headers: bearer(token) }))).partner).toBe('acme');
    await expectProblem(await gw.fetch('/in-wrong-secret', { headers: bearer(token) }), 503, 'introspection-unavailable');
    // neither secret, nor the token, is anywhere in the logs: once the last request's line is there (lines are written in order)
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.route === '/in-wrong-secret')).toBe(true), { timeout: 15_000 });
    const logs = JSON.stringify(gw.logs);
    for (const secret of [INTROSPECTOR.clientSecret, INTROSPECTOR_POST.clientSecret, 'not-the-gateway-client-secret-at-all', token]) expect(logs).not.toContain(secret);
  });

  it('missing: no bearer token', async () => {
    await expectPort(await gw.fetch('/in-ports'), 'missing');
    await expectPort(await gw.fetch('/in-ports', { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } }), 'missing');
    await expectProblem(await gw.fetch('/in-default', { headers: { authorization: 'Bearer ' } }), 401, 'missing-token');
  });

  it('invalid: a token the server does not know is inactive, and that answer is cached briefly', async () => {
    const before = introspections();
    await expectPort(await gw.fetch('/in-ports', { headers: bearer('made-up-token-1') }), 'invalid');
    await expectProblem(await gw.fetch('/in-default', { headers: bearer('made-up-token-1') }), 401, 'invalid-token', 'not active');
    await expectProblem(await gw.fetch('/in-default', { headers: bearer('made-up-token-1') }), 401, 'invalid-token', 'not active');
    expect(introspections()).toBe(before + 2); // once per node, then from each node's negative cache
    advance(6_000);
    await expectProblem(await gw.fetch('/in-default', { headers: bearer('made-up-token-1') }), 401, 'invalid-token');
    expect(introspections()).toBe(before + 3);
    // with no negative cache, every call asks
    await expectProblem(await gw.fetch('/in-no-negative', { headers: bearer('made-up-token-1') }), 401, 'invalid-token');
    await expectProblem(await gw.fetch('/in-no-negative', { headers: bearer('made-up-token-1') }), 401, 'invalid-token');
    expect(introspections()).toBe(before + 5);
  });

  it('invalid: a token over the size limit is refused without asking', async () => {
    const before = introspections();
    await expectProblem(await gw.fetch('/in-default', { headers: bearer('a'.repeat(17 * 1024)) }), 401, 'invalid-token', 'too large');
    expect(introspections()).toBe(before);
  });

  it('invalid: a token for another audience', async () => {
    await expectProblem(await gw.fetch('/in-audience', { headers: bearer(await provider.opaqueToken()) }), 401, 'invalid-token', '"aud"');
  });

  it('an expired token: cached no longer than its exp, then the server calls it inactive', async () => {
    const token = await provider.opaqueToken(undefined, { ttl: 20 });
    expect((await who(await gw.fetch('/in-default', { headers: bearer(token) }))).port).toBe('ok');
    const before = introspections();
    advance(10_000);
    expect((await who(await gw.fetch('/in-default', { headers: bearer(token) }))).port).toBe('ok');
    expect(introspections()).toBe(before);
    advance(11_000); // past exp, well within the 60s cache time
    await expectProblem(await gw.fetch('/in-default', { headers: bearer(token) }), 401, 'invalid-token', 'not active');
    expect(introspections()).toBe(before + 1);
  });

  it('a token revoked at the provider is refused once the cache time has passed', async () => {
    const token = await provider.opaqueToken();
    expect((await who(await gw.fetch('/in-default', { headers: bearer(token) }))).port).toBe('ok');
    await provider.revoke(token);
    // within the cache time the gateway does not know yet
    advance(30_000);
    expect((await who(await gw.fetch('/in-default', { headers: bearer(token) }))).port).toBe('ok');
    advance(31_000);
    await expectProblem(await gw.fetch('/in-default', { headers: bearer(token) }), 401, 'invalid-token', 'not active');
    await expectPort(await gw.fetch('/in-ports', { headers: bearer(token) }), 'invalid');
  });

  it('suspended and unsubscribed partners, by the client id the server reports', async () => {
    const frozen = await provider.opaqueToken(OTHER_CLIENT);
    const stranger = await provider.opaqueToken(STRANGER_CLIENT);
    await expectPort(await gw.fetch('/in-ports', { headers: bearer(frozen) }), 'suspended');
    await expectPort(await gw.fetch('/in-ports', { headers: bearer(stranger) }), 'unsubscribed');
    await expectProblem(await gw.fetch('/in-default', { headers: bearer(frozen) }), 403, 'partner-suspended', 'frozen');
    await expectProblem(await gw.fetch('/in-default', { headers: bearer(stranger) }), 403, 'product-not-subscribed', 'orders');
  });

  it('unavailable: the server is down or unreachable; tokens already vouched for are still served from the cache', async () => {
    const known = await provider.opaqueToken();
    expect((await who(await gw.fetch('/in-default', { headers: bearer(known) }))).port).toBe('ok');
    const unknown = await provider.opaqueToken();
    provider.down(true);
    try {
      await expectPort(await gw.fetch('/in-ports', { headers: bearer(unknown) }), 'unavailable');
      await expectProblem(await gw.fetch('/in-default', { headers: bearer(unknown) }), 503, 'introspection-unavailable', 'cannot be reached');
      expect((await who(await gw.fetch('/in-default', { headers: bearer(known) }))).port).toBe('ok');
    } finally {
      provider.down(false);
    }
    // an unavailable answer is not cached: once the server is back, the token is accepted
    expect((await who(await gw.fetch('/in-default', { headers: bearer(unknown) }))).port).toBe('ok');
    await expectProblem(await gw.fetch('/in-down', { headers: bearer(unknown) }), 503, 'introspection-unavailable');
  });

  it('discovery cannot send the client secret elsewhere: an endpoint on a host not allowed for callouts, or one the egress policy refuses, is never called', async () => {
    const token = await provider.opaqueToken();
    await expectProblem(await gw.fetch('/in-to-collector', { headers: bearer(token) }), 503, 'introspection-unavailable');
    await expectProblem(await gw.fetch('/in-to-internal', { headers: bearer(token) }), 503, 'introspection-unavailable');
    expect(collector.received).toEqual([]);
    expect(internal.received).toEqual([]);
    expect(gw.logs.some((l) => l.msg === 'egress policy refused a connection' && JSON.stringify(l.egress).includes('127.0.0.2'))).toBe(true);
  });

  it.each([
    ['callout', 'an endpoint on a host not allowed for callouts', { endpoint: 'https://collector.example/introspect' }, 'config.endpoint', /^host collector\.example is not among the hosts this gateway sends requests with credentials to \(SLUICE_CALLOUT_HOSTS\)$/],
    ['issuer-callout', 'an issuer on a host not allowed for callouts', { issuer: 'https://collector.example' }, 'config.issuer', /SLUICE_CALLOUT_HOSTS/],
    // the refusal names the endpoint as written and the address it is (not a resolved host)
    ['egress', 'an endpoint the egress policy refuses', { endpoint: 'http://127.0.0.2:8080/introspect' }, 'config.endpoint', /^"http:\/\/127\.0\.0\.2:8080\/introspect" is refused by the egress policy: 127\.0\.0\.2:8080 is a loopback address/],
    ['issuer-egress', 'an issuer the egress policy refuses', { issuer: 'http://127.0.0.2:8080' }, 'config.issuer', /egress policy.*loopback/],
    ['env', 'a secret variable not allowed as a secret', { endpoint: 'http://127.0.0.1:9/introspect', clientSecretEnv: 'DATABASE_PASSWORD' }, 'config.clientSecretEnv', /not allowed as a secret/],
    ['unbound', 'a secret bound to no host (SLUICE_SECRET_HOSTS)', { endpoint: 'http://127.0.0.1:9/introspect', clientSecretEnv: 'SLUICE_SECRET_UNBOUND' }, 'config.endpoint', /SLUICE_SECRET_UNBOUND may not be sent anywhere: SLUICE_SECRET_HOSTS binds no host/],
    ['unset', 'a secret variable bound to the host but not set', { endpoint: 'http://127.0.0.1:9/introspect', clientSecretEnv: 'SLUICE_SECRET_UNSET' }, 'config.clientSecretEnv', /^environment variable SLUICE_SECRET_UNSET is not set$/],
    ['two-hosts', 'a secret bound to two other hosts, both named', { endpoint: 'http://127.0.0.1:9/introspect', clientSecretEnv: 'SLUICE_SECRET_TWO' }, 'config.endpoint', /may be sent only to 127\.0\.0\.1:1, 127\.0\.0\.1:2 \(SLUICE_SECRET_HOSTS\), not to 127\.0\.0\.1:9$/],
    ['other-host', 'a secret sent to a callout host it is not bound to', { endpoint: 'http://127.0.0.2:8080/introspect', clientSecretEnv: 'SLUICE_SECRET_INTROSPECTOR_POST' }, 'config.endpoint', /may be sent only to 127\.0\.0\.1 \(SLUICE_SECRET_HOSTS\), not to 127\.0\.0\.2:8080/],
    ['issuer-other-host', 'an issuer on a callout host the secret is not bound to', { issuer: 'http://127.0.0.2:8080', clientSecretEnv: 'SLUICE_SECRET_WRONG' }, 'config.issuer', /SLUICE_SECRET_HOSTS/],
  ])('publish refuses %s: %s', async (tag, _name, config, field, words) => {
    const id = `in-refused-${tag}`;
    await gw.putWorkflow(workflow(id, { path: `/${id}` }, [{ id: 'check', kind: 'introspect', config: { clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_INTROSPECTOR', ...config } }, whoNode], [['check', 'ok', 'who']]));
    expect(gw.sluice.registry.active.has(id)).toBe(false);
    const refusal = gw.logs.find((l) => l.workflow === id && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'check', field, message: expect.stringMatching(words) })]);
    expect(JSON.stringify(refusal)).not.toContain(INTROSPECTOR.clientSecret);
  });
});

describe('introspect with no host allowed for callouts', () => {
  it('is refused at publish: the client secret would have nowhere it may go (SLUICE_CALLOUT_HOSTS is empty)', async () => {
    const gw = await startGateway([], { settings: { SLUICE_SECRET_HOSTS: 'SLUICE_SECRET_AS=127.0.0.1' } });
    try {
      await gw.putWorkflow(workflow('in-nowhere', { path: '/in-nowhere' }, [{ id: 'check', kind: 'introspect', config: { endpoint: 'http://127.0.0.1:9/introspect', clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_AS' } }, whoNode], [['check', 'ok', 'who']]));
      expect(gw.sluice.registry.active.has('in-nowhere')).toBe(false);
      const refusal = gw.logs.find((l) => l.workflow === 'in-nowhere' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
      expect(refusal?.problems).toEqual([
        expect.objectContaining({ node: 'check', field: 'config.endpoint', message: 'the client secret is sent to the authorization server, and no host is allowed for that on this gateway (SLUICE_CALLOUT_HOSTS is empty)' }),
      ]);
    } finally {
      await gw.close();
    }
  });
});

/** An authorization server whose introspection answers are the test's, by token (inactive for any other); it records every token it is asked about. */
async function startScriptedServer(answers: Record<string, Record<string, unknown>>): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    let form = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (form += chunk));
    req.on('end', () => {
      const token = new URLSearchParams(form).get('token') ?? '';
      asked.push(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answers[token] ?? { active: false }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Against a scripted authorization server: the members of its answers are of the test's choosing
 * (odd spacing, other types), and the tokens it was asked about show what the gateway sent.
 */
describe('introspect against a scripted authorization server', () => {
  const LONGEST = 'l'.repeat(16 * 1024);
  let gw: TestGateway;
  let scripted: Awaited<ReturnType<typeof startScriptedServer>>;
  let silent: { url: string; close(): Promise<void> };
  const who = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    scripted = await startScriptedServer({
      spaced: { active: true, scope: ' orders:read  orders:write ', sub: 'user-7', client_id: 'acme-batch' },
      odd: { active: true, scope: 42, sub: 7, client_id: 99 },
      bare: { active: true },
      x: { active: true, client_id: 'one-char' },
      [LONGEST]: { active: true, client_id: 'longest' },
    });
    // an issuer whose discovery names no introspection endpoint
    silent = await startHostileIssuer(() => undefined);
    const node = (config: Record<string, unknown>): NodeDoc => ({ id: 'check', kind: 'introspect', config: { clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_AS', ...config } });
    gw = await startGateway(
      [
        workflow('sc', { path: '/sc' }, [node({ endpoint: `${scripted.url}/introspect` }), whoNode], [['check', 'ok', 'who']]),
        workflow('sc-ports', { path: '/sc-ports' }, [node({ endpoint: `${scripted.url}/introspect` }), whoNode, ...PORTS.map((p) => portNode(p))], [['check', 'ok', 'who'], ...PORTS.map((p): [string, string, string] => ['check', p, p])]),
        workflow('sc-dead-issuer', { path: '/sc-dead-issuer' }, [node({ issuer: await deadUrl() }), whoNode], [['check', 'ok', 'who']]),
        workflow('sc-silent-issuer', { path: '/sc-silent-issuer' }, [node({ issuer: silent.url }), whoNode], [['check', 'ok', 'who']]),
      ],
      { env: { SLUICE_SECRET_AS: 'scripted-secret' }, settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1', SLUICE_SECRET_HOSTS: 'SLUICE_SECRET_AS=127.0.0.1', SLUICE_MAX_HEADER: '64kb' } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([scripted?.close(), silent?.close()]);
  });

  it('maps the answer into the context: scope split on spaces (runs of them ignored), sub as the subject, client_id as the partner', async () => {
    expect(await who(await gw.fetch('/sc', { headers: bearer('spaced') }))).toEqual({ port: 'ok', sub: 'user-7', client: 'acme-batch', partner: 'acme-batch', scopes: ['orders:read', 'orders:write'] });
  });

  it('ignores members of another type: a scope, sub or client_id that is not a string gives no scopes, no subject and no partner', async () => {
    expect(await who(await gw.fetch('/sc', { headers: bearer('odd') }))).toEqual({ port: 'ok', client: 99, scopes: [] });
    expect(await who(await gw.fetch('/sc', { headers: bearer('bare') }))).toEqual({ port: 'ok', scopes: [] });
  });

  it('sends what follows "Bearer " and its spaces: a one-character token, then the same token after more spaces (from the cache)', async () => {
    const before = scripted.asked.length;
    expect((await who(await gw.fetch('/sc', { headers: { authorization: 'Bearer x' } }))).partner).toBe('one-char');
    expect((await who(await gw.fetch('/sc', { headers: { authorization: 'bearer    x' } }))).partner).toBe('one-char');
    expect(scripted.asked.slice(before)).toEqual(['x']);
  });

  it('asks about a token of exactly 16 KiB; one character more is refused without asking', async () => {
    const before = scripted.asked.length;
    expect((await who(await gw.fetch('/sc', { headers: bearer(LONGEST) }))).partner).toBe('longest');
    await expectProblem(await gw.fetch('/sc', { headers: bearer(`${LONGEST}l`) }), 401, 'invalid-token', 'too large');
    expect(scripted.asked.length).toBe(before + 1);
  });

  it('missing, never asked about: another scheme with a space where Bearer has one, "Bearer" later in the value, a token of only whitespace HTTP does not trim', async () => {
    const before = scripted.asked.length;
    for (const authorization of ['Digest bearer abc', 'Token: Bearer abc', 'Bearer \u00a0']) await expectPort(await gw.fetch('/sc-ports', { headers: { authorization } }), 'missing');
    expect(scripted.asked.length).toBe(before);
  });

  it('unavailable when discovery fails at request time: the issuer\'s metadata cannot be fetched, or it names no introspection endpoint', async () => {
    await expectProblem(await gw.fetch('/sc-dead-issuer', { headers: bearer('spaced') }), 503, 'introspection-unavailable');
    await expectProblem(await gw.fetch('/sc-silent-issuer', { headers: bearer('spaced') }), 503, 'introspection-unavailable');
  });

  it('answers a token it already vouched for at once, without a promise (the request path\'s cached hit), and reads a header given as a list by its first value', async () => {
    expect((await who(await gw.fetch('/sc', { headers: bearer('bare') }))).port).toBe('ok');
    const check = gw.sluice.registry.active.get('sc')!.prepared.get('check')!;
    expect(check.run(createSyntheticExchange({ method: 'GET', url: '/sc', headers: bearer('bare') }))).toBe('ok');
    // Node gives a repeated header as a list only for a few names; an exchange may hold one all the same
    const listed = createSyntheticExchange({ method: 'GET', url: '/sc', headers: { authorization: ['Bearer spaced', 'Bearer odd'] as unknown as string } });
    expect(await check.run(listed)).toBe('ok');
    expect(listed.subject).toBe('user-7');
  });
});
