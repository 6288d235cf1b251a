import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';

/** A workflow file as read from disk; a file larger than the document limit is not read, only measured. */
type WorkflowFile = { file: string; text: string } | { file: string; tooLarge: { bytes: number; modified: number } };

export interface WorkflowDirectory {
  readonly dir: string;
  read(): Promise<WorkflowFile[]>;
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

/** What identifies a file's content without reading it: another inode, size or modification time (ns) is another content. */
const stampOf = (st: BigIntStats) => `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

/**
 * The workflow files of the embedded default: one JSON document per file, hot-reloaded on
 * change. A file over `maxBytes` is reported by its size, never read. A file whose inode, size
 * and times are those of the last read is not read again: its text is the same string as then
 * (so a change to one file among 10,000 reads one file).
 */
export function createWorkflowDirectory(dir: string, options: { debounceMs?: number; maxBytes?: number } = {}): WorkflowDirectory {
  const { debounceMs = 100, maxBytes = Number.POSITIVE_INFINITY } = options;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** file -> its stamp and text at the last read */
  let known = new Map<string, { stamp: string; text: string }>();
  return {
    dir,
    async read() {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
      const files = Array.from({ length: names.length }, (): WorkflowFile | undefined => undefined);
      const seen = new Map<string, { stamp: string; text: string }>();
      let next = 0;
      const reader = async () => {
        while (next < names.length) {
          const at = next++;
          const file = names[at]!;
          try {
            const st = await stat(join(dir, file), { bigint: true });
            if (st.size > BigInt(maxBytes)) {
              files[at] = { file, tooLarge: { bytes: Number(st.size), modified: Number(st.mtimeMs) } };
              continue;
            }
            const stamp = stampOf(st);
            const before = known.get(file);
            const text = before?.stamp === stamp ? before.text : await readFile(join(dir, file), 'utf8');
            seen.set(file, { stamp, text });
            files[at] = { file, text };
          } catch {
            // removed between readdir and readFile: the next change event reads the directory again
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(READS, names.length) }, reader));
      known = seen;
      return files.filter((f): f is WorkflowFile => f !== undefined);
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
