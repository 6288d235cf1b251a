import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
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

/**
 * The workflow files of the embedded default: one JSON document per file, hot-reloaded on
 * change. A file over `maxBytes` is reported by its size, never read.
 */
export function createWorkflowDirectory(dir: string, options: { debounceMs?: number; maxBytes?: number } = {}): WorkflowDirectory {
  const { debounceMs = 100, maxBytes = Number.POSITIVE_INFINITY } = options;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    dir,
    async read() {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
      const files: WorkflowFile[] = [];
      for (const file of names) {
        try {
          const { size, mtimeMs } = await stat(join(dir, file));
          if (size > maxBytes) files.push({ file, tooLarge: { bytes: size, modified: mtimeMs } });
          else files.push({ file, text: await readFile(join(dir, file), 'utf8') });
        } catch {
          // removed between readdir and readFile: the next change event reads the directory again
        }
      }
      return files;
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
