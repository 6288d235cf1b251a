import type { Dispatcher } from 'undici';
import type { ProxyConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { acceptInterimContinue } from './support/interim-continue.ts';
import { answerHeaders, createUpstreamHeaders, readableBody } from './support/upstream-headers.ts';
import { CallCancellation, failedCall, onDeadline, UpstreamCall } from './support/upstream-call.ts';
import { failWith } from './support/errors.ts';
import { resolveUrl } from './support/upstream-url.ts';
import { resilientProxy } from './support/upstream-resilience.ts';
import { tokenCounter, workersOf } from './support/token-count.ts';
import { prepareLlm, watchStream, type LlmCall, type LlmProxy } from './support/upstream-llm.ts';
import type { Exchange, Runtime } from './types.ts';

acceptInterimContinue();

/** Builds the upstream path from a template such as /v2/orders/:id. */
function pathTemplate(template: string): (params: Record<string, string>) => string {
  const parts = template.split(/(:[A-Za-z_][A-Za-z0-9_]*)/);
  return (params) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) out += i % 2 === 1 ? encodeURIComponent(params[parts[i]!.slice(1)] ?? '') : parts[i];
    return out;
  };
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

/**
 * The body an llm proxy with an allow-list sends: the JSON it checked, written out again, so that
 * the upstream cannot read another model from the bytes (a repeated "model" member) than the
 * gateway did.
 */
function checkedBody(exchange: Exchange, llm: LlmProxy | undefined, body: Buffer | string | undefined): Buffer | string | undefined {
  const received = exchange.receivedBody;
  if (llm === undefined || !llm.rewritesBody || received === undefined || body !== received.raw) return body;
  // admitted past an allow-list, the body is an object naming a model or there is none (an empty one, left as it is)
  // Stryker disable next-line ConditionalExpression: equivalent: JSON.stringify(undefined) is undefined, which sends the same empty body
  return received.parsed === undefined ? body : JSON.stringify(received.parsed);
}

/**
 * Calls the upstream through a keep-alive pool shared by every node that targets the same
 * origin (held until the node is closed). Bodies stream through unless a later node reads them:
 * the request body is streamed when no node parsed it, the response body when the `ok` port
 * ends the request.
 */
