/** Buckets of a record map: a change copies one bucket and the bucket table, not every record. */
const BUCKETS = 256;

/** FNV-1a of a string, to a bucket. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

/** One bucket: its records and, for the map's order, when each key was first put. */
interface Bucket<T> {
  readonly values: Readonly<Record<string, T>>;
  readonly order: Readonly<Record<string, number>>;
}

const EMPTY_BUCKET: Bucket<never> = Object.freeze({ values: Object.freeze(Object.create(null) as Record<string, never>), order: Object.freeze(Object.create(null) as Record<string, number>) });

/** Freezes a value and everything in it not frozen yet (what a store hands out is frozen); record maps are frozen as they are made. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof RecordMap)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * An immutable map of records by id (the store's workflows): `with` and `without` answer a new
 * map sharing all but one bucket with this one, so a change to one workflow among 10,000 costs
 * the same as among 10, and `changes` finds what differs between two maps by the buckets that are
 * not the same object. Iterates in the order keys were first put, as a plain object does (but
 * without putting integer-like keys first); JSON.stringify gives a plain object.
 * @example
 * const next = state.workflows.with('orders', record); // state.workflows is unchanged
 * for (const [id, record] of RecordMap.changes(before, next).set) ...
 */
export class RecordMap<T> implements ReadonlyMap<string, T> {
  readonly size: number;
  readonly #buckets: ReadonlyArray<Bucket<T>>;
  /** The next key's place in the order. */
  readonly #nextOrder: number;
  /** Keys in order, made when first iterated. */
  #sorted: string[] | undefined;

  private constructor(buckets: ReadonlyArray<Bucket<T>>, size: number, nextOrder: number) {
    this.#buckets = buckets;
    this.size = size;
    this.#nextOrder = nextOrder;
    Object.freeze(this);
  }

  static empty<T>(): RecordMap<T> {
    return new RecordMap<T>(Object.freeze(Array.from({ length: BUCKETS }, () => EMPTY_BUCKET as Bucket<T>)), 0, 0);
  }

  /** A map of a plain object's own members (a state as read from JSON) or of entries, in their order; values are frozen. */
  static from<T>(source: Readonly<Record<string, T>> | Iterable<readonly [string, T]> | RecordMap<T>): RecordMap<T> {
    if (source instanceof RecordMap) return source;
    const entries = Symbol.iterator in source ? (source as Iterable<readonly [string, T]>) : Object.entries(source as Record<string, T>);
    const buckets = Array.from({ length: BUCKETS }, (): { values: Record<string, T>; order: Record<string, number> } | undefined => undefined);
    let size = 0;
    let next = 0;
    for (const [key, value] of entries) {
      if (value === undefined) continue;
      const i = bucketOf(key);
      const bucket = (buckets[i] ??= { values: Object.create(null) as Record<string, T>, order: Object.create(null) as Record<string, number> });
      if (!(key in bucket.values)) {
        size++;
        bucket.order[key] = next++;
      }
      bucket.values[key] = deepFreeze(value);
    }
    const frozen = Array.from(buckets, (bucket) => (bucket === undefined ? (EMPTY_BUCKET as Bucket<T>) : Object.freeze({ values: Object.freeze(bucket.values), order: Object.freeze(bucket.order) })));
    return new RecordMap<T>(Object.freeze(frozen), size, next);
  }

  get(key: string): T | undefined {
    const values = this.#buckets[bucketOf(key)]!.values;
    // buckets have no prototype: "constructor" or "__proto__" find nothing but a record of that id
    return values[key];
  }

  has(key: string): boolean {
    return key in this.#buckets[bucketOf(key)]!.values;
  }

