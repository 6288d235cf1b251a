/** What a cache entry carries: the header it was verified from, until when it holds, and the cache's bookkeeping. */
export interface CachedToken {
  /** The Authorization (or configured) header value the token was verified from. */
  readonly header: string;
  /** ms after which the token is no longer accepted. */
  readonly expiresAt: number;
  /** Taken from the cache since the clock hand last passed it: it gets a second chance. */
  used: boolean;
  /** Its place on the clock (set by the cache). */
  slot: number;
}

/** Verified tokens by the header they came in, bounded, never answering one past its expiry. */
export interface TokenCache<T extends CachedToken> {
  /** The entry verified from exactly this header, unless it has expired (then it is dropped). */
  get(header: string): T | undefined;
  /** Remembers a verified token (its header is the entry's). */
  set(entry: T): void;
  /** Entries held. */
  readonly size: number;
}

/**
 * The cache is keyed by the last characters of the header (the signature's): hashing a whole
 * header of several hundred characters for the lookup cost more than the rest of a cached
 * verification. The entry holds the whole header, and only an equal one is taken as verified.
 */
const KEY_CHARS = 32;
const keyOf = (header: string) => header.slice(-KEY_CHARS);
/** Slots the sweeper looks at per insertion: an expired token leaves within capacity / SWEEP insertions. */
const SWEEP = 2;

/**
 * A verified-token cache of at most `capacity` entries, evicting by CLOCK (second chance), a
 * cheap LRU: a hit only marks its entry. The entries sit in a ring in the order they came; to
 * insert, the hand moves round it to the first slot that is free, expired, or not used since the
 * hand last passed (clearing marks on its way, so it stops within one turn), and the entry there
 * goes. A sweeper checks SWEEP slots per insertion and drops expired tokens, so their memory goes
 * while traffic lasts, before the hand comes round. An expired token is never answered.
 *
 * The order lives in the ring, not in the Map: a Map with entries deleted at its front leaves
 * holes there until V8 rehashes it, and every iteration from the front walks them (measured: the
 * previous FIFO eviction, `keys().next()`, cost ~2% of a request that verified a new token).
 * The ring grows as entries come, so an idle node holds an empty one. `now` is for tests.
 */
export function createTokenCache<T extends CachedToken>(capacity: number, now: () => number = Date.now): TokenCache<T> {
  const byKey = new Map<string, T>();
  const ring: Array<T | undefined> = [];
  let hand = 0;
  let sweep = 0;

  /** Every entry dropped is the one its key maps to: an entry replaced under its key leaves the ring then (`previous` below). */
  function drop(entry: T): void {
    ring[entry.slot] = undefined;
    byKey.delete(keyOf(entry.header));
  }

  return {
    get(header) {
      const entry = byKey.get(keyOf(header));
      if (entry === undefined || entry.header !== header) return undefined;
      if (entry.expiresAt > now()) {
        entry.used = true;
        return entry;
      }
      drop(entry);
      return undefined;
    },
    set(entry) {
      const at = now();
      for (let i = 0; i < SWEEP; i++) {
        sweep = sweep < ring.length - 1 ? sweep + 1 : 0;
        const swept = ring[sweep];
        if (swept !== undefined && swept.expiresAt <= at) drop(swept);
      }
      const key = keyOf(entry.header);
      const previous = byKey.get(key); // the same header verified again, or another with the same last characters
      if (previous !== undefined) drop(previous);
      for (;;) {
        const held = ring[hand]; // undefined past the end while the ring grows
        if (held === undefined) break;
        if (!held.used || held.expiresAt <= at) {
          drop(held);
          break;
        }
        held.used = false;
        hand = hand < capacity - 1 ? hand + 1 : 0;
      }
      entry.slot = hand;
      ring[hand] = entry;
      byKey.set(key, entry);
      hand = hand < capacity - 1 ? hand + 1 : 0;
    },
    get size() {
      return byKey.size;
    },
  };
}
