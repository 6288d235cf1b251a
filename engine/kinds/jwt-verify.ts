import { hash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, errors, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { JwtVerifyConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { createRemoteKeySet, KeysUnavailable, parseKeySet } from './support/jwks.ts';
import { createJwtVerifier, type KeySource, type Verification } from './support/jwt-verifier.ts';
import { createTokenCache, type CachedToken } from './support/token-cache.ts';
import { discoverIssuer, egressAgent } from './support/oidc-discovery.ts';
import { recentlyShared } from './support/recently-shared.ts';
import { admit } from './support/partner-admission.ts';
import { PrepareError } from './prepare-error.ts';
import type { Exchange, Runtime } from './types.ts';

/** "Bearer " in any case, as RFC 9110 allows for the scheme. */
const BEARER = /^bearer /i;
/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/**
 * Verified tokens remembered per node. An entry holds the header as sent (~600 bytes for an
 * RS256 token) and the token's claims: about 1.2 KB in all (bench/token-memory.ts), so a full
 * cache holds about 12 MB.
 */
const CACHE_SIZE = 10_000;

interface Verified extends CachedToken {
  claims: Record<string, unknown>;
  scopes: readonly string[];
  partner: string | undefined;
  subject: string | undefined;
}

/** Scopes granted by a token: the OAuth `scope` string or an `scp` array or string. */
function scopesOf(claims: JWTPayload): string[] {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/** Words a partner reads in the 401's detail: what was wrong, never key material. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'the token is older than its maximum age ("iat")' : 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') return 'the token has no "exp" claim';
    return `claim "${error.claim}" is not valid (${error.reason})`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token\'s algorithm is not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no known key matches the token';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'several keys match the token; it needs a kid';
  if (error instanceof errors.JOSENotSupported) return 'the token uses an unsupported feature';
  return 'the token is malformed';
}

type Context = Parameters<Runtime<JwtVerifyConfig>>[1];

async function remoteKeys(url: string, field: string, context: Context): Promise<KeySource> {
  const refused = await context.egress.check({ url: new URL(url), label: `"${url}"`, literal: true });
  if (refused !== undefined) throw new PrepareError(field, refused);
  // The key set's fetches connect through the egress policy's connector, checked on every connection.
  // Shared by URL, not for the life of the process: drafts name URLs too (support/recently-shared.ts).
  const remote = recentlyShared(context.shared, `jwks:${context.egress.key}:${url}`, () => createRemoteKeySet(url, { dispatcher: egressAgent(context) }));
  return (header, token) => remote.getKey(header, token);
}

/**
 * The keys of an issuer found by OIDC discovery: its metadata names jwks_uri, fetched like a JWKS
 * URL (through the egress agent: a jwks_uri on an address the policy refuses is never reached).
 */
async function discoveredKeys(issuer: string, field: string, context: Context): Promise<KeySource> {
  const found = await discoverIssuer(context, issuer);
  if ('refused' in found) throw new PrepareError(field, found.refused);
  const { discovery } = found;
  const remote = recentlyShared(context.shared, `jwks-oidc:${context.egress.key}:${issuer}`, () =>
    createRemoteKeySet(
      async () => {
        const { jwksUri } = await discovery.metadata();
        // Stryker disable next-line StringLiteral: a failed fetch's cause is kept in the key set, never shown (the answer is keys-unavailable)
        if (jwksUri === undefined) throw new Error(`issuer ${issuer} publishes no jwks_uri`);
        return jwksUri;
      },
      { dispatcher: egressAgent(context) },
    ),
  );
  return (header, token) => remote.getKey(header, token);
}

/**
 * Key sets written into workflows, by content, at most this many: past it the oldest is forgotten
 * (the nodes holding it keep it; a later one builds its own). Bounded, not the process's shared
 * resources, because an editor's previews and tests prepare drafts too: each new key set in a
 * draft would otherwise stay for the life of the process.
 */
export const LOCAL_KEY_SETS = 1_000;
const localKeySets = new Map<string, KeySource>();

/**
 * A key set written into workflows (inline or as a file), one per content for every node and
 * version that holds it: each key is imported once however many workflows carry the set.
 */
function localKeySet(keySet: Parameters<typeof createLocalJWKSet>[0]): KeySource {
  const content = hash('sha256', JSON.stringify(keySet), 'base64url');
  let keys = localKeySets.get(content);
  if (keys === undefined) {
    keys = createLocalJWKSet(keySet);
    if (localKeySets.size >= LOCAL_KEY_SETS) localKeySets.delete(localKeySets.keys().next().value!);
    localKeySets.set(content, keys);
  }
  return keys;
}

async function keySource(config: JwtVerifyConfig, context: Context): Promise<KeySource> {
  if (config.jwks) return localKeySet(config.jwks as Parameters<typeof createLocalJWKSet>[0]);
  if (config.jwksFile) {
    const text = context.keys.read(config.jwksFile, 'config.jwksFile');
    let keySet: ReturnType<typeof parseKeySet>;
    try {
      keySet = parseKeySet(text);
    } catch (cause) {
      // never the parser's message: it quotes the file's first bytes
      throw new PrepareError('config.jwksFile', `file "${config.jwksFile}" is not a JSON Web Key Set`, { cause });
    }
    try {
      return localKeySet(keySet);
    } catch (cause) {
      // Stryker disable next-line StringLiteral,ObjectLiteral: not reached: parseKeySet refuses all that createLocalJWKSet would (a list of objects under "keys")
      throw new PrepareError('config.jwksFile', `file "${config.jwksFile}" is not a usable JSON Web Key Set`, { cause });
    }
  }
  if (config.secretEnv) {
    const secret = context.env.secret(config.secretEnv, 'config.secretEnv');
    if (Buffer.byteLength(secret) < 32) throw new PrepareError('config.secretEnv', `the secret in ${config.secretEnv} is shorter than 32 bytes`);
    return new TextEncoder().encode(secret);
  }
  if (config.jwksUri) return remoteKeys(config.jwksUri, 'config.jwksUri', context);
  return discoveredKeys(config.issuer!, 'config.issuer', context);
}

/** One issuer a node accepts: its keys, its checks and the claim naming the partner. */
interface Tenant {
  key: KeySource;
  /** The key set never changes (inline or read from a file at publish): a key found once is found again. */
  stableKeys: boolean;
  issuer: string | undefined;
  audience: string | undefined;
  partnerClaim: string;
}

/** The tenants of a node: one (the top-level fields), or one per entry of `issuers`, by issuer. */
async function tenantsOf(config: JwtVerifyConfig, context: Context): Promise<Tenant | Map<string, Tenant>> {
  const stableKeys = config.jwks !== undefined || config.jwksFile !== undefined;
  if (config.issuers === undefined) return { key: await keySource(config, context), stableKeys, issuer: config.issuer, audience: config.audience, partnerClaim: config.partnerClaim };
  const tenants = new Map<string, Tenant>();
  for (const [i, entry] of config.issuers.entries()) {
    const key = entry.jwksUri !== undefined ? await remoteKeys(entry.jwksUri, `config.issuers.${i}.jwksUri`, context) : await discoveredKeys(entry.issuer, `config.issuers.${i}.issuer`, context);
    tenants.set(entry.issuer, { key, stableKeys: false, issuer: entry.issuer, audience: entry.audience, partnerClaim: entry.partnerClaim });
  }
  return tenants;
}

/** The iss of a token not yet verified, only to choose which issuer's keys verify it. */
export function unverifiedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a bearer JWT as jose's jwtVerify does (support/jwt-verifier.ts: node:crypto for the
 * signature, jose for the claims): algorithms from the node (never from the token), `exp`
 * required, issuer and audience when set. With several issuers, the token's (unverified) iss
 * only chooses whose keys and checks apply; iss is then verified like every other claim.
 * Verified tokens are cached until they expire, so a partner's repeated calls cost a map lookup,
 * not a signature check; the cache holds CACHE_SIZE tokens, the least recently used go first
 * (CLOCK), and an expired token is never answered from it and leaves it as new tokens come.
 */
export const jwtVerify: Runtime<JwtVerifyConfig> = async (config, context) => {
  const tenants = await tenantsOf(config, context);
  const header = config.header.toLowerCase();
  const toleranceMs = durationMs(config.clockTolerance);
  const maxAgeMs = config.maxTokenAge === undefined ? undefined : durationMs(config.maxTokenAge);
  const maxLifetimeMs = config.maxLifetime === undefined ? Infinity : durationMs(config.maxLifetime);
  const common = {
    algorithms: config.algorithms,
    clockTolerance: Math.ceil(toleranceMs / 1000),
    requiredClaims: ['exp'],
    maxTokenAge: maxAgeMs === undefined ? undefined : Math.floor(maxAgeMs / 1000),
  };
  const cache = createTokenCache<Verified>(CACHE_SIZE);
  const access = context.partners;
  const workflowId = context.workflowId;

  /**
   * Accepts a verified token: the claim's client id maps to a registered partner through the
   * directory of the current store revision, and that partner's access is checked now. The cache
   * holds the verification only, so a suspension applies to the very next request.
   */
  const accept = (exchange: Exchange, verified: Verified) => {
    exchange.claims = verified.claims;
    exchange.scopes = verified.scopes;
    const directory = access.current;
    exchange.partner = verified.partner === undefined ? undefined : (directory.clients.get(verified.partner) ?? verified.partner);
    exchange.subject = verified.subject;
    return admit(directory, exchange, workflowId);
  };
  const refuse = (exchange: Exchange, reason: string) => {
    exchange.problemParams = { ...exchange.problemParams, reason };
    return 'invalid';
  };

  /** Each tenant's verifier, made once with its options. */
  const verifierOf = new Map<Tenant, (token: string) => Verification>();
  for (const tenant of tenants instanceof Map ? tenants.values() : [tenants]) {
    const options: JWTVerifyOptions = { ...common, issuer: tenant.issuer, audience: tenant.audience };
    verifierOf.set(tenant, createJwtVerifier(tenant.key, options, tenant.stableKeys));
  }

  const failed = (exchange: Exchange, error: unknown) => (error instanceof KeysUnavailable ? 'unavailable' : refuse(exchange, reasonOf(error)));

  /** A miss: verifies the token, synchronously when its key is known (a promise otherwise). */
  function verify(exchange: Exchange, token: string, header: string): string | Promise<string> {
    let tenant: Tenant | undefined;
    if (tenants instanceof Map) {
      const iss = unverifiedIssuer(token);
      tenant = iss === undefined ? undefined : tenants.get(iss);
      if (tenant === undefined) return refuse(exchange, iss === undefined ? 'the token is malformed or names no issuer' : 'the token\'s issuer is not accepted here');
    } else tenant = tenants;
    let verification: Verification;
    try {
      verification = verifierOf.get(tenant)!(token);
    } catch (error) {
      return failed(exchange, error);
    }
    const chosen = tenant;
    if (verification instanceof Promise) return verification.then((payload) => settle(exchange, chosen, payload, header), (error: unknown) => failed(exchange, error));
    return settle(exchange, tenant, verification, header);
  }

  /** The checks jose leaves to us, then the token is cached and accepted. */
  function settle(exchange: Exchange, tenant: Tenant, payload: JWTPayload, header: string): string {
    const issuedAtMs = typeof payload.iat === 'number' ? payload.iat * 1000 : undefined;
    const nowMs = Date.now();
    // jose checks iat only against a maximum age; a token issued in the future is refused here either way
    if ((issuedAtMs ?? nowMs) > nowMs + toleranceMs) return refuse(exchange, 'claim "iat" is in the future');
    if (payload.exp! * 1000 - (issuedAtMs ?? nowMs) > maxLifetimeMs + toleranceMs) return refuse(exchange, 'the token\'s lifetime is longer than this API allows');
    // the claims as parsed for this token alone: frozen in place, not copied
    const claims = Object.freeze(payload) as Record<string, unknown>;
    let expiresAt = payload.exp! * 1000 + toleranceMs;
    // a maximum age made iat a required number (the verifier refused the token otherwise)
    if (maxAgeMs !== undefined) expiresAt = Math.min(expiresAt, issuedAtMs! + maxAgeMs + toleranceMs);
    const partner = claims[tenant.partnerClaim];
    const verified: Verified = {
      header,
      claims,
      scopes: Object.freeze(scopesOf(payload)),
      partner: typeof partner === 'string' ? partner : undefined,
      subject: typeof payload.sub === 'string' ? payload.sub : undefined,
      expiresAt,
      used: false,
      slot: 0,
    };
    cache.set(verified);
    return accept(exchange, verified);
  }

  return {
    run: function jwtVerify(exchange) {
      let value = exchange.request.headers[header];
      if (Array.isArray(value)) value = value[0];
      // (a value of "Bearer " alone passes, and comes to an empty token below)
      if (value === undefined || value.charCodeAt(6) !== 32 || !BEARER.test(value)) return 'missing';
      if (value.length > MAX_TOKEN_LENGTH + 7) return refuse(exchange, 'the token is too large');
      // Cached by the header as sent: a repeat call costs one lookup and one comparison.
      const cached = cache.get(value);
      if (cached !== undefined) return accept(exchange, cached);
      const token = value.slice(7).trim();
      if (token.length === 0) return 'missing';
      return verify(exchange, token, value);
    },
  };
};
