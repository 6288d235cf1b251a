import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { routeShape, type ValidationProblem } from '../../shared/compile/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, DOCUMENT_LIMIT_SETTINGS, formatBytes, jsonTextDepth, type DocumentLimits } from '../../shared/schema/index.ts';
import { AdminError } from '../admin/errors.ts';
import { workflowOf, type Lifecycle } from '../admin/commands/workflows.ts';
import { describeProblems } from '../compile/registry.ts';
import { documentHash } from '../store/audit.ts';
import { coalesce } from '../store/coalesce.ts';
import type { Store } from '../store/types.ts';
import { FILE_SIZE_FACTOR, type WorkflowDirectory } from './workflow-directory.ts';

/** What a pass remembers of a file applied, by its stamp: while the stamp holds, the file is not read again (not even after a restart). */
interface Remembered {
  stamp: string;
  /** Of the file's text */
  hash: string;
  id: string;
  /** Of the document (canonical JSON): the version it is */
  documentHash: string;
}

/**
 * A file is remembered by its stamp only once it has not changed for this long: a file system
 * keeps times to a few milliseconds at best, so a file written twice within that time, to the
 * same size, would keep its stamp (as git's "racily clean" entries).
 */
const SETTLED_MS = 2_000;
/** How long after its files settle the pass that remembers them runs. */
const SETTLED_PASS_MARGIN_MS = 100;

/** Whether a text opens more objects and arrays in all than `limit` (else it cannot nest deeper): native searches, no walk. */
function opensMoreThan(text: string, limit: number): boolean {
  let opens = 0;
  for (const open of ['{', '[']) for (let at = text.indexOf(open); at >= 0; at = text.indexOf(open, at + 1)) if (++opens > limit) return true;
  return false;
}

/** Files applied at once: enough for the store to commit many changes together, few enough to keep each one's validation short. */
const APPLIES = 128;

