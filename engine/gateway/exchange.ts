import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Exchange, GatewayRequest, GatewayResponse, TraceContext } from '../runtime/types.ts';

/** The request as nodes see it; the query string is parsed only when something reads it. */
class RequestView implements GatewayRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown = undefined;
  readonly search: string;
  #query: Record<string, string | string[]> | undefined;

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
      for (const [name, value] of new URLSearchParams(this.search)) {
        const existing = query[name];
        query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
      }
      this.#query = query;
    }
    return this.#query;
  }

  set query(value: Record<string, string | string[]>) {
    this.#query = value;
  }

  /** Whether anything read (and so may have changed) the query. */
  get queryTouched(): boolean {
    return this.#query !== undefined;
  }

  toJSON() {
    return { method: this.method, path: this.path, params: this.params, query: this.query, headers: this.headers, body: this.body };
  }
}

/** One request's exchange between the gateway and the node runtimes. */
export class RequestExchange implements Exchange {
  readonly request: RequestView;
  claims: Record<string, unknown> | undefined = undefined;
  partner: string | undefined = undefined;
  subject: string | undefined = undefined;
  scopes: readonly string[] = [];
  vars: Record<string, unknown> = {};
  response: GatewayResponse | undefined = undefined;
  problemParams: Record<string, string> | undefined = undefined;
  answerHeaders: Record<string, string> | undefined = undefined;
  upstreamMs: number | undefined = undefined;
  receivedBody: { raw: Buffer; parsed: unknown } | undefined = undefined;
  readonly trace: TraceContext;
  readonly clientIp: string;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #abort: AbortController | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, path: string, search: string, params: Record<string, string>, trace: TraceContext, clientIp: string) {
    this.#req = req;
    this.#res = res;
    this.request = new RequestView(req.method!, path, search, params, { ...req.headers });
    this.trace = trace;
    this.clientIp = clientIp;
  }

  get incoming(): Readable | undefined {
    return this.receivedBody === undefined ? this.#req : undefined;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const controller = new AbortController();
      this.#abort = controller;
      const res = this.#res;
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
    }
    return this.#abort.signal;
  }

  upstreamSearch(): string {
    const request = this.request;
    if (!request.queryTouched) return request.search;
    const text = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query)) {
      if (Array.isArray(value)) for (const v of value) text.append(name, v);
      else text.append(name, value);
    }
    const s = text.toString();
    return s === '' ? '' : `?${s}`;
  }
}
