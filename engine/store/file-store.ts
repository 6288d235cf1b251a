import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { link, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sealEntry, verifyAuditChain, type AuditEntry } from './audit.ts';
import { applyChanges, changeOf, continuation, parseChangeLines, stateText } from './change-log.ts';
import { coalesce } from './coalesce.ts';
import { migrateStore, readState, STORE_FORMAT } from './migrations.ts';
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

const NEWLINE = Buffer.from('\n');

/** The pack is indexed this many bytes at a time. */
const PACK_INDEX_CHUNK = 1024 * 1024;
/** A pack record's header at most: a 64-digit hash, a space, the length, a newline. */
const PACK_HEADER_MAX = 128;
/** Changes committed together at most: the bodies waiting when a commit starts go in one write and one fsync. */
const MAX_GROUP = 256;
/** The change log is folded into a new snapshot once it is larger than this and than the snapshot. */
const COMPACT_BYTES = 1024 * 1024;

/** A file's identity: another inode, size or modification time (ns) means it was replaced or written. */
const identityOf = (st: { ino: bigint; size: bigint; mtimeNs: bigint } | undefined) => (st === undefined ? '' : `${st.ino}:${st.size}:${st.mtimeNs}`);
const statOf = (file: string) => stat(file, { bigint: true }).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));

/**
 * The last complete line of a file (undefined when it has none) and where complete lines end:
 * bytes after that are a line torn by a crash mid-append, or one being appended now.
 */
async function lastLine(file: string): Promise<{ line: string | undefined; complete: number; size: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { line: undefined, complete: 0, size: 0 };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const CHUNK = 64 * 1024;
    let tail = Buffer.alloc(0);
    let position = size;
    let end = -1; // offset in the file of the last newline
    while (position > 0) {
      const length = Math.min(CHUNK, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      tail = Buffer.concat([chunk, tail]);
      if (end < 0) {
        const at = tail.lastIndexOf(10);
        if (at < 0) continue;
        end = position + at;
      }
      const relative = end - position;
      const before = relative === 0 ? -1 : tail.lastIndexOf(10, relative - 1);
      if (before >= 0 || position === 0) return { line: tail.subarray(before + 1, relative).toString('utf8'), complete: end + 1, size };
    }
    return { line: undefined, complete: end + 1, size };
  } finally {
    await handle.close();
  }
}

/** Reads bytes [from, to) of a file as text. */
async function readRange(file: string, from: number, to: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, to - from, from);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

interface Waiting {
  body: (state: StoreState) => Transition<unknown> | Promise<Transition<unknown>>;
  resolve(value: { revision: number; entry: AuditEntry; result: unknown }): void;
  reject(error: unknown): void;
}

/**
 * The embedded default store: a directory of files, no server needed.
 * - `objects.pack`: documents by content hash, appended (`<sha256> <bytes>\n<text>\n`) and fsynced
 *   once for a commit's documents, before anything refers to them; found through an index made at
 *   open (stores of builds before the pack keep theirs in `objects/<sha256>.json`, still read)
 * - `changes.jsonl`: the change log: one line per commit, appended and fsynced (the commit point),
 *   with its audit entry and only what it changed of the state (the records of the workflows,
 *   partners… it set or dropped), so a change to one workflow among 10,000 writes one record
 * - `state.json`: a snapshot of the state; the change log continues it. Once the log outgrows
 *   the snapshot (and COMPACT_BYTES), a new snapshot is written and the log starts again empty.
 * - `audit.jsonl`: the hash-chained audit log, one entry a line, appended after the change log
 *   (an entry a crash kept out of it is appended again from the change log at the next open or
 *   commit; it is fsynced before a snapshot lets the change log go)
 * - `lock`: held while a change is written, so several processes on one host share the store;
 *   each reads the change log's new lines under the lock, and watches the directory to hear of
 *   the others' changes.
 * - `pending.json`: the commit record of builds before the change log, finished at open.
 * Changes waiting while a commit is written are committed together (one write, one fsync), each
 * with its own audit entry, each body deciding on the state the one before it left.
 * `revision` is the last entry's sequence number. `beforeAudit` runs between a commit's change-log
 * append and its audit append (tests: a write failing right there); `compactBytes` stands for
 * COMPACT_BYTES (tests).
 */
