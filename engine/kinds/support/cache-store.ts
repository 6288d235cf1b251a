/** An answer as a cache keeps it: the body as bytes, with the request header values it varies on. */
export interface CachedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** When it was stored (ms since the epoch), for the Age header. */
  storedAt: number;
  /** Values of the request headers the upstream's Vary names, as they were for the stored answer. */
  vary?: Record<string, string>;
}

/** Which entries of one cache a purge removes: one key, the keys starting with a prefix, or all. */
interface PurgeMatch {
  key?: string | undefined;
  prefix?: string | undefined;
}

/**
 * Where cached answers live: in process memory (bounded LRU per cache) or in Redis, shared by the
 * replicas. A shared store that cannot be reached misses and skips stores: it never fails a request.
 */
export interface CacheStore {
  readonly name: string;
  get(cache: string, key: string): CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  /** Stores for `ttlMs`; `maxEntries` bounds the cache's entries (in memory). */
  set(cache: string, key: string, answer: CachedAnswer, ttlMs: number, maxEntries: number): void | Promise<void>;
  /** Removes the matching entries of a cache; how many. */
  purge(cache: string, match: PurgeMatch): number | Promise<number>;
  close?(): void | Promise<void>;
}

/** In-memory caches: one LRU map per cache name, entries expiring by their ttl. */
export function createMemoryCacheStore(): CacheStore {
  const caches = new Map<string, Map<string, { answer: CachedAnswer; expires: number }>>();
  return {
    name: 'memory',
    get(cache, key) {
      const entries = caches.get(cache);
      const entry = entries?.get(key);
      if (!entry) return undefined;
      entries!.delete(key);
      if (entry.expires <= Date.now()) return undefined;
      entries!.set(key, entry); // most recently used last
      return entry.answer;
    },
    set(cache, key, answer, ttlMs, maxEntries) {
      let entries = caches.get(cache);
      if (!entries) caches.set(cache, (entries = new Map()));
      entries.delete(key);
      entries.set(key, { answer, expires: Date.now() + ttlMs });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    purge(cache, match) {
      const entries = caches.get(cache);
      if (!entries) return 0;
      let removed = 0;
      for (const key of entries.keys()) {
        if (match.key !== undefined ? key === match.key : match.prefix === undefined || key.startsWith(match.prefix)) removed += entries.delete(key) ? 1 : 0;
      }
      return removed;
    },
  };
}

/**
 * Stampede protection, per process: the first lookup that misses a key leads (its request fetches),
 * later lookups of the key wait for its store. A flight ends when the store is made or skipped,
 * or after its wait at the latest.
 */
export interface Flights {
  /** A flight in progress for the key, to wait on; undefined: none (the caller now leads one for `waitMs`). */
  join(id: string, waitMs: number): Promise<void> | undefined;
  land(id: string): void;
}

export function createFlights(): Flights {
  const flights = new Map<string, { done: Promise<void>; land: () => void }>();
  return {
    join(id, waitMs) {
      const flight = flights.get(id);
      if (flight) return flight.done;
      if (waitMs <= 0) return undefined;
      let land!: () => void;
      const done = new Promise<void>((resolve) => (land = resolve));
      const timer = setTimeout(() => this.land(id), waitMs);
      timer.unref();
      flights.set(id, { done, land: () => (clearTimeout(timer), land()) });
      return undefined;
    },
    land(id) {
      const flight = flights.get(id);
      if (!flight) return;
      flights.delete(id);
      flight.land();
    },
  };
}
