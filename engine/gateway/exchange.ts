import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import type { Exchange, GatewayRequest, GatewayResponse, LlmRecord, PresentedCertificate, TraceContext } from '../kinds/types.ts';
import type { ClientCertificates } from './client-certificate.ts';
import { writeProblem, type ProblemAnswer } from './problem.ts';
import { ANSWER_PIECE, type BufferedSend, type SlowReaderGuard } from './slow-readers.ts';
import { traceContextOf } from './trace.ts';

/** What an exchange reads of the incoming request: Node's IncomingMessage, or a synthetic one. */
export type IncomingSide = Readable & { readonly method?: string | undefined; readonly headers: IncomingHttpHeaders };
/** What an exchange watches of the answer: a close before it finished means the client went away. */
export interface AnswerSide {
  on(event: 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
}

/** The request as nodes see it; the query string is parsed only when something reads it. */
class RequestView implements GatewayRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown = undefined;
  readonly search: string;
  #query: Record<string, string | string[]> | undefined;
  /** The query as parsed from the URL, as JSON: a query equal to it goes upstream as received. */
  #parsedAs: string | undefined;

  constructor(method: string, path: string, search: string, params: Record<string, string>, headers: Record<string, string | string[] | undefined>) {
    this.method = method;
    this.path = path;
    this.search = search;
    this.params = params;
    this.headers = headers;
  }

  get query(): Record<string, string | string[]> {
    if (this.#query === undefined) {
      const query: Record<string, string | string[]> = Object.create(null);
      if (this.search.length <= 1) {
        // no query ("" or a bare "?"): no URLSearchParams to make, nothing to serialise (~0.2 µs)
        this.#parsedAs = '{}';
        return (this.#query = query);
      }
      for (const [name, value] of new URLSearchParams(this.search)) {
        const existing = query[name];
        query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
      }
      this.#query = query;
      this.#parsedAs = JSON.stringify(query);
    }
    return this.#query;
  }

  set query(value: Record<string, string | string[]>) {
    this.#query = value;
  }

  /** Whether a node changed the query (reading it changes nothing). */
  get queryChanged(): boolean {
    return this.#query !== undefined && JSON.stringify(this.#query) !== this.#parsedAs;
  }

  toJSON() {
    return { method: this.method, path: this.path, params: this.params, query: this.query, headers: this.headers, body: this.body };
  }
}


/** What an answer's client going away aborts: undefined until something asks (no listener yet), null once let go of (the listener stays). */
const ABORT_ON_CLOSE = Symbol('abortOnClose');
type AbortHolder = AnswerSide & { [ABORT_ON_CLOSE]?: { abort(): void } | null };

/** A 'close' listener shared by every answer (no closure per request): aborts what the answer holds. */
function abortOnClose(this: AbortHolder): void {
  if (!this.writableFinished) this[ABORT_ON_CLOSE]?.abort();
}

/**
 * Who wrote a request's answer, set as it is written: the gateway (a built answer or a problem),
 * or a node that hijacked the connection to stream its answer itself (a proxy).
 */
export type Answerer = 'gateway' | 'node';

/**
 * One request's exchange between the gateway and the node runtimes. It owns the answer: the
 * gateway sends a built answer or a problem through it, a node hijacks it to stream its own.
 */
export class RequestExchange implements Exchange {
  readonly request: RequestView;
  claims: Record<string, unknown> | undefined = undefined;
  partner: string | undefined = undefined;
  subject: string | undefined = undefined;
  scopes: readonly string[] = [];
  vars: Record<string, unknown> = {};
  response: GatewayResponse | undefined = undefined;
  llm: LlmRecord | undefined = undefined;
  problemParams: Record<string, string> | undefined = undefined;
  problemMembers: Record<string, unknown> | undefined = undefined;
  answerHeaders: Record<string, string> | undefined = undefined;
  upstreamMs: number | undefined = undefined;
  upstreamStatus: number | undefined = undefined;
  keyId: string | undefined = undefined;
  rateLimitStoreDown: 'allow' | 'deny' | 'local' | undefined = undefined;
  mcpTool: { name: string; label: string } | undefined = undefined;
  receivedBody: { raw: Buffer; parsed: unknown } | undefined = undefined;
  /** Who wrote the answer; undefined until someone has. */
  answeredBy: Answerer | undefined = undefined;
  /** Where the client certificate is read from (set by the gateway for requests received on a socket). */
  certificates: ClientCertificates | undefined = undefined;
  /** The certificate header's value, taken off the request (see ClientCertificates.take). */
  certificateHeader: string | undefined = undefined;
  readonly trace: TraceContext;
  readonly clientIp: string;
  readonly forwardedFor: string;
  readonly #req: IncomingSide;
  readonly #res: AnswerSide;
  /** What to run when the request ends (onEnd): none for most requests; null once it ended. */
  #ends: Array<() => void> | null | undefined = undefined;