  /** This map with `key` set to `value` (frozen); a key already here keeps its place in the order. */
  with(key: string, value: T): RecordMap<T> {
    if (value === undefined) return this.without(key);
    const i = bucketOf(key);
    const bucket = this.#buckets[i]!;
    if (bucket.values[key] === value) return this;
    const known = key in bucket.values;
    const values = Object.assign(Object.create(null) as Record<string, T>, bucket.values);
    values[key] = deepFreeze(value);
    const order = known ? bucket.order : Object.freeze(Object.assign(Object.create(null) as Record<string, number>, bucket.order, { [key]: this.#nextOrder }));
    const buckets = this.#buckets.slice();
    buckets[i] = Object.freeze({ values: Object.freeze(values), order });
    return new RecordMap<T>(Object.freeze(buckets), this.size + (known ? 0 : 1), this.#nextOrder + (known ? 0 : 1));
  }

  /**
   * This map with each of `changes` applied in order (a value set, or undefined: the key dropped),
   * each bucket copied once whatever the number of its changes: a change log replayed at open.
   */
  patch(changes: Iterable<readonly [string, T | undefined]>): RecordMap<T> {
    const buckets = this.#buckets.slice();
    const copied = new Set<number>();
    let size = this.size;
    let nextOrder = this.#nextOrder;
    for (const [key, value] of changes) {
      const i = bucketOf(key);
      let bucket = buckets[i]! as { values: Record<string, T>; order: Record<string, number> };
      if (!copied.has(i)) {
        bucket = { values: Object.assign(Object.create(null) as Record<string, T>, bucket.values), order: Object.assign(Object.create(null) as Record<string, number>, bucket.order) };
        buckets[i] = bucket;
        copied.add(i);
      }
      const known = key in bucket.values;
      if (value === undefined) {
        if (!known) continue;
        delete bucket.values[key];
        delete bucket.order[key];
        size--;
      } else {
        bucket.values[key] = deepFreeze(value);
        if (!known) {
          bucket.order[key] = nextOrder++;
          size++;
        }
      }
    }
    if (copied.size === 0) return this;
    for (const i of copied) buckets[i] = Object.freeze({ values: Object.freeze(buckets[i]!.values), order: Object.freeze(buckets[i]!.order) });
    return new RecordMap<T>(Object.freeze(buckets), size, nextOrder);
  }

  /** This map without `key`. */
  without(key: string): RecordMap<T> {
    const i = bucketOf(key);
    const bucket = this.#buckets[i]!;
    if (!(key in bucket.values)) return this;
    const values = Object.assign(Object.create(null) as Record<string, T>, bucket.values);
    const order = Object.assign(Object.create(null) as Record<string, number>, bucket.order);
    delete values[key];
    delete order[key];
    const buckets = this.#buckets.slice();
    buckets[i] = Object.freeze({ values: Object.freeze(values), order: Object.freeze(order) });
    return new RecordMap<T>(Object.freeze(buckets), this.size - 1, this.#nextOrder);
  }

  /**
   * What differs from `before` to `after`: the keys set to another value (or added) and the keys
   * dropped. Looks only into buckets that are not the same object in both, so two versions of a
   * map a few changes apart are compared in time of those changes.
   */
  static changes<T>(before: RecordMap<T>, after: RecordMap<T>): { set: Array<[string, T]>; dropped: string[] } {
    const set: Array<[string, T]> = [];
    const dropped: string[] = [];
    if (before === after) return { set, dropped };
    for (let i = 0; i < BUCKETS; i++) {
      const a = before.#buckets[i]!.values;
      const b = after.#buckets[i]!.values;
      if (a === b) continue;
      for (const key in b) if (a[key] !== b[key]) set.push([key, b[key]!]);
      for (const key in a) if (!(key in b)) dropped.push(key);
    }
    return { set, dropped };
  }

  #keys(): string[] {
    if (this.#sorted === undefined) {
      const keyed: Array<[number, string]> = [];
      for (const bucket of this.#buckets) for (const key in bucket.order) keyed.push([bucket.order[key]!, key]);
      keyed.sort((x, y) => x[0] - y[0]);
      this.#sorted = keyed.map(([, key]) => key);
    }
    return this.#sorted;
  }

  *keys(): MapIterator<string> {
    yield* this.#keys();
  }

  *values(): MapIterator<T> {
    for (const key of this.#keys()) yield this.get(key)!;
  }

  *entries(): MapIterator<[string, T]> {
    for (const key of this.#keys()) yield [key, this.get(key)!];
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }

  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const key of this.#keys()) callback.call(thisArg, this.get(key)!, key, this);
  }

  /** The records as a plain object, in order: what JSON.stringify writes. */
  toJSON(): Record<string, T> {
    const object: Record<string, T> = {};
    for (const key of this.#keys()) Object.defineProperty(object, key, { value: this.get(key), enumerable: true, writable: true, configurable: true });
    return object;
  }
}
