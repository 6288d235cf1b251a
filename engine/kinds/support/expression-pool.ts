/**
 * Worker threads for the JSONata expressions that are not on the compiled fast path. JSONata
 * checks its time bound only between evaluation steps, and one step (a `$distinct` of 50 000
 * items, a sort) can run for seconds; in a worker, the main thread stops it at a hard deadline by
 * terminating the thread, and the gateway keeps serving meanwhile. Past JSONata's own bound the
 * worker's CPU priority is lowered first (see demote).
 *
 * node:worker_threads directly rather than piscina: a round trip measured 35 µs (12 µs with 16 in
 * flight) against piscina's 53-70 µs, and the pool needs only what is here: one evaluation per
 * worker at a time, a bounded queue, a deadline per evaluation, a fresh worker for a stopped one.
 * Idle workers are unref'd, so a pool nobody closed never keeps a process alive.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GuardTask, TokenCountTask, WorkerReply, WorkerTask } from './expression-worker.ts';
import type { ScanResult, ScanSpec } from './prompt-scan.ts';

export interface ExpressionPoolOptions {
  /** Most worker threads, started as evaluations need them. */
  threads: number;
  /** Most evaluations waiting for a worker; one more fails at once (`busy`). */
  queue: number;
  /** Old-generation heap of each worker, in MB: a worker that outgrows it is stopped, the process is not. */
  heapMb?: number;
}

/** An evaluation's failure, shaped as JSONata's errors are: a code and a message. */
interface EvaluationFailure {
  code: string;
  message: string;
}

export interface ExpressionPool {
  /**
   * Evaluates in a worker: the result as JSON text (or bytes). Times count from the moment a
   * worker takes the task (waiting in the queue is bounded by the queue's length): past
   * `demoteMs` the worker's CPU priority is lowered, past `deadlineMs` it is terminated and
   * replaced. Rejects with an EvaluationFailure (JSONata's code, `D1012` at the deadline, `busy`,
   * `closed`, or `cancelled` when `signal` aborts while it waits in the queue: its client went
   * away, and it gives its place up).
   */
  run(task: Omit<WorkerTask, 'id'>, times: { deadlineMs: number; demoteMs?: number; signal?: AbortSignal }): Promise<{ json: string | undefined; bytes?: Uint8Array }>;
  /**
   * Counts o200k_base tokens in a worker (token-count.ts is the caller). A worker builds its
   * encoder on its first count (~0.4 s of CPU, more on a loaded machine): that count has
   * `coldDeadlineMs`, later ones `deadlineMs`. Rejects as run() does.
   */
  countTokens(texts: readonly string[], times: { deadlineMs: number; coldDeadlineMs: number; demoteMs: number }): Promise<number>;
  /** Runs a prompt-guard node's checks on a prompt's texts in a worker (prompt-scan.ts). Rejects as run() does (`signal` too). */
  scanPrompt(spec: ScanSpec, texts: readonly string[], times: { deadlineMs: number; demoteMs: number; signal?: AbortSignal }): Promise<ScanResult>;
  /** Starts a worker now if none runs, so the first evaluation does not wait for one. */
  warm(): void;
  /** Stops every worker; waiting and running evaluations fail with `closed`. */
  close(): Promise<void>;
  /** Workers started and workers stopped at a deadline, since the pool was made. */
  readonly stats: { started: number; stopped: number };
}

type Success = Extract<WorkerReply, { ok: true }>;

interface Pending {
  task: WorkerTask | TokenCountTask | GuardTask;
  deadlineMs: number;
  /** The deadline of a token count on a worker that has not built its encoder yet. */
  coldDeadlineMs: number;
  demoteMs: number;
  resolve(reply: Success): void;
  reject(failure: EvaluationFailure): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** The thread's Linux id, to lower its priority; undefined elsewhere. */
  tid: number | undefined;
  /** Its priority was lowered: it is replaced once nothing waits (an unprivileged process cannot raise it again). */
  demoted: boolean;
  running: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
  /** It has counted tokens, so its encoder is built. */
  encoder: boolean;
}

const HERE = import.meta.url;
/**
 * From the bundle (dist/cli.mjs) the worker is dist/expression-worker.mjs beside it. From the
 * sources (tsx, vitest) the TypeScript entry is bundled by esbuild once per process, into the
 * temp directory under its content hash: a worker started through tsx's loader took three times
 * the CPU to start (~650 ms against ~200 ms).
 */
const FROM_SOURCES = HERE.endsWith('.ts');
let workerUrl: URL | undefined;

