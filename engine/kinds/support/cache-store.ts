import { OrderedMap } from './ordered-map.ts';

/** An answer as a cache keeps it: the body as bytes, with the request header values it varies on. */
export interface CachedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** When it was stored (ms since the epoch), for the Age header. */
  storedAt: number;
  /** Until when it is fresh (ms since the epoch), when it is kept longer to be served stale while one request refreshes it. */
  freshUntil?: number;
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

/** The most bytes (bodies and headers, roughly) the memory caches of a process hold together by default. */
const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024;

interface MemoryEntry {
  answer: CachedAnswer;
  expires: number;
  bytes: number;
}

/** About what an entry holds: its body, its key and its headers. */
const sizeOf = (key: string, answer: CachedAnswer) => answer.body.length + key.length * 2 + JSON.stringify(answer.headers).length * 2 + 200;

/**
 * In-memory caches: one LRU map per cache name (at most its `entries`), entries expiring by their
 * ttl, and all of them together within `maxBytes`: over it, the least recently used entries of the
 * cache being written go first, then those of the other caches.
 */
export function createMemoryCacheStore(options: { maxBytes?: number } = {}): CacheStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MEMORY_BYTES;
  const caches = new Map<string, OrderedMap<MemoryEntry>>();
  let bytes = 0;
  const remove = (entries: OrderedMap<MemoryEntry>, key: string): boolean => {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    bytes -= entry.bytes;
    return true;
  };
  /** The least recently used entry goes (OrderedMap: a Map's own oldest entry costs more to find the more were deleted before it). */
  const evictOldest = (entries: OrderedMap<MemoryEntry>): boolean => {
    const oldest = entries.shift();
    if (oldest === undefined) return false;
    bytes -= oldest.bytes;
    return true;
  };
  return {
    name: 'memory',
    get(cache, key) {
      const entries = caches.get(cache);
      const entry = entries?.get(key);
      if (!entry) return undefined;
      if (entry.expires <= Date.now()) {
        remove(entries!, key);
        return undefined;
      }
      entries!.touch(key); // most recently used last
      return entry.answer;
    },
    set(cache, key, answer, ttlMs, maxEntries) {
      const size = sizeOf(key, answer);
      if (size > maxBytes) return;
      let entries = caches.get(cache);
      if (!entries) caches.set(cache, (entries = new OrderedMap()));
      remove(entries, key);
      entries.set(key, { answer, expires: Date.now() + ttlMs, bytes: size });
      bytes += size;
      while (entries.size > maxEntries) evictOldest(entries);
      while (bytes > maxBytes && entries.size > 1) evictOldest(entries);
      for (const other of caches.values()) while (bytes > maxBytes && other !== entries && evictOldest(other));
    },
    purge(cache, match) {
      const entries = caches.get(cache);
      if (!entries) return 0;
      let removed = 0;
      for (const key of entries.keys()) {
        if (match.key !== undefined ? key === match.key : match.prefix === undefined || key.startsWith(match.prefix)) removed += remove(entries, key) ? 1 : 0;
      }
      return removed;
    },
  };
}

/**
 * Stampede protection, per process: the first lookup that misses a key leads (its request fetches),
 * later lookups of the key wait for its store. A flight ends when the store is made or skipped,
 * when the leading request ends without one (an error, an answer never stored, its client gone),
 * or after its wait at the latest.
 */
export interface Flights {
  /**
   * Joins the key's flight: one in progress gives its `wait`; else the caller leads a new one for
   * at most `waitMs` and gets the `land` that ends it (that flight only: a later flight of the key
   * is not touched). Undefined when `waitMs` is 0: no flight, nobody waits.
   */
  join(id: string, waitMs: number): Joined | undefined;
  /** Ends the key's flight, whoever leads it: its waiters read again. */
  land(id: string): void;
}

/** A key's flight as a lookup joins it: one in progress to wait for, or the lead of a new one. */
type Joined = { readonly wait: Promise<void> } | { readonly land: () => void };

interface Flight {
  /** What every waiter gets (one object per flight, not per waiter). */
  readonly joined: { readonly wait: Promise<void> };
  readonly release: () => void;
}

export function createFlights(): Flights {
  const flights = new Map<string, Flight>();
  const land = (id: string, flight: Flight | undefined) => {
    if (flight === undefined || flights.get(id) !== flight) return;
    flights.delete(id);
    flight.release();
  };
  return {
    join(id, waitMs) {
      const current = flights.get(id);
      if (current) return current.joined;
      if (waitMs <= 0) return undefined;
      let resolve!: () => void;
      const wait = new Promise<void>((r) => (resolve = r));
      const timer = setTimeout(() => land(id, flight), waitMs);
      timer.unref();
      const flight: Flight = { joined: { wait }, release: () => (clearTimeout(timer), resolve()) };
      flights.set(id, flight);
      return { land: () => land(id, flight) };
    },
    land(id) {
      land(id, flights.get(id));
    },
  };
}
