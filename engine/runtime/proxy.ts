import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import type { ProxyConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { HOP_BY_HOP } from './headers.ts';
import { PrepareError, type Exchange, type PrepareContext, type Runtime } from './types.ts';

/** Largest upstream body buffered for a later node (transform-response). */
const MAX_BUFFERED_RESPONSE = 10 * 1024 * 1024;

/**
 * Headers a proxy answers itself: Node's server has already sent `100 Continue` to the client,
 * and undici refuses to send `Expect` upstream.
 */
const ANSWERED_HERE = new Set(['expect']);

/** Removes the headers a Connection header lists (RFC 9110 7.6.1): they are hop-by-hop too. */
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
 * The upstream's headers the client may see: hop-by-hop ones and those its Connection header
 * lists dropped, and content-length too when a later node will rewrite the body.
 */
function answerHeaders(upstream: Record<string, string | string[] | undefined>, bodyRewritten: boolean): Record<string, string | string[]> {
  const listed = connectionListed(upstream.connection);
  const copied: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name) || (bodyRewritten && name === 'content-length')) continue;
    copied[name] = value;
  }
  return copied;
}

/** Client headers that claim an identity only the gateway may assert. */
const IDENTITY_HEADERS = new Set(['x-partner', 'x-subject', 'x-user', 'x-scopes', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'traceparent', 'tracestate']);

/** Replaces ${NAME} with the environment variable NAME, refusing unset ones. */
function resolveUrl(url: string, context: PrepareContext): URL {
  const resolved = url.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = context.env[name];
    if (value === undefined || value === '') throw new PrepareError('config.url', `environment variable ${name} is not set`);
    return value;
  });
  try {
    const parsed = new URL(resolved);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
    return parsed;
  } catch (cause) {
    throw new PrepareError('config.url', `"${resolved}" is not an http(s) URL`, { cause });
  }
}

/**
 * Cancels one upstream call, when the client goes away or the deadline passes. undici takes any
 * object with addEventListener/removeEventListener as a signal; this one holds undici's single
 * listener and costs a fraction of an AbortController (an EventTarget and a DOMException per
 * request) or even an EventEmitter.
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

function onDeadline(call: CallCancellation): void {
  call.timedOut = true;
  call.abort();
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

/**
 * Reads an upstream body for a later node, up to MAX_BUFFERED_RESPONSE bytes: undefined, and
 * the connection dropped, as soon as it is known to be larger (by its length or while reading).
 */
async function readBounded(body: Readable, declaredLength: string | string[] | undefined): Promise<Buffer | undefined> {
  if (typeof declaredLength === 'string' && Number(declaredLength) > MAX_BUFFERED_RESPONSE) {
    body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BUFFERED_RESPONSE) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function isTimeout(error: unknown): boolean {
  return error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError;
}

/**
 * Calls the upstream through a keep-alive pool shared by every node that targets the same
 * origin. Bodies stream through unless a later node reads them: the request body is streamed
 * when no node parsed it, the response body when the `ok` port ends the request.
 */
export const proxy: Runtime<ProxyConfig> = (config, context) => {
  const target = resolveUrl(config.url, context);
  const origin = target.origin;
  const basePath = target.pathname.replace(/\/$/, '');
  const pool = context.shared.get(`pool:${origin}`, () => new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 }));
  const timeoutMs = durationMs(config.timeout);
  const rewrite = config.path === undefined ? undefined : pathTemplate(config.path);
  const stripPrefix = config.stripPrefix?.replace(/\/$/, '');
  const bufferResponse = context.wiredPorts.has('ok');
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
    headers['x-forwarded-for'] = exchange.clientIp;
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

  return {
    run: async function proxy(exchange) {
      const { body, stream } = requestBody(exchange);
      const headers = upstreamHeaders(exchange, body);
      if (body !== undefined && exchange.receivedBody !== undefined && exchange.request.body !== exchange.receivedBody.parsed && typeof exchange.request.body !== 'string')
        headers['content-type'] = 'application/json';
      const started = performance.now();
      // One deadline for connecting, the answer's head and, when a later node reads it, its whole
      // body: undici's own timeouts restart per phase and its connect timeout is the pool's.
      // A streamed body is bounded by bodyTimeout (the longest pause) once the head is in.
      const call = new CallCancellation();
      exchange.onClientGone(call);
      const deadline = setTimeout(onDeadline, timeoutMs, call);
      const options = {
        path: upstreamPath(exchange),
        method: exchange.request.method as 'GET',
        headers,
        body: body ?? stream ?? null,
        signal: call as unknown as AbortSignal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      };
      try {
        if (!bufferResponse && exchange.canStartAnswer) {
          // The answer ends the request: undici writes the upstream's body straight into the client
          // connection (its stream API), with no intermediate readable stream to pipe.
          await pool.stream(options, ({ statusCode, headers: upstream }) => {
            clearTimeout(deadline);
            exchange.upstreamMs = performance.now() - started;
            const copied = answerHeaders(upstream, bufferResponse);
            exchange.response = { status: statusCode, headers: copied, sent: true };
            return exchange.startAnswer(statusCode, copied);
          });
          return 'ok';
        }
        const response = await pool.request(options);
        const responseHeaders = answerHeaders(response.headers, bufferResponse);
        if (!bufferResponse) {
          clearTimeout(deadline);
          exchange.response = { status: response.statusCode, headers: responseHeaders, stream: response.body };
          exchange.upstreamMs = performance.now() - started;
          return 'ok';
        }
        const raw = await readBounded(response.body, response.headers['content-length']);
        if (raw === undefined) {
          exchange.upstreamMs = performance.now() - started;
          exchange.problemParams = { ...exchange.problemParams, reason: 'the upstream answer is too large to transform' };
          return 'error';
        }
        exchange.upstreamMs = performance.now() - started;
        const type = responseHeaders['content-type'];
        let parsed: unknown = raw;
        if (typeof type === 'string' && /[/+]json\b/i.test(type)) {
          try {
            parsed = JSON.parse(raw.toString('utf8'));
          } catch {
            parsed = raw.toString('utf8');
          }
        } else if (typeof type === 'string' && /^text\//i.test(type)) parsed = raw.toString('utf8');
        exchange.response = { status: response.statusCode, headers: responseHeaders, body: parsed };
        return 'ok';
      } catch (error) {
        exchange.upstreamMs = performance.now() - started;
        if (call.timedOut || isTimeout(error)) return 'timeout';
        exchange.problemParams = { ...exchange.problemParams, reason: (error as { code?: string }).code ?? 'connection failed' };
        return 'error';
      } finally {
        clearTimeout(deadline);
      }
    },
  };
};
