/** Fan-out of each of the two levels above the leaves: 64 x 64 leaves, a few records each at 10,000. */
const FAN = 64;

/** FNV-1a of a string: its low 6 bits pick the branch, the next 6 the leaf. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A record, its key, and its place in the map's order (when its key was first put). */
type Entry<T> = readonly [key: string, value: T, order: number];
type Leaf<T> = ReadonlyArray<Entry<T>>;
type Branch<T> = ReadonlyArray<Leaf<T>>;

const EMPTY_LEAF: Leaf<never> = Object.freeze([]);
const EMPTY_BRANCH: Branch<never> = Object.freeze(Array.from({ length: FAN }, () => EMPTY_LEAF));

/** Freezes a value and everything in it not frozen yet (what a store hands out is frozen); record maps are frozen as they are made. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof RecordMap)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

const find = <T>(leaf: Leaf<T>, key: string) => leaf.findIndex((entry) => entry[0] === key);

/**
 * An immutable map of records by id (the store's workflows): `with` and `without` answer a new
 * map sharing all but one leaf (of a few records) and two short arrays above it with this one, so
 * a change to one workflow among 10,000 costs the same as among 10, and `changes` finds what
 * differs between two maps by the branches and leaves that are not the same object. Iterates in
 * the order keys were first put, as a plain object does (but without putting integer-like keys
 * first); JSON.stringify gives a plain object. "constructor" or "__proto__" are keys like any.
 * @example
 * const next = state.workflows.with('orders', record); // state.workflows is unchanged
 * for (const [id, record] of RecordMap.changes(before, next).set) ...
 */
export class RecordMap<T> implements ReadonlyMap<string, T> {
  readonly size: number;
  readonly #branches: ReadonlyArray<Branch<T>>;
  /** The next key's place in the order. */
  readonly #nextOrder: number;
  /** The entries in order, made when first iterated. */
  #sorted: Array<Entry<T>> | undefined;

  private constructor(branches: ReadonlyArray<Branch<T>>, size: number, nextOrder: number) {
    this.#branches = branches;
    this.size = size;
    this.#nextOrder = nextOrder;
    Object.freeze(this);
  }

  static empty<T>(): RecordMap<T> {
    return new RecordMap<T>(Object.freeze(Array.from({ length: FAN }, () => EMPTY_BRANCH as Branch<T>)), 0, 0);
  }

  /** A map of a plain object's own members (a state as read from JSON) or of entries, in their order; values are frozen. */
  static from<T>(source: Readonly<Record<string, T>> | Iterable<readonly [string, T]> | RecordMap<T>): RecordMap<T> {
    if (source instanceof RecordMap) return source;
    const entries = Symbol.iterator in source ? (source as Iterable<readonly [string, T]>) : Object.entries(source as Record<string, T>);
    return RecordMap.empty<T>().patch(entries);
  }

