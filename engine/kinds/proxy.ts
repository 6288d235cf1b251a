import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { Pool, errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici';
import type { ProxyConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { failWith } from './support/errors.ts';
import { HOP_BY_HOP } from './support/headers.ts';
import { PrepareError, type Exchange, type PrepareContext, type Runtime } from './types.ts';

/**
 * Headers a proxy answers itself: Node's server has already sent `100 Continue` to the client,
 * and undici refuses to send `Expect` upstream.
 */
const ANSWERED_HERE = new Set(['expect']);

/**
 * The header names a Connection header lists (RFC 9110 7.6.1), which are hop-by-hop too; undefined
 * for the usual `keep-alive` / `close`, so the common case costs a comparison.
 */
function connectionListed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  let listed: Set<string> | undefined;
  for (const value of Array.isArray(connection) ? connection : [connection]) {
    if (value === 'keep-alive' || value === 'close') continue;
    for (const item of value.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '' && !HOP_BY_HOP.has(name)) (listed ??= new Set()).add(name);
    }
  }
  return listed;
}

/**
 * The upstream's headers the client may see, from undici's parsed header object (an answer
 * handed on as a stream): hop-by-hop ones and those its Connection header lists dropped.
 */
function answerHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = connectionListed(upstream.connection);
  const copied: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    copied[name] = value;
  }
  return copied;
}

/**
 * The same from the raw header list undici's dispatcher reports (name, value, name, value…), in
 * one pass, dropping content-length too when a later node will rewrite the body: names
 * lower-cased as undici's parseHeaders does, repeated ones as arrays. The upstream's
 * content-length is noted in `seen` even when it is not copied.
 */
function answerHeadersFromRaw(raw: Buffer[], bodyRewritten: boolean, seen: { declaredLength: string | undefined }): Record<string, string | string[]> {
  const copied: Record<string, string | string[]> = {};
  let connection: string | string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = undiciUtil.headerNameToString(raw[i]!);
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection === undefined ? value : [connection, value].flat();
    else if (name === 'content-length') seen.declaredLength = value;
    if (HOP_BY_HOP.has(name) || (bodyRewritten && name === 'content-length')) continue;
    const existing = Object.hasOwn(copied, name) ? copied[name] : undefined;
    if (existing === undefined) {
      if (name === '__proto__') Object.defineProperty(copied, name, { value, enumerable: true, configurable: true, writable: true });
      else copied[name] = value;
    } else if (typeof existing === 'string') copied[name] = [existing, value];
    else existing.push(value);
  }
  const listed = connectionListed(connection);
  if (listed === undefined) return copied;
  const kept: Record<string, string | string[]> = {};
  for (const name in copied) if (!listed.has(name)) kept[name] = copied[name]!;
  return kept;
}

/**
 * undici 7 drops the connection ("bad response", a 502 here) when an upstream sends a
 * `100 Continue` before its answer unasked, though RFC 9110 15.2 says a client must accept any
 * 1xx before the final answer (it passes the others, 103 Early Hints say, to the call, which
 * skips them). Its HTTP/1 parser is not exported: the first connection an undici client makes
 * hands it over through undici's own diagnostics channel, and its onHeadersComplete then reads
 * a 100 as a 102, an interim answer of the same shape, so the answer after it is the answer.
 * Once per process, at the first connection; nothing per request.
 */
function acceptInterimContinue(): void {
  let kParser: symbol | undefined;
  try {
    kParser = (createRequire(import.meta.url)('undici/lib/core/symbols.js') as { kParser?: symbol }).kParser;
  } catch {
    return; // undici moved its internals: test/adversarial/http-edges.test.ts says so
  }
  if (kParser === undefined) return;
  const key = kParser;
  const onConnected = (message: unknown) => {
    const parser = (message as { socket?: Record<symbol, unknown> }).socket?.[key] as object | null | undefined;
    if (!parser) return; // HTTP/2, or a connection of Node's own copy of undici (global fetch)
    unsubscribe('undici:client:connected', onConnected);
    type HeadersComplete = (statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) => number;
    const prototype = Object.getPrototypeOf(parser) as { onHeadersComplete?: HeadersComplete };
    const original = prototype.onHeadersComplete;
    if (typeof original !== 'function') return;
    prototype.onHeadersComplete = function onHeadersComplete(statusCode, upgrade, shouldKeepAlive) {
      return original.call(this, statusCode === 100 ? 102 : statusCode, upgrade, shouldKeepAlive);
    };
  };
  subscribe('undici:client:connected', onConnected);
}
acceptInterimContinue();

