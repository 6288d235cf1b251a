import { constants, createHmac, createSecretKey, KeyObject, timingSafeEqual, verify as verifySignature, type KeyObject as NodeKey } from 'node:crypto';
import { errors, jwtVerify, type CompactJWSHeaderParameters, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';

/** Where a node's keys come from: a key set lookup (local or remote, jose's interface) or an HMAC secret. */
export type KeySource = JWTVerifyGetKey | Uint8Array;

/** The claims of a verified token, or the error jose's jwtVerify would have thrown. A promise when keys had to be looked up. */
export type Verification = JWTPayload | Promise<JWTPayload>;

/**
 * Verifies compact JWTs with the outcome of jose's `jwtVerify(token, key, options)`, in far
 * less time. jose 6 verifies through WebCrypto: every signature is a job on libuv's thread
 * pool and a promise, and every segment is decoded in JavaScript; on the gateway's one core that
 * cost several times the RSA verification itself (bench/README.md, "the cold path").
 *
 * Here the usual token takes the direct route: the three segments are decoded once each by
 * Buffer, the key comes from the same key source jose would ask (so the same key is chosen, and
 * the same errors thrown when none is), its CryptoKey is turned into a KeyObject once and its
 * signature checked synchronously by node:crypto, then the claims are checked as jose's
 * validateClaimsSet checks them (claimsCheck below: the same order, messages, claims and reasons,
 * for the options a jwt-verify node sets; with any other option jose verifies every token). Anything
 * unusual — a segment that is not plain base64url, a header that is not a JSON object, `crit` or
 * `b64`, an algorithm this file does not know, a key jose would refuse to use, a payload that is
 * no JSON object — goes to jose's jwtVerify as it is, so it decides exactly as before. The test
 * (test/engine/kinds/support/jwt-verifier.test.ts) runs a table of tokens through both.
 *
 * `stableKeys`: the key source always answers the same key for the same alg and kid (an inline
 * or file key set), so the answer is remembered and a known key costs a Map lookup, no promise.
 * A remote key set is asked every time (it refreshes and refetches on its own schedule).
 */
export function createJwtVerifier(source: KeySource, options: JWTVerifyOptions, stableKeys: boolean): (token: string) => Verification {
  const allowed = new Set(options.algorithms);
  /** (alg, kid) -> how that key verifies, for stable key sources; null: jose decides. */
  const known = new Map<string | undefined, Verifier | null>();
  const slow = (token: string) => jwtVerify(token, source as JWTVerifyGetKey, options).then((result) => result.payload);
  const claims = claimsCheck(options);
  // options a node never sets (typ, subject, a date…, or no allow-list of algorithms): jose decides every token
  if (claims === undefined || !Array.isArray(options.algorithms)) return slow;

  /** The signature and claims, once the key is known. */
  function finish(token: string, parts: Parts, verifier: Verifier | null): JWTPayload | Promise<JWTPayload> {
    if (verifier === null) return slow(token); // (without this line, calling null would throw and the catch below hand the token to jose too)
    let valid: boolean;
    try {
      valid = verifier(Buffer.from(token.slice(0, parts.second), 'latin1'), Buffer.from(token.slice(parts.second + 1), 'base64url'));
    } catch {
      return slow(token); // node:crypto refused the input outright: let jose say how
    }
    if (!valid) throw new errors.JWSSignatureVerificationFailed();
    // a payload that is no JSON object: jwtVerify's own words for it
    return claims!(token.slice(parts.first + 1, parts.second)) ?? slow(token);
  }

  return function verify(token) {
    const parts = split(token);
    if (parts === undefined) return slow(token);
    const header = parse(token.slice(0, parts.first));
    if (header === undefined || header.crit !== undefined || header.b64 !== undefined) return slow(token);
    const { alg, kid } = header;
    if (typeof alg !== 'string' || alg === '') return slow(token);
    if (!allowed.has(alg)) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    const algorithm = ALGORITHMS[alg];
    if (algorithm === undefined) return slow(token);
    if (source instanceof Uint8Array) return finish(token, parts, verifierOf(source, algorithm)); // null unless an HMAC algorithm
    // a kid that is no string is never remembered (7 would meet "7"); no kid is the alg alone ("RS256", not kid "" at "RS256\0")
    const memo = !stableKeys || (kid !== undefined && typeof kid !== 'string') ? undefined : kid === undefined ? alg : `${alg}\u0000${kid}`;
    const remembered = known.get(memo); // nothing is remembered under undefined (below)
    if (remembered !== undefined) return finish(token, parts, remembered);
    const jws = { protected: token.slice(0, parts.first), payload: token.slice(parts.first + 1, parts.second), signature: token.slice(parts.second + 1) };
    return Promise.resolve(source(header as unknown as CompactJWSHeaderParameters, jws)).then((key) => {
      const verifier = verifierOf(key, algorithm);
      if (memo !== undefined) known.set(memo, verifier);
      return finish(token, parts, verifier);
    });
  };
}

interface Parts {
  /** Index of the first and second dots. */
  first: number;
  second: number;
}

/** Three non-empty segments of the URL-safe alphabet without padding, each decodable alone (not 4n+1 long). */
const COMPACT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

function split(token: string): Parts | undefined {
  if (!COMPACT.test(token)) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first % 4 === 1 || (second - first - 1) % 4 === 1 || (token.length - second - 1) % 4 === 1) return undefined;
  return { first, second };
}

