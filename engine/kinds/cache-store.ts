import { HOP_BY_HOP_HEADERS } from '../../shared/nodes/headers.ts';
import type { CacheStoreConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import type { CachedAnswer } from './support/cache-store.ts';
import { bodyBytes, keyOf } from './support/cache-store-keys.ts';
import { setOwn } from './support/own-members.ts';
import type { Exchange, Runtime } from './types.ts';

/** The statuses stored: cacheable by default (RFC 9111) and meaningful to repeat. */
const STORABLE = new Set([200, 203, 204, 301, 404]);
/** Headers never stored: per connection (hop-by-hop), per answer (the writer sets the length and date), or a cookie. */
const DROPPED = new Set<string>([
  ...HOP_BY_HOP_HEADERS,
  // Stryker disable next-line StringLiteral: not reached: no answer a node builds carries Content-Length (a buffered proxy answer drops it; respond and transforms may not set it)
  'content-length',
  'date',
  // Stryker disable next-line StringLiteral: equivalent: an answer with Set-Cookie is never stored (answerOf), and a hit sets its own Age
  'set-cookie', 'age',
]);

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : (value ?? ''));

/**
 * How long the answer may be kept, in ms: the node's ttl, capped by Cache-Control's s-maxage or
 * max-age; 0 or less when it must not be stored (no-store, private, no-cache, an age that is not
 * a finite number of seconds, or a negative one).
 */
function freshFor(cacheControl: string, ttlMs: number): number {
  const directives = new Map<string, string | undefined>();
  for (const part of cacheControl.toLowerCase().split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
    directives.set(name, value?.replace(/^"|"$/g, '')); // a stray comma's empty name matches no directive
  }
  if (directives.has('no-store') || directives.has('private') || directives.has('no-cache')) return 0;
  const age = directives.get('s-maxage') ?? directives.get('max-age');
  if (age === undefined) return ttlMs;
  const seconds = Number(age);
  return Number.isFinite(seconds) ? Math.min(ttlMs, seconds * 1000) : 0;
}

/**
 * Stores the current answer under the key its cache-lookup computed, for the ttl (Cache-Control's
 * max-age caps it). Not stored: a status other than 200/203/204/301/404, Set-Cookie, no-store,
 * private, Vary: *, a streamed body, a body over maxBytes. Stored or not, the key's flight lands,
 * so lookups waiting on it read again. An unreachable shared store skips the store.
 */
export const cacheStore: Runtime<CacheStoreConfig> = (config, context) => {
  const store = context.cache;
  const flights = context.cacheFlights;
  const cache = config.name;
  const ttlMs = durationMs(config.ttl);
  const staleMs = durationMs(config.stale);
  /** sluice_cache_stores_total's counts of this node. */
  const stores = context.counts(['stored', 'uncacheable', 'too_large', 'no_key', 'failed']);

  /** The entry to store, or why there is none. */
  function answerOf(exchange: Exchange): { answer: CachedAnswer; ttl: number } | 'uncacheable' | 'too_large' {
    const response = exchange.response;
    if (!response || response.stream || !STORABLE.has(response.status)) return 'uncacheable';
    const headers = response.headers;
    if (headers['set-cookie'] !== undefined) return 'uncacheable';
    const ttl = freshFor(headerText(headers['cache-control']), ttlMs);
    if (ttl <= 0) return 'uncacheable';
    const varyNames = headerText(headers.vary).toLowerCase().split(',').map((v) => v.trim()).filter(Boolean);
    if (varyNames.includes('*')) return 'uncacheable';
    const body = bodyBytes(response);
    if (body.length > config.maxBytes) return 'too_large';
    const kept: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) if (!DROPPED.has(name)) setOwn(kept, name, Array.isArray(value) ? [...value] : value);
    const vary = varyNames.length === 0 ? undefined : Object.fromEntries(varyNames.map((name) => [name, headerText(exchange.request.headers[name])]));
    return { answer: { status: response.status, headers: kept, body, storedAt: Date.now(), ...(vary ? { vary } : {}), ...(staleMs > 0 ? { freshUntil: Date.now() + ttl } : {}) }, ttl: ttl + staleMs };
  }

  return {
    run: async function cacheStore(exchange) {
      const key = keyOf(exchange, cache);
      if (key === undefined) {
        stores.no_key++;
        return 'ok';
      }
      const stored = answerOf(exchange);
      try {
        if (typeof stored === 'string') stores[stored]++;
        else {
          await store.set(cache, key, stored.answer, stored.ttl, config.entries);
          stores.stored++;
        }
      } catch {
        stores.failed++; // an unreachable shared store: not stored, the answer goes on
      } finally {
        flights.land(`${cache}\n${key}`);
      }
      return 'ok';
    },
  };
};
