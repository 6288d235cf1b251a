import { statSync, watch, type BigIntStats, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A workflow file as read from disk, with its stamp (what identifies its content without reading
 * it); a file larger than the document limit is not read, only measured; a file the reader knows
 * by its stamp is not read (no `text`).
 */
type ReadFile = { file: string; stamp: string; text: string; changedAt: number };
type KnownFile = { file: string; stamp: string; text?: undefined; changedAt: number };
type LargeFile = { file: string; tooLarge: { bytes: number; modified: number } };
type WorkflowFile = ReadFile | KnownFile | LargeFile;

export interface WorkflowDirectory {
  readonly dir: string;
  /** The files, each read. */
  read(): Promise<Array<ReadFile | LargeFile>>;
  /** The files; those for which `known(file, stamp)` answers true are not read. */
  read(known: (file: string, stamp: string) => boolean): Promise<WorkflowFile[]>;
  /** Calls `onChange` (debounced) whenever anything in the directory changes. */
  watch(onChange: () => void): void;
  close(): void;
}

/**
 * How many times the document limit (SLUICE_MAX_DOCUMENT) a workflow file may be and still be
 * read: room for indentation, since the limit counts the document as compact JSON (checked
 * when it is validated).
 */
export const FILE_SIZE_FACTOR = 4;

/** Files read at once: the reads of a directory of 10,000 files overlap instead of queueing one by one. */
const READS = 64;

/**
 * Files stat'ed per turn of the event loop. Synchronously: a promised stat cost ~12 µs of the
 * main thread a file (its request object and result array), a synchronous one ~3 µs, so a
 * directory of 10,000 known files is looked over in ~30 ms instead of ~120, ~1 ms a turn.
 */
const STATS_PER_TURN = 256;

/** What identifies a file's content without reading it: another inode, size or modification time (ns) is another content. */
const stampOf = (st: BigIntStats) => `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/**
 * The workflow files of the embedded default: one JSON document per file, hot-reloaded on
 * change. A file over `maxBytes` is reported by its size, never read. Files are read many at
 * once; one the caller knows by its stamp (inode, size and times unchanged) is not read at all,
 * so a change to one file among 10,000 reads one file.
 */
export function createWorkflowDirectory(dir: string, options: { debounceMs?: number; maxBytes?: number } = {}): WorkflowDirectory {
  const { debounceMs = 100, maxBytes = Number.POSITIVE_INFINITY } = options;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    dir,
    async read(known: (file: string, stamp: string) => boolean = () => false): Promise<never[]> {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
      const files = Array.from({ length: names.length }, (): WorkflowFile | undefined => undefined);
      /** Files to read, by their place in `names`, with their stamps. */
      const unread: Array<{ at: number; stamp: string; changedAt: number }> = [];
      for (let at = 0; at < names.length; at++) {
        if (at > 0 && at % STATS_PER_TURN === 0) await nextTurn();
        const file = names[at]!;
        let st: BigIntStats | undefined;
        try {
          st = statSync(join(dir, file), { bigint: true, throwIfNoEntry: false });
        } catch {
          // unreadable: as a removed file, the next change event reads the directory again
        }
        if (st === undefined) continue;
        if (Number(st.size) > maxBytes) {
          files[at] = { file, tooLarge: { bytes: Number(st.size), modified: Number(st.mtimeMs) } };
          continue;
        }
        const stamp = stampOf(st);
        // when the content last changed, to the millisecond (the later of mtime and ctime)
        const changedAt = Number((st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs) / 1_000_000n);
        if (known(file, stamp)) files[at] = { file, stamp, changedAt };
        else unread.push({ at, stamp, changedAt });
      }
      let next = 0;
      const reader = async () => {
        while (next < unread.length) {
          const { at, stamp, changedAt } = unread[next++]!;
          const file = names[at]!;
          try {
            files[at] = { file, stamp, changedAt, text: await readFile(join(dir, file), 'utf8') };
          } catch {
            // removed between its stat and its read: the next change event reads the directory again
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(READS, unread.length) }, reader));
      return files.filter((f): f is WorkflowFile => f !== undefined) as never[];
    },
    watch(onChange) {
      // Every event counts, not only *.json ones: a ConfigMap-style mount swaps a "..data" link to
      // a new directory, and an editor may rename a temp file over the original. Reading is cheap
      // and an unchanged file makes no new version.
      watcher = watch(dir, { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      });
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
