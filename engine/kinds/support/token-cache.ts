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
  return new ClockTokenCache<T>(capacity, now);
}

/**
 * A class rather than an object literal: a literal with a getter (`size`) is a dictionary-mode
 * object in V8, ~250 bytes more per jwt-verify node of every loaded workflow. The map is made at
 * the first insertion: an idle node holds none.
 */
class ClockTokenCache<T extends CachedToken> implements TokenCache<T> {
  #byKey: Map<string, T> | undefined = undefined;
  readonly #ring: Array<T | undefined> = [];
  #hand = 0;
  #sweep = 0;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(capacity: number, now: () => number) {
    this.#capacity = capacity;
    this.#now = now;
  }

  /** Every entry dropped is the one its key maps to: an entry replaced under its key leaves the ring then (`previous` below). */
  #drop(entry: T): void {
    this.#ring[entry.slot] = undefined;
    this.#byKey!.delete(keyOf(entry.header));
  }

  get(header: string): T | undefined {
    const entry = this.#byKey?.get(keyOf(header));
    if (entry === undefined || entry.header !== header) return undefined;
    if (entry.expiresAt > this.#now()) {
      entry.used = true;
      return entry;
    }
    this.#drop(entry);
    return undefined;
  }

  set(entry: T): void {
    const byKey = (this.#byKey ??= new Map());
    const ring = this.#ring;
    const capacity = this.#capacity;
    const at = this.#now();
    for (let i = 0; i < SWEEP; i++) {
      this.#sweep = this.#sweep < ring.length - 1 ? this.#sweep + 1 : 0;
      const swept = ring[this.#sweep];
      if (swept !== undefined && swept.expiresAt <= at) this.#drop(swept);
    }
    const key = keyOf(entry.header);
    const previous = byKey.get(key); // the same header verified again, or another with the same last characters
    if (previous !== undefined) this.#drop(previous);
    let hand = this.#hand;
    for (;;) {
      const held = ring[hand]; // undefined past the end while the ring grows
      if (held === undefined) break;
      if (!held.used || held.expiresAt <= at) {
        this.#drop(held);
        break;
      }
      held.used = false;
      hand = hand < capacity - 1 ? hand + 1 : 0;
    }
    entry.slot = hand;
    ring[hand] = entry;
    byKey.set(key, entry);
    this.#hand = hand < capacity - 1 ? hand + 1 : 0;
  }

  get size(): number {
    return this.#byKey?.size ?? 0;
  }
}
