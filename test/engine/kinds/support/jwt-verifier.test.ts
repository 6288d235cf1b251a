// jwt-verify's verifier (node:crypto for the signature, jose for the claims) must decide every
// token exactly as jose's jwtVerify does: the same claims, or the same error (class, message,
// claim, reason). Each row is run through both; the row also says which way the verifier must
// have gone — synchronously (its own route, once the key is known) or through a promise (a key
// lookup, or jose itself for the unusual) — so the fast route is proven taken, not bypassed.
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JWK, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJwtVerifier, type KeySource } from '../../../../engine/kinds/support/jwt-verifier.ts';

const ISS = 'https://issuer.test';
const AUD = 'orders';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

interface Pair {
  privateKey: KeyObject;
  jwk: JWK;
}

function pair(type: 'rsa' | 'ec' | 'ed25519', kid: string, alg: string | undefined, options: Record<string, unknown> = {}): Pair {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
  return { privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, ...(alg ? { alg } : {}), use: 'sig' } };
}

const keys = {
  rs: pair('rsa', 'rs', 'RS256', { modulusLength: 2048 }),
  other: pair('rsa', 'rs', 'RS256', { modulusLength: 2048 }), // the same kid, another key
  ps: pair('rsa', 'ps', 'PS256', { modulusLength: 2048 }),
  es: pair('ec', 'es', 'ES256', { namedCurve: 'P-256' }),
  es384: pair('ec', 'es384', 'ES384', { namedCurve: 'P-384' }),
  ed: pair('ed25519', 'ed', undefined),
  small: pair('rsa', 'small', 'RS256', { modulusLength: 1024 }),
  twinA: pair('rsa', '', undefined, { modulusLength: 2048 }),
  twinB: pair('rsa', '', undefined, { modulusLength: 2048 }),
};
const SECRET = Buffer.from('a shared secret of at least 32 bytes, for HS256');

type Signer = (input: Buffer) => Buffer;
const signers: Record<string, Signer> = {
  RS256: (input) => sign('sha256', input, keys.rs.privateKey),
  other: (input) => sign('sha256', input, keys.other.privateKey),
  PS256: (input) => sign('sha256', input, { key: keys.ps.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  'PS256-salt20': (input) => sign('sha256', input, { key: keys.ps.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }),
  ES256: (input) => sign('sha256', input, { key: keys.es.privateKey, dsaEncoding: 'ieee-p1363' }),
  'ES256-der': (input) => sign('sha256', input, keys.es.privateKey),
  ES384: (input) => sign('sha384', input, { key: keys.es384.privateKey, dsaEncoding: 'ieee-p1363' }),
  EdDSA: (input) => sign(null, input, keys.ed.privateKey),
  small: (input) => sign('sha256', input, keys.small.privateKey),
  twin: (input) => sign('sha256', input, keys.twinA.privateKey),
  HS256: (input) => createHmac('sha256', SECRET).update(input).digest(),
  'HS256-wrong': (input) => createHmac('sha256', Buffer.from('another shared secret of 32 bytes or more')).update(input).digest(),
};

const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISS, aud: AUD, sub: 'alice', azp: 'acme', scope: 'orders:read', iat: now() - 10, exp: now() + 600, ...extra });

/** A compact token of these raw segments: `header` and `payload` are JSON-encoded unless strings given as they are. */
function token(header: unknown, payload: unknown, signer: string, raw: { header?: string; payload?: string } = {}): string {
  const input = `${raw.header ?? b64(header)}.${raw.payload ?? b64(payload)}`;
  return `${input}.${signers[signer]!(Buffer.from(input)).toString('base64url')}`;
}

const jwks = createLocalJWKSet({ keys: [keys.rs.jwk, keys.ps.jwk, keys.es.jwk, keys.es384.jwk, keys.ed.jwk, keys.small.jwk, { ...keys.rs.jwk, kid: 'enc', use: 'enc' }, { ...keys.rs.jwk, kid: 'rs384', alg: 'RS384' }] });
const twins = createLocalJWKSet({ keys: [keys.twinA.jwk, keys.twinB.jwk].map(({ kid: _kid, ...jwk }) => jwk) });
const ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
const OPTIONS: JWTVerifyOptions = { algorithms: [...ALGS], issuer: ISS, audience: AUD, clockTolerance: 30, requiredClaims: ['exp'] };
const AGED: JWTVerifyOptions = { ...OPTIONS, maxTokenAge: 3600 };

