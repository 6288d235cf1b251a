// jwt-verify's verifier (node:crypto for the signature, jose for the claims) must decide every
// token exactly as jose's jwtVerify does: the same claims, or the same error (class, message,
// claim, reason). Each row is run through both; the row also says which way the verifier must
// have gone — synchronously (its own route, once the key is known) or through a promise (a key
// lookup, or jose itself for the unusual) — so the fast route is proven taken, not bypassed.
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors, importJWK, jwtVerify, type JWK, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
  es512: pair('ec', 'es512', 'ES512', { namedCurve: 'P-521' }),
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
  RS384: (input) => sign('sha384', input, keys.rs.privateKey),
  RS512: (input) => sign('sha512', input, keys.rs.privateKey),
  PS384: (input) => sign('sha384', input, { key: keys.ps.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }),
  PS512: (input) => sign('sha512', input, { key: keys.ps.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }),
  ES512: (input) => sign('sha512', input, { key: keys.es512.privateKey, dsaEncoding: 'ieee-p1363' }),
  HS384: (input) => createHmac('sha384', SECRET).update(input).digest(),
  HS512: (input) => createHmac('sha512', SECRET).update(input).digest(),
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

/**
 * The claim checks at their edges, with the clock frozen half-way through a second (so a check
 * that used the clock's milliseconds, not its whole seconds as jose does, would differ): each
 * token one second either side of a bound, through the verifier and jose alike, and decided
 * synchronously (by the verifier's own checks, not handed to jose).
 */
