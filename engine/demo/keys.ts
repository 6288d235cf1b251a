import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { keysDir } from '../kinds/support/key-files.ts';

/** The issuer and audience of the demo tokens `sluice token` signs; the example workflows trust them. */
export const DEMO_ISSUER = 'urn:sluice:demo';
export const DEMO_AUDIENCE = 'sluice-demo';
/** The private key, in the data directory, outside the keys folder workflows may read. */
export const DEMO_KEY_FILE = 'demo-key.json';
/** The public key set, in the keys folder: the name jwt-verify's `jwksFile` gives. */
export const DEMO_JWKS_FILE = 'demo-jwks.json';

/**
 * Creates the demo signing key in the data directory on first use: the private key with mode
 * 0600 in the data directory, the public key set in its keys folder for jwt-verify's `jwksFile`.
 * A key set a former version left beside the private key moves into the keys folder.
 */
export async function ensureDemoKeys(dataDir: string): Promise<{ privateJwk: JWK; jwks: { keys: JWK[] } }> {
  const keyFile = join(dataDir, DEMO_KEY_FILE);
  const jwksFile = join(keysDir(dataDir), DEMO_JWKS_FILE);
  mkdirSync(keysDir(dataDir), { recursive: true });
  const formerJwksFile = join(dataDir, DEMO_JWKS_FILE);
  if (!existsSync(jwksFile) && existsSync(formerJwksFile)) {
    try {
      renameSync(formerJwksFile, jwksFile);
    } catch {
      // another process of the same data directory moved it first
    }
  }
  if (existsSync(keyFile) && existsSync(jwksFile)) {
    return { privateJwk: JSON.parse(readFileSync(keyFile, 'utf8')) as JWK, jwks: JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: JWK[] } };
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `demo-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  writeFileSync(keyFile, JSON.stringify(privateJwk, null, 2), { mode: 0o600 });
  writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }, null, 2));
  return { privateJwk, jwks: { keys: [publicJwk] } };
}

export interface DemoTokenOptions {
  sub: string;
  scopes?: string[];
  partner?: string;
  audience?: string;
  expiresIn?: string;
  claims?: Record<string, unknown>;
}

/** Signs a demo token: RS256 with the demo key, issuer urn:sluice:demo, audience sluice-demo. */
export async function signDemoToken(dataDir: string, options: DemoTokenOptions): Promise<string> {
  const { privateJwk } = await ensureDemoKeys(dataDir);
  const key = await importJWK(privateJwk, 'RS256');
  const claims: Record<string, unknown> = { ...options.claims };
  if (options.scopes && options.scopes.length > 0) claims.scope = options.scopes.join(' ');
  if (options.partner) claims.azp = options.partner;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid!, typ: 'JWT' })
    .setIssuer(DEMO_ISSUER)
    .setAudience(options.audience ?? DEMO_AUDIENCE)
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(key);
}