/** jose decodes as UTF-8, refusing malformed bytes, and strips a byte order mark. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The header's members. A header that is no JSON object (null, an array, a string…) comes out as
 * an object without a string "alg" (Object(value)), which jose is left to refuse.
 */
function parse(segment: string): Record<string, unknown> | undefined {
  try {
    return Object(JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * jose's validateClaimsSet (jose 6, lib/jwt_claims_set.js) for the options a jwt-verify node
 * sets — requiredClaims, issuer, audience (strings), clockTolerance and maxTokenAge (seconds) —
 * or undefined for any other options (then jose verifies the tokens). It decodes the payload once,
 * checks the claims in jose's order, and throws jose's errors with jose's words; undefined for a
 * payload that is no JSON object (jwtVerify then says so itself). Calling jose's own code instead
 * (through UnsecuredJWT.decode, which runs validateClaimsSet) cost ~3.4 µs a token, this ~1.3 µs.
 */
function claimsCheck(options: JWTVerifyOptions): ((segment: string) => JWTPayload | undefined) | undefined {
  const { requiredClaims = [], issuer, audience, clockTolerance = 0, maxTokenAge, ...rest } = options;
  const known = Object.keys(rest).every((name) => name === 'algorithms');
  if (!known || (issuer !== undefined && typeof issuer !== 'string') || (audience !== undefined && typeof audience !== 'string')) return undefined;
  if (!isSeconds(clockTolerance) || (maxTokenAge !== undefined && !isSeconds(maxTokenAge))) return undefined;
  // jose's order: the required claims, then iat (maximum age), aud, iss; checked last first
  const presence = [...new Set([...requiredClaims, ...(maxTokenAge !== undefined ? ['iat'] : []), ...(audience !== undefined ? ['aud'] : []), ...(issuer !== undefined ? ['iss'] : [])].reverse())];
  const tolerance = clockTolerance;
  const failed = (claimsSet: JWTPayload, message: string, claim: string, reason: string) => new errors.JWTClaimValidationFailed(message, claimsSet, claim, reason);
  /** A NumericDate claim, or `absent` when the token has none (one that is required was checked present above). */
  const numericDate = (claimsSet: JWTPayload, claim: string, absent: number): number => {
    const value = claimsSet[claim];
    if (value === undefined) return absent;
    if (typeof value !== 'number') throw failed(claimsSet, `"${claim}" claim must be a number`, claim, 'invalid');
    return value;
  };
  return (segment) => {
    let claimsSet: unknown;
    try {
      claimsSet = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    } catch {
      return undefined; // (an empty catch comes to the same: claimsSet stays undefined, refused below; a mutant Stryker cannot be told of)
    }
    // jose's isObject: JSON.parse makes no object but plain ones, arrays and null
    if (typeof claimsSet !== 'object' || claimsSet === null || Array.isArray(claimsSet)) return undefined;
    const set = claimsSet as JWTPayload;
    for (const claim of presence) if (!Object.hasOwn(set, claim)) throw failed(set, `missing required "${claim}" claim`, claim, 'missing');
    if (issuer !== undefined && set.iss !== issuer) throw failed(set, 'unexpected "iss" claim value', 'iss', 'check_failed');
    if (audience !== undefined && !(typeof set.aud === 'string' ? set.aud === audience : Array.isArray(set.aud) && set.aud.includes(audience)))
      throw failed(set, 'unexpected "aud" claim value', 'aud', 'check_failed');
    const now = Math.floor(Date.now() / 1000);
    // without a maximum age an iat is only checked to be a number; with one it is present
    const iat = numericDate(set, 'iat', now);
    // no nbf is never in the future, no exp never past
    if (numericDate(set, 'nbf', -Infinity) > now + tolerance) throw failed(set, '"nbf" claim timestamp check failed', 'nbf', 'check_failed');
    if (numericDate(set, 'exp', Infinity) <= now - tolerance) throw new errors.JWTExpired('"exp" claim timestamp check failed', set, 'exp', 'check_failed');
    if (maxTokenAge !== undefined) {
      const age = now - iat;
      if (age - tolerance > maxTokenAge) throw new errors.JWTExpired('"iat" claim timestamp check failed (too far in the past)', set, 'iat', 'check_failed');
      if (age < -tolerance) throw failed(set, '"iat" claim timestamp check failed (it should be in the past)', 'iat', 'check_failed');
    }
    return set;
  };
}

/** A number of seconds as the claims check reads one (jose also reads words, "30s", itself). */
const isSeconds = (value: unknown): value is number => Number.isFinite(value) && (value as number) >= 0;

/** Checks one signature over the signing input. */
type Verifier = (input: Buffer, signature: Buffer) => boolean;

type Algorithm =
  | { kind: 'hmac'; hash: string }
  | { kind: 'rsa'; hash: string }
  | { kind: 'pss'; hash: string; saltLength: number }
  | { kind: 'ecdsa'; hash: string; curve: string }
  | { kind: 'eddsa' };

/** The algorithms of jose's table this file verifies itself (what a jwt-verify node may allow); others go to jose. */
const ALGORITHMS: Record<string, Algorithm | undefined> = {
  __proto__: null as never,
  HS256: { kind: 'hmac', hash: 'SHA-256' },
  HS384: { kind: 'hmac', hash: 'SHA-384' },
  HS512: { kind: 'hmac', hash: 'SHA-512' },
  RS256: { kind: 'rsa', hash: 'SHA-256' },
  RS384: { kind: 'rsa', hash: 'SHA-384' },
  RS512: { kind: 'rsa', hash: 'SHA-512' },
  PS256: { kind: 'pss', hash: 'SHA-256', saltLength: 32 },
  PS384: { kind: 'pss', hash: 'SHA-384', saltLength: 48 },
  PS512: { kind: 'pss', hash: 'SHA-512', saltLength: 64 },
  ES256: { kind: 'ecdsa', hash: 'SHA-256', curve: 'P-256' },
  ES384: { kind: 'ecdsa', hash: 'SHA-384', curve: 'P-384' },
  ES512: { kind: 'ecdsa', hash: 'SHA-512', curve: 'P-521' },
  EdDSA: { kind: 'eddsa' },
  Ed25519: { kind: 'eddsa' },
};

/** WebCrypto's algorithm name of each kind, which a CryptoKey must carry for jose to use it. */
const WEBCRYPTO_NAME = { hmac: 'HMAC', rsa: 'RSASSA-PKCS1-v1_5', pss: 'RSA-PSS', ecdsa: 'ECDSA', eddsa: 'Ed25519' } as const;

/** Verifiers by key and algorithm, made once: a key set's CryptoKey lives as long as the set does. */
const verifiers = new WeakMap<object, Map<Algorithm, Verifier | null>>();

function verifierOf(key: unknown, algorithm: Algorithm): Verifier | null {
  if (typeof key !== 'object' || key === null) return null;
  let byAlgorithm = verifiers.get(key);
  if (byAlgorithm === undefined) verifiers.set(key, (byAlgorithm = new Map()));
  let verifier = byAlgorithm.get(algorithm);
  if (verifier === undefined) byAlgorithm.set(algorithm, (verifier = makeVerifier(key, algorithm)));
  return verifier;
}

/**
 * How `key` verifies `algorithm` — or null where jose would refuse the key (its checks of a
 * CryptoKey's algorithm, hash, curve, usages and RSA modulus length, mirrored here), so that
 * jose refuses it with its own error.
 */
function makeVerifier(key: object, algorithm: Algorithm): Verifier | null {
  const hash = 'hash' in algorithm ? algorithm.hash : null; // node:crypto knows WebCrypto's names
  if (key instanceof Uint8Array) {
    if (algorithm.kind !== 'hmac') return null;
    const secret = createSecretKey(key);
    return (input, signature) => {
      const mac = createHmac(hash!, secret).update(input).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    };
  }
  if (!(key instanceof CryptoKey) || key.type !== 'public' || !key.usages.includes('verify')) return null;
  const spec = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number };
  if (spec.name !== WEBCRYPTO_NAME[algorithm.kind]) return null;
  if ((algorithm.kind === 'rsa' || algorithm.kind === 'pss') && (spec.hash?.name !== algorithm.hash || typeof spec.modulusLength !== 'number' || spec.modulusLength < 2048)) return null;
  if (algorithm.kind === 'ecdsa' && spec.namedCurve !== algorithm.curve) return null;
  const publicKey: NodeKey = KeyObject.from(key);
  switch (algorithm.kind) {
    case 'rsa':
      return (input, signature) => verifySignature(hash, input, publicKey, signature);
    case 'pss': {
      // the salt as long as the hash, as WebCrypto verifies it (node's default would take any length)
      const pss = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength };
      return (input, signature) => verifySignature(hash, input, pss, signature);
    }
    case 'ecdsa': {
      const ecdsa = { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
      return (input, signature) => verifySignature(hash, input, ecdsa, signature);
    }
    case 'eddsa':
      return (input, signature) => verifySignature(null, input, publicKey, signature);
    default:
      return null;
  }
}
