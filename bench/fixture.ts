// What the gateway is benchmarked with: a fresh RS256 key, one token signed by it, and two
// workflows — the reference chain (verify → scopes → rate limit → proxy) and a bare proxy node.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';

const ISSUER = 'https://bench.sluice.local';
const AUDIENCE = 'orders';
const KID = 'bench-1';

export interface Credentials {
  publicJwk: JWK;
  token: string;
}

/** A new key pair every run: nothing secret is checked in, and nothing can go stale. */
export async function makeCredentials(): Promise<Credentials> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  // Two hours is far longer than any run (3 rounds × 3 targets × 8 s by default).
  const token = await new SignJWT({ azp: 'acme', scope: 'orders:read' })
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setSubject('bench-user')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { publicJwk, token };
}

function referenceWorkflow(publicJwk: JWK, upstream: string) {
  return {
    id: 'bench',
    name: 'Bench reference',
    route: { methods: ['GET'], path: '/api/orders' },
    nodes: [
      { id: 'verify', kind: 'jwt-verify', config: { jwks: { keys: [publicJwk] }, algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE } },
      { id: 'scopes', kind: 'scope-check', config: { all: ['orders:read'] } },
      // A limit that is never reached: the point is the cost of counting, not of refusing.
      { id: 'limit', kind: 'rate-limit', config: { limit: 1_000_000_000, window: '1m', key: 'partner' } },
      { id: 'call', kind: 'proxy', config: { url: upstream } },
    ],
    edges: [
      { from: 'verify', port: 'ok', to: 'scopes' },
      { from: 'scopes', port: 'ok', to: 'limit' },
      { from: 'limit', port: 'ok', to: 'call' },
    ],
  };
}

function proxyOnlyWorkflow(upstream: string) {
  return {
    id: 'bench-proxy',
    name: 'Bench proxy only',
    route: { methods: ['GET'], path: '/proxy-only' },
    // Same upstream path as the reference route, so both fetch exactly the same upstream answer.
    nodes: [{ id: 'call', kind: 'proxy', config: { url: upstream, path: '/api/orders' } }],
    edges: [],
  };
}

export function writeWorkflows(dataDir: string, publicJwk: JWK, upstream: string): void {
  const dir = join(dataDir, 'workflows');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(referenceWorkflow(publicJwk, upstream), null, 2));
  writeFileSync(join(dir, 'bench-proxy.json'), JSON.stringify(proxyOnlyWorkflow(upstream), null, 2));
}
