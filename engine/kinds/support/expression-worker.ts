/**
 * An expression worker: evaluates the JSONata expressions that are not on the compiled fast path,
 * one at a time, so that the main thread can stop it (terminate the thread) when one passes its
 * deadline, even inside one step. It also counts prompt tokens (TokenCountTask, token-count.ts):
 * the encoder is built on the first such task, once per worker. Started by expression-pool.ts;
 * bundled as dist/expression-worker.mjs beside dist/cli.mjs.
 *
 * Messages in: a task (see WorkerTask, TokenCountTask, GuardTask). Out: `{ ready: true, tid }` once, then one WorkerReply per task.
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compileBounded, loadBuiltins, type BoundedJsonata, type EvaluationLimits } from './jsonata-bounds.ts';
import { compileScan, type ScanResult, type ScanSpec } from './prompt-scan.ts';
import { loadTokenEncoder, type TokenEncoder } from './token-encoder.ts';

/**
 * One evaluation: which expression (compiled once per worker, by id), its bounds, and its input as
 * JSON text (V8's structured clone took 3-5 times as long as JSON both ways on request-shaped data:
 * 100 ms to rebuild 20 000 small objects), with a body that is bytes (a Buffer) beside it.
 */
export interface WorkerTask {
  id: number;
  expression: number;
  source: string;
  limits: EvaluationLimits;
  input: string;
  requestBytes?: Uint8Array | undefined;
  /** The request's JSON body as received, when no node replaced it: parsed here rather than written out again. */
  requestJson?: Uint8Array | undefined;
  responseBytes?: Uint8Array | undefined;
}

/** Tokens (o200k_base) in these texts, counted here so that the tokenizer never runs on the main thread. */
export interface TokenCountTask {
  id: number;
  texts: readonly string[];
}

/** A prompt-guard node's checks on a prompt's texts (prompt-scan.ts), off the gateway's thread. */
export interface GuardTask {
  id: number;
  guard: ScanSpec;
  texts: readonly string[];
}

/** The result as JSON text (undefined for no result), or bytes when it is a Buffer; or a token count; or JSONata's error. */
export type WorkerReply =
  | { id: number; ok: true; json: string | undefined; bytes?: Uint8Array }
  | { id: number; ok: true; tokens: number }
  | { id: number; ok: true; guard: ScanResult }
  | { id: number; ok: false; code: string | undefined; message: string };

/** The task's input, its byte bodies put back as Buffers. */
function inputOf(task: WorkerTask): unknown {
  const input = JSON.parse(task.input) as { request?: { body?: unknown }; response?: { body?: unknown } };
  if (task.requestJson !== undefined && input.request) input.request.body = JSON.parse(Buffer.from(task.requestJson.buffer, task.requestJson.byteOffset, task.requestJson.byteLength).toString('utf8'));
  if (task.requestBytes !== undefined && input.request) input.request.body = Buffer.from(task.requestBytes.buffer, task.requestBytes.byteOffset, task.requestBytes.byteLength);
  if (task.responseBytes !== undefined && input.response) input.response.body = Buffer.from(task.responseBytes.buffer, task.responseBytes.byteOffset, task.responseBytes.byteLength);
  return input;
}

/** A result as the reply carries it; throws (as JSONata does) for one that is not data. */
function replyOf(id: number, result: unknown): WorkerReply {
  if (result === undefined) return { id, ok: true, json: undefined };
  if (result instanceof Uint8Array) return { id, ok: true, json: undefined, bytes: result };
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw Object.assign(new Error(`the result is not data: ${(error as Error).message}`), { code: 'result not data' });
  }
  return { id, ok: true, json };
}

/** Expressions compiled in this worker, oldest first; published versions come and go, so bounded. */
const MAX_COMPILED = 1000;

/**
 * Run once before the worker says it is ready: a cold worker compiles JSONata's and RE2's code on
 * first use, which on a loaded machine took longer than a deadline (and a stopped worker's
 * replacement would be cold again).
 */
const WARM_UP = '{ "m": $match(s, /(a)(b)?/i), "r": $replace(s, /b+/, "$0-"), "p": $split(s, /a/), "c": $contains(s, "b"), "t": $string({ "n": [1, 2] }), "j": $join([$pad(s, 5, "-"), $uppercase(s)], ","), "l": $map(n, function($v) { $v * 2 + 1 }), "f": n[$ > 1], "k": $keys({ "x": 1 }), "d": $distinct([1, 1]), "o": $sort(n) }';

/** This thread's id on Linux (where the nice value is per thread, see expression-pool.ts), else undefined. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

const port = parentPort;
if (port !== null) {
  const builtins = await loadBuiltins();
  const compiled = new Map<number, BoundedJsonata>();
  const warmUp = compileBounded(WARM_UP, { timeoutMs: 60_000, depth: 300, sequence: 100, stringChars: 1000, resultChars: 10_000 }, builtins);
  for (let i = 0; i < 3; i++) await warmUp.evaluate({ s: 'abba', n: [3, 1, 2] });

  const compiledFor = (task: WorkerTask): BoundedJsonata => {
    let expression = compiled.get(task.expression);
    if (expression === undefined) {
      expression = compileBounded(task.source, task.limits, builtins);
      if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
      compiled.set(task.expression, expression);
    }
    return expression;
  };

  let encoder: Promise<TokenEncoder> | undefined;

  const guards = new Map<number, ReturnType<typeof compileScan>>();

  port.on('message', async (task: WorkerTask | TokenCountTask | GuardTask) => {
    let reply: WorkerReply;
    try {
      if ('guard' in task) {
        let guard = guards.get(task.guard.key);
        if (guard === undefined) {
          guard = compileScan(task.guard);
          if (guards.size >= MAX_COMPILED) guards.delete(guards.keys().next().value!);
          guards.set(task.guard.key, guard);
        }
        reply = { id: task.id, ok: true, guard: guard.scan(task.texts) };
      } else if ('texts' in task) reply = { id: task.id, ok: true, tokens: (await (encoder ??= loadTokenEncoder((workerData as { tokenRanks: string }).tokenRanks))).count(task.texts) };
      else reply = replyOf(task.id, await compiledFor(task).evaluate(inputOf(task)));
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      reply = { id: task.id, ok: false, code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : String(error) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true, tid: threadId() });
}