/** Client headers that claim an identity only the gateway may assert. */
const IDENTITY_HEADERS = new Set(['x-partner', 'x-subject', 'x-user', 'x-scopes', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'traceparent', 'tracestate']);

/** A URL that starts with ${NAME}: the variable gives the whole base (scheme, host, port, path prefix). */
const TEMPLATE = /^\$\{([A-Z_][A-Z0-9_]*)\}(.*)$/s;

/**
 * The upstream URL of a config: as written, or with a leading ${NAME} replaced by the allow-listed
 * variable NAME. Only a leading reference is read, followed by the end, `/`, `?` or `#`, so the
 * value is the URL's base and goes to the host it names, never into the path, query or host of
 * another. A refusal quotes the URL as written, never the resolved text.
 */
async function resolveUrl(url: string, context: PrepareContext): Promise<URL> {
  const template = TEMPLATE.exec(url);
  const rest = template ? template[2]! : url;
  if (rest.includes('${')) throw new PrepareError('config.url', `"${url}": \${NAME} may only start the URL, as its base`);
  if (template && rest !== '' && !/^[/?#]/.test(rest)) throw new PrepareError('config.url', `"${url}": \${${template[1]}} must be followed by /, ? or # (the variable is the whole base URL)`);
  const base = template ? context.env.url(template[1]!, 'config.url') : '';
  let parsed: URL;
  try {
    parsed = new URL(base + rest);
  } catch (cause) {
    throw new PrepareError('config.url', `"${url}" is not an http(s) URL${template ? ' once its variable is read' : ''}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new PrepareError('config.url', `"${url}" is not an http(s) URL${template ? ' once its variable is read' : ''}`);
  const refused = await context.egress.check({ url: parsed, label: template ? `\${${template[1]}}` : `"${url}"`, literal: template === null });
  if (refused !== undefined) throw new PrepareError('config.url', refused);
  return parsed;
}

/**
 * Cancels a call through undici's request API (an answer handed on as a stream, for exchanges
 * that cannot write to a client: previews, tests). undici takes any object with
 * addEventListener/removeEventListener as a signal; this one holds undici's single listener.
 */
class CallCancellation {
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

/** Builds the upstream path from a template such as /v2/orders/:id. */
function pathTemplate(template: string): (params: Record<string, string>) => string {
  const parts = template.split(/(:[A-Za-z_][A-Za-z0-9_]*)/);
  return (params) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) out += i % 2 === 1 ? encodeURIComponent(params[parts[i]!.slice(1)] ?? '') : parts[i];
    return out;
  };
}

/** What a call through UpstreamCall ends with: the port, the answer written or buffered on the exchange. */
type CallEnd = 'ok' | 'too_large';

/**
 * One upstream call as undici's dispatcher reports it (its handler interface, no stream or
 * promise of undici's own in between). In `stream` mode the answer's head and body are written
 * straight into the client connection as they come, the upstream paused while the client's
 * socket is full; in `buffer` mode the body is kept, up to `maxBuffered` bytes
 * (SLUICE_MAX_BUFFERED_ANSWER), for a later node. It is also what the client going away and
 * the deadline abort.
 */
class UpstreamCall implements Dispatcher.DispatchHandler {
  aborted = false;
  timedOut = false;
  status = 0;
  headers: Record<string, string | string[]> = {};
  /** The upstream's content-length, as it declared it. */
  declaredLength: string | undefined = undefined;
  /** The buffered body (buffer mode). */
  body: Buffer | undefined;
  readonly #exchange: Exchange;
  readonly #stream: boolean;
  readonly #maxBuffered: number;
  readonly #started: number;
  readonly #deadline: NodeJS.Timeout;
  #abortUpstream: ((reason: Error) => void) | undefined;
  #reason: Error | undefined;
  #answer: Writable | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #tooLarge = false;
  #upstreamTimed = false;
  #resume: (() => void) | undefined;
  #resolve!: (end: CallEnd) => void;
  #reject!: (error: unknown) => void;
  readonly done = new Promise<CallEnd>((resolve, reject) => {
    this.#resolve = resolve;
    this.#reject = reject;
  });

  constructor(exchange: Exchange, stream: boolean, maxBuffered: number, started: number, timeoutMs: number) {
    this.#exchange = exchange;
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
    this.#resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#stream) {
      // the client reads slower than the upstream sends: undici pauses until the answer drains
      if (this.#answer!.write(chunk)) return true;
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
    if (this.#upstreamTimed) return;
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
    else this.#reject(error);
  }
}

/** A call's deadline passed: it is cancelled, and ends by the timeout port. */
function onDeadline(call: { timedOut: boolean; abort(): void }): void {
  call.timedOut = true;
  call.abort();
}

/** Content types whose body a later node reads as JSON or text. */
const JSON_TYPE = /[/+]json\b/i;
const TEXT_TYPE = /^text\//i;

function isTimeout(error: unknown): boolean {
  return error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError;
}

/** The port of an upstream call that failed: timeout when its deadline or undici's passed, else error, with the reason. */
function failedCall(exchange: Exchange, call: { timedOut: boolean }, error: unknown): string {
  if (call.timedOut || isTimeout(error)) return 'timeout';
  return failWith(exchange, (error as { code?: string }).code ?? 'connection failed');
}

/**
 * Calls the upstream through a keep-alive pool shared by every node that targets the same
 * origin. Bodies stream through unless a later node reads them: the request body is streamed
 * when no node parsed it, the response body when the `ok` port ends the request.
 */
export const proxy: Runtime<ProxyConfig> = async (config, context) => {
  const target = await resolveUrl(config.url, context);
  const origin = target.origin;
  const basePath = target.pathname.replace(/\/$/, '');
  // Every connection goes through the egress policy's connector: it checks the address each one is made to.
  const egress = context.egress;
  const pool = context.shared.get(`pool:${egress.key}:${origin}`, () => new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000, connect: egress.connector() }));
  const timeoutMs = durationMs(config.timeout);
  const rewrite = config.path === undefined ? undefined : pathTemplate(config.path);
  const stripPrefix = config.stripPrefix?.replace(/\/$/, '');
  const bufferResponse = context.wiredPorts.has('ok');
  const maxBuffered = context.maxBufferedAnswer;
  const preserveHost = config.preserveHost;
  const dropAuthorization = !config.forwardAuthorization;
  const upstreamHost = target.host;

  function upstreamPath(exchange: Exchange): string {
    let path: string;
    if (rewrite) path = rewrite(exchange.request.params);
    else {
      path = exchange.request.path;
      // at a segment boundary only: /api strips /api/x and /api, never /apix
      if (stripPrefix && path.startsWith(stripPrefix) && (path.length === stripPrefix.length || path.charCodeAt(stripPrefix.length) === 47)) path = path.slice(stripPrefix.length) || '/';
    }
    return basePath + path + exchange.upstreamSearch();
  }

  function upstreamHeaders(exchange: Exchange, body: Buffer | string | undefined): Record<string, string | string[]> {
    const incoming = exchange.request.headers;
    const listed = connectionListed(incoming.connection);
    // Built by skipping, never by deleting: a delete turns the object into a slow dictionary for
    // everything that reads it afterwards (undici, here).
    const headers: Record<string, string | string[]> = {};
    for (const name in incoming) {
      const value = incoming[name];
      if (value === undefined || HOP_BY_HOP.has(name) || IDENTITY_HEADERS.has(name) || ANSWERED_HERE.has(name)) continue;
      if ((dropAuthorization && name === 'authorization') || (bufferResponse && name === 'accept-encoding') || (body !== undefined && name === 'content-length')) continue;
      if (listed?.has(name)) continue;
      headers[name] = value;
    }
    if (!preserveHost) headers.host = upstreamHost;
    const trace = exchange.trace;
    headers.traceparent = `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
    if (trace.traceState !== undefined) headers.tracestate = trace.traceState;
    headers['x-forwarded-for'] = exchange.forwardedFor;
    headers['x-forwarded-proto'] = 'http';
    if (typeof incoming.host === 'string') headers['x-forwarded-host'] = incoming.host;
    if (exchange.partner !== undefined) headers['x-partner'] = exchange.partner;
    if (exchange.subject !== undefined) headers['x-subject'] = exchange.subject;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body)); // transfer-encoding is hop-by-hop: never copied
    return headers;
  }

  /** The body to send: the stream as received, the bytes as received, or the replaced body as JSON. */
  function requestBody(exchange: Exchange): { body: Buffer | string | undefined; stream: Exchange['incoming'] } {
    const received = exchange.receivedBody;
    if (received === undefined) {
      const h = exchange.request.headers;
      const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
      return { body: undefined, stream: hasBody ? exchange.incoming : undefined };
    }
    const body = exchange.request.body;
    if (body === received.parsed) return { body: received.raw, stream: undefined };
    if (body === undefined) return { body: '', stream: undefined };
    if (typeof body === 'string' || Buffer.isBuffer(body)) return { body, stream: undefined };
    return { body: JSON.stringify(body), stream: undefined };
  }

  /** An answer handed on as a stream, for an exchange that cannot write to a client (previews, tests). */
  async function streamToLater(exchange: Exchange, options: Dispatcher.DispatchOptions, started: number): Promise<string> {
    const call = new CallCancellation();
    exchange.onClientGone(call);
    const deadline = setTimeout(onDeadline, timeoutMs, call);
    try {
      const response = await pool.request({ ...options, signal: call as unknown as AbortSignal });
      exchange.response = { status: response.statusCode, headers: answerHeaders(response.headers), stream: response.body };
      return 'ok';
    } catch (error) {
      return failedCall(exchange, call, error);
    } finally {
      exchange.upstreamMs = performance.now() - started;
      clearTimeout(deadline);
    }
  }

  return {
    run: async function proxy(exchange) {
      const { body, stream } = requestBody(exchange);
      const headers = upstreamHeaders(exchange, body);
      if (body !== undefined && exchange.receivedBody !== undefined && exchange.request.body !== exchange.receivedBody.parsed && typeof exchange.request.body !== 'string')
        headers['content-type'] = 'application/json';
      const started = performance.now();
      const options: Dispatcher.DispatchOptions = {
        path: upstreamPath(exchange),
        method: exchange.request.method as Dispatcher.HttpMethod,
        headers,
        body: body ?? stream ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      };
      if (!bufferResponse && !exchange.canHijack) return streamToLater(exchange, options, started);
      // One deadline for connecting, the answer's head and, when a later node reads it, its whole
      // body: undici's own timeouts restart per phase and its connect timeout is the pool's.
      // A streamed body is bounded by bodyTimeout (the longest pause) once the head is in.
      const call = new UpstreamCall(exchange, !bufferResponse, maxBuffered, started, timeoutMs);
      exchange.onClientGone(call);
      try {
        try {
          pool.dispatch(options, call);
        } catch (error) {
          call.onError(error as Error); // refused before it started (an invalid header, a closed pool)
        }
        if ((await call.done) === 'too_large') return failWith(exchange, 'the upstream answer is too large to transform');
      } catch (error) {
        return failedCall(exchange, call, error);
      }
      if (!bufferResponse) return 'ok';
      const raw = call.body!;
      const type = call.headers['content-type'];
      let parsed: unknown = raw;
      if (typeof type === 'string' && JSON_TYPE.test(type)) {
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          parsed = raw.toString('utf8');
        }
      } else if (typeof type === 'string' && TEXT_TYPE.test(type)) parsed = raw.toString('utf8');
      exchange.response = { status: call.status, headers: call.headers, body: parsed };
      return 'ok';
    },
  };
};
