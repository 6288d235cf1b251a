import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A workflow file as read from disk. */
export interface WorkflowFile {
  file: string;
  text: string;
}

export interface WorkflowDirectory {
  readonly dir: string;
  read(): Promise<WorkflowFile[]>;
  /** Calls `onChange` (debounced) whenever anything in the directory changes. */
  watch(onChange: () => void): void;
  close(): void;
}

/** The workflow files of the embedded default: one JSON document per file, hot-reloaded on change. */
export function createWorkflowDirectory(dir: string, debounceMs = 100): WorkflowDirectory {
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
          files.push({ file, text: await readFile(join(dir, file), 'utf8') });
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
