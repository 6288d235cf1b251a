import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A cache file of checksummed lines, `checksum key text` (a key holds no space, a text no newline;
 * the text is read as it is, not parsed out of an envelope: ~0.1 s of a restart of 10,000 workflows):
 * what a process
 * computed, kept for the next one on this data dir (transition tables, validated graphs). A line
 * that is torn or altered is not taken; a file past its size bound is started afresh at open (the
 * entries of workflows long gone pile up otherwise); a file that cannot be read or written leaves
 * the cache in memory only.
 */
export interface LineFile {
  /** The text of each key read at open (a later line of a key wins); the cache takes its own out. */
  readonly texts: Map<string, string>;
  /** Lines taken and lines refused at open. */
  readonly loaded: { entries: number; refused: number };
  /** Appends a line (written in batches, in the background). */
  append(key: string, text: string): void;
  /** Resolves once what was appended is written. */
  flush(): Promise<void>;
}

const checksum = (key: string, text: string) => createHash('sha256').update(key).update('\n').update(text).digest('hex').slice(0, 32);

/** The line `append` writes: exported for the tests that alter one. */
export function lineOf(key: string, text: string): string {
  if (/[\s]/.test(key) || text.includes('\n')) throw new Error('a cache line\'s key holds no white space and its text no newline');
  return `${checksum(key, text)} ${key} ${text}\n`;
}

export async function openLineFile(file: string | undefined, maxBytes: number): Promise<LineFile> {
  const texts = new Map<string, string>();
  const loaded = { entries: 0, refused: 0 };
  let pending: string[] = [];
  let writing: Promise<void> = Promise.resolve();
  let writable = file !== undefined;
  if (file !== undefined) {
    try {
      await mkdir(dirname(file), { recursive: true });
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : Promise.reject(error)));
      if (Buffer.byteLength(text) > maxBytes) await writeFile(file, '', { mode: 0o600 });
      else
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const afterChecksum = line.indexOf(' ');
          const afterKey = line.indexOf(' ', afterChecksum + 1);
          const key = line.slice(afterChecksum + 1, afterKey);
          const text = line.slice(afterKey + 1);
          if (afterChecksum < 0 || afterKey < 0 || line.slice(0, afterChecksum) !== checksum(key, text)) loaded.refused++;
          else {
            texts.set(key, text);
            loaded.entries++;
          }
        }
    } catch {
      writable = false;
    }
  }
  return {
    texts,
    loaded,
    append(key, text) {
      if (!writable) return;
      pending.push(lineOf(key, text));
      if (pending.length === 1)
        writing = writing.then(async () => {
          const lines = pending.join('');
          pending = [];
          await appendFile(file!, lines, { mode: 0o600 }).catch(() => (writable = false));
        });
    },
    flush() {
      return writing;
    },
  };
}
