import { createHash } from 'node:crypto';
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

/** Files applied at once: enough for the store to commit many changes together, few enough to keep each one's validation short. */
const APPLIES = 32;

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
  document: unknown;
  /** Why the file holds no document to apply: not JSON, or over a size limit (checked before parsing). */
  unreadable: ValidationProblem | undefined;
  /** The id it claims: its own, or for a document without one, the id it served last. */
  id: string | undefined;
}

/**
 * The workflows directory as a GitOps source: a file that appears or changes is published
 * (actor `file:<name>`, audited like any publish), a file that is deleted stops its workflow
 * being served. A file that fails is refused with every problem logged (once per content) and
 * the version already serving stays. An id belongs to the file that serves it: a newcomer
 * claiming it is refused, whatever its name sorts as. At start, a file whose document already
 * is a version of its workflow is not published again, so a rollback made through the admin
 * API survives a restart until the file changes.
 */
export function createDirectorySync(options: { directory: WorkflowDirectory; lifecycle: Lifecycle; store: Store; logger: Logger; limits?: DocumentLimits }) {
  const { directory, lifecycle, store, logger } = options;
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS;
  /** id -> the file serving it */
  const owners = new Map<string, string>();
  /** file -> hash of the text last applied (published, or found to be a version already) */
  const applied = new Map<string, string>();
  /** file -> what its last refusal said */
  const refusedAs = new Map<string, string>();
  /** file -> hash of a text that was refused; not tried again until it changes or a file goes away */
  const failed = new Map<string, string>();
  /** file -> its text and what was read of it at the last pass: an unchanged file (the same text) is not hashed or parsed again */
  let parsed = new Map<string, { text: string; hash: string; document: unknown; unreadable: ValidationProblem | undefined }>();

  const actor = (origin: string) => ({ name: `file:${origin}`, role: 'publisher' });

  function refuse(entry: Entry, problems: ValidationProblem[]) {
    const said = `${entry.hash}:${describeProblems(problems)}`;
    if (refusedAs.get(entry.origin) === said) return;
    refusedAs.set(entry.origin, said);
    logger.error({ workflow: entry.id, origin: entry.origin, problems }, `workflow refused: ${describeProblems(problems)}`);
  }

  /** A file's text hashed and parsed (its nesting checked first). */
  function parse(text: string): { text: string; hash: string; document: unknown; unreadable: ValidationProblem | undefined } {
    const hash = createHash('sha256').update(text).digest('hex');
    // Before parsing: what reads the document afterwards (hashing, schemas) recurses into it.
    if (jsonTextDepth(text, limits.depth) > limits.depth)
      return { text, hash, document: undefined, unreadable: { code: 'too_large', message: `the document nests objects and arrays deeper than ${limits.depth} levels (${DOCUMENT_LIMIT_SETTINGS.depth})`, field: '(document)' } };
    try {
      return { text, hash, document: JSON.parse(text) as unknown, unreadable: undefined };
    } catch (error) {
      return { text, hash, document: undefined, unreadable: { code: 'invalid_document', message: `not JSON: ${(error as Error).message}`, field: '(document)' } };
    }
  }

  async function runNow() {
    const files = await directory.read();
    const served = new Map<string, string>();
    for (const [id, origin] of owners) if (!served.has(origin)) served.set(origin, id);
    const idOf = (origin: string) => served.get(origin);
    const reads = new Map<string, ReturnType<typeof parse>>();
    const entries: Entry[] = files.map((read) => {
      const file = read.file;
      if ('tooLarge' in read) {
        const { bytes, modified } = read.tooLarge;
        const message = `the file is ${formatBytes(bytes)}, not read: a workflow file may be ${FILE_SIZE_FACTOR} times ${DOCUMENT_LIMIT_SETTINGS.bytes} (${formatBytes(limits.bytes)}) at most, and its document as compact JSON ${formatBytes(limits.bytes)}`;
        return { origin: file, hash: `too-large:${bytes}:${modified}`, document: undefined, unreadable: { code: 'too_large', message, field: '(document)' }, id: idOf(file) };
      }
      const text = read.text;
      const before = parsed.get(file);
      const read_ = before?.text === text ? before : parse(text);
      reads.set(file, read_);
      const raw = (read_.document as { id?: unknown } | null | undefined)?.id;
      return { origin: file, hash: read_.hash, document: read_.document, unreadable: read_.unreadable, id: typeof raw === 'string' ? raw : idOf(file) };
    });
    parsed = reads;
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
      const path = (e.document as { route?: { path?: unknown } } | null | undefined)?.route?.path;
      const shape = typeof path === 'string' ? routeShape(path) : '';
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

    async function applyEntry(e: Entry): Promise<void> {
      if (applied.get(e.origin) === e.hash || (failed.get(e.origin) === e.hash && !somethingLeft)) return;
      const fail = (problems: ValidationProblem[]) => {
        failed.set(e.origin, e.hash);
        refuse(e, problems);
      };
      if (e.unreadable !== undefined) {
        fail([e.unreadable]);
        return;
      }
      const owner = e.id === undefined ? undefined : claimant.get(e.id);
      if (owner !== undefined && owner !== e.origin) {
        fail([{ code: 'invalid_document', message: `workflow id "${e.id}" is already ${owners.get(e.id!) === owner ? 'served from' : 'used by'} ${owner}`, field: 'id' }]);
        return;
      }
      const record = e.id === undefined ? undefined : workflowOf(state, e.id);
      if (!applied.has(e.origin) && record?.versions.some((v) => v.hash === documentHash(e.document)) && record.active !== undefined) {
        applied.set(e.origin, e.hash); // already published before this process started
        owners.set(e.id!, e.origin);
        return;
      }
      try {
        const outcome = await lifecycle.apply(actor(e.origin), e.document);
        // the file removes or changes contract answers: it waits for a publisher's approval, not asked again until it changes
        if (outcome.pending) logger.warn({ workflow: e.id, origin: e.origin, contract: outcome.approval.diff.summary }, 'workflow waits for another publisher\'s approval (contract gate): the version serving stays');
        applied.set(e.origin, e.hash);
        owners.set(e.id!, e.origin);
        refusedAs.delete(e.origin);
        failed.delete(e.origin);
      } catch (error) {
        if (error instanceof AdminError) fail(error.problems ?? [{ code: 'invalid_document', message: error.message, field: '(document)' }]);
        else throw error;
      }
    }
  }

  return {
    /** Reads the directory and publishes what changed; calls coalesce. */
    sync: coalesce(runNow, (error) => logger.error({ err: error }, 'workflows directory could not be read')),
  };
}
