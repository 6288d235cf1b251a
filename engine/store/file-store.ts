import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, watch } from 'node:fs';
import { link, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sealEntry, verifyAuditChain, type AuditEntry } from './audit.ts';
import { coalesce } from './coalesce.ts';
import { migrateStore, readState } from './migrations.ts';
import { freezeState, type Store, type StoreState, type Transition } from './types.ts';

/** Writes a file so that readers see the old or the new content, never a torn one, even across a crash. */
async function writeFileAtomic(file: string, text: string): Promise<void> {
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

/** Whether a process id names a live process (a lock left by a dead one is stale; a zombie is dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true; // no /proc: kill(pid, 0) said it exists
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding the store directory's lock: a file holding the owner's pid, created in one
 * step (a hard link to a file already written, so it is never seen empty). Several processes
 * (the workers of `sluice serve --workers N`) change one store this way, one at a time. A lock
 * whose owner died (killed mid-commit) is taken over.
 */
async function withDirectoryLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  const mine = `${lockFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(mine, String(process.pid), { mode: 0o600 });
  try {
    for (;;) {
      try {
        await link(mine, lockFile);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(await readFile(lockFile, 'utf8').catch(() => ''));
        // The owner's own pid is another store of this process, waiting its turn like any other.
        if (owner > 0 && owner !== process.pid && !alive(owner)) {
          await unlink(lockFile).catch(() => undefined);
          continue;
        }
        if (Date.now() > deadline) throw new Error(`the store at ${lockFile} stays locked by process ${owner || '(unknown)'}`);
        await sleep(2);
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

/**
 * The embedded default store: a directory of files, no server needed.
 * - `objects/<sha256>.json`: documents by content hash (written before anything refers to them)
 * - `audit.jsonl`: the hash-chained audit log, one entry a line, appended and fsynced
 * - `state.json`: workflows, versions, drafts and active pointers, as of the last entry
 * - `pending.json`: the commit record: the entry and the state it leads to, written first;
 *   a crash after it is redone on the next open (or the next commit of another process), a
 *   crash before it leaves nothing behind.
 * - `lock`: held while a change is written, so several processes on one host share the store;
 *   each reads `state.json` again under the lock, and watches it to hear of the others' changes.
 * `revision` is the last entry's sequence number.
 */
export async function openFileStore(dir: string, options: { pollMs?: number } = {}): Promise<Store> {
  mkdirSync(join(dir, 'objects'), { recursive: true });
  const auditFile = join(dir, 'audit.jsonl');
  const stateFile = join(dir, 'state.json');
  const pendingFile = join(dir, 'pending.json');
  const lockFile = join(dir, 'lock');
  const objectFile = (hash: string) => join(dir, 'objects', `${hash}.json`);

  /** Finishes a commit that was recorded but not fully applied, and clears interrupted writes. Under the lock. */
  async function recover() {
    const log = await readAuditLog(auditFile, true);
    const pending = await readJson<{ entry: AuditEntry; state: StoreState }>(pendingFile);
    if (pending) {
      if ((log[log.length - 1]?.seq ?? 0) < pending.entry.seq) await appendLine(auditFile, pending.entry);
      await writeFileAtomic(stateFile, JSON.stringify(pending.state));
      await unlink(pendingFile);
    }
    // Temp files of writes a crash interrupted: documents are written in objects/, the rest beside
    // them; a lock.<pid>.*.tmp only once its process is gone (a live one is waiting for the lock).
    const abandoned = (name: string) => name.endsWith('.tmp') && (!name.startsWith('lock.') || !alive(Number(name.split('.')[1])));
    for (const folder of [dir, join(dir, 'objects')])
      for (const name of await readdir(folder)) if (abandoned(name)) await unlink(join(folder, name)).catch(() => undefined);
    return log[log.length - 1];
  }

  /** The committed state on disk, with the head of the log it ends at. */
  async function readCommitted(lastEntry?: AuditEntry): Promise<{ state: StoreState; head: Pick<AuditEntry, 'seq' | 'hash'> | undefined }> {
    const onDisk = readState(await readJson<unknown>(stateFile));
    if (onDisk.revision === 0) return { state: onDisk, head: undefined };
    if (onDisk.head !== undefined) return { state: onDisk, head: { seq: onDisk.revision, hash: onDisk.head } };
    // a format 1 state may not record its head (migration recordHead records it): the log's last entry is it
    const last = lastEntry ?? (await readAuditLog(auditFile)).at(-1);
    return { state: onDisk, head: last };
  }

  const logBytes = async () => (await stat(auditFile).catch(() => undefined))?.size ?? 0;
  /**
   * The audit log's length when this process last knew the state under the lock: the log grows
   * with every commit, so while it is unchanged no other process committed and state.json need
   * not be read again.
   */
  let knownLogBytes = 0;
  let { state, head } = await withDirectoryLock(lockFile, async () => {
    const committed = await readCommitted(await recover());
    knownLogBytes = await logBytes();
    return { state: freezeState(committed.state), head: committed.head };
  });

  const listeners = new Set<(revision: number) => void>();
  /** The last revision listeners heard of: the watcher may see this process's own commit too. */
  let told = state.revision;
  const notify = (revision: number) => {
    if (revision <= told) return;
    told = revision;
    for (const listener of listeners) {
      try {
        listener(revision);
      } catch {
        // a listener's failure is its own: the change is committed and must be acknowledged
      }
    }
  };
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

  /** Takes a newer state another process committed (read under the lock, or seen by the watcher). */
  function adopt(committed: { state: StoreState; head: Pick<AuditEntry, 'seq' | 'hash'> | undefined }) {
    if (committed.state.revision <= state.revision) return false;
    state = freezeState(committed.state);
    head = committed.head;
    return true;
  }

  async function commit<T>(body: (state: StoreState) => Transition<T> | Promise<Transition<T>>) {
    if (broken) throw new Error(`the store stopped taking changes after a failed write (${broken.message}); restart to recover`, { cause: broken });
    const result = await withDirectoryLock(lockFile, async () => {
      // Another process may have committed (or died mid-commit) since this one last looked.
      if (existsSync(pendingFile)) await recover();
      const bytes = await logBytes();
      if (bytes !== knownLogBytes) {
        adopt(await readCommitted());
        knownLogBytes = bytes;
      }
      const transition = await body(state);
      // objects are named by their content: one that exists already (a draft published as is) is not written again
      for (const { hash, text } of transition.documents ?? []) if (!(await exists(objectFile(hash)))) await writeFileAtomic(objectFile(hash), text);
      const entry = sealEntry(transition.entry, head);
      const next: StoreState = freezeState({ ...(transition.state ?? state), revision: entry.seq, head: entry.hash });
      // Written atomically (a temporary file renamed): when this fails nothing is committed, and the
      // store keeps taking changes once the disk has room again.
      const stateText = JSON.stringify(next); // one serialisation for both files: the state is the bulk of each
      await writeFileAtomic(pendingFile, `{"entry":${JSON.stringify(entry)},"state":${stateText}}`);
      try {
        await appendLine(auditFile, entry);
        knownLogBytes = await logBytes();
        await writeFileAtomic(stateFile, stateText);
        await unlink(pendingFile);
      } catch (error) {
        // The entry may be in the log already: a next change sealed on the old head would fork the chain.
        broken = error as Error;
        throw error;
      }
      state = next;
      head = entry;
      return { revision: entry.seq, entry, result: transition.result };
    });
    notify(result.revision);
    return result;
  }

  /** Other processes' changes: state.json is replaced on every commit; a poll backs the watcher up. */
  const refresh = coalesce(
    async () => {
      // The log grows with every commit: unchanged, the change seen was this process's own.
      if ((await logBytes()) === knownLogBytes) return;
      if (adopt(await readCommitted())) notify(state.revision);
    },
    () => undefined, // a state.json being replaced reads again on the next event
  );
  const watcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name === 'state.json') void refresh();
  });
  watcher.on('error', () => undefined);
  const poll = setInterval(() => void refresh(), options.pollMs ?? 2_000);
  poll.unref();

  const store: Store = {
    kind: 'file',
    async state() {
      // Another process's commit (another worker's) is read here too, not only once the watcher
      // or the poll tells: a change acknowledged elsewhere is in the very next read, as with Redis.
      if ((await logBytes()) !== knownLogBytes) await refresh();
      return state;
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
      await refresh();
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
      clearInterval(poll);
      await queue;
      listeners.clear();
    },
  };
  await migrateStore(store, dir).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return store;
}