  #leaf(hash: number): Leaf<T> {
    return this.#branches[hash & (FAN - 1)]![(hash >>> 6) & (FAN - 1)]!;
  }

  get(key: string): T | undefined {
    const leaf = this.#leaf(hashOf(key));
    for (const entry of leaf) if (entry[0] === key) return entry[1];
    return undefined;
  }

  has(key: string): boolean {
    return find(this.#leaf(hashOf(key)), key) >= 0;
  }

  /** This map with `key` set to `value` (frozen); a key already here keeps its place in the order. */
  with(key: string, value: T): RecordMap<T> {
    if (value === undefined) return this.without(key);
    const hash = hashOf(key);
    const b = hash & (FAN - 1);
    const l = (hash >>> 6) & (FAN - 1);
    const leaf = this.#branches[b]![l]!.slice();
    const at = find(leaf, key);
    if (at >= 0 && leaf[at]![1] === value) return this;
    if (at >= 0) leaf[at] = Object.freeze([key, deepFreeze(value), leaf[at]![2]] as const);
    else leaf.push(Object.freeze([key, deepFreeze(value), this.#nextOrder] as const));
    const branch = this.#branches[b]!.slice();
    branch[l] = Object.freeze(leaf);
    const branches = this.#branches.slice();
    branches[b] = Object.freeze(branch);
    return new RecordMap<T>(Object.freeze(branches), this.size + (at >= 0 ? 0 : 1), this.#nextOrder + (at >= 0 ? 0 : 1));
  }

  /** This map without `key`. */
  without(key: string): RecordMap<T> {
    if (!this.has(key)) return this;
    return this.patch([[key, undefined]]);
  }

  /**
   * This map with each of `changes` applied in order (a value set, or undefined: the key dropped),
   * each leaf and branch copied once whatever the number of its changes: a change log replayed at
   * open, a state read from JSON.
   */
  patch(changes: Iterable<readonly [string, T | undefined]>): RecordMap<T> {
    const branches = this.#branches.slice() as Array<Branch<T>>;
    /** Branches and leaves of this patch's own (copied), by branch and by branch * FAN + leaf. */
    const ownBranches = new Set<number>();
    const ownLeaves = new Map<number, Array<Entry<T>>>();
    let size = this.size;
    let nextOrder = this.#nextOrder;
    for (const [key, value] of changes) {
      const hash = hashOf(key);
      const b = hash & (FAN - 1);
      const l = (hash >>> 6) & (FAN - 1);
      const slot = b * FAN + l;
      let leaf = ownLeaves.get(slot);
      if (leaf === undefined) {
        if (!ownBranches.has(b)) {
          branches[b] = branches[b]!.slice();
          ownBranches.add(b);
        }
        leaf = branches[b]![l]!.slice();
        (branches[b] as Array<Leaf<T>>)[l] = leaf;
        ownLeaves.set(slot, leaf);
      }
      const at = find(leaf, key);
      if (value === undefined) {
        if (at < 0) continue;
        leaf.splice(at, 1);
        size--;
      } else if (at >= 0) leaf[at] = Object.freeze([key, deepFreeze(value), leaf[at]![2]] as const);
      else {
        leaf.push(Object.freeze([key, deepFreeze(value), nextOrder++] as const));
        size++;
      }
    }
    if (ownLeaves.size === 0) return this;
    for (const leaf of ownLeaves.values()) Object.freeze(leaf);
    for (const b of ownBranches) Object.freeze(branches[b]);
    return new RecordMap<T>(Object.freeze(branches), size, nextOrder);
  }

  /**
   * What differs from `before` to `after`: the keys set to another value (or added) and the keys
   * dropped. Looks only into branches and leaves that are not the same object in both, so two
   * versions of a map a few changes apart are compared in time of those changes.
   */
  static changes<T>(before: RecordMap<T>, after: RecordMap<T>): { set: Array<[string, T]>; dropped: string[] } {
    const set: Array<[string, T]> = [];
    const dropped: string[] = [];
    if (before === after) return { set, dropped };
    for (let b = 0; b < FAN; b++) {
      const was = before.#branches[b]!;
      const is = after.#branches[b]!;
      if (was === is) continue;
      for (let l = 0; l < FAN; l++) {
        const a = was[l]!;
        const z = is[l]!;
        if (a === z) continue;
        for (const [key, value] of z) {
          const at = find(a, key);
          if (at < 0 || a[at]![1] !== value) set.push([key, value]);
        }
        for (const [key] of a) if (find(z, key) < 0) dropped.push(key);
      }
    }
    return { set, dropped };
  }

  #inOrder(): ReadonlyArray<Entry<T>> {
    if (this.#sorted === undefined) {
      const entries: Array<Entry<T>> = [];
      for (const branch of this.#branches) if (branch !== EMPTY_BRANCH) for (const leaf of branch) for (const entry of leaf) entries.push(entry);
      this.#sorted = entries.sort((x, y) => x[2] - y[2]);
    }
    return this.#sorted;
  }

  *keys(): MapIterator<string> {
    for (const entry of this.#inOrder()) yield entry[0];
  }

  *values(): MapIterator<T> {
    for (const entry of this.#inOrder()) yield entry[1];
  }

  *entries(): MapIterator<[string, T]> {
    for (const [key, value] of this.#inOrder()) yield [key, value];
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }

  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#inOrder()) callback.call(thisArg, value, key, this);
  }

  /** The records as a plain object, in order: what JSON.stringify writes. */
  toJSON(): Record<string, T> {
    const object: Record<string, T> = {};
    for (const [key, value] of this.#inOrder()) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    return object;
  }
}
