import type { CacheLookupConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import type { CachedAnswer } from './support/cache-store.ts';
import { rememberKey } from './support/cache-store-keys.ts';
import { copyOwn } from './support/own-members.ts';
import { readableBody } from './support/upstream-headers.ts';
import type { Exchange, Runtime } from './types.ts';

/** The query with its names sorted (and repeated values in order), so ?a=1&b=2 and ?b=2&a=1 share an entry. */
function sortedQuery(query: Exchange['request']['query']): Array<[string, string | string[]]> {
  return Object.keys(query)
    .sort()
    .map((name) => [name, query[name]!]);
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : (value ?? ''));

/** Whether the request sends the same values of the headers the stored answer varies on. */
function sameVary(answer: CachedAnswer, exchange: Exchange): boolean {
  if (!answer.vary) return true;
  return Object.entries(answer.vary).every(([name, value]) => headerText(exchange.request.headers[name]) === value);
}

/**
 * Looks the request up in the named cache. The key is the method, path and sorted query (or the
 * key expression's value), and the partner unless `acrossPartners`: a partner never gets another's
 * answer. A miss leads the key's flight (the others wait for its store, up to `wait`; when its
 * request ends without one, they miss at once and each fetches for itself) and leaves the key for
 * the cache-store node after the proxy. An unreachable shared store is a miss.
 */
export const cacheLookup: Runtime<CacheLookupConfig> = (config, context) => {
  const store = context.cache;
  const flights = context.cacheFlights;
  const cache = config.name;
  const waitMs = durationMs(config.wait);
  const keyExpression = config.key === undefined ? undefined : context.expression(config.key);
  const hitWired = context.wiredPorts.has('hit');
  /** Only the memory store answers without a promise; a shared store (Redis) is read once, on the asynchronous path. */
  const answersAtOnce = store.name === 'memory';
  /** sluice_cache_lookups_total's counts of this node. */
  const lookups = context.counts(['hit', 'stale', 'miss']);

  /** The entry's key; undefined when the key expression gives nothing (such requests are not cached: they would all share one entry). */
  async function keyOf(exchange: Exchange): Promise<string | undefined> {
    const r = exchange.request;
    const base = keyExpression ? await keyExpression.evaluate(exchange) : [r.method, r.path, sortedQuery(r.query)];
    if (base === undefined || base === null) return undefined;
    return keyText(base, exchange);
  }

  /** The stored key of a request's key value: the partner is part of it unless acrossPartners. */
  function keyText(base: unknown, exchange: Exchange): string {
    return JSON.stringify(config.acrossPartners ? [base] : [base, exchange.partner ?? null]);
  }

  async function read(exchange: Exchange, key: string): Promise<CachedAnswer | undefined> {
    try {
      const answer = await store.get(cache, key);
      return answer && sameVary(answer, exchange) ? answer : undefined;
    } catch {
      // the shared store could not be reached: below
    }
    return undefined; // an unreachable shared store is a miss
  }

  /**
   * Whether the default key (no key expression) caches this request: only GET and HEAD (another
   * method's answer is no answer to repeat), and not credentials no node identified (forwarded to
   * the upstream, say, they may shape the answer; a key expression says what the answer depends on).
   */
  function defaultKeyCaches(exchange: Exchange): boolean {
    const r = exchange.request;
    if (r.method !== 'GET' && r.method !== 'HEAD') return false;
    return config.acrossPartners || exchange.partner !== undefined || (r.headers.authorization === undefined && r.headers.cookie === undefined);
  }

  /** Answers from a cached entry: the `hit` port. */
  function hit(exchange: Exchange, answer: CachedAnswer): string {
    const headers = copyOwn(answer.headers);
    headers.age = String(Math.max(0, Math.floor((Date.now() - answer.storedAt) / 1000)));
    exchange.response = { status: answer.status, headers, body: hitWired ? readableBody(answer.body, headers['content-type']) : answer.body };
    return 'hit';
  }

  /**
   * The common hit without a promise: the default key, a store that answers at once (memory) and
   * a fresh entry. Anything else (a key expression, Redis, a miss, a stale entry) takes the
   * asynchronous path, which looks again.
   */
  function hitNow(exchange: Exchange): string | undefined {
    const r = exchange.request;
    if (!answersAtOnce || keyExpression || !defaultKeyCaches(exchange)) return undefined;
    const got = store.get(cache, keyText([r.method, r.path, sortedQuery(r.query)], exchange));
    if (got === undefined || got instanceof Promise /* not expected of the memory store */ || !sameVary(got, exchange) || (got.freshUntil !== undefined && got.freshUntil <= Date.now())) return undefined;
    lookups.hit++;
    return hit(exchange, got);
  }

  /** The whole lookup: a key expression, a shared store, the stampede wait and stale answers. */
  async function lookup(exchange: Exchange): Promise<string> {
    if (!keyExpression && !defaultKeyCaches(exchange)) {
      lookups.miss++;
      return 'miss';
    }
    let key: string | undefined;
    try {
      key = await keyOf(exchange);
    } catch {
      // a key expression that fails gives no key: below
    }
    if (key === undefined) {
      lookups.miss++;
      return 'miss'; // a key that cannot be computed is not cached (the cache-store finds no key)
    }
    let answer = await read(exchange, key);
    let stale = false;
    if (answer?.freshUntil !== undefined && answer.freshUntil <= Date.now()) {
      // stale: the first request refreshes it, the others get the stale answer meanwhile
      const joined = flights.join(`${cache}\n${key}`, waitMs);
      if (joined !== undefined && 'wait' in joined) stale = true;
      else {
        answer = undefined;
        if (joined !== undefined) exchange.onEnd(joined.land);
      }
    } else if (!answer) {
      const joined = flights.join(`${cache}\n${key}`, waitMs);
      if (joined !== undefined && 'wait' in joined) {
        await joined.wait;
        answer = await read(exchange, key); // nothing stored: a miss, and this request fetches for itself
      } else if (joined !== undefined) exchange.onEnd(joined.land); // the flight ends with this request, stored or not
    }
    if (!answer) {
      lookups.miss++;
      rememberKey(exchange, cache, key);
      return 'miss';
    }
    if (stale) lookups.stale++;
    else lookups.hit++;
    return hit(exchange, answer);
  }

  return {
    run: function cacheLookup(exchange) {
      return hitNow(exchange) ?? lookup(exchange);
    },
  };
};