export const proxy: Runtime<ProxyConfig> = async (config, context) => {
  // Every connection goes through the egress policy's connector: it checks the address each one is made to.
  const poolOf = (origin: string) => context.upstreamPool(origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const timeoutMs = durationMs(config.timeout);
  const rewrite = config.path === undefined ? undefined : pathTemplate(config.path);
  const stripPrefix = config.stripPrefix?.replace(/\/$/, '');
  const bufferResponse = context.wiredPorts.has('ok');
  const maxBuffered = context.maxBufferedAnswer;
  // tokens are counted in an expression worker, never on this thread
  const llm = config.llm === undefined ? undefined : prepareLlm(config.llm, tokenCounter(workersOf(context)), context.partners, context.workflowId);

  /** The request's path and query as the upstream gets them, after the target's base path. */
  function requestPath(exchange: Exchange): string {
    let path: string;
    if (rewrite) path = rewrite(exchange.request.params);
    else {
      path = exchange.request.path;
      // at a segment boundary only: /api strips /api/x and /api, never /apix
      // Stryker disable next-line LogicalOperator: equivalent: without a prefix (none, or "/" made "") nothing is stripped either way: no path starts with "undefined", and slicing "" off leaves the path
      if (stripPrefix && path.startsWith(stripPrefix) && (path.length === stripPrefix.length || path.charCodeAt(stripPrefix.length) === 47)) path = path.slice(stripPrefix.length) || '/';
    }
    return path + exchange.upstreamSearch();
  }
  // an llm proxy reads the answer's usage: it must come uncompressed
  const upstreamHeaders = createUpstreamHeaders({ dropAuthorization: !config.forwardAuthorization, dropAcceptEncoding: bufferResponse || llm !== undefined, preserveHost: config.preserveHost });

  if (config.targets !== undefined || config.retries !== undefined || config.breaker !== undefined || config.healthCheck !== undefined) {
    const written = config.targets ?? [{ url: config.url!, weight: 1 }];
    const targets = [];
    for (const [i, t] of written.entries()) {
      const url = await resolveUrl(t.url, context, config.targets ? `config.targets.${i}.url` : 'config.url');
      targets.push({ url, weight: t.weight, pool: poolOf(url.origin), basePath: url.pathname.replace(/\/$/, '') });
    }
    return resilientProxy(config, targets, { timeoutMs, bufferResponse, maxBuffered, requestPath, requestBody: (exchange) => {
      const sent = requestBody(exchange);
      return { body: checkedBody(exchange, llm, sent.body), stream: sent.stream };
    }, readableBody, upstreamHeaders, llm });
  }

  const target = await resolveUrl(config.url!, context, 'config.url');
  const origin = target.origin;
  const basePath = target.pathname.replace(/\/$/, '');
  const pool = poolOf(origin);

  /** An answer handed on as a stream, for an exchange that cannot write to a client (previews, tests). */
  async function streamToLater(exchange: Exchange, options: Dispatcher.DispatchOptions, started: number, llmCall: LlmCall | undefined): Promise<string> {
    const call = new CallCancellation();
    exchange.onClientGone(call);
    const deadline = setTimeout(onDeadline, timeoutMs, call);
    try {
      const response = await pool.request({ ...options, signal: call as unknown as AbortSignal });
      exchange.upstreamStatus = response.statusCode;
      const headers = answerHeaders(response.headers);
      exchange.response = { status: response.statusCode, headers, stream: llmCall === undefined ? response.body : watchStream(exchange, response.body, llmCall, headers) };
      return 'ok';
    } catch (error) {
      if (llmCall !== undefined) await llmCall.finish(exchange, undefined);
      return failedCall(exchange, call, error);
    } finally {
      exchange.upstreamMs = performance.now() - started;
      clearTimeout(deadline);
    }
  }

  return {
    run: async function proxy(exchange) {
      let llmCall: LlmCall | undefined;
      if (llm !== undefined) {
        const admitted = llm.admit(exchange);
        if (admitted === 'model_denied') return admitted;
        llmCall = admitted;
      }
      const sent = requestBody(exchange);
      const body = checkedBody(exchange, llm, sent.body);
      const stream = sent.stream;
      const headers = upstreamHeaders(exchange, body);
      const started = performance.now();
      const options: Dispatcher.DispatchOptions = {
        path: basePath + requestPath(exchange),
        method: exchange.request.method as Dispatcher.HttpMethod,
        headers,
        body: body ?? stream ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      };
      if (!bufferResponse && !exchange.canHijack) return streamToLater(exchange, options, started, llmCall);
      // One deadline for connecting, the answer's head and, when a later node reads it, its whole
      // body: undici's own timeouts restart per phase and its connect timeout is the pool's.
      // A streamed body is bounded by bodyTimeout (the longest pause) once the head is in.
      const call = new UpstreamCall(exchange, !bufferResponse, maxBuffered, started, timeoutMs);
      if (llmCall !== undefined && !bufferResponse) call.watch = llmCall.answer;
      exchange.onClientGone(call);
      try {
        try {
          pool.dispatch(options, call);
        } catch (error) {
          call.onError(error as Error); // refused before it started (an invalid header, a closed pool)
        }
        if ((await call.done) === 'too_large') {
          if (llmCall !== undefined) await llmCall.finish(exchange, undefined);
          return failWith(exchange, 'the upstream answer is too large to transform');
        }
      } catch (error) {
        // a stream cut short: what it said so far is still counted
        if (llmCall !== undefined) await llmCall.finish(exchange, call.watcher);
        return failedCall(exchange, call, error);
      }
      if (!bufferResponse) {
        if (llmCall !== undefined) await llmCall.finish(exchange, call.watcher);
        return 'ok';
      }
      const answer = readableBody(call.body!, call.headers['content-type']);
      exchange.response = { status: call.status, headers: call.headers, body: answer };
      if (llmCall !== undefined) {
        const usage = llmCall.answer(call.headers);
        usage.readWhole(answer, call.body!);
        await llmCall.finish(exchange, usage);
      }
      return 'ok';
    },
  };
};
