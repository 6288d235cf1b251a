import { randomBytes } from 'node:crypto';
import { mkdirSync, watch } from 'node:fs';
import { open, readdir, readFile, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sealEntry, verifyAuditChain, type AuditEntry } from './audit.ts';
import type { Store, StoreState, Transition } from './types.ts';

const EMPTY: StoreState = { revision: 0, workflows: {}, catalog: undefined };

/** Writes a file so that readers see the old or the new content, never a torn one, even across a crash. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await syncDirectory(file.slice(0, file.lastIndexOf('/')) || '.');
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic
  } finally {
    await handle.close();
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The audit log's complete lines (a final line torn by a crash mid-append has no newline yet) and their byte length. */
async function readAuditLines(file: string): Promise<{ lines: string[]; bytes: number; torn: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], bytes: 0, torn: false };
    throw error;
  }
  const end = text.lastIndexOf('\n') + 1;
  return { lines: end === 0 ? [] : text.slice(0, end - 1).split('\n'), bytes: Buffer.byteLength(text.slice(0, end)), torn: end < text.length };
}

/**
 * Reads the audit log. With `repair`, a final line torn by a crash mid-append (never
 * acknowledged) is cut off; without it, such a line is just not returned.
 */
async function readAuditLog(file: string, repair = false): Promise<AuditEntry[]> {
  const { lines, bytes, torn } = await readAuditLines(file);
  const entries = lines.map((line, i) => {
    try {
      return JSON.parse(line) as AuditEntry;
    } catch {
      throw new Error(`${file}: line ${i + 1} is not an audit entry (GET /admin/api/audit/verify reports where the log was damaged)`);
    }
  });
  if (repair && torn) await truncate(file, bytes);
  return entries;
}

/**
 * The embedded default store: a directory of files, no server needed.
 * - `objects/<sha256>.json`: documents by content hash (written before anything refers to them)
 * - `audit.jsonl`: the hash-chained audit log, one entry a line, appended and fsynced
 * - `state.json`: workflows, versions, drafts and active pointers, as of the last entry
 * - `pending.json`: the commit record: the entry and the state it leads to, written first;
 *   a crash after it is redone on the next open, a crash before it leaves nothing behind.
 * Changes in one process are serialised; `revision` is the last entry's sequence number.
 */
export async function openFileStore(dir: string): Promise<Store> {
  mkdirSync(join(dir, 'objects'), { recursive: true });
  const auditFile = join(dir, 'audit.jsonl');
  const stateFile = join(dir, 'state.json');
  const pendingFile = join(dir, 'pending.json');
  const objectFile = (hash: string) => join(dir, 'objects', `${hash}.json`);

  // Recover: finish a commit that was recorded but not fully applied.
  let log = await readAuditLog(auditFile, true);
  const pending = await readJson<{ entry: AuditEntry; state: StoreState }>(pendingFile);
  if (pending) {
    if ((log[log.length - 1]?.seq ?? 0) < pending.entry.seq) {
      await appendLine(auditFile, pending.entry);
      log = [...log, pending.entry];
    }
    await writeFileAtomic(stateFile, JSON.stringify(pending.state));
    await unlink(pendingFile);
  }
  // Temp files of writes a crash interrupted: documents are written in objects/, the rest beside them.
  for (const folder of [dir, join(dir, 'objects')])
    for (const name of await readdir(folder)) if (name.endsWith('.tmp')) await unlink(join(folder, name)).catch(() => undefined);
  let state: StoreState = (await readJson<StoreState>(stateFile)) ?? EMPTY;
  let head: Pick<AuditEntry, 'seq' | 'hash'> | undefined = log[log.length - 1];
  log = []; // the log is read again on demand; only its head is kept in memory

  const listeners = new Set<(revision: number) => void>();
  let queue: Promise<unknown> = Promise.resolve();

  async function appendLine(file: string, entry: AuditEntry) {
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.appendFile(`${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Set when a write failed half-way: this process no longer knows what is on disk; a restart recovers from pending.json. */
  let broken: Error | undefined;

  async function commit<T>(body: (state: StoreState) => Transition<T> | Promise<Transition<T>>) {
    if (broken) throw new Error(`the store stopped taking changes after a failed write (${broken.message}); restart to recover`, { cause: broken });
    const transition = await body(structuredClone(state));
    // objects are named by their content: one that exists already (a draft published as is) is not written again
    for (const { hash, document } of transition.documents ?? []) if (!(await exists(objectFile(hash)))) await writeFileAtomic(objectFile(hash), canonicalJson(document));
    const entry = sealEntry(transition.entry, head);
    const next: StoreState = { ...(transition.state ?? state), revision: entry.seq, head: entry.hash };
    // Written atomically (a temporary file renamed): when this fails nothing is committed, and the
    // store keeps taking changes once the disk has room again.
    await writeFileAtomic(pendingFile, JSON.stringify({ entry, state: next }));
    try {
      await appendLine(auditFile, entry);
      await writeFileAtomic(stateFile, JSON.stringify(next));
      await unlink(pendingFile);
    } catch (error) {
      // The entry may be in the log already: a next change sealed on the old head would fork the chain.
      broken = error as Error;
      throw error;
    }
    state = next;
    head = entry;
    for (const listener of listeners) {
      try {
        listener(entry.seq);
      } catch {
        // a listener's failure is its own: the change is committed and must be acknowledged
      }
    }
    return { revision: entry.seq, entry, result: transition.result };
  }

  /**
   * Another process sharing the directory (a second gateway on the same data dir) committed: take
   * its state and tell the listeners, so it serves the change as fast as its own. One writer at a
   * time is still assumed: two processes committing at once would fork the audit chain.
   */
  const adopt = async () => {
    const disk = await readJson<StoreState>(stateFile).catch(() => undefined);
    if (!disk || disk.revision <= state.revision || disk.head === undefined) return;
    state = disk;
    head = { seq: disk.revision, hash: disk.head };
    for (const listener of listeners) {
      try {
        listener(disk.revision);
      } catch {
        // the listener's own failure
      }
    }
  };
  const watcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name === 'state.json') queue = queue.then(adopt);
  });
  watcher.on('error', () => undefined);

  return {
    kind: 'file',
    async state() {
      return structuredClone(state);
    },
    async document(hash) {
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a document hash: ${hash}`);
      return JSON.parse(await readFile(objectFile(hash), 'utf8'));
    },
    transact(body) {
      const run = queue.then(() => commit(body));
      queue = run.catch(() => undefined);
      return run;
    },
    async audit(options = {}) {
      const entries = await readAuditLog(auditFile);
      const after = options.after ?? 0;
      const from = entries.filter((e) => e.seq > after);
      return options.limit === undefined ? from : from.slice(0, options.limit);
    },
    async verifyAudit() {
      // The state first: the log is appended before the state is written, so it reaches at least this revision.
      const anchor = { revision: state.revision, head: state.head };
      const { lines } = await readAuditLines(auditFile);
      const entries = lines.map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return line;
        }
      });
      return verifyAuditChain(entries, anchor);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      watcher.close();
      await queue;
      listeners.clear();
    },
  };
}

