import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { openLineFile } from './line-file.ts';

/** The XState whose answers are cached: another version computes the tables afresh. */
const XSTATE_VERSION = (createRequire(import.meta.url)('xstate/package.json') as { version: string }).version;
/** A cache file larger than this is started afresh at open (tables of workflows long gone pile up otherwise). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Tables kept in memory once computed or read (workflows of one shape compiled together share one); the oldest go first. */
const IN_MEMORY = 2048;

/** A workflow's transition table: for each node state, the state each of its ports (and FAULT_STATE) leads to. */
export type TransitionTable = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * Transition tables XState computed, by the structure they were computed for (shapeOf): a
 * workflow of the same wiring gets the same table, in its own state names. Kept in memory
 * for this process and, with a file, appended to it for the next one on this data dir, so a
 * restart asks XState nothing it asked before (a LineFile: a torn or altered line is not taken),
 * nor a table that does not fit the machine asked for (computed again).
 */
export interface TableCache {
  /** The key of a structure's table (shapeOf): a hash of XState's version and the structure. */
  keyOf(shape: string): string;
  /** The table cached under `key`, in the structure's state names (s0, s1, …). */
  get(key: string): TransitionTable | undefined;
  put(key: string, table: TransitionTable): void;
  /** Drops a table that turned out not to fit (an altered file): it is computed again. */
  forget(key: string): void;
  /** Lines taken and lines refused at open. */
  readonly loaded: { entries: number; refused: number };
  /** Resolves once what was put is written. */
  flush(): Promise<void>;
}

function tableOf(text: string): TransitionTable {
  const entries = JSON.parse(text) as Array<[string, Array<[string, string]>]>;
  return new Map(entries.map(([state, targets]) => [state, new Map(targets)]));
}

/**
 * A table cache, with its file when `file` is given (created when missing). A file that cannot
 * be read or written leaves a cache in memory only: tables are computed as without it.
 */
export async function openTableCache(file?: string): Promise<TableCache> {
  /** the tables read at open, each parsed when asked for (most keys are asked once, at start) */
  const { take, loaded, append, flush } = await openLineFile(file, MAX_FILE_BYTES);
  const tables = new Map<string, TransitionTable>();
  /** shape -> key: the workflows compiled at a start share a few shapes, each hashed once */
  const keys = new Map<string, string>();

  function remember(key: string, table: TransitionTable) {
    tables.delete(key);
    tables.set(key, table);
    if (tables.size > IN_MEMORY) tables.delete(tables.keys().next().value!);
  }

  return {
    loaded,
    keyOf(shape) {
      let key = keys.get(shape);
      if (key === undefined) {
        if (keys.size >= IN_MEMORY) keys.clear();
        key = createHash('sha256').update(XSTATE_VERSION).update('\n').update(shape).digest('hex');
        keys.set(shape, key);
      }
      return key;
    },
    get(key) {
      let table = tables.get(key);
      if (table === undefined) {
        const text = take(key);
        if (text === undefined) return undefined;
        try {
          table = tableOf(text);
        } catch {
          return undefined;
        }
        remember(key, table);
      }
      return table;
    },
    forget(key) {
      tables.delete(key);
    },
    put(key, table) {
      remember(key, table);
      append(key, JSON.stringify([...table].map(([state, targets]) => [state, [...targets]])));
    },
    flush,
  };
}
