import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type JWTHeaderParameters } from 'jose';

export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'orders';

export interface TestIssuer {
  kid: string;
  /** Public key set to put in a jwt-verify node (`jwks`) or serve as a JWKS URL. */
  jwks: { keys: JWK[] };
  /**
   * Signs a token: RS256, iss/aud of the test issuer, exp in 10 minutes, unless overridden.
   * Pass `exp: undefined` in claims to leave exp out.
   */
  sign(claims?: JWTPayload, header?: Partial<JWTHeaderParameters>): Promise<string>;
}

/** A real RS256 issuer for tests: keys made by jose, tokens signed by jose. */
export async function createIssuer(kid = 'test-key-1'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    jwks: { keys: [publicJwk] },
    async sign(claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 600, ...claims };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', ...header } as JWTHeaderParameters).sign(privateKey);
    },
  };
}

/** Encodes a token by hand, for tokens jose refuses to sign (alg none, forged headers). */
export function unsignedToken(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}