export async function openFileStore(dir: string, options: { pollMs?: number; beforeAudit?: () => Promise<void>; compactBytes?: number } = {}): Promise<Store> {
  mkdirSync(join(dir, 'objects'), { recursive: true });
  const auditFile = join(dir, 'audit.jsonl');
  const stateFile = join(dir, 'state.json');
  const changesFile = join(dir, 'changes.jsonl');
  const pendingFile = join(dir, 'pending.json');
  const lockFile = join(dir, 'lock');
  const objectsDir = join(dir, 'objects');
  /** Documents of stores written before the pack, one file each: still read. */
  const objectFile = (hash: string) => join(objectsDir, `${hash}.json`);
  const packFile = join(dir, 'objects.pack');
  /** Where each document of the pack is, by hash; how far the pack has been read. */
  const packed = new Map<string, { at: number; length: number }>();
  let packBytes = 0;
  let packFd: number | undefined;
  /** Whether the store has documents of the layout before the pack (checked once at open): only then is a document looked for there before it is packed. */
  let legacyObjects = false;

  let state: StoreState;
  /** What of the disk `state` was read from: the snapshot file's identity, and the change log's inode and bytes read. */
  let snapshotId = '';
  let snapshotBytes = 0;
  let snapshotFormat = 0;
  let changesIno = -1n;
  let changesOffset = 0;
  /** The audit log's length and last sequence number as this process last wrote or read them (under the lock). */
  let auditBytes = -1;
  let auditSeq = 0;
  /** The audit log's length when this process last caught up: unchanged, nobody committed since (the state() fast path). */
  let seenLogBytes = 0;
  /** Documents of the commit being written, before they are on disk: a body deciding after the one that stored them reads them here. */
  const inFlight = new Map<string, string>();

  /** The audit log's length, read at once: asked on every read of the state (a syscall, not a turn through the thread pool). */
  const logBytes = async () => {
    try {
      return statSync(auditFile).size;
    } catch {
      return 0;
    }
  };

  /** The snapshot and the change log as on disk now: a whole read. A compaction racing it is read again. */
  async function readDisk() {
    for (let attempt = 1; ; attempt++) {
      // the log first: a compaction in between then shows as a newer snapshot beside the old log, whose lines it covers
      const log = await statOf(changesFile);
      const logText = log === undefined ? '' : await readFile(changesFile, 'utf8').catch(() => '');
      const snapshot = await statOf(stateFile);
      const snapshotText = snapshot === undefined ? undefined : await readFile(stateFile, 'utf8');
      const base = readState(snapshotText === undefined ? undefined : JSON.parse(snapshotText));
      const { lines, bytes, damaged } = parseChangeLines(logText);
      if (damaged) throw new Error(`${changesFile}: line ${lines.length + 1} is not a change: the change log was damaged (restore the store from a backup)`);
      const next = continuation(lines, base.revision);
      if (next === undefined) {
        if (attempt < 5) continue;
        throw new Error(`${changesFile} does not continue ${stateFile} (revision ${base.revision}): the store was changed by hand`);
      }
      let snapshotState = freezeState(base);
      if (snapshotState.revision > 0 && snapshotState.head === undefined) {
        // a format 1 state may not record its head (migration recordHead records it): the log's last entry is it
        const last = await lastLine(auditFile);
        snapshotState = freezeState({ ...snapshotState, head: last.line === undefined ? undefined : (JSON.parse(last.line) as AuditEntry).hash });
      }
      return { state: applyChanges(snapshotState, next), snapshotId: identityOf(snapshot), snapshotBytes: snapshotText?.length ?? 0, snapshotFormat: base.format, changesIno: log?.ino ?? -1n, changesOffset: bytes };
    }
  }

  /** Takes what readDisk read; the state only if it is newer (a whole read racing a commit may be older). */
  function adoptDisk(disk: Awaited<ReturnType<typeof readDisk>>): boolean {
    ({ snapshotId, snapshotBytes, snapshotFormat, changesIno, changesOffset } = disk);
    if (disk.state.revision <= state.revision) return false;
    state = disk.state;
    return true;
  }

  /** Reads what other processes committed since this one last looked: the change log's new lines, or everything again after a compaction. */
  async function catchUp(): Promise<boolean> {
    const log = await statOf(changesFile);
    const snapshot = await statOf(stateFile);
    if (log !== undefined && log.ino === changesIno && identityOf(snapshot) === snapshotId && Number(log.size) >= changesOffset) {
      if (Number(log.size) === changesOffset) return false;
      try {
        const { lines, bytes, damaged } = parseChangeLines(await readRange(changesFile, changesOffset, Number(log.size)));
        if (lines.length === 0 && !damaged) return false; // a line being appended
        const next = continuation(lines, state.revision);
        if (!damaged && next !== undefined && next.length === lines.length) {
          state = applyChanges(state, next);
          changesOffset += bytes;
          return next.length > 0;
        }
      } catch {
        // not lines of this log where this process stopped reading: read it all again
      }
    }
    return adoptDisk(await readDisk());
  }

  /**
   * Under the lock: other processes' changes read, a line torn by a crash cut off the change log,
   * and audit entries a crash kept out of the audit log appended from the change log, so a new
   * entry links to the one before it.
   */
  async function settleLocked(): Promise<void> {
    await catchUp();
    // the pack as others left it: this process appends after their records; a record a crash cut
    // short was never referred to (a change-log line is written after the pack's fsync)
    indexPack();
    if (existsSync(packFile) && statSync(packFile).size > packBytes) await truncate(packFile, packBytes);
    const log = await statOf(changesFile);
    if (log !== undefined && Number(log.size) > changesOffset) await truncate(changesFile, changesOffset);
    const bytes = await logBytes();
    if (bytes !== auditBytes) {
      const last = await lastLine(auditFile);
      if (last.complete < last.size) await truncate(auditFile, last.complete); // torn by a crash mid-append: never acknowledged
      auditSeq = last.line === undefined ? 0 : (JSON.parse(last.line) as AuditEntry).seq;
      auditBytes = last.complete;
    }
    if (auditSeq < state.revision) {
      const { lines } = parseChangeLines(await readFile(changesFile, 'utf8').catch(() => ''));
      const missing = lines.filter((line) => line.entry.seq > auditSeq).map((line) => line.entry);
      if (missing[0]?.seq !== auditSeq + 1 || missing.at(-1)?.seq !== state.revision) throw new Error(`${auditFile} ends at entry ${auditSeq} and the change log cannot give the entries up to ${state.revision}`);
      await appendAudit(missing);
    }
  }

  async function appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const handle = await open(auditFile, 'a', 0o600);
    try {
      await handle.appendFile(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
      auditBytes = Number((await handle.stat()).size);
    } finally {
      await handle.close();
    }
    auditSeq = entries.at(-1)?.seq ?? auditSeq;
  }

  /** Legacy: a commit record (pending.json) of a build before the change log, finished as that build would. */
  async function finishPending() {
    const pending = await readJson<{ entry: AuditEntry; state: StoreState }>(pendingFile);
    if (!pending) return;
    const last = await lastLine(auditFile);
    if (last.complete < last.size) await truncate(auditFile, last.complete);
    const lastSeq = last.line === undefined ? 0 : (JSON.parse(last.line) as AuditEntry).seq;
    if (lastSeq < pending.entry.seq) await appendLine(auditFile, pending.entry);
    await writeFileAtomic(stateFile, JSON.stringify(pending.state));
    await unlink(pendingFile);
  }

  async function appendLine(file: string, entry: AuditEntry) {
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.appendFile(`${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function fsyncFile(file: string) {
    const handle = await open(file, 'a');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  state = readState(undefined);
  await withDirectoryLock(lockFile, async () => {
    await finishPending();
    adoptDisk(await readDisk());
    // A new store gets its snapshot (of today's format), a store of an older build its change log, so the log's lines always follow a snapshot.
    if (snapshotId === '' || changesIno === -1n) {
      if (snapshotId === '') await writeFileAtomic(stateFile, JSON.stringify(state));
      if (changesIno === -1n) await writeFileAtomic(changesFile, '');
      adoptDisk(await readDisk());
    }
    await settleLocked();
    // Temp files of writes a crash interrupted: documents are written in objects/, the rest beside
    // them; a lock.<pid>.*.tmp only once its process is gone (a live one is waiting for the lock).
    const abandoned = (name: string) => name.endsWith('.tmp') && (!name.startsWith('lock.') || !alive(Number(name.split('.')[1])));
    for (const folder of [dir, objectsDir]) for (const name of await readdir(folder)) if (abandoned(name)) await unlink(join(folder, name)).catch(() => undefined);
    legacyObjects = (await readdir(objectsDir)).some((name) => name.endsWith('.json'));
  });
  seenLogBytes = await logBytes();

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

  /** Set when a write failed half-way: this process no longer knows what is on disk; a restart recovers from the change log. */
  let broken: Error | undefined;
  /** While this process writes a commit, its own lines are not read back as another's. */
  let committing = false;

  /**
   * Appends the documents not stored yet to the pack, fsynced once for all of them (before the
   * change-log line that refers to them). A failed append is cut off again.
   */
  async function writeObjects(documents: ReadonlyMap<string, string>) {
    const fresh: Buffer[] = [];
    const added: Array<[string, number, number]> = [];
    let offset = packBytes;
    for (const [hash, text] of documents) {
      if (packed.has(hash) || added.some(([h]) => h === hash) || (legacyObjects && existsSync(objectFile(hash)))) continue;
      const body = Buffer.from(text, 'utf8');
      const header = Buffer.from(`${hash} ${body.length}\n`, 'latin1');
      fresh.push(header, body, NEWLINE);
      added.push([hash, offset + header.length, body.length]);
      offset += header.length + body.length + 1;
    }
    if (fresh.length === 0) return;
    const before = packBytes;
    let handle;
    try {
      handle = await open(packFile, 'a', 0o600);
      await handle.writev(fresh);
      await handle.sync();
    } catch (error) {
      await truncate(packFile, before).catch((cut: unknown) => (broken = cut as Error));
      throw error;
    } finally {
      await handle?.close();
    }
    for (const [hash, at, length] of added) packed.set(hash, { at, length });
    packBytes = offset;
  }

  /**
   * Reads the pack's records from `packBytes` on into the index (records other processes
   * appended; all of them at open). A record cut short is left (a crash mid-append: cut off under
   * the lock at open; an append in progress: read next time).
   */
  function indexPack(): void {
    let fd: number;
    try {
      fd = openSync(packFile, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      let at = packBytes;
      // read a chunk at a time, not a read per record (a 10,000-workflow store holds 20,000 records)
      const chunk = Buffer.alloc(Math.max(0, Math.min(PACK_INDEX_CHUNK, size - at)));
      let chunkAt = at;
      let chunkEnd = at;
      while (at < size) {
        if (at >= chunkEnd || (at + PACK_HEADER_MAX > chunkEnd && chunkEnd < size)) {
          chunkAt = at;
          chunkEnd = at + readSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
        }
        const head = chunk.subarray(at - chunkAt, Math.min(chunkEnd - chunkAt, at - chunkAt + PACK_HEADER_MAX));
        const newline = head.indexOf(10);
        if (newline < 0) break;
        const match = /^([0-9a-f]{64}) (\d+)$/.exec(head.subarray(0, newline).toString('latin1'));
        if (match === null) throw new Error(`${packFile}: no record at byte ${at}: the pack was damaged (restore the store from a backup)`);
        const length = Number(match[2]);
        const start = at + newline + 1;
        if (start + length + 1 > size) break;
        packed.set(match[1]!, { at: start, length });
        at = start + length + 1;
      }
      packBytes = at;
    } finally {
      closeSync(fd);
    }
  }

  /** A document's text from the pack, read at once (documents are small); undefined when the pack does not hold it. */
  function fromPack(hash: string): string | undefined {
    let place = packed.get(hash);
    if (place === undefined) {
      indexPack(); // another process may have stored it since
      place = packed.get(hash);
      if (place === undefined) return undefined;
    }
    // one descriptor for every read (the pack is only ever appended to, or cut back to a record's end)
    packFd ??= openSync(packFile, 'r');
    const buffer = Buffer.alloc(place.length);
    readSync(packFd, buffer, 0, place.length, place.at);
    return buffer.toString('utf8');
  }

  /** The commit point: the group's lines appended and fsynced. On failure the log is cut back to where it was, or the store stops. */
  async function appendChanges(text: string) {
    const before = changesOffset;
    let handle;
    try {
      handle = await open(changesFile, 'a', 0o600);
      await handle.appendFile(text);
      await handle.sync();
      changesIno = (await handle.stat({ bigint: true })).ino;
    } catch (error) {
      // nothing of this group may stay in the log: a later line after a torn one would be unreadable
      await truncate(changesFile, before).catch((cut: unknown) => (broken = cut as Error));
      throw error;
    } finally {
      await handle?.close();
    }
    changesOffset = before + Buffer.byteLength(text);
  }

  async function commitGroup(group: Waiting[]) {
    if (broken) {
      const error = new Error(`the store stopped taking changes after a failed write (${broken.message}); restart to recover`, { cause: broken });
      for (const waiting of group) waiting.reject(error);
      return;
    }
    const done: Array<{ waiting: Waiting; revision: number; entry: AuditEntry; result: unknown }> = [];
    const refused = new Set<Waiting>();
    try {
      await withDirectoryLock(lockFile, async () => {
        committing = true;
        // Another process may have committed (or died mid-commit) since this one last looked.
        await settleLocked();
        let working = state;
        const lines: string[] = [];
        const entries: AuditEntry[] = [];
        for (const waiting of group) {
          try {
            const transition = await waiting.body(working);
            const entry = sealEntry(transition.entry, working.revision === 0 ? undefined : { seq: working.revision, hash: working.head ?? '' });
            const next: StoreState = freezeState({ ...(transition.state ?? working), revision: entry.seq, head: entry.hash });
            lines.push(`${JSON.stringify(changeOf(working, next, entry))}\n`);
            // objects are named by their content: one that exists already (a draft published as is) is not written again
            for (const { hash, text } of transition.documents ?? []) inFlight.set(hash, text);
            entries.push(entry);
            done.push({ waiting, revision: entry.seq, entry, result: transition.result });
            working = next;
          } catch (error) {
            refused.add(waiting);
            waiting.reject(error); // refused by its body: nothing of it is written, the others go on
          }
        }
        if (done.length === 0) return;
        await writeObjects(inFlight);
        await appendChanges(lines.join(''));
        try {
          await options.beforeAudit?.();
          await appendAudit(entries);
        } catch (error) {
          // Committed (the change log has it) but not in the audit log: a next entry would not link. A restart appends it.
          broken = error as Error;
          throw error;
        }
        seenLogBytes = auditBytes;
        state = working;
      });
    } catch (error) {
      // the group's changes that a body had not refused: none is committed (or, with `broken`, none acknowledged)
      for (const waiting of group) if (!refused.has(waiting)) waiting.reject(error);
      return;
    } finally {
      committing = false;
      inFlight.clear();
    }
    for (const { waiting, revision, entry, result } of done) waiting.resolve({ revision, entry, result });
    notify(state.revision);
  }

  /** A new snapshot of the state; the change log starts again empty. Entries it covers are fsynced in the audit log first. */
  async function compact() {
    await withDirectoryLock(lockFile, async () => {
      committing = true;
      try {
        await settleLocked();
        const text = await stateText(state);
        await fsyncFile(auditFile);
        await writeFileAtomic(stateFile, text);
        await writeFileAtomic(changesFile, '');
        const [snapshot, log] = await Promise.all([statOf(stateFile), statOf(changesFile)]);
        snapshotId = identityOf(snapshot);
        snapshotBytes = text.length;
        snapshotFormat = state.format;
        changesIno = log?.ino ?? -1n;
        changesOffset = 0;
      } finally {
        committing = false;
      }
    });
  }

  const waiting: Waiting[] = [];
  let draining: Promise<void> | undefined;
  async function drain() {
    try {
      while (waiting.length > 0) {
        await commitGroup(waiting.splice(0, MAX_GROUP));
        // a failed compaction leaves the log as it was: it is tried again after a later commit
        if (!broken && changesOffset > Math.max(options.compactBytes ?? COMPACT_BYTES, snapshotBytes)) await compact().catch(() => undefined);
      }
    } finally {
      draining = undefined;
    }
  }

  /** Other processes' changes: the change log grows (or is replaced) on every commit; a poll backs the watcher up. */
  const refresh = coalesce(
    async () => {
      if (committing) return; // this process's own commit: it notifies itself
      const bytes = await logBytes();
      if (await catchUp()) notify(state.revision);
      seenLogBytes = bytes;
    },
    () => undefined, // a log being replaced reads again on the next event
  );
  const watcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name === 'changes.jsonl' || name === 'state.json' || name === 'audit.jsonl') void refresh();
  });
  watcher.on('error', () => undefined);
  const poll = setInterval(() => void refresh(), options.pollMs ?? 2_000);
  poll.unref();

  const store: Store = {
    kind: 'file',
    async state() {
      // Another process's commit (another worker's) is read here too, not only once the watcher
      // or the poll tells: a change acknowledged elsewhere is in the very next read, as with Redis.
      if (!committing && (await logBytes()) !== seenLogBytes) await refresh();
      return state;
    },
    async document(hash) {
      return JSON.parse(await store.documentText(hash));
    },
    async documentText(hash) {
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a document hash: ${hash}`);
      // Read at once: a document is small (SLUICE_MAX_DOCUMENT), and a start reads 10,000 of them,
      // for which an asynchronous read's own turns through the thread pool cost more than the read.
      return inFlight.get(hash) ?? fromPack(hash) ?? readFileSync(objectFile(hash), 'utf8');
    },
    transact<T>(body: (state: StoreState) => Transition<T> | Promise<Transition<T>>) {
      return new Promise<{ revision: number; entry: AuditEntry; result: T }>((resolve, reject) => {
        waiting.push({ body, resolve: resolve as Waiting['resolve'], reject });
        draining ??= drain();
      });
    },
    async audit(options = {}) {
      const entries = await readAuditLog(auditFile);
      const after = options.after ?? 0;
      const from = entries.filter((e) => e.seq > after);
      return options.limit === undefined ? from : from.slice(0, options.limit);
    },
    async verifyAudit() {
      // The state first: the log is appended after the change log, so it reaches at least this revision once the commit is acknowledged.
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
      await draining;
      listeners.clear();
      if (packFd !== undefined) closeSync(packFd);
      packFd = undefined;
    },
  };
  await migrateStore(store, dir).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  // A store migrated by this build: its snapshot says so, so a build that does not know the change log refuses it (UnknownStoreFormatError).
  if (snapshotFormat < STORE_FORMAT) await compact();
  return store;
}