/** Runs tasks `max` at a time. */
function createLimit(max: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function limit<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** One file as read in a pass: its document, or why it has none. */
interface Entry {
  origin: string;
  hash: string;
  /** Undefined for a file known by its stamp (not read this pass): `known` says what it held. */
  document: unknown;
  known?: Remembered | undefined;
  /** Why the file holds no document to apply: not JSON, or over a size limit (checked before parsing). */
  unreadable: ValidationProblem | undefined;
  /** The id it claims: its own, or for a document without one, the id it served last. */
  id: string | undefined;
  /** The file's stamp when it was read this pass (remembered once it is applied, if it had settled). */
  stamp?: string | undefined;
  changedAt?: number;
}

/**
 * The workflows directory as a GitOps source: a file that appears or changes is published
 * (actor `file:<name>`, audited like any publish), a file that is deleted stops its workflow
 * being served. A file that fails is refused with every problem logged (once per content) and
 * the version already serving stays. An id belongs to the file that serves it: a newcomer
 * claiming it is refused, whatever its name sorts as. At start, a file whose document already
 * is a version of its workflow is not published again, so a rollback made through the admin
 * API survives a restart until the file changes. With `remember` (a file in the data dir), what
 * each file applied held is remembered by the file's stamp (inode, size, times, once settled:
 * SETTLED_MS), there and in memory: a pass, and the next process's first pass, read only the
 * files whose stamp changed.
 */
export function createDirectorySync(options: { directory: WorkflowDirectory; lifecycle: Lifecycle; store: Store; logger: Logger; limits?: DocumentLimits; remember?: string; settledMs?: number }) {
  const { directory, lifecycle, store, logger } = options;
  const settledMs = options.settledMs ?? SETTLED_MS;
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS;
  /** id -> the file serving it */
  const owners = new Map<string, string>();
  /** file -> hash of the text last applied (published, or found to be a version already) */
  const applied = new Map<string, string>();
  /** file -> what its last refusal said */
  const refusedAs = new Map<string, string>();
  /** file -> hash of a text that was refused; not tried again until it changes or a file goes away */
  const failed = new Map<string, string>();
  /** file -> what it held when applied, by its stamp; kept in the data dir (options.remember) for the next start */
  let remembered = new Map<string, Remembered>();
  let rememberedChanged = false;
  let rememberedRead = false;
  let writingRemembered: Promise<void> = Promise.resolve();
  /** file -> the version its applied text is, until the file is remembered (a pass once it settles remembers it) */
  const appliedDocuments = new Map<string, string>();
  let settledPass: NodeJS.Timeout | undefined;

  const actor = (origin: string) => ({ name: `file:${origin}`, role: 'publisher' });

  function refuse(entry: Entry, problems: ValidationProblem[]) {
    const said = `${entry.hash}:${describeProblems(problems)}`;
    if (refusedAs.get(entry.origin) === said) return;
    refusedAs.set(entry.origin, said);
    logger.error({ workflow: entry.id, origin: entry.origin, problems }, `workflow refused: ${describeProblems(problems)}`);
  }

  /**
   * Remembers a file applied, unless it changed too recently for its stamp to tell a later change
   * apart: then it is read again by a pass once it has settled (a first start reads files written
   * moments before; without that pass, every restart read them all again).
   */
  function remember(e: Entry, documentHash: string) {
    if (e.stamp === undefined || e.changedAt === undefined) return;
    if (Date.now() - e.changedAt < settledMs) return passOnceSettled(e.changedAt);
    remembered.set(e.origin, { stamp: e.stamp, hash: e.hash, id: e.id!, documentHash });
    appliedDocuments.delete(e.origin);
    rememberedChanged = true;
  }

  /** A pass once a file changed at `changedAt` has settled, to remember it (one pending at a time). */
  function passOnceSettled(changedAt: number) {
    if (options.remember === undefined || settledPass !== undefined) return;
    settledPass = setTimeout(() => {
      settledPass = undefined;
      void sync();
    }, Math.max(0, changedAt + settledMs - Date.now()) + SETTLED_PASS_MARGIN_MS);
    settledPass.unref();
  }

  function forget(origin: string) {
    appliedDocuments.delete(origin);
    if (remembered.delete(origin)) rememberedChanged = true;
  }

  /** A file's text hashed and parsed (its nesting checked first). */
  function parse(text: string): { text: string; hash: string; document: unknown; unreadable: ValidationProblem | undefined } {
    const hash = createHash('sha256').update(text).digest('hex');
    // Before parsing: what reads the document afterwards (hashing, schemas) recurses into it.
    if (opensMoreThan(text, limits.depth) && jsonTextDepth(text, limits.depth) > limits.depth)
      return { text, hash, document: undefined, unreadable: { code: 'too_large', message: `the document nests objects and arrays deeper than ${limits.depth} levels (${DOCUMENT_LIMIT_SETTINGS.depth})`, field: '(document)' } };
    try {
      return { text, hash, document: JSON.parse(text) as unknown, unreadable: undefined };
    } catch (error) {
      return { text, hash, document: undefined, unreadable: { code: 'invalid_document', message: `not JSON: ${(error as Error).message}`, field: '(document)' } };
    }
  }

  /** The remembered files of the data dir's last process (none when the file is missing or unreadable: every file is read). */
  async function readRemembered() {
    if (rememberedRead || options.remember === undefined) return;
    rememberedRead = true;
    try {
      const saved = JSON.parse(await readFile(options.remember, 'utf8')) as Record<string, Remembered>;
      for (const [file, r] of Object.entries(saved))
        if (typeof r?.stamp === 'string' && typeof r.hash === 'string' && typeof r.id === 'string' && typeof r.documentHash === 'string') remembered.set(file, { stamp: r.stamp, hash: r.hash, id: r.id, documentHash: r.documentHash });
    } catch {
      // nothing remembered: every file is read
    }
  }

  /** Writes what is remembered (after a pass that changed it), whole and atomically; a failure only means reading the files next time. */
  function saveRemembered() {
    if (!rememberedChanged || options.remember === undefined) return;
    rememberedChanged = false;
    const file = options.remember;
    const text = JSON.stringify(Object.fromEntries(remembered));
    writingRemembered = writingRemembered.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, file);
      } catch (error) {
        logger.warn({ err: { message: (error as Error).message } }, 'the workflow files read could not be remembered; the next start reads them all');
      }
    });
  }

  async function runNow() {
    await readRemembered();
    const files = await directory.read((file, stamp) => remembered.get(file)?.stamp === stamp);
    const served = new Map<string, string>();
    for (const [id, origin] of owners) if (!served.has(origin)) served.set(origin, id);
    const idOf = (origin: string) => served.get(origin);
    const entries: Entry[] = files.map((read) => {
      const file = read.file;
      if ('tooLarge' in read) {
        const { bytes, modified } = read.tooLarge;
        const message = `the file is ${formatBytes(bytes)}, not read: a workflow file may be ${FILE_SIZE_FACTOR} times ${DOCUMENT_LIMIT_SETTINGS.bytes} (${formatBytes(limits.bytes)}) at most, and its document as compact JSON ${formatBytes(limits.bytes)}`;
        return { origin: file, hash: `too-large:${bytes}:${modified}`, document: undefined, unreadable: { code: 'too_large', message, field: '(document)' }, id: idOf(file) };
      }
      if (read.text === undefined) {
        const known = remembered.get(file)!;
        return { origin: file, hash: known.hash, document: undefined, known, unreadable: undefined, id: known.id };
      }
      const parsed = parse(read.text);
      const raw = (parsed.document as { id?: unknown } | null | undefined)?.id;
      return { origin: file, stamp: read.stamp, changedAt: read.changedAt, hash: parsed.hash, document: parsed.document, unreadable: parsed.unreadable, id: typeof raw === 'string' ? raw : idOf(file) };
    });
    const present = new Set(entries.map((e) => e.origin));

    // Who may serve each id: the file serving it now (if it still names it), else the first file naming it.
    const claimant = new Map<string, string>();
    for (const e of entries) if (e.id !== undefined && owners.get(e.id) === e.origin) claimant.set(e.id, e.origin);
    for (const e of entries) if (e.id !== undefined && !claimant.has(e.id)) claimant.set(e.id, e.origin);

    // Files that went away stop serving first, so what they held (an id, a route) is free for the others.
    const somethingLeft = [...owners.values()].some((origin) => !present.has(origin));
    // a copy: the unpublish awaited below lets other syncs change `owners` meanwhile
    for (const [id, origin] of Array.from(owners)) {
      if (present.has(origin)) continue;
      owners.delete(id);
      applied.delete(origin);
      await lifecycle.unpublish(actor(origin), id);
    }
    const state = await store.state();
    // Files are applied several at once, so the store commits their changes together (one fsync
    // for many): 10,000 new files are not 20,000 commits one after the other. Files whose routes
    // have the same shape (the only ones that can clash) go one after the other, in name order,
    // so the first one's route wins as it would alone.
    const limit = createLimit(APPLIES);
    const byShape = new Map<string, Promise<void>>();
    const work: Array<Promise<void>> = [];
    for (const e of entries) {
      // most files at a restart: known by their stamp and served already, settled here without a task each
      if (e.known !== undefined && settled(e)) continue;
      const path = (e.document as { route?: { path?: unknown } } | null | undefined)?.route?.path;
      // a file known by its stamp is served already (or read on its own): it waits for no other
      const shape = e.known !== undefined ? `\0${e.origin}` : typeof path === 'string' ? routeShape(path) : '';
      const run = (byShape.get(shape) ?? Promise.resolve()).catch(() => undefined).then(() => limit(() => applyEntry(e)));
      byShape.set(shape, run);
      work.push(run);
    }
    const outcomes = await Promise.allSettled(work);
    const thrown = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (thrown) throw thrown.reason;
    for (const origin of [...refusedAs.keys(), ...failed.keys()]) {
      if (present.has(origin)) continue;
      refusedAs.delete(origin);
      failed.delete(origin);
    }
    for (const origin of [...remembered.keys(), ...appliedDocuments.keys()]) if (!present.has(origin)) forget(origin);
    saveRemembered();

    function fail(e: Entry, problems: ValidationProblem[]): void {
      failed.set(e.origin, e.hash);
      refuse(e, problems);
    }

    /** What an entry needs that takes no waiting: true when that is all it needs (applied, refused, or published before). */
    function settled(e: Entry): boolean {
      if (applied.get(e.origin) === e.hash) {
        // applied by this process and read again: it was too recent to remember then
        const documentHash = appliedDocuments.get(e.origin);
        if (e.known === undefined && documentHash !== undefined) remember(e, documentHash);
        return true;
      }
      if (failed.get(e.origin) === e.hash && !somethingLeft) return true;
      if (e.unreadable !== undefined) {
        fail(e, [e.unreadable]);
        return true;
      }
      const owner = e.id === undefined ? undefined : claimant.get(e.id);
      if (owner !== undefined && owner !== e.origin) {
        fail(e, [{ code: 'invalid_document', message: `workflow id "${e.id}" is already ${owners.get(e.id!) === owner ? 'served from' : 'used by'} ${owner}`, field: 'id' }]);
        return true;
      }
      const record = e.id === undefined ? undefined : workflowOf(state, e.id);
      const versionHash = e.known?.documentHash ?? (e.document === undefined ? undefined : documentHash(e.document));
      if (!applied.has(e.origin) && record?.versions.some((v) => v.hash === versionHash) && record.active !== undefined) {
        applied.set(e.origin, e.hash); // already published before this process started
        owners.set(e.id!, e.origin);
        if (e.known === undefined && versionHash !== undefined) {
          appliedDocuments.set(e.origin, versionHash);
          remember(e, versionHash);
        }
        return true;
      }
      return false;
    }

    async function applyEntry(e: Entry): Promise<void> {
      if (settled(e)) return;
      if (e.document === undefined) {
        // known by its stamp, but not a version of its workflow here (the store was replaced): read it after all
        const text = await readFile(join(directory.dir, e.origin), 'utf8').catch(() => undefined);
        if (text === undefined) return; // gone: the next pass sees it
        forget(e.origin);
        const parsed = parse(text);
        const raw = (parsed.document as { id?: unknown } | null | undefined)?.id;
        Object.assign(e, { hash: parsed.hash, document: parsed.document, unreadable: parsed.unreadable, known: undefined, stamp: undefined, id: typeof raw === 'string' ? raw : e.id });
        if (e.unreadable !== undefined) {
          fail(e, [e.unreadable]);
          return;
        }
      }
      try {
        const outcome = await lifecycle.apply(actor(e.origin), e.document);
        // the file removes or changes contract answers: it waits for a publisher's approval, not asked again until it changes
        if (outcome.pending) logger.warn({ workflow: e.id, origin: e.origin, contract: outcome.approval.diff.summary }, 'workflow waits for another publisher\'s approval (contract gate): the version serving stays');
        applied.set(e.origin, e.hash);
        owners.set(e.id!, e.origin);
        refusedAs.delete(e.origin);
        failed.delete(e.origin);
        if (!outcome.pending) {
          appliedDocuments.set(e.origin, outcome.documentHash);
          remember(e, outcome.documentHash);
        }
      } catch (error) {
        if (error instanceof AdminError) fail(e, error.problems ?? [{ code: 'invalid_document', message: error.message, field: '(document)' }]);
        else throw error;
      }
    }
  }

  const sync = coalesce(runNow, (error) => logger.error({ err: error }, 'workflows directory could not be read'));
  return {
    /** Reads the directory and publishes what changed; calls coalesce. */
    sync,
    /** Stops the pass waiting for files to settle; resolves once what is remembered is written (a process gone mid-write left its temporary file). */
    close(): Promise<void> {
      clearTimeout(settledPass);
      settledPass = undefined;
      return writingRemembered;
    },
  };
}
