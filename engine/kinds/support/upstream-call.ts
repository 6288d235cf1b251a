import type { Writable } from 'node:stream';
import { errors as undiciErrors, type Dispatcher } from 'undici';
import type { Exchange } from '../types.ts';
import { failWith } from './errors.ts';
import { answerHeadersFromRaw } from './upstream-headers.ts';
import type { AnswerUsage } from './upstream-llm.ts';

/**
 * Cancels a call through undici's request API (an answer handed on as a stream, for exchanges
 * that cannot write to a client: previews, tests). undici takes any object with
 * addEventListener/removeEventListener as a signal; this one holds undici's single listener.
 */
export class CallCancellation {
  aborted = false;
  timedOut = false;
  #listener: (() => void) | undefined;
  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
  }
  removeEventListener(): void {
    this.#listener = undefined;
  }
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#listener?.();
  }
}

/** What a call through UpstreamCall ends with: the port, the answer written or buffered on the exchange. */
type CallEnd = 'ok' | 'too_large' | 'retry';

/**
 * One upstream call as undici's dispatcher reports it (its handler interface, no stream or
 * promise of undici's own in between). In `stream` mode the answer's head and body are written
 * straight into the client connection as they come, the upstream paused while the client's
 * socket is full; in `buffer` mode the body is kept, up to `maxBuffered` bytes
 * (SLUICE_MAX_BUFFERED_ANSWER), for a later node. It is also what the client going away and
 * the deadline abort.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  aborted = false;
  timedOut = false;
  status = 0;
  headers: Record<string, string | string[]> = {};
  /** The upstream's content-length, as it declared it. */
  declaredLength: string | undefined = undefined;
  /** The answer's head went to the client (stream mode): the call can no longer be retried. */
  committed = false;
  /** The buffered body (buffer mode). */
  body: Buffer | undefined;
  readonly #exchange: Exchange;
  readonly #stream: boolean;
  readonly #maxBuffered: number;
  /** When the call started, for the exchange's upstreamMs; undefined for a call that is not the exchange's upstream (an http-call's). */
  readonly #started: number | undefined;
  readonly #deadline: NodeJS.Timeout;
  #abortUpstream: ((reason: Error) => void) | undefined;
  #reason: Error | undefined;
  #answer: Writable | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #tooLarge = false;
  #upstreamTimed = false;
  #resume: (() => void) | undefined;
  /** Decides, at the answer's head, to drop it and try again (a resilient proxy's retryOn status within its budget). */
  readonly #retryStatus: ((status: number) => boolean) | undefined;
  /** The answer's head was dropped for a retry. */
  retried = false;
  /** Reads a streamed answer as it passes (an llm proxy's usage), made from its head; each chunk is handed on first. */
  watch: ((headers: Record<string, string | string[]>) => AnswerUsage) | undefined = undefined;
  watcher: AnswerUsage | undefined = undefined;
  #resolve!: (end: CallEnd) => void;
  #reject!: (error: unknown) => void;
  readonly done = new Promise<CallEnd>((resolve, reject) => {
    this.#resolve = resolve;
    this.#reject = reject;
  });

  constructor(exchange: Exchange, stream: boolean, maxBuffered: number, started: number | undefined, timeoutMs: number, retryStatus?: (status: number) => boolean) {
    this.#exchange = exchange;
    this.#retryStatus = retryStatus;
    this.#stream = stream;
    this.#maxBuffered = maxBuffered;
    this.#started = started;
    this.#deadline = setTimeout(onDeadline, timeoutMs, this);
  }

  abort(reason: Error = new undiciErrors.RequestAbortedError()): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.#abortUpstream) this.#abortUpstream(reason);
    else this.#reason = reason;
  }

  onConnect(abort: (reason: Error) => void): void {
    if (this.#reason) abort(this.#reason);
    else this.#abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    if (this.#retryStatus?.(statusCode)) {
      this.status = statusCode;
      this.retried = true;
      this.abort();
      return false;
    }
    const exchange = this.#exchange;
    this.status = statusCode;
    this.headers = answerHeadersFromRaw(raw, !this.#stream, this);
    if (!this.#stream) {
      if (this.declaredLength !== undefined && Number(this.declaredLength) > this.#maxBuffered) {
        this.#tooLarge = true;
        this.abort();
        return false;
      }
      return true;
    }
    clearTimeout(this.#deadline); // a streamed body is bounded by bodyTimeout (the longest pause) from here
    this.#timed();
    this.#answer = exchange.hijack(statusCode, this.headers);
    this.committed = true;
    if (this.watch !== undefined) this.watcher = this.watch(this.headers);
    this.#resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#stream) {
      // the client reads slower than the upstream sends: undici pauses until the answer drains
      const flowing = this.#answer!.write(chunk);
      this.watcher?.feed(chunk);
      if (flowing) return true;
      this.#answer!.once('drain', this.#resume!);
      return false;
    }
    this.#size += chunk.length;
    if (this.#size > this.#maxBuffered) {
      this.#tooLarge = true;
      this.abort();
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  /** The upstream's time, once: at the answer's head when streaming, else when the call ends. */
  #timed(): void {
    if (this.#upstreamTimed || this.#started === undefined) return;
    this.#upstreamTimed = true;
    this.#exchange.upstreamMs = performance.now() - this.#started;
  }

  onComplete(): void {
    clearTimeout(this.#deadline);
    this.#timed();
    if (this.#stream) this.#answer!.end();
    else {
      this.body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
      this.#chunks = [];
    }
    this.#resolve('ok');
  }

  onError(error: Error): void {
    clearTimeout(this.#deadline);
    this.#timed();
    // a body cut short must reach the client as a broken answer, never as a short one
    this.#answer?.destroy(error);
    if (this.#tooLarge) this.#resolve('too_large');
    else if (this.retried) this.#resolve('retry');
    else this.#reject(error);
  }
}

/** A call's deadline passed: it is cancelled, and ends by the timeout port. */
export function onDeadline(call: { timedOut: boolean; abort(): void }): void {
  call.timedOut = true;
  call.abort();
}

function isTimeout(error: unknown): boolean {
  return error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError;
}

/** The port of an upstream call that failed: timeout when its deadline or undici's passed, else error, with the reason. */
export function failedCall(exchange: Exchange, call: { timedOut: boolean }, error: unknown): string {
  if (call.timedOut || isTimeout(error)) return 'timeout';
  return failWith(exchange, (error as { code?: string }).code ?? 'connection failed');
}
