import type { AuditEntry } from './audit.ts';
import { RecordMap } from './record-map.ts';
import { freezeState, type StoreState } from './types.ts';

/**
 * Members of the state that are maps by id (workflows, partners, …): a change records only the
 * entries it sets or drops, so a change to one workflow among 10,000 writes that one record.
 */
const MAP_MEMBERS: ReadonlySet<string> = new Set(['workflows', 'fragments', 'partners', 'products', 'plans']);

/**
 * One committed change as the file store's change log keeps it: the audit entry (its `seq` and
 * `hash` are the state's `revision` and `head` after it) and what it changed of the state.
 */
export interface ChangeLine {
  entry: AuditEntry;
  /** Top-level members given a new value (whole). */
  set?: Record<string, unknown>;
  /** Top-level members removed. */
  unset?: string[];
  /** Map members changed entry by entry: entries set (whole records) and entries dropped. */
  maps?: Record<string, { set?: Record<string, unknown>; drop?: string[] }>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets an own property whatever its name ("__proto__" included), as JSON.parse would. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * What `after` changed of `before`, as a change line. States share what a change leaves alone
 * (stores hand out frozen states and a change builds on the one it was given), so a member or
 * record that is the same object is unchanged and not looked into.
 */
export function changeOf(before: StoreState, after: StoreState, entry: AuditEntry): ChangeLine {
  const line: ChangeLine = { entry };
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'revision' || key === 'head') continue;
    const was = a[key];
    const is = b[key];
    if (was === is) continue;
    if (was instanceof RecordMap && is instanceof RecordMap) {
      // compared by the buckets that differ: the time of the change, not of the map
      const { set, dropped } = RecordMap.changes(was, is);
      const members: Record<string, unknown> = {};
      for (const [id, record] of set) put(members, id, record);
      if (set.length > 0 || dropped.length > 0) put((line.maps ??= {}), key, { ...(set.length > 0 ? { set: members } : {}), ...(dropped.length > 0 ? { drop: dropped } : {}) });
    } else if (MAP_MEMBERS.has(key) && isPlainObject(was) && isPlainObject(is)) {
      const set: Record<string, unknown> = {};
      const drop: string[] = [];
      for (const id of Object.keys(is)) {
        const record = is[id];
        if (record === undefined) {
          if (Object.hasOwn(was, id)) drop.push(id);
        } else if (!Object.hasOwn(was, id) || was[id] !== record) put(set, id, record);
      }
      for (const id of Object.keys(was)) if (!Object.hasOwn(is, id) && was[id] !== undefined) drop.push(id);
      const changed = Object.keys(set).length > 0;
      if (changed || drop.length > 0) put((line.maps ??= {}), key, { ...(changed ? { set } : {}), ...(drop.length > 0 ? { drop } : {}) });
    } else if (is === undefined) (line.unset ??= []).push(key);
    else put((line.set ??= {}), key, is);
  }
  return line;
}

/**
 * The state after `lines` (in order, each the next revision of `base`), frozen. Members and
 * records the lines leave alone stay the objects of `base`; a map a line changes is copied once
 * for all the lines, not once per line.
 */
export function applyChanges(base: StoreState, lines: readonly ChangeLine[]): StoreState {
  if (lines.length === 0) return base;
  const next: Record<string, unknown> = { ...base };
  /** Map members this call copied already. */
  const own = new Set<string>();
  /** Changes to record maps, in order, applied after the last line. */
  const patches = new Map<string, Array<[string, unknown]>>();
  for (const { entry, set, unset, maps } of lines) {
    for (const [key, value] of Object.entries(set ?? {})) {
      put(next, key, key === 'workflows' ? RecordMap.from(value as Record<string, unknown>) : value);
      own.delete(key); // the line's own object: copied before a later line changes it
      patches.delete(key); // the member whole, as of this line
    }
    for (const key of unset ?? []) {
      delete next[key];
      own.delete(key);
    }
    for (const [key, change] of Object.entries(maps ?? {})) {
      const records = next[key];
      if (records instanceof RecordMap) {
        // collected over the lines, applied once at the end: each bucket copied once
        let pending = patches.get(key);
        if (pending === undefined) patches.set(key, (pending = []));
        for (const [id, record] of Object.entries(change.set ?? {})) pending.push([id, record]);
        for (const id of change.drop ?? []) pending.push([id, undefined]);
        continue;
      }
      if (!own.has(key)) {
        put(next, key, isPlainObject(next[key]) ? { ...(next[key] as Record<string, unknown>) } : {});
        own.add(key);
      }
      const map = next[key] as Record<string, unknown>;
      for (const [id, record] of Object.entries(change.set ?? {})) put(map, id, record);
      for (const id of change.drop ?? []) delete map[id];
    }
    next.revision = entry.seq;
    next.head = entry.hash;
  }
  for (const [key, changes] of patches) next[key] = (next[key] as RecordMap<unknown>).patch(changes);
  return freezeState(next as unknown as StoreState);
}

/**
 * Parses the complete lines of a change-log text: `bytes` is how far they go; what follows the
 * last newline is a line being appended (or torn by a crash) and left for later. A complete line
 * that is not a change ends the reading there, with `damaged` set: the log was altered.
 */
export function parseChangeLines(text: string): { lines: ChangeLine[]; bytes: number; damaged: boolean } {
  const lines: ChangeLine[] = [];
  let start = 0;
  let bytes = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) return { lines, bytes, damaged: false };
    let line: ChangeLine;
    try {
      line = JSON.parse(text.slice(start, end)) as ChangeLine;
    } catch {
      return { lines, bytes, damaged: true };
    }
    if (!isPlainObject(line) || !isPlainObject(line.entry) || typeof line.entry.seq !== 'number' || typeof line.entry.hash !== 'string') return { lines, bytes, damaged: true };
    lines.push(line);
    bytes += Buffer.byteLength(text.slice(start, end + 1));
    start = end + 1;
  }
}

/**
 * The lines of `lines` that follow revision `revision` one by one (revision + 1, + 2, …); lines
 * at or before it are skipped. Undefined when the first one after it is missing (a gap: the
 * lines read are not the continuation of that revision).
 */
export function continuation(lines: readonly ChangeLine[], revision: number): ChangeLine[] | undefined {
  const after = lines.filter((line) => line.entry.seq > revision);
  for (let i = 0; i < after.length; i++) if (after[i]!.entry.seq !== revision + 1 + i) return undefined;
  return after;
}

/** A pause of one event-loop turn every few milliseconds of work, so a long serialisation never holds the loop. */
function createYield(sliceMs = 5): () => Promise<void> | undefined {
  let started = performance.now();
  return () => {
    if (performance.now() - started < sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        started = performance.now();
        resolve();
      }),
    );
  };
}

/**
 * The state as JSON text, made record by record with the event loop's turn every few
 * milliseconds: a state of 10,000 workflows is several megabytes, too long to make in one go
 * while requests wait. Equal to JSON.stringify(state).
 */
export async function stateText(state: StoreState): Promise<string> {
  const pause = createYield();
  const parts: string[] = [];
  for (const [key, value] of Object.entries(state)) {
    if (value === undefined) continue;
    if (!(value instanceof RecordMap) && (!MAP_MEMBERS.has(key) || !isPlainObject(value))) {
      parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
      continue;
    }
    const members: string[] = [];
    for (const [id, record] of value instanceof RecordMap ? value.entries() : Object.entries(value)) {
      if (record === undefined) continue;
      members.push(`${JSON.stringify(id)}:${JSON.stringify(record)}`);
      await pause();
    }
    parts.push(`${JSON.stringify(key)}:{${members.join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}
