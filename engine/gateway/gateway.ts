import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GatewayResponse } from '../kinds/types.ts';
import { readBody } from './body.ts';
import { evaluateLoggedFields, walk, type CompiledWorkflow } from '../compile/compile-workflow.ts';
import type { ClientAddress } from './client-address.ts';
import { RequestExchange } from './exchange.ts';
import { finalProblem, problemHeaders, type ProblemRenderer } from './problem.ts';
import { createRouteTable, type RouteTable } from './route-table.ts';
import { ANSWER_PIECE, type BufferedSend, type SlowReaderGuard } from './slow-readers.ts';
import { traceContextOf } from './trace.ts';
import { createRequestLog, subjectLogger, type RequestRecord, type SubjectLogging } from '../observe/request-log.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { SpanExporter } from '../observe/otlp.ts';
import type { TraceContext } from '../kinds/types.ts';

/** The status logged for a request whose client left before its answer (nginx's "client closed request"). */
const CLIENT_CLOSED = 499;

/** How a request ended, as logs and metrics name it. */
export type Outcome = 'ok' | 'invalid_credentials' | 'denied' | 'limited' | 'rejected' | 'upstream_error' | 'error';

/** The outcome of an error answer, from its status: stable whatever the catalog calls the error. */
export function outcomeOfStatus(status: number): Outcome {
  if (status === 401) return 'invalid_credentials';
  if (status === 403) return 'denied';
  if (status === 429) return 'limited';
  if (status === 502 || status === 503 || status === 504) return 'upstream_error';
  return status >= 500 ? 'error' : 'rejected';
}

export interface GatewayOptions {
  problems: ProblemRenderer;
  logger: Logger;
  /** Largest request body buffered for nodes that read it (bytes). */
  maxBodyBytes: number;
  /** Who the client is (the socket's peer, or what a trusted proxy says), and the X-Forwarded-For sent upstream. */
  clientAddress: ClientAddress;
  /** Request counters (the served versions' own come with each compiled workflow). */
  metrics?: Metrics;
  /** How the request log names the subject: as sent, hashed, or not at all. */
  logSubject?: SubjectLogging;
  /** Receives a span per request (with its nodes' timings) when OTLP export is on. */
  spans?: SpanExporter;
  /** Bounds the answer bytes one connection holds (SLUICE_MAX_BUFFERED_ANSWER). */
  slowReaders: SlowReaderGuard;
}

export interface Gateway {
  /** Node's request listener for gateway traffic. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Activates a new set of workflows: one assignment; requests in flight keep their version. */
  activate(workflows: ReadonlyArray<CompiledWorkflow>): void;
  readonly routes: RouteTable;
  setProblems(problems: ProblemRenderer): void;
}

/**
 * Writes the final answer. A built answer (respond, transforms) goes out in one write when it is
 * small and the connection free; a large one, or one queued behind an earlier answer on a
 * pipelined connection, goes through the slow-reader guard, which bounds what one connection holds.
 */
function writeBody(req: IncomingMessage, res: ServerResponse, response: GatewayResponse, extra: Record<string, string> | undefined, head: boolean, guard: SlowReaderGuard): BufferedSend {
  const headers = response.headers;
  if (extra) for (const name in extra) headers[name] = extra[name]!;
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
  if (!head && (bytes > ANSWER_PIECE || res.socket === null)) return guard.send(req, res, response.status, headers, payload, bytes);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : payload);
  return 'sent';
}

/**
 * The gateway: matches a request to a workflow, walks the workflow's table with the request's
 * exchange, and answers what the final state produced: the response, or a catalog problem.
 */
