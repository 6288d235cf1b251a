import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIssuerDiscovery, DiscoveryUnavailable } from '../../../../engine/kinds/support/oidc-discovery.ts';

/**
 * OIDC discovery documents as an issuer may serve them, good and hostile, over real HTTP: each
 * path of the server is one issuer (http://127.0.0.1:<port>/<name>), answering what the table says.
 */
describe('OIDC discovery (engine/kinds/support/oidc-discovery.ts)', () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, { status: number; body: string }>();
  const hits = new Map<string, number>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = (req.url ?? '').split('/')[1]!;
      hits.set(name, (hits.get(name) ?? 0) + 1);
      const answer = answers.get(name) ?? { status: 404, body: '' };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const issuerOf = (name: string) => `${base}/${name}`;
  const serve = (name: string, doc: unknown, status = 200) => answers.set(name, { status, body: typeof doc === 'string' ? doc : JSON.stringify(doc) });

  it('reads jwks_uri and introspection_endpoint from <issuer>/.well-known/openid-configuration', async () => {
    serve('good', { issuer: issuerOf('good'), jwks_uri: 'https://keys.example/jwks', introspection_endpoint: 'https://login.example/introspect', token_endpoint: 'https://login.example/token' });
    const discovery = createIssuerDiscovery(issuerOf('good'));
    expect(await discovery.metadata()).toEqual({ issuer: issuerOf('good'), jwksUri: 'https://keys.example/jwks', introspectionEndpoint: 'https://login.example/introspect' });
    await discovery.metadata();
    expect(discovery.fetches).toBe(1);
  });

  it('an issuer written with a trailing slash finds the same document (and must be named so in it)', async () => {
    serve('slash', { issuer: `${issuerOf('slash')}/`, jwks_uri: 'https://keys.example/jwks' });
    expect((await createIssuerDiscovery(`${issuerOf('slash')}/`).metadata()).jwksUri).toBe('https://keys.example/jwks');
  });

  it.each<[string, unknown, number]>([
    ['a document naming another issuer (mix-up)', { issuer: 'https://login.example', jwks_uri: 'https://keys.example/jwks' }, 200],
    ['a jwks_uri that is not http(s)', { issuer: '@', jwks_uri: 'javascript:alert(1)' }, 200],
    ['an introspection_endpoint that is not a URL', { issuer: '@', introspection_endpoint: 'not a url' }, 200],
    ['a document that is not JSON', '{"issuer":', 200],
    ['a JSON array', '[]', 200],
    ['a document over 64 KB', { issuer: '@', pad: 'x'.repeat(70 * 1024) }, 200],
    ['a 404', '', 404],
  ])('%s: unavailable, never used', async (name, doc, status) => {
    const id = `bad-${name.length}-${status}`;
    serve(id, typeof doc === 'object' && doc !== null && !Array.isArray(doc) && (doc as { issuer?: string }).issuer === '@' ? { ...doc, issuer: issuerOf(id) } : doc, status);
    await expect(createIssuerDiscovery(issuerOf(id)).metadata()).rejects.toBeInstanceOf(DiscoveryUnavailable);
  });

  it('keeps the last good document while the issuer fails, refreshes it when old, and retries a failure at most once per cooldown', async () => {
    let clock = 1_000_000;
    serve('flaky', { issuer: issuerOf('flaky'), jwks_uri: 'https://keys.example/one' });
    const discovery = createIssuerDiscovery(issuerOf('flaky'), { maxAgeMs: 60_000, cooldownMs: 10_000, now: () => clock });
    expect((await discovery.metadata()).jwksUri).toBe('https://keys.example/one');
    serve('flaky', 'down', 503);
    clock += 61_000;
    expect((await discovery.metadata()).jwksUri).toBe('https://keys.example/one'); // refreshing in the background
    expect(discovery.fetches).toBe(2);
    await vi.waitFor(() => expect(hits.get('flaky')).toBe(2), { timeout: 15_000 });
    expect((await discovery.metadata()).jwksUri).toBe('https://keys.example/one'); // failed: kept, no new try within the cooldown
    expect(discovery.fetches).toBe(2);
    serve('flaky', { issuer: issuerOf('flaky'), jwks_uri: 'https://keys.example/two' });
    clock += 10_001;
    await discovery.metadata();
    await vi.waitFor(async () => expect((await discovery.metadata()).jwksUri).toBe('https://keys.example/two'), { timeout: 15_000 });
    expect(discovery.fetches).toBe(3);
  });

  it('an issuer that never answered is tried again at most once a second', async () => {
    let clock = 5_000_000;
    const discovery = createIssuerDiscovery(issuerOf('never'), { now: () => clock });
    await expect(discovery.metadata()).rejects.toBeInstanceOf(DiscoveryUnavailable);
    await expect(discovery.metadata()).rejects.toBeInstanceOf(DiscoveryUnavailable);
    expect(hits.get('never')).toBe(1);
    clock += 1_000;
    await expect(discovery.metadata()).rejects.toBeInstanceOf(DiscoveryUnavailable);
    expect(hits.get('never')).toBe(2);
  });
});