function workerFile(): URL {
  if (workerUrl !== undefined) return workerUrl;
  if (!FROM_SOURCES) return (workerUrl = new URL('./expression-worker.mjs', HERE));
  const esbuild = createRequire(HERE)('esbuild') as typeof import('esbuild');
  const built = esbuild.buildSync({ entryPoints: [fileURLToPath(new URL('./expression-worker.ts', HERE))], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent' });
  const code = built.outputFiles[0]!.text;
  const file = join(tmpdir(), `sluice-expression-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    // written whole, then renamed: other processes may be starting the same bundle
    writeFileSync(`${file}.${process.pid}`, code);
    renameSync(`${file}.${process.pid}`, file);
  }
  return (workerUrl = pathToFileURL(file));
}

let tokenRanksUrl: string | undefined;

/**
 * Where the worker loads the tokenizer's ranks from on its first token count: js-tiktoken's
 * o200k_base module as installed, not inside the worker's bundle (its 2.3 MB made every worker
 * start ~70 ms of CPU dearer, a replaced worker's too).
 */
function tokenRanks(): string {
  return (tokenRanksUrl ??= pathToFileURL(createRequire(HERE).resolve('js-tiktoken/ranks/o200k_base')).href);
}

function startWorker(heapMb: number): Worker {
  return new Worker(workerFile(), { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: heapMb }, workerData: { tokenRanks: tokenRanks() } });
}

const failure = (code: string, message: string): EvaluationFailure => ({ code, message });

/**
 * A pool of expression workers.
 * @example
 * const pool = createExpressionPool({ threads: 2, queue: 64 });
 * await pool.run({ expression: 1, source: '$uppercase(name)', limits, input: '{"name":"x"}' }, { deadlineMs: 300 }); // { json: '"X"' }
 * await pool.close();
 */
export function createExpressionPool(options: ExpressionPoolOptions): ExpressionPool {
  const heapMb = options.heapMb ?? 256;
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const stats = { started: 0, stopped: 0 };
  let nextId = 1;
  let closed = false;

  function settle(slot: Slot): Pending | undefined {
    const pending = slot.running;
    clearTimeout(slot.timer);
    slot.running = undefined;
    slot.timer = undefined;
    return pending;
  }

  function remove(slot: Slot): void {
    const at = slots.indexOf(slot);
    if (at >= 0) slots.splice(at, 1);
  }

  /** A worker that died or was stopped: its evaluation fails, and the waiting ones get a new worker. */
  function lose(slot: Slot, why: EvaluationFailure): void {
    if (!slots.includes(slot)) return;
    remove(slot);
    settle(slot)?.reject(why);
    void slot.worker.terminate();
    if (!slot.ready) {
      // it never started (a broken install): fail what waits rather than start workers forever
      for (const pending of queue.splice(0)) pending.reject(why);
      return;
    }
    if (queue.length > 0 || slots.length === 0) addSlot(); // kept warm: the next evaluation need not wait for a start
  }

  function addSlot(): void {
    if (closed || slots.length >= options.threads) return;
    const worker = startWorker(heapMb);
    stats.started++;
    const slot: Slot = { worker, ready: false, tid: undefined, demoted: false, running: undefined, timer: undefined, encoder: false };
    slots.push(slot);
    worker.on('message', (message: WorkerReply | { ready: true; tid: number | undefined }) => {
      if ('ready' in message) {
        slot.ready = true;
        slot.tid = message.tid;
        pump();
        return;
      }
      if (slot.running?.task.id !== message.id) return;
      const pending = settle(slot)!;
      if (message.ok) {
        if ('tokens' in message) slot.encoder = true;
        pending.resolve(message);
      } else pending.reject(failure(message.code ?? 'error', message.message));
      pump();
    });
    worker.on('error', (error) => lose(slot, failure('worker failed', `the expression worker failed: ${error.message}`)));
    worker.on('exit', () => lose(slot, failure('worker failed', 'the expression worker exited')));
    // a warm worker alone does not keep the process alive; one with work waiting does
    if (queue.length === 0) worker.unref();
  }

  /** A demoted worker with nothing left to do: replaced by one at the process's priority (not before: a start costs ~200 ms of CPU). */
  function retire(slot: Slot): void {
    remove(slot);
    void slot.worker.terminate();
    addSlot();
  }

  /**
   * Past JSONata's own time bound (and the copies) the evaluation is suspect: on Linux its
   * thread's nice value is raised to 10, so that the gateway's thread gets the CPU first (about
   * nine times the share) until the deadline. Workers otherwise run at the gateway's priority: a
   * lower one throttled every evaluation (on one core, 643 against 1143 req/s on the bench's
   * off-fast-path route).
   */
  function demote(slot: Slot): void {
    if (slot.tid === undefined) return;
    try {
      setPriority(slot.tid, 10);
      slot.demoted = true;
    } catch {
      // not allowed here: the deadline still holds
    }
  }

  function dispatch(slot: Slot, pending: Pending): void {
    slot.running = pending;
    slot.worker.ref();
    const tokens = 'texts' in pending.task && !('guard' in pending.task);
    const deadlineMs = tokens && !slot.encoder ? pending.coldDeadlineMs : pending.deadlineMs;
    const soft = Math.min(pending.demoteMs, deadlineMs);
    slot.timer = setTimeout(() => {
      demote(slot);
      slot.timer = setTimeout(() => {
        stats.stopped++;
        lose(slot, failure('D1012', `the ${'guard' in pending.task ? 'prompt check' : tokens ? 'token count' : 'expression'} ran past its ${deadlineMs} ms deadline and its worker was stopped`));
      }, deadlineMs - soft);
    }, soft);
    try {
      slot.worker.postMessage(pending.task);
    } catch (error) {
      settle(slot);
      pending.reject(failure('input not data', `the input cannot be copied to the expression worker: ${(error as Error).message}`));
    }
  }

  /** Hands waiting evaluations to idle workers; idle ones are unref'd, or replaced when demoted. */
  function pump(): void {
    // a copy: retire() takes a slot out of `slots` (and may add one) while this walks them
    for (const slot of slots.slice()) {
      if (!slot.ready || slot.running !== undefined) continue;
      const next = queue.shift();
      if (next !== undefined) dispatch(slot, next);
      else if (slot.demoted) retire(slot);
      else slot.worker.unref();
    }
  }

  /** Queues a task (or refuses it: closed, busy) and starts a worker when none is free; `signal` takes it out of the queue while it waits. */
  function enqueue(pending: Pending, signal?: AbortSignal): void {
    if (closed) return pending.reject(failure('closed', 'the gateway is closing'));
    if (signal?.aborted) return pending.reject(failure('cancelled', 'the client went away'));
    if (queue.length >= options.queue) return pending.reject(failure('busy', `${options.queue} expressions are already waiting for a worker`));
    queue.push(pending);
    signal?.addEventListener(
      'abort',
      () => {
        const at = queue.indexOf(pending);
        if (at < 0) return; // taken by a worker already: it runs to its end or its deadline
        queue.splice(at, 1);
        pending.reject(failure('cancelled', 'the client went away'));
      },
      { once: true },
    );
    for (const slot of slots) if (!slot.ready) slot.worker.ref();
    pump();
    if (queue.length > 0 && slots.every((slot) => slot.running !== undefined || !slot.ready)) addSlot();
  }

  return {
    stats,
    run(task, { deadlineMs, demoteMs = task.limits.timeoutMs, signal }) {
      return new Promise((resolve, reject) => {
        const answer = (reply: Success) => {
          if (!('json' in reply)) reject(failure('worker failed', 'the worker answered another task'));
          else resolve(reply.bytes === undefined ? { json: reply.json } : { json: undefined, bytes: reply.bytes });
        };
        enqueue({ task: { ...task, id: nextId++ }, deadlineMs, coldDeadlineMs: deadlineMs, demoteMs, resolve: answer, reject }, signal);
      });
    },
    countTokens(texts, { deadlineMs, coldDeadlineMs, demoteMs }) {
      return new Promise((resolve, reject) => {
        const answer = (reply: Success) => {
          if ('tokens' in reply) resolve(reply.tokens);
          else reject(failure('worker failed', 'the worker answered another task'));
        };
        enqueue({ task: { id: nextId++, texts }, deadlineMs, coldDeadlineMs, demoteMs, resolve: answer, reject });
      });
    },
    scanPrompt(spec, texts, { deadlineMs, demoteMs, signal }) {
      return new Promise((resolve, reject) => {
        const answer = (reply: Success) => {
          if ('guard' in reply) resolve(reply.guard);
          else reject(failure('worker failed', 'the worker answered another task'));
        };
        enqueue({ task: { id: nextId++, guard: spec, texts }, deadlineMs, coldDeadlineMs: deadlineMs, demoteMs, resolve: answer, reject }, signal);
      });
    },
    warm() {
      if (slots.length === 0) addSlot();
    },
    async close() {
      closed = true;
      const why = failure('closed', 'the gateway is closing');
      for (const pending of queue.splice(0)) pending.reject(why);
      const stopping = slots.splice(0).map((slot) => {
        settle(slot)?.reject(why);
        return slot.worker.terminate();
      });
      await Promise.all(stopping);
    },
  };
}