export function createGateway(options: GatewayOptions): Gateway {
  let routes = createRouteTable([]);
  let problems = options.problems;
  const logger = options.logger;
  const logRequest = createRequestLog(logger);
  const metrics = options.metrics;
  const subjectOf = subjectLogger(options.logSubject ?? { mode: 'hash' });
  const spans = options.spans;
  const clients = options.clientAddress;
  const slowReaders = options.slowReaders;

  function answerProblem(res: ServerResponse, id: string, instance: string, traceId: string, params: Record<string, string> | undefined, extra: Record<string, string> | undefined, head: boolean) {
    const problem = problems.render(id, { instance, traceId, params });
    const headers = problemHeaders(problem.body);
    if (extra) Object.assign(headers, extra);
    res.writeHead(problem.status, headers);
    res.end(head ? undefined : problem.body);
    return problem;
  }

  /** Answers a catalog problem and records it for the request log. */
  function refuse(res: ServerResponse, record: RequestRecord, path: string, head: boolean, id: string, params: Record<string, string> | undefined, extra: Record<string, string> | undefined) {
    const problem = answerProblem(res, id, path, record.traceId, params, extra, head);
    record.status = problem.status;
    record.problem = problem.type;
    record.outcome = outcomeOfStatus(problem.status);
  }

  return {
    get routes() {
      return routes;
    },
    activate(workflows) {
      routes = createRouteTable(workflows);
    },
    setProblems(next) {
      problems = next;
    },
    // One async function per request (no inner serve() to await): every return below still logs.
    handle: async function handle(req, res) {
      const started = performance.now();
      const record: RequestRecord = {
        traceId: '', spanId: '', method: req.method ?? 'GET', client: '', workflowFields: '',
        partner: undefined, subject: undefined, fields: undefined, outcome: 'error', status: 500, problem: undefined, ms: 0, upstreamMs: undefined, path: [], rateLimitStoreDown: undefined,
      };
      let served: CompiledWorkflow | undefined;
      let exchange: RequestExchange | undefined;
      let trace: TraceContext | undefined;
      const timings = spans === undefined ? undefined : ([] as number[]);
      try {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        const search = q < 0 ? '' : url.slice(q);
        const method = req.method ?? 'GET';
        const head = method === 'HEAD';
        const client = clients.chain(req);
        record.client = client.client;
        trace = traceContextOf(req.headers.traceparent, req.headers.tracestate);
        record.traceId = trace.traceId;
        record.spanId = trace.spanId;
        const table = routes; // this request finishes on the table it started with
        const match = table.match(method, path);
        if (match.kind !== 'found') {
          if (match.kind === 'method_not_allowed') refuse(res, record, path, head, 'method_not_allowed', undefined, { allow: match.allowed.join(', ') });
          else if (match.kind === 'bad_path') refuse(res, record, path, head, 'bad_request', { reason: 'the path is malformed' }, undefined);
          else refuse(res, record, path, head, 'not_found', undefined, undefined);
          return;
        }
        const workflow = match.workflow;
        served = workflow;
        record.workflowFields = workflow.logFields;
        const lifecycle = workflow.lifecycle;
        if (lifecycle?.retired) {
          refuse(res, record, path, head, 'workflow_retired', { version: String(workflow.version) }, lifecycle.headers);
          return;
        }
        exchange = new RequestExchange(req, res, path, search, match.params, trace, client.client, client.forwardedFor);
        if (lifecycle?.headers) exchange.answerHeaders = { ...lifecycle.headers };
        if (workflow.needsRequestBody) {
          const body = await readBody(req, options.maxBodyBytes);
          if (!body.ok) {
            // The rest of a too-large body is never read, so the connection closes: say so, or a client reuses it.
            refuse(res, record, path, head, body.error, { reason: body.reason }, body.error === 'payload_too_large' ? { connection: 'close' } : undefined);
            if (body.error === 'payload_too_large') res.once('finish', () => req.socket.destroySoon?.());
            return;
          }
          exchange.receivedBody = { raw: body.raw, parsed: body.parsed };
          exchange.request.body = body.parsed;
        }
        const result = await walk(workflow, exchange, record.path, timings);
        record.partner = exchange.partner;
        record.subject = exchange.subject;
        record.upstreamMs = exchange.upstreamMs;
        record.rateLimitStoreDown = exchange.rateLimitStoreDown;
        const meta = result.final.meta;
        if (meta.outcome === 'finish' && exchange.response) {
          let sent: BufferedSend = 'sent';
          if (!exchange.response.sent) {
            exchange.releaseClientGone();
            sent = writeBody(req, res, exchange.response, exchange.answerHeaders, head, slowReaders);
          }
          if (sent === 'sent') {
            record.status = exchange.response.status;
            record.outcome = 'ok';
          } else if (sent === 'not_reading') {
            // closed with its earlier answers unread: as for a client that left, no answer was delivered
            record.status = CLIENT_CLOSED;
            record.outcome = 'rejected';
          } else {
            logger.warn({ traceId: trace.traceId, workflow: workflow.id, version: workflow.version, maxBufferedBytes: slowReaders.maxBufferedBytes }, 'answer larger than SLUICE_MAX_BUFFERED_ANSWER');
            refuse(res, record, path, head, 'internal_error', undefined, undefined);
          }
          return;
        }
        if (res.headersSent) {
          // A node had started the answer (a streaming proxy) when it failed: the client gets a broken
          // answer, never a problem appended to half a body.
          res.destroy();
          const clientLeft = !res.writableFinished && req.socket.destroyed;
          record.status = clientLeft ? CLIENT_CLOSED : (exchange.response?.status ?? 502);
          record.outcome = clientLeft ? 'rejected' : 'upstream_error';
          return;
        }
        if (req.socket.destroyed) {
          // The client went away before its answer (the upstream call was cancelled for it): no one
          // to answer, and not the upstream's failure, so logs and metrics do not count it as one.
          record.status = CLIENT_CLOSED;
          record.outcome = 'rejected';
          return;
        }
        if (meta.outcome === 'fault') logger.error({ err: result.error, traceId: trace.traceId, workflow: workflow.id, version: workflow.version, node: record.path[record.path.length - 1] }, 'node failed');
        const { id, params } = finalProblem(meta, result.error, exchange.problemParams, problems);
        refuse(res, record, path, head, id, params, exchange.answerHeaders);
      } catch (error) {
        logger.error({ err: error, traceId: record.traceId }, 'gateway failed');
        if (!res.headersSent) answerProblem(res, 'internal_error', '/', record.traceId, undefined, undefined, false);
        else res.destroy();
      } finally {
        const ended = performance.now();
        const ms = ended - started;
        const now = Date.now(); // one clock read for the metrics' time windows and the log line's time
        if (metrics !== undefined) {
          if (served?.metrics !== undefined) served.metrics.request(record.partner, record.outcome, record.status, ms / 1000, record.upstreamMs === undefined ? undefined : record.upstreamMs / 1000, now);
          else if (served === undefined) metrics.unrouted.set(record.status, (metrics.unrouted.get(record.status) ?? 0) + 1);
        }
        if (logRequest) {
          // opted-in fields are read after the answer went out, so they never delay it
          if (served?.loggedFields !== undefined && exchange !== undefined) record.fields = await evaluateLoggedFields(served.loggedFields, exchange);
          record.ms = Math.round(ms * 1000) / 1000;
          if (record.upstreamMs !== undefined) record.upstreamMs = Math.round(record.upstreamMs * 1000) / 1000;
          if (record.subject !== undefined) record.subject = subjectOf(record.subject);
          logRequest(record, now);
        }
        if (spans !== undefined && trace !== undefined) {
          spans.add({
            traceId: trace.traceId, spanId: trace.spanId, parentSpanId: trace.parentSpanId, method: record.method,
            route: served?.graph.document.route.path, path: (req.url ?? '/').split('?')[0]!, workflow: served?.id, version: served?.version,
            partner: record.partner, outcome: record.outcome, status: record.status, problem: record.problem, started, ended,
            nodes: record.path, kinds: record.path.map((id) => served?.graph.nodes.get(id)?.kind ?? ''), timings: timings!,
          });
        }
      }
    },
  };
}
