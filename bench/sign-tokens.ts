// Signs many tokens for the many-token targets (tokens.ts), before the load runs: RSA signing
// costs ~0.4 ms a token, far too much for the load generator's core while it loads a target.
// Each token has the claims of the fixture's one token plus a jti of its own, so every token is
// distinct, signed with node:crypto (jose's WebCrypto signing is slower and would only add
// minutes). Writes one token a line.
// Usage: sign-tokens.mjs <RS256|ES256> <kid> <private key PEM file> <count> <jti prefix> <out file>
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { AUDIENCE, ISSUER, PARTNER, SCOPE, SUBJECT } from './fixture.ts';

const [alg, kid, keyFile, countText, prefix, out] = process.argv.slice(2);
if (out === undefined || (alg !== 'RS256' && alg !== 'ES256')) throw new Error('usage: sign-tokens <RS256|ES256> <kid> <key.pem> <count> <jti prefix> <out file>');
const key = createPrivateKey(readFileSync(keyFile!, 'utf8'));
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = b64({ alg, kid });
const iat = Math.floor(Date.now() / 1000);
const lines: string[] = [];
for (let i = 0; i < Number(countText); i++) {
  // the fixture token's claims in jose's order, then the jti that makes this one unique
  const input = `${header}.${b64({ azp: PARTNER, scope: SCOPE, sub: SUBJECT, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 2 * 3600, jti: `${prefix}-${i}` })}`;
  const signature = alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  lines.push(`${input}.${signature.toString('base64url')}`);
}
writeFileSync(out, `${lines.join('\n')}\n`);
