import { createHash } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { readBounded } from './oidc-discovery.ts';
import { OrderedMap } from './ordered-map.ts';

/*
 * OAuth 2.0 token introspection (RFC 7662): the gateway asks the authorization server whether an
 * opaque token is active, authenticating as its own client. Answers are cached by a hash of the
 * token (the token itself is never kept), active ones until the token expires or the configured
 * time passes, whichever comes first, inactive ones briefly; one call per token at a time.
 */

/** The gateway's own client at the authorization server. The secret is used for the call only. */
interface IntrospectionClient {
  clientId: string;
  clientSecret: string;
  /** RFC 6749 §2.3.1: HTTP Basic (the default) or the request body. */
  method: 'client_secret_basic' | 'client_secret_post';
}

/** The authorization server could not say (unreachable, refused the gateway's client, answered nonsense). */
export class IntrospectionUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IntrospectionUnavailable';
  }
}

/** What the authorization server said about a token, judged: active with its members, or why not. */
export type Introspection = { active: true; claims: Readonly<Record<string, unknown>>; expiresAt: number } | { active: false; reason: string };

export interface IntrospectorOptions {
  /** The introspection endpoint: fixed, or found anew per call (OIDC discovery). */
  endpoint: () => Promise<string>;
  client: IntrospectionClient;
  timeoutMs: number;
  /** Largest answer accepted (bytes). */
  maxBytes?: number;
  /** Required among the answer's aud, when set. */
  audience?: string;
  /** Required as the answer's iss, when the answer names one and this is set. */
  issuer?: string;
  dispatcher?: Dispatcher;
  now?: () => number;
}

/** The key a token is cached under: its SHA-256, so neither the cache nor a dump of it holds a token. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** application/x-www-form-urlencoded as RFC 6749 §2.3.1 wants the client id and secret encoded for Basic. */
const formEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');

const audiences = (aud: unknown): string[] => (typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : []);

/** Judges an RFC 7662 answer: `active` must be exactly true, and an active token not expired nor for another audience or issuer. */
function judge(answer: Record<string, unknown>, options: Pick<IntrospectorOptions, 'audience' | 'issuer'>, nowMs: number): Introspection {
  if (answer.active !== true) return { active: false, reason: 'the token is not active' };
  const exp = answer.exp;
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) return { active: false, reason: 'the authorization server gave no valid "exp"' };
  const expiresAt = typeof exp === 'number' ? exp * 1000 : Infinity;
  if (expiresAt <= nowMs) return { active: false, reason: 'the token has expired' };
  if (typeof answer.nbf === 'number' && answer.nbf * 1000 > nowMs) return { active: false, reason: 'the token is not valid yet' };
  if (options.audience !== undefined && !audiences(answer.aud).includes(options.audience)) return { active: false, reason: 'the token is not for this API ("aud")' };
  if (options.issuer !== undefined && answer.iss !== undefined && answer.iss !== options.issuer) return { active: false, reason: 'the token is from another issuer ("iss")' };
  return { active: true, claims: Object.freeze({ ...answer }), expiresAt };
}

/**
 * Asks the authorization server about one token.
 * @throws IntrospectionUnavailable when it cannot tell (the message never carries the token or the secret)
 */
export function createIntrospector(options: IntrospectorOptions): (token: string) => Promise<Introspection> {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const now = options.now ?? Date.now;
  const { clientId, clientSecret, method } = options.client;
  const authorization = method === 'client_secret_basic' ? `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}` : undefined;
  return async function introspect(token) {
    const endpoint = await options.endpoint();
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    if (method === 'client_secret_post') {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    let status: number;
    let text: string;
    try {
      const response = await request(endpoint, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
        body: form.toString(),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      status = response.statusCode;
      if (status !== 200) await response.body.dump();
      text = status === 200 ? await readBounded(response.body, maxBytes, 'the answer') : '';
    } catch (cause) {
      throw new IntrospectionUnavailable('the authorization server could not be reached', { cause });
    }
    if (status === 401 || status === 403) throw new IntrospectionUnavailable(`the authorization server refused the gateway's client credentials (${status})`);
    if (status !== 200) throw new IntrospectionUnavailable(`the authorization server answered ${status}`);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new IntrospectionUnavailable('the authorization server answered something that is not JSON');
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer) || typeof (answer as { active?: unknown }).active !== 'boolean')
      throw new IntrospectionUnavailable('the authorization server answered without a boolean "active"');
    return judge(answer as Record<string, unknown>, options, now());
  };
}

/** A cached judgement and until when it holds (ms). */
interface CachedIntrospection {
  result: Introspection;
  until: number;
}

export interface IntrospectionCacheOptions {
  /** Entries kept; the oldest goes first. */
  size: number;
  /** Longest an active answer is kept (ms); never past the token's exp. */
  ttlMs: number;
  /** How long an inactive answer is kept (ms); 0: not at all. */
  negativeTtlMs: number;
  /** Most calls to the authorization server at once; a token beyond them is answered unavailable, not queued. Default 256. */
  maxInFlight?: number;
  now?: () => number;
}

/** Introspection answers by token hash, bounded in size and time, with one call per token in flight. */
export interface IntrospectionCache {
  /** The judgement for a token hash while it holds. */
  get(key: string): Introspection | undefined;
  /** The judgement of `token`: cached, or from one call shared by everyone asking about it now. */
  resolve(key: string, token: string, introspect: (token: string) => Promise<Introspection>): Promise<Introspection>;
  readonly size: number;
}

export function createIntrospectionCache(options: IntrospectionCacheOptions): IntrospectionCache {
  const now = options.now ?? Date.now;
  const entries = new OrderedMap<CachedIntrospection>();
  const flights = new Map<string, Promise<Introspection>>();
  const maxInFlight = options.maxInFlight ?? 256;

  function get(key: string): Introspection | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > now()) return entry.result;
    entries.delete(key);
    return undefined;
  }

  function remember(key: string, result: Introspection): void {
    const until = result.active ? Math.min(now() + options.ttlMs, result.expiresAt) : now() + options.negativeTtlMs;
    if (until <= now()) return;
    entries.delete(key);
    if (entries.size >= options.size) entries.shift();
    entries.set(key, { result, until });
  }

  return {
    get,
    get size() {
      return entries.size;
    },
    resolve(key, token, introspect) {
      const cached = get(key);
      if (cached !== undefined) return Promise.resolve(cached);
      let flight = flights.get(key);
      if (flight === undefined) {
        // a flood of made-up tokens must not become a flood of calls to the authorization server
        if (flights.size >= maxInFlight) return Promise.reject(new IntrospectionUnavailable('too many tokens are being checked at once'));
        flight = introspect(token)
          .then((result) => {
            remember(key, result);
            return result;
          })
          .finally(() => flights.delete(key));
        flights.set(key, flight);
      }
      return flight;
    },
  };
}
