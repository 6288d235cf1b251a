import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A cache file of checksummed lines, `checksum key text` (a key holds no white space, a text no
 * newline): what a process computed, kept for the next one on this data dir (transition tables,
 * validated graphs). A line that is torn or altered is not taken; a file past its size bound is
 * started afresh at open (the entries of workflows long gone pile up otherwise); a file that
 * cannot be read or written leaves the cache in memory only.
 */
export interface LineFile {
  /** The text of `key` read at open (a later line of a key wins), taken out: each is read once. */
  take(key: string): string | undefined;
  /** Lets go of the texts read at open and not taken. */
  clear(): void;
  /** Lines taken and lines refused at open. */
  readonly loaded: { entries: number; refused: number };
  /** Appends a line (written in batches, in the background). */
  append(key: string, text: string): void;
  /** Resolves once what was appended is written. */
  flush(): Promise<void>;
}

const checksum = (key: string, text: string | Buffer) => createHash('sha256').update(key).update('\n').update(text).digest('hex').slice(0, 32);

/** The line `append` writes: exported for the tests that alter one. */
export function lineOf(key: string, text: string): string {
  if (/[\s]/.test(key) || text.includes('\n')) throw new Error('a cache line\'s key holds no white space and its text no newline');
  return `${checksum(key, text)} ${key} ${text}\n`;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Opens a line file. Its lines stay bytes until taken (checked at open against their checksums,
 * each text decoded when taken): a restart of 10,000 workflows read 23 MB of graphs, and decoding
 * the whole file into one string first cost ~0.1 s on this VM.
 */
export async function openLineFile(file: string | undefined, maxBytes: number): Promise<LineFile> {
  const texts = new Map<string, Buffer>();
  const loaded = { entries: 0, refused: 0 };
  let pending: string[] = [];
  let writing: Promise<void> = Promise.resolve();
  let writable = file !== undefined;
  if (file !== undefined) {
    try {
      await mkdir(dirname(file), { recursive: true });
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(error)));
      if (bytes.length > maxBytes) await writeFile(file, '', { mode: 0o600 });
      else
        for (let start = 0; start < bytes.length; ) {
          let end = bytes.indexOf(NEWLINE, start);
          if (end < 0) end = bytes.length;
          if (end > start) {
            const afterChecksum = bytes.indexOf(SPACE, start);
            const afterKey = afterChecksum < 0 || afterChecksum >= end ? -1 : bytes.indexOf(SPACE, afterChecksum + 1);
            const key = afterKey < 0 || afterKey >= end ? undefined : bytes.toString('latin1', afterChecksum + 1, afterKey);
            const text = key === undefined ? undefined : bytes.subarray(afterKey + 1, end);
            if (key === undefined || bytes.toString('latin1', start, afterChecksum) !== checksum(key, text!)) loaded.refused++;
            else {
              texts.set(key, text!);
              loaded.entries++;
            }
          }
          start = end + 1;
        }
    } catch {
      writable = false;
    }
  }
  return {
    take(key) {
      const text = texts.get(key);
      if (text === undefined) return undefined;
      texts.delete(key);
      return text.toString('utf8');
    },
    clear() {
      texts.clear();
    },
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