  constructor(req: IncomingSide, res: AnswerSide, path: string, search: string, params: Record<string, string>, trace: TraceContext, clientIp: string, forwardedFor = clientIp) {
    this.#req = req;
    this.#res = res;
    // Nodes edit the request's own header object: nothing reads the raw headers after the exchange is made.
    this.request = new RequestView(req.method!, path, search, params, req.headers);
    this.trace = trace;
    this.clientIp = clientIp;
    this.forwardedFor = forwardedFor;
  }

  get incoming(): Readable | undefined {
    return this.receivedBody === undefined ? this.#req : undefined;
  }

  clientCertificate(): PresentedCertificate | undefined {
    return this.certificates?.of(this.#req as IncomingMessage, this.certificateHeader);
  }

  get canHijack(): boolean {
    return typeof (this.#res as Partial<ServerResponse>).writeHead === 'function';
  }

  hijack(status: number, headers: Record<string, string | string[]>): Writable {
    const res = this.#res as ServerResponse;
    const extra = this.answerHeaders;
    if (extra) addAnswerHeaders(headers, extra);
    this.response = { status, headers };
    this.answeredBy = 'node';
    res.writeHead(status, headers);
    return res;
  }

  /**
   * Sends the answer the nodes built (`response`, with `answerHeaders`). A small one goes out in
   * one write when the connection is free; a large one, or one queued behind an earlier answer on
   * a pipelined connection, goes through the slow-reader guard, which bounds what one connection holds.
   */
  send(head: boolean, guard: SlowReaderGuard): BufferedSend {
    const res = this.#res as ServerResponse;
    const response = this.response!;
    this.answeredBy = 'gateway';
    const headers = response.headers;
    const extra = this.answerHeaders;
    if (extra) addAnswerHeaders(headers, extra);
    if (response.stream) {
      res.writeHead(response.status, headers);
      const stream = response.stream;
      stream.on('error', () => res.destroy());
      stream.pipe(res);
      return 'sent';
    }
    let payload: string | Buffer;
    const body = response.body;
    if (body === undefined || body === null) payload = '';
    else if (typeof body === 'string' || Buffer.isBuffer(body)) payload = body;
    else {
      payload = JSON.stringify(body);
      if (headers['content-type'] === undefined) headers['content-type'] = 'application/json; charset=utf-8';
    }
    const bytes = Buffer.byteLength(payload);
    headers['content-length'] = String(bytes);
    if (!head && (bytes > ANSWER_PIECE || res.socket === null)) return guard.send(this.#req as IncomingMessage, res, response.status, headers, payload, bytes);
    res.writeHead(response.status, headers);
    res.end(head ? undefined : payload);
    return 'sent';
  }

  /** Answers a rendered problem, with `extra` headers. */
  problem(problem: ProblemAnswer, extra: Record<string, string> | undefined, head: boolean): void {
    this.answeredBy = 'gateway';
    writeProblem(this.#res as ServerResponse, problem, extra, head);
  }

  onClientGone(target: { abort(): void }): void {
    const res = this.#res;
    // The client may have left already, while an earlier node waited (a key fetch, a body): its
    // 'close' event is gone, so a listener alone would never fire.
    if (res.destroyed && !res.writableFinished) target.abort();
    else {
      const holder = res as AbortHolder;
      const listening = holder[ABORT_ON_CLOSE] !== undefined;
      holder[ABORT_ON_CLOSE] = target;
      // one listener per answer however many steps ask (each off-fast-path expression does): 'close'
      // comes once, and `on` spares the wrapper `once` makes
      if (!listening) res.on('close', abortOnClose);
    }
  }

  onEnd(cleanup: () => void): void {
    if (this.#ends === null) cleanup(); // registered after the end: nothing is left to wait for
    else if (this.#ends === undefined) this.#ends = [cleanup];
    else this.#ends.push(cleanup);
  }

  /** Ends the request for its nodes: runs what they registered with onEnd, once (nothing to do for most requests). */
  end(): void {
    const ends = this.#ends;
    this.#ends = null;
    if (!ends) return;
    for (const cleanup of ends) {
      try {
        cleanup();
      } catch {
        // one cleanup failing leaves the others to run, and the request's end to be logged
      }
    }
  }

  /**
   * Lets go of what the answer held for the client going away (a finished upstream call, and
   * through it this exchange): a built answer no longer needs it, and a client that reads its
   * answer slowly would otherwise keep the upstream's body and every copy made of it.
   */
  releaseClientGone(): void {
    const res = this.#res as AbortHolder;
    if (res[ABORT_ON_CLOSE] !== undefined) res[ABORT_ON_CLOSE] = null;
  }

  upstreamSearch(): string {
    const request = this.request;
    if (!request.queryChanged) return request.search;
    const text = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query)) {
      if (Array.isArray(value)) for (const v of value) text.append(name, v);
      else text.append(name, value);
    }
    const s = text.toString();
    return s === '' ? '' : `?${s}`;
  }
}

/** A request made up by the engine itself (tests, preview), not received on a socket. */
export interface SyntheticRequest {
  method: string;
  /** Path as a client sends it, with the query string. */
  url: string;
  /** The route's :params, as the route table matched them. */
  params?: Record<string, string>;
  /** Lower-case header names. */
  headers?: Record<string, string>;
  /** A parsed body, as the gateway leaves it after buffering a JSON body. */
  body?: unknown;
  clientIp?: string;
  /** Aborting it is a client going away mid-request. */
  signal?: AbortSignal;
}

/**
 * An exchange for a synthetic request, built as the gateway builds one for a real request:
 * same path and query split, trace context from the headers, body as buffered and parsed.
 * @example
 * const exchange = createSyntheticExchange({ method: 'GET', url: '/api/orders/ord-1001', params: { id: 'ord-1001' } });
 * const result = await walk(workflow, exchange, []);
 */
export function createSyntheticExchange(request: SyntheticRequest): RequestExchange {
  const headers: IncomingHttpHeaders = { ...request.headers };
  let raw: Buffer | undefined;
  if (request.body !== undefined) {
    raw = Buffer.from(JSON.stringify(request.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(raw.length);
  }
  const incoming = Object.assign(Readable.from(raw === undefined ? [] : [raw]), { method: request.method, headers });
  const answer = Object.assign(new EventEmitter(), { writableFinished: false, destroyed: request.signal?.aborted ?? false });
  request.signal?.addEventListener(
    'abort',
    () => {
      answer.destroyed = true;
      answer.emit('close');
    },
    { once: true },
  );
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const search = q < 0 ? '' : request.url.slice(q);
  const exchange = new RequestExchange(incoming, answer, path, search, request.params ?? {}, traceContextOf(headers.traceparent, headers.tracestate), request.clientIp ?? '127.0.0.1');
  if (raw !== undefined) {
    exchange.receivedBody = { raw, parsed: request.body };
    exchange.request.body = request.body;
  }
  return exchange;
}

/**
 * Adds the headers nodes asked for on every answer (RateLimit-*, CORS) to an answer's own: theirs
 * win, except Vary, where both are kept (an upstream's `Vary: Accept-Encoding` and a cors node's
 * `Vary: Origin` both tell caches something true).
 */
export function addAnswerHeaders(headers: Record<string, string | string[]>, extra: Record<string, string>): void {
  for (const name in extra) {
    const value = extra[name]!;
    const had = name === 'vary' ? headers.vary : undefined;
    headers[name] = had === undefined ? value : `${Array.isArray(had) ? had.join(', ') : had}, ${value}`;
  }
}
