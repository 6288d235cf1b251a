import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import { request, type Dispatcher } from 'undici';
import { readBounded } from './oidc-discovery.ts';

type KeyLookup = ReturnType<typeof createLocalJWKSet>;
type Key = Awaited<ReturnType<KeyLookup>>;

/** A key set fetched from a JWKS URL and shared by the nodes and versions that name the URL (jwt-verify.ts, through recentlyShared). */
export interface RemoteKeySet {
  /** The key for a token header; throws jose's JWKSNoMatchingKey when no key fits, KeysUnavailable when none were ever fetched. */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<Key>;
  /** When the key set was last fetched successfully (ms), 0 when never. */
  readonly fetchedAt: number;
  readonly fetches: number;
}

export class KeysUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeysUnavailable';
  }
}

export interface RemoteKeySetOptions {
  /** Refresh in the background once the keys are this old (ms). */
  maxAgeMs?: number;
  /** Least time between two fetches triggered by unknown kids (ms). */
  cooldownMs?: number;
  /** Time allowed for one fetch (ms). */
  timeoutMs?: number;
  /** Largest key set accepted (bytes). */
  maxBytes?: number;
  now?: () => number;
  /** Where fetches connect through (the egress policy's agent); absent: undici's global dispatcher. */
  dispatcher?: Dispatcher;
}

/** A JSON Web Key Set from text; throws "not a JSON Web Key Set" without quoting the text (the parser's message would). */
export function parseKeySet(text: string): JSONWebKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('not a JSON Web Key Set');
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string'))
    throw new Error('not a JSON Web Key Set');
  return value as JSONWebKeySet;
}

/**
 * A remote JWKS that keeps working when the key server does not: keys are refreshed in the
 * background when old, refetched at most once per cooldown when a token names an unknown kid,
 * and the last good set is used while fetches fail. One fetch runs at a time; callers share it.
 * `url` may be found anew for each fetch (OIDC discovery's jwks_uri); a failure to find it is a
 * failed fetch.
 */
export function createRemoteKeySet(url: string | (() => Promise<string>), options: RemoteKeySetOptions = {}): RemoteKeySet {
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 512 * 1024;
  const now = options.now ?? Date.now;
  let lookup: KeyLookup | undefined;
  let fetchedAt = 0;
  let attemptedAt = -Infinity;
  let fetches = 0;
  let inFlight: Promise<void> | undefined;
  let lastError: unknown;

  async function fetchOnce(): Promise<void> {
    attemptedAt = now();
    fetches += 1;
    try {
      const target = typeof url === 'string' ? url : await url();
      const response = await request(target, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new Error(`key server answered ${response.statusCode}`);
      }
      lookup = createLocalJWKSet(parseKeySet(await readBounded(response.body, maxBytes, 'the key set')));
      fetchedAt = now();
      lastError = undefined;
    } catch (error) {
      lastError = error; // keep the last good keys
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= fetchOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    get fetchedAt() {
      return fetchedAt;
    },
    get fetches() {
      return fetches;
    },
    async getKey(header, token) {
      if (lookup === undefined) {
        if (now() - attemptedAt >= Math.min(cooldownMs, 1_000) || inFlight) await refresh();
        if (lookup === undefined) throw new KeysUnavailable(`no keys could be fetched from the key server`, { cause: lastError });
      } else if (now() - fetchedAt > maxAgeMs && now() - attemptedAt >= cooldownMs) {
        void refresh(); // serve with the keys we have; the next request sees the new ones
      }
      const used = lookup;
      try {
        return await used(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        // Another caller's unknown kid may have started a fetch, or finished one since this lookup:
        // its keys count too. Only a caller that would start a new fetch is held to the cooldown.
        if (inFlight !== undefined) await inFlight;
        else if (lookup === used) {
          if (now() - attemptedAt < cooldownMs) throw error;
          await refresh();
        }
        return lookup(header, token);
      }
    },
  };
}