describe('jwt-verify verifier: the claim checks at their bounds, as jose decides them', () => {
  const ZERO: JWTVerifyOptions = { ...OPTIONS, clockTolerance: 0 };
  const INSTANT: JWTVerifyOptions = { ...OPTIONS, clockTolerance: 0, maxTokenAge: 0 };
  const BARE: JWTVerifyOptions = { algorithms: ['RS256'] };
  const verifiers = new Map<JWTVerifyOptions, (token: string) => unknown>();
  const T = 1_900_000_000;

  beforeAll(async () => {
    for (const options of [OPTIONS, AGED, ZERO, INSTANT, BARE]) {
      const verify = createJwtVerifier(jwks, options, true);
      await outcome(() => verify(rs())); // the key is looked up once, then known
      verifiers.set(options, verify);
    }
    vi.useFakeTimers({ toFake: ['Date'], now: T * 1000 + 500 });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  const at = (extra: Record<string, unknown>) => rs({ ...claims({ iat: T - 10, exp: T + 600 }), ...extra });
  const bounds: Array<[string, JWTVerifyOptions, Record<string, unknown>, 'accepted' | string]> = [
    ['exp 29 s ago, within the 30 s tolerance', OPTIONS, { exp: T - 29 }, 'accepted'],
    ['exp 30 s ago, at the tolerance', OPTIONS, { exp: T - 30 }, 'JWTExpired'],
    ['nbf 30 s ahead, at the tolerance', OPTIONS, { nbf: T + 30 }, 'accepted'],
    ['nbf 31 s ahead', OPTIONS, { nbf: T + 31 }, 'JWTClaimValidationFailed'],
    ['no tolerance: exp a second ahead', ZERO, { exp: T + 1 }, 'accepted'],
    ['no tolerance: exp now', ZERO, { exp: T }, 'JWTExpired'],
    ['no tolerance: nbf now', ZERO, { nbf: T }, 'accepted'],
    ['no tolerance: nbf a second ahead', ZERO, { nbf: T + 1 }, 'JWTClaimValidationFailed'],
    ['maximum age: iat 3630 s ago (the age plus the tolerance)', AGED, { iat: T - 3630 }, 'accepted'],
    ['maximum age: iat 3631 s ago', AGED, { iat: T - 3631 }, 'JWTExpired'],
    ['maximum age: iat 30 s ahead, at the tolerance', AGED, { iat: T + 30 }, 'accepted'],
    ['maximum age: iat 31 s ahead', AGED, { iat: T + 31 }, 'JWTClaimValidationFailed'],
    ['maximum age 0, no tolerance: iat now', INSTANT, { iat: T }, 'accepted'],
    ['maximum age 0, no tolerance: iat a second ago', INSTANT, { iat: T - 1 }, 'JWTExpired'],
    ['maximum age 0, no tolerance: iat a second ahead', INSTANT, { iat: T + 1 }, 'JWTClaimValidationFailed'],
    ['no maximum age: iat an hour ahead is jose\'s to accept', OPTIONS, { iat: T + 3600 }, 'accepted'],
    ['no maximum age: no iat', OPTIONS, { iat: undefined }, 'accepted'],
    ['no iss, aud or exp: iss is named (jose checks the last required first)', OPTIONS, { iss: undefined, aud: undefined, exp: undefined }, 'JWTClaimValidationFailed'],
    ['maximum age: no aud, iat or exp: aud is named', AGED, { aud: undefined, iat: undefined, exp: undefined }, 'JWTClaimValidationFailed'],
    ['an aud that is an object', OPTIONS, { aud: { orders: true } }, 'JWTClaimValidationFailed'],
    ['an aud that is a number', OPTIONS, { aud: 7 }, 'JWTClaimValidationFailed'],
    ['nothing required: no exp, iss, aud or iat', BARE, { iss: undefined, aud: undefined, exp: undefined, iat: undefined }, 'accepted'],
    ['nothing required: an expired token', BARE, { exp: T - 1 }, 'JWTExpired'],
  ];

  it.each(bounds)('%s', async (_name, options, extra, expected) => {
    const jwt = at(extra);
    const want = await outcome(async () => (await jwtVerify(jwt, jwks, options)).payload);
    const actual = await viaVerifier(verifiers.get(options)!, jwt);
    expect(actual.result).toEqual(want);
    expect((actual.result as { error?: string }).error ?? 'accepted').toBe(expected);
    expect(actual.sync).toBe(true);
  });

  it('names the claim jose names when several are missing', async () => {
    const named = async (options: JWTVerifyOptions, extra: Record<string, unknown>) => ((await viaVerifier(verifiers.get(options)!, at(extra))).result as { claim?: string }).claim;
    expect(await named(OPTIONS, { iss: undefined, aud: undefined, exp: undefined })).toBe('iss');
    expect(await named(OPTIONS, { aud: undefined, exp: undefined })).toBe('aud');
    expect(await named(AGED, { aud: undefined, iat: undefined, exp: undefined })).toBe('aud');
    expect(await named(AGED, { iat: undefined, exp: undefined })).toBe('iat');
  });
});

/** Options the verifier checks itself, and those it leaves to jose for every token (its own checks mirror jose's for numbers of seconds and strings only). */
describe('jwt-verify verifier: which options it decides itself', () => {
  const cases: Array<[string, JWTVerifyOptions, 'sync' | 'async']> = [
    ['the options of a node', OPTIONS, 'sync'],
    ['no tolerance and a maximum age of 0', { ...OPTIONS, clockTolerance: 0, maxTokenAge: 0 }, 'sync'],
    ['no checks but the algorithms', { algorithms: ['RS256'] }, 'sync'],
    ['an issuer list', { ...OPTIONS, issuer: [ISS, 'https://other.test'] }, 'async'],
    ['an audience list', { ...OPTIONS, audience: [AUD, 'billing'] }, 'async'],
    ['a tolerance as words', { ...OPTIONS, clockTolerance: '30s' }, 'async'],
    ['a negative tolerance', { ...OPTIONS, clockTolerance: -1 }, 'async'],
    ['an endless tolerance', { ...OPTIONS, clockTolerance: Infinity }, 'async'],
    ['a tolerance that is not a number', { ...OPTIONS, clockTolerance: Number.NaN }, 'async'],
    ['a maximum age as words', { ...OPTIONS, maxTokenAge: '1h' }, 'async'],
    ['a negative maximum age', { ...OPTIONS, maxTokenAge: -1 }, 'async'],
    ['an endless maximum age', { ...OPTIONS, maxTokenAge: Infinity }, 'async'],
    ['a maximum age that is not a number', { ...OPTIONS, maxTokenAge: Number.NaN }, 'async'],
  ];

  it.each(cases)('%s: %s', async (_name, options, path) => {
    const verify = createJwtVerifier(jwks, options, true);
    await outcome(() => verify(rs())); // the key is known from here on
    for (const jwt of [rs(), rs(claims({ aud: 'billing' })), rs(claims({ iss: 'https://other.test', aud: ['billing'] })), rs(claims({ exp: now() - 3600 })), rs(claims({ iat: now() - 7200 }))]) {
      const actual = await viaVerifier(verify, jwt);
      expect(actual.result).toEqual(await outcome(async () => (await jwtVerify(jwt, jwks, options)).payload));
      expect(actual.sync ? 'sync' : 'async').toBe(path);
    }
  });
});

/** Every algorithm a node may allow, each verified by the verifier itself once its key is known, as jose verifies it. */
describe('jwt-verify verifier: each algorithm, and the shapes it leaves to jose', () => {
  const withoutAlg = ({ alg: _alg, ...jwk }: JWK, kid: string): JWK => ({ ...jwk, kid });
  // the RSA keys again under kids without an "alg", so that one key serves each hash
  const every = createLocalJWKSet({ keys: [withoutAlg(keys.rs.jwk, 'rsx'), withoutAlg(keys.ps.jwk, 'psx'), keys.es512.jwk, keys.ed.jwk, keys.es.jwk] });
  const ALL: JWTVerifyOptions = { ...OPTIONS, algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES512', 'EdDSA', 'Ed25519'] };
  const HMAC: JWTVerifyOptions = { ...OPTIONS, algorithms: ['HS256', 'HS384', 'HS512'] };
  const secret = new Uint8Array(SECRET);
  const single = createLocalJWKSet({ keys: [withoutAlg(keys.rs.jwk, 'only')] });
  /** Signs the input of `header` and `payload` with another algorithm's key: a signature that must not verify. */
  const crossed = (alg: string, kid: string, signer: string) => token({ alg, kid }, claims(), signer);
  const fourNPlusOne = (segment: string) => segment + 'A'.repeat((5 - (segment.length % 4)) % 4);

  const cases: Array<[string, KeySource, JWTVerifyOptions, () => string, 'sync' | 'async']> = [
    ['RS384', every, ALL, () => token({ alg: 'RS384', kid: 'rsx' }, claims(), 'RS384'), 'sync'],
    ['RS512', every, ALL, () => token({ alg: 'RS512', kid: 'rsx' }, claims(), 'RS512'), 'sync'],
    ['RS512 signed with SHA-384', every, ALL, () => crossed('RS512', 'rsx', 'RS384'), 'sync'],
    ['PS384', every, ALL, () => token({ alg: 'PS384', kid: 'psx' }, claims(), 'PS384'), 'sync'],
    ['PS512', every, ALL, () => token({ alg: 'PS512', kid: 'psx' }, claims(), 'PS512'), 'sync'],
    ['PS512 signed with SHA-384', every, ALL, () => crossed('PS512', 'psx', 'PS384'), 'sync'],
    ['ES512', every, ALL, () => token({ alg: 'ES512', kid: 'es512' }, claims(), 'ES512'), 'sync'],
    ['ES512 naming the P-256 key', every, ALL, () => token({ alg: 'ES512', kid: 'es' }, claims(), 'ES256'), 'async'],
    ['Ed25519 (the EdDSA key under its new name)', every, ALL, () => token({ alg: 'Ed25519', kid: 'ed' }, claims(), 'EdDSA'), 'sync'],
    ['RS256 from a key without alg', every, ALL, () => token({ alg: 'RS256', kid: 'rsx' }, claims(), 'RS256'), 'sync'],
    ['HS384', secret, HMAC, () => token({ alg: 'HS384' }, claims(), 'HS384'), 'sync'],
    ['HS512', secret, HMAC, () => token({ alg: 'HS512' }, claims(), 'HS512'), 'sync'],
    ['HS512 signed with HS384', secret, HMAC, () => token({ alg: 'HS512' }, claims(), 'HS384'), 'sync'],
    ['a signature one byte short (HS256)', secret, HMAC, () => token({ alg: 'HS256' }, claims(), 'HS256').slice(0, -3), 'sync'],
    ['a secret with RS256 allowed: jose refuses the key', secret, { ...OPTIONS, algorithms: ['RS256'] }, () => token({ alg: 'RS256' }, claims(), 'HS256'), 'async'],
    ['a header of 4n+1 characters', every, ALL, () => { const [h, p, s] = token({ alg: 'RS256', kid: 'rsx' }, claims(), 'RS256').split('.'); return `${fourNPlusOne(h!)}.${p}.${s}`; }, 'async'],
    ['a payload of 4n+1 characters', every, ALL, () => { const [h, p, s] = token({ alg: 'RS256', kid: 'rsx' }, claims(), 'RS256').split('.'); return `${h}.${fourNPlusOne(p!)}.${s}`; }, 'async'],
    ['a header that is JSON null', every, ALL, () => token(null, claims(), 'RS256'), 'async'],
    ['a header that is a JSON string', every, ALL, () => token(undefined, claims(), 'RS256', { header: b64(JSON.stringify('RS256')) }), 'async'],
    ['a signed payload that is JSON null', every, ALL, () => token({ alg: 'RS256', kid: 'rsx' }, undefined, 'RS256', { payload: b64('null') }), 'async'],
    ['a signed payload that is a JSON number', every, ALL, () => token({ alg: 'RS256', kid: 'rsx' }, undefined, 'RS256', { payload: b64('7') }), 'async'],
    ['a signed payload that is a JSON string', every, ALL, () => token({ alg: 'RS256', kid: 'rsx' }, undefined, 'RS256', { payload: b64(JSON.stringify('claims')) }), 'async'],
    ['no kid, in a set of one key', single, OPTIONS, () => token({ alg: 'RS256' }, claims(), 'RS256'), 'sync'],
  ];

  it.each(cases)('%s: as jose decides, %s the second time', async (_name, source, options, jwt, path) => {
    const verify = createJwtVerifier(source, options, true);
    const first = jwt();
    await viaVerifier(verify, first); // its key is looked up, and known from here on
    const again = jwt();
    const actual = await viaVerifier(verify, again);
    expect(actual.result).toEqual(await outcome(async () => (await jwtVerify(again, source as JWTVerifyGetKey, options)).payload));
    expect(actual.sync ? 'sync' : 'async').toBe(path);
  });

  /**
   * A stable key source that answers by the kid as it is (what the verifier's memory must keep
   * apart): kid 7 (a number) and "7", no kid and "undefined", each another key.
   */
  const byKid = async () => {
    const [a, b] = await Promise.all([importJWK(keys.rs.jwk, 'RS256'), importJWK(keys.other.jwk, 'RS256')]);
    let asked = 0;
    const source: JWTVerifyGetKey = (header) => {
      asked += 1;
      return (header.kid as unknown) === 7 || header.kid === undefined ? a : b;
    };
    return { source, asked: () => asked };
  };

  it('a kid that is no string is never remembered: 7 is not "7", and is asked for every time', async () => {
    const { source, asked } = await byKid();
    const verify = createJwtVerifier(source, OPTIONS, true);
    const seven = token({ alg: 'RS256', kid: 7 }, claims(), 'RS256');
    const quoted = token({ alg: 'RS256', kid: '7' }, claims(), 'other');
    for (const jwt of [seven, seven, quoted, seven]) {
      const answered = verify(jwt);
      expect(answered).toBeInstanceOf(jwt === seven ? Promise : Object);
      expect(await outcome(() => answered)).toEqual({ claims: expect.objectContaining({ sub: 'alice' }) });
    }
    expect(asked()).toBe(4);
    expect(verify(quoted)).not.toBeInstanceOf(Promise); // "7" was remembered
  });

  it('no kid is remembered apart from the kid "undefined"', async () => {
    const { source, asked } = await byKid();
    const verify = createJwtVerifier(source, OPTIONS, true);
    const bare = token({ alg: 'RS256' }, claims(), 'RS256');
    const named = token({ alg: 'RS256', kid: 'undefined' }, claims(), 'other');
    for (const jwt of [bare, named, bare, named]) expect(await outcome(() => verify(jwt))).toEqual({ claims: expect.objectContaining({ sub: 'alice' }) });
    expect(asked()).toBe(2);
  });

  it.each([
    ['an RSA key for SHA-384 asked to verify RS256', () => importJWK(withoutAlg(keys.rs.jwk, 'x'), 'RS384'), { alg: 'RS256' }, 'RS256'],
    ['an RSA-PSS key asked to verify RS256', () => importJWK(withoutAlg(keys.rs.jwk, 'x'), 'PS256'), { alg: 'RS256' }, 'RS256'],
    ['an RSA-PSS key for SHA-384 asked to verify PS256', () => importJWK(withoutAlg(keys.ps.jwk, 'x'), 'PS384'), { alg: 'PS256' }, 'PS256'],
    ['an RSA key asked to verify PS256', () => importJWK(withoutAlg(keys.ps.jwk, 'x'), 'RS256'), { alg: 'PS256' }, 'PS256'],
    ['a P-384 key asked to verify ES256', () => importJWK(keys.es384.jwk, 'ES384'), { alg: 'ES256' }, 'ES256'],
    ['a 1024-bit RSA key', () => importJWK(keys.small.jwk, 'RS256'), { alg: 'RS256' }, 'small'],
    ['a public key that may not verify', () => crypto.subtle.importKey('jwk', withoutAlg(keys.rs.jwk, 'x'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, []), { alg: 'RS256' }, 'RS256'],
    ['a private key', async () => importJWK({ ...(keys.rs.privateKey.export({ format: 'jwk' }) as JWK) }, 'RS256'), { alg: 'RS256' }, 'RS256'],
    ['a node KeyObject', async () => keys.rs.privateKey, { alg: 'RS256' }, 'RS256'],
    ['no key (a string)', async () => 'key' as unknown as CryptoKey, { alg: 'RS256' }, 'RS256'],
    ['no key (null)', async () => null as unknown as CryptoKey, { alg: 'RS256' }, 'RS256'],
  ] as Array<[string, () => Promise<unknown>, Record<string, unknown>, string]>)('a key source answering %s: jose decides, every time', async (_name, make, header, signer) => {
    const key = await make();
    const source = (() => key) as unknown as JWTVerifyGetKey;
    const verify = createJwtVerifier(source, ALL, true);
    const jwt = token(header, claims(), signer);
    const expected = await outcome(async () => (await jwtVerify(jwt, source, ALL)).payload);
    expect(expected).toHaveProperty('error');
    for (let i = 0; i < 2; i++) {
      const actual = await viaVerifier(verify, jwt);
      expect(actual.result).toEqual(expected);
      expect(actual.sync).toBe(false);
    }
  });

  it('an allowed alg this file does not know goes to jose, with a secret too', async () => {
    const options = { ...OPTIONS, algorithms: ['HS256', 'XS256'] };
    const verify = createJwtVerifier(secret, options, true);
    const jwt = token({ alg: 'XS256' }, claims(), 'HS256');
    const actual = await viaVerifier(verify, jwt);
    expect(actual.result).toEqual(await outcome(async () => (await jwtVerify(jwt, secret, options)).payload));
    expect(actual.sync).toBe(false);
  });

  it('asks the key source with the header and token jose passes it', async () => {
    const asked: unknown[] = [];
    const recording: JWTVerifyGetKey = (header, jws) => {
      asked.push({ header, jws });
      return single(header, jws);
    };
    const jwt = token({ alg: 'RS256', kid: 'only' }, claims(), 'RS256');
    await createJwtVerifier(recording, OPTIONS, false)(jwt);
    await jwtVerify(jwt, recording, OPTIONS);
    expect(asked).toHaveLength(2);
    expect(asked[0]).toEqual(asked[1]);
    const [protectedHeader, payload, signature] = jwt.split('.');
    expect(asked[0]).toMatchObject({ jws: { protected: protectedHeader, payload, signature } });
  });
});