/** What a verification came to, comparable across both: the claims, or the error's identity. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    return { claims: await run() };
  } catch (error) {
    const e = error as Error & { code?: string; claim?: string; reason?: string };
    return { error: e.constructor.name, message: e.message, code: e.code, claim: e.claim, reason: e.reason };
  }
}

/** Runs the verifier once: its outcome, and whether it answered synchronously. */
async function viaVerifier(verify: (token: string) => unknown, jwt: string): Promise<{ sync: boolean; result: unknown }> {
  let answered: unknown;
  try {
    answered = verify(jwt);
  } catch (error) {
    return { sync: true, result: await outcome(() => Promise.reject(error)) };
  }
  return { sync: !(answered instanceof Promise), result: await outcome(() => answered) };
}

interface Row {
  name: string;
  jwt: () => string;
  source?: 'jwks' | 'twins' | 'secret';
  options?: JWTVerifyOptions;
  /** sync: decided by the verifier itself; async: through a key lookup or jose. */
  path: 'sync' | 'async';
}

const rs = (payload: unknown = claims(), header: unknown = { alg: 'RS256', kid: 'rs' }) => token(header, payload, 'RS256');

const rows: Row[] = [
  // the usual: each algorithm, decided synchronously once its key is known
  { name: 'a valid RS256 token', jwt: () => rs(), path: 'sync' },
  { name: 'a valid PS256 token', jwt: () => token({ alg: 'PS256', kid: 'ps' }, claims(), 'PS256'), path: 'sync' },
  { name: 'a valid ES256 token', jwt: () => token({ alg: 'ES256', kid: 'es' }, claims(), 'ES256'), path: 'sync' },
  { name: 'a valid ES384 token', jwt: () => token({ alg: 'ES384', kid: 'es384' }, claims(), 'ES384'), path: 'sync' },
  { name: 'a valid EdDSA token', jwt: () => token({ alg: 'EdDSA', kid: 'ed' }, claims(), 'EdDSA'), path: 'sync' },
  { name: 'a valid HS256 token with the secret', jwt: () => token({ alg: 'HS256' }, claims(), 'HS256'), source: 'secret', options: { ...OPTIONS, algorithms: ['HS256'] }, path: 'sync' },
  { name: 'a header with typ and other members jose ignores', jwt: () => rs(claims(), { alg: 'RS256', kid: 'rs', typ: 'at+jwt', jku: 'https://evil.test/keys', x5u: 'https://evil.test' }), path: 'sync' },
  { name: 'a header starting with a byte order mark', jwt: () => token(undefined, claims(), 'RS256', { header: b64(`\ufeff${JSON.stringify({ alg: 'RS256', kid: 'rs' })}`) }), path: 'sync' },
  { name: 'an audience among several', jwt: () => rs(claims({ aud: ['billing', AUD] })), path: 'sync' },
  { name: 'exp 20 s ago, within the 30 s tolerance', jwt: () => rs(claims({ exp: now() - 20 })), path: 'sync' },
  { name: 'nbf 20 s ahead, within the tolerance', jwt: () => rs(claims({ nbf: now() + 20 })), path: 'sync' },
  // signatures that do not verify
  { name: 'a signature by another key of the same kid', jwt: () => token({ alg: 'RS256', kid: 'rs' }, claims(), 'other'), path: 'sync' },
  { name: 'a tampered payload', jwt: () => { const [h, , s] = rs().split('.'); return `${h}.${b64(claims({ sub: 'admin' }))}.${s}`; }, path: 'sync' },
  { name: 'an RS256 signature moved onto a PS256 header', jwt: () => { const [, p, s] = rs().split('.'); return `${b64({ alg: 'PS256', kid: 'ps' })}.${p}.${s}`; }, path: 'sync' },
  { name: 'PS256 signed with a 20-byte salt (WebCrypto verifies the hash length only)', jwt: () => token({ alg: 'PS256', kid: 'ps' }, claims(), 'PS256-salt20'), path: 'sync' },
  { name: 'ES256 with a DER signature instead of r||s', jwt: () => token({ alg: 'ES256', kid: 'es' }, claims(), 'ES256-der'), path: 'sync' },
  { name: 'HS256 with another secret', jwt: () => token({ alg: 'HS256' }, claims(), 'HS256-wrong'), source: 'secret', options: { ...OPTIONS, algorithms: ['HS256'] }, path: 'sync' },
  // algorithms
  { name: 'alg none', jwt: () => `${b64({ alg: 'none' })}.${b64(claims())}.`, path: 'async' },
  { name: 'alg none with a signature', jwt: () => `${b64({ alg: 'none', kid: 'rs' })}.${b64(claims())}.c2ln`, path: 'sync' },
  { name: 'HS256 against a key set (not allowed)', jwt: () => token({ alg: 'HS256', kid: 'rs' }, claims(), 'HS256'), path: 'sync' },
  { name: 'RS384 not among the allowed', jwt: () => token({ alg: 'RS384', kid: 'rs384' }, claims(), 'RS256'), path: 'sync' },
  { name: 'an empty alg', jwt: () => token({ alg: '', kid: 'rs' }, claims(), 'RS256'), path: 'async' },
  { name: 'an alg that is no string', jwt: () => token({ alg: 256, kid: 'rs' }, claims(), 'RS256'), path: 'async' },
  // keys
  { name: 'an unknown kid', jwt: () => token({ alg: 'RS256', kid: 'nobody' }, claims(), 'RS256'), path: 'async' },
  { name: 'a kid that is no string', jwt: () => token({ alg: 'RS256', kid: 7 }, claims(), 'RS256'), path: 'async' },
  { name: 'a key meant for encryption (use enc)', jwt: () => token({ alg: 'RS256', kid: 'enc' }, claims(), 'RS256'), path: 'async' },
  { name: 'a key whose alg is another (RS384)', jwt: () => token({ alg: 'RS256', kid: 'rs384' }, claims(), 'RS256'), path: 'async' },
  { name: 'an ES256 token naming the P-384 key', jwt: () => token({ alg: 'ES256', kid: 'es384' }, claims(), 'ES256'), path: 'async' },
  { name: 'a 1024-bit RSA key (jose refuses keys under 2048 bits)', jwt: () => token({ alg: 'RS256', kid: 'small' }, claims(), 'small'), path: 'async' },
  { name: 'no kid, and two keys that fit', jwt: () => token({ alg: 'RS256' }, claims(), 'twin'), source: 'twins', path: 'async' },
  // claims
  { name: 'an expired token', jwt: () => rs(claims({ iat: now() - 7200, exp: now() - 3600 })), path: 'sync' },
  { name: 'exp 40 s ago, past the tolerance', jwt: () => rs(claims({ exp: now() - 40 })), path: 'sync' },
  { name: 'no exp', jwt: () => rs(claims({ exp: undefined })), path: 'sync' },
  { name: 'an exp that is no number', jwt: () => rs(claims({ exp: 'tomorrow' })), path: 'sync' },
  { name: 'nbf an hour ahead', jwt: () => rs(claims({ nbf: now() + 3600 })), path: 'sync' },
  { name: 'an nbf that is no number', jwt: () => rs(claims({ nbf: 'now' })), path: 'sync' },
  { name: 'the wrong issuer', jwt: () => rs(claims({ iss: 'https://evil.test' })), path: 'sync' },
  { name: 'no issuer', jwt: () => rs(claims({ iss: undefined })), path: 'sync' },
  { name: 'the wrong audience', jwt: () => rs(claims({ aud: 'billing' })), path: 'sync' },
  { name: 'an audience list without ours', jwt: () => rs(claims({ aud: ['billing', 'shipping'] })), path: 'sync' },
  { name: 'no audience', jwt: () => rs(claims({ aud: undefined })), path: 'sync' },
  { name: 'with a maximum age: a token younger', jwt: () => rs(claims({ iat: now() - 600 })), options: AGED, path: 'sync' },
  { name: 'with a maximum age: a token older', jwt: () => rs(claims({ iat: now() - 7200 })), options: AGED, path: 'sync' },
  { name: 'with a maximum age: iat an hour ahead', jwt: () => rs(claims({ iat: now() + 3600 })), options: AGED, path: 'sync' },
  { name: 'with a maximum age: no iat', jwt: () => rs(claims({ iat: undefined })), options: AGED, path: 'sync' },
  { name: 'with a maximum age: an iat that is no number', jwt: () => rs(claims({ iat: '1999' })), options: AGED, path: 'sync' },
  { name: 'an iat that is no number, without a maximum age', jwt: () => rs(claims({ iat: 'yesterday' })), path: 'sync' },
  // what jose decides by itself: shapes the verifier does not read
  { name: 'a padded signature', jwt: () => `${rs()}==`, path: 'async' },
  { name: 'a space inside the signature', jwt: () => { const t = rs(); return `${t.slice(0, -10)} ${t.slice(-10)}`; }, path: 'async' },
  { name: 'standard base64 characters', jwt: () => rs().replaceAll('-', '+').replaceAll('_', '/'), path: 'async' },
  { name: 'four segments', jwt: () => `${rs()}.e30`, path: 'async' },
  { name: 'two segments', jwt: () => rs().split('.').slice(0, 2).join('.'), path: 'async' },
  { name: 'an empty signature', jwt: () => `${rs().split('.').slice(0, 2).join('.')}.`, path: 'async' },
  { name: 'a signature of 4n+1 characters (no base64 decodes that)', jwt: () => `${rs()}AAA`, path: 'async' },
  { name: 'a signature one character longer (decodes, does not verify)', jwt: () => `${rs()}A`, path: 'sync' },
  { name: 'a header that is no JSON', jwt: () => token(undefined, claims(), 'RS256', { header: b64('{"alg":"RS256",') }), path: 'async' },
  { name: 'a header that is a JSON array', jwt: () => token(['RS256'], claims(), 'RS256'), path: 'async' },
  { name: 'a header of malformed UTF-8', jwt: () => token(undefined, claims(), 'RS256', { header: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url') }), path: 'async' },
  { name: 'a critical extension jose does not know', jwt: () => rs(claims(), { alg: 'RS256', kid: 'rs', crit: ['exp'], exp: 1 }), path: 'async' },
  { name: 'an unencoded payload (b64: false)', jwt: () => rs(claims(), { alg: 'RS256', kid: 'rs', crit: ['b64'], b64: false }), path: 'async' },
  { name: 'b64 alone, which jose ignores', jwt: () => rs(claims(), { alg: 'RS256', kid: 'rs', b64: false }), path: 'async' },
  { name: 'a signed payload that is no JSON', jwt: () => token({ alg: 'RS256', kid: 'rs' }, undefined, 'RS256', { payload: b64('not json') }), path: 'async' },
  { name: 'a signed payload that is a JSON array', jwt: () => token({ alg: 'RS256', kid: 'rs' }, [claims()], 'RS256'), path: 'async' },
  { name: 'a signed payload of malformed UTF-8', jwt: () => token({ alg: 'RS256', kid: 'rs' }, undefined, 'RS256', { payload: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url') }), path: 'async' },
  { name: 'garbage', jwt: () => 'not.a.jwt', path: 'async' },
];

describe('jwt-verify verifier: the outcome of jose\'s jwtVerify', () => {
  const sources: Record<NonNullable<Row['source']>, KeySource> = { jwks, twins, secret: new Uint8Array(SECRET) };
  /** One verifier per source and options, as a node holds one per tenant: the known keys are remembered across rows. */
  const verifiers = new Map<string, (token: string) => unknown>();
  const verifierFor = (row: Row) => {
    const id = `${row.source ?? 'jwks'}:${row.options === AGED ? 'aged' : row.options ? 'hs' : 'default'}`;
    let verify = verifiers.get(id);
    if (verify === undefined) verifiers.set(id, (verify = createJwtVerifier(sources[row.source ?? 'jwks'], row.options ?? OPTIONS, true)));
    return verify;
  };

  beforeAll(async () => {
    // each algorithm's key is found once, through the key set, then remembered
    const verify = verifierFor({ name: '', jwt: () => '', path: 'sync' });
    for (const jwt of [rs(), token({ alg: 'PS256', kid: 'ps' }, claims(), 'PS256'), token({ alg: 'ES256', kid: 'es' }, claims(), 'ES256'), token({ alg: 'ES384', kid: 'es384' }, claims(), 'ES384'), token({ alg: 'EdDSA', kid: 'ed' }, claims(), 'EdDSA')]) {
      expect(verify(jwt)).toBeInstanceOf(Promise);
      await verify(jwt);
    }
    await verifierFor({ name: '', jwt: () => '', options: AGED, path: 'sync' })(rs());
  });

  it.each(rows)('$name: as jose decides, $path', async (row) => {
    const jwt = row.jwt();
    const source = sources[row.source ?? 'jwks'];
    const options = row.options ?? OPTIONS;
    const expected = await outcome(async () => (await jwtVerify(jwt, source as JWTVerifyGetKey, options)).payload);
    const actual = await viaVerifier(verifierFor(row), jwt);
    expect(actual.result).toEqual(expected);
    expect(actual.sync ? 'sync' : 'async').toBe(row.path);
  });

  it('the table covers acceptances and each kind of refusal', async () => {
    const kinds = new Set<string>();
    for (const row of rows) {
      const { result } = await viaVerifier(verifierFor(row), row.jwt());
      kinds.add((result as { error?: string }).error ?? 'accepted');
    }
    expect([...kinds].sort()).toEqual(
      ['accepted', 'JOSEAlgNotAllowed', 'JOSENotSupported', 'JWKSMultipleMatchingKeys', 'JWKSNoMatchingKey', 'JWSInvalid', 'JWSSignatureVerificationFailed', 'JWTClaimValidationFailed', 'JWTExpired', 'JWTInvalid', 'TypeError'].sort(),
    );
  });

  it.each([
    ['typ and subject', { ...OPTIONS, typ: 'at+jwt', subject: 'alice' }],
    ['no allow-list of algorithms', { ...OPTIONS, algorithms: undefined }],
  ] as Array<[string, JWTVerifyOptions]>)('with options a jwt-verify node does not set (%s), jose verifies every token', async (_name, options) => {
    const verify = createJwtVerifier(jwks, options, true);
    const typed = { alg: 'RS256', kid: 'rs', typ: 'at+jwt' };
    for (const jwt of [rs(claims(), typed), rs(claims(), { ...typed, typ: 'JWT' }), rs(claims({ sub: 'bob' }), typed), rs(claims({ exp: now() - 3600 }), typed)]) {
      const actual = await viaVerifier(verify, jwt);
      expect(actual.result).toEqual(await outcome(async () => (await jwtVerify(jwt, jwks, options)).payload));
      expect(actual.sync).toBe(false);
    }
  });

  it('a key set that is not stable (a remote one) is asked every time, with the same outcome', async () => {
    let asked = 0;
    const remote: JWTVerifyGetKey = (header, jws) => {
      asked += 1;
      return jwks(header, jws);
    };
    const verify = createJwtVerifier(remote, OPTIONS, false);
    for (const jwt of [rs(), rs(), rs(claims({ aud: 'billing' }))]) {
      const answered = verify(jwt);
      expect(answered).toBeInstanceOf(Promise);
      expect(await outcome(() => answered)).toEqual(await outcome(async () => (await jwtVerify(jwt, jwks, OPTIONS)).payload));
    }
    expect(asked).toBe(3);
  });

  it('a key lookup that fails is not remembered: the key set is asked again', async () => {
    let asked = 0;
    const flaky: JWTVerifyGetKey = (header, jws) => {
      asked += 1;
      if (asked === 1) throw new errors.JWKSNoMatchingKey();
      return jwks(header, jws);
    };
    const verify = createJwtVerifier(flaky, OPTIONS, true);
    await expect(Promise.resolve().then(() => verify(rs()))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await verify(rs())).toMatchObject({ sub: 'alice' });
    expect(verify(rs())).not.toBeInstanceOf(Promise);
    expect(asked).toBe(2);
  });
});
