import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { readBody } from './body.ts';
import type { ClientCertificates } from './client-certificate.ts';
import type { CanarySplit, CompiledWorkflow } from '../compile/types.ts';
import { walk, type WalkObserver, type WalkResult } from '../compile/walk.ts';
import { evaluateLoggedFields } from '../compile/logged-fields.ts';
import type { ClientAddress } from './client-address.ts';
import { RequestExchange } from './exchange.ts';
import { finalProblem, writeProblem, type ProblemRenderer } from './problem.ts';
import { createRouteTable, type RouteChanges, type RouteTable } from './route-table.ts';
import type { SlowReaderGuard } from './slow-readers.ts';
import { traceContextOf } from './trace.ts';
import { countTokens, loggedLlm } from '../observe/llm-tokens.ts';
import type { EvidenceCapture } from '../evidence/capture.ts';
import { createRequestLog, subjectLogger, type RequestRecord, type SubjectLogging } from '../observe/request-log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { CLIENT_CLOSED, outcomeOfStatus } from '../observe/outcome.ts';
import type { SpanExporter } from '../observe/otlp.ts';
import { copyOwn } from '../kinds/support/own-members.ts';
import type { TraceContext } from '../kinds/types.ts';

/** Two times per node walked (start, end), for the request's span when OTLP export is on. */
class SpanTimings implements WalkObserver {
  readonly timings: number[] = [];
  started(): undefined {
    this.timings.push(performance.now());
    return undefined;
  }
  ended(): void {
    this.timings.push(performance.now());
  }
}

/**
 * Marks a request the MCP endpoint (engine/mcp) made for a tools/call: the tool, for the request
 * log and metrics, as an mcp-tool node names it for MCP traffic through a workflow.
 */
export const MCP_TOOL = Symbol('mcpTool');
/** Counts MCP tool calls (engine/mcp/tool-metrics.ts). */
export interface McpCallCounter {
  count(workflow: string, tool: string, partner: string | undefined, outcome: string): void;
}

/** The params of a request no route matched. */
const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export interface GatewayOptions {
  problems: ProblemRenderer;
  logger: Logger;
  /** Largest request body buffered for nodes that read it (bytes). */
  maxBodyBytes: number;
  /** Who the client is (the socket's peer, or what a trusted proxy says), and the X-Forwarded-For sent upstream. */
  clientAddress: ClientAddress;
  /** Client certificates (client-cert nodes): from the TLS connection or a trusted proxy's header. */
  clientCertificates?: ClientCertificates;
  /** Request counters (the served versions' own come with each compiled workflow). */
  metrics?: Metrics;
  /** How the request log names the subject: as sent, hashed, or not at all. */
  logSubject?: SubjectLogging;
  /** Receives a span per request (with its nodes' timings) when OTLP export is on. */
  spans?: SpanExporter;
  /** Bounds the answer bytes one connection holds (SLUICE_MAX_BUFFERED_ANSWER). */
  slowReaders: SlowReaderGuard;
  /** Counts requests that call an MCP tool (sluice_mcp_tool_calls_total); absent when metrics are off. */
  mcpCalls?: McpCallCounter;
  /** Takes each finished request for the evidence store (engine/evidence); absent when evidence is off. */
  evidence?: { add(capture: EvidenceCapture): void };
  /** Offered each routed request once answered, for differential replay's samples (engine/replay); absent when recording is off. */
  samples?: { offer(workflow: CompiledWorkflow, exchange: RequestExchange, req: IncomingMessage, record: RequestRecord, now: number): void };
}

export interface Gateway {
  /** Node's request listener for gateway traffic. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Routes the workflows of `changes.set` (each replacing the one of its id) and no longer those of `changes.removed`, in one step; requests in flight keep their version. */
  update(changes: RouteChanges): void;
  readonly routes: RouteTable;
  setProblems(problems: ProblemRenderer): void;
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
  const certificates = options.clientCertificates;
  const slowReaders = options.slowReaders;
  const evidence = options.evidence;
  const samples = options.samples;
  /** Requests whose handle has not reached its log line: the request log batches lines while others are in flight. */
  let inFlight = 0;

  /** Answers a catalog problem through the exchange and records it for the request log. */
  function refuse(exchange: RequestExchange, record: RequestRecord, head: boolean, id: string, params: Record<string, string> | undefined, extra: Record<string, string> | undefined) {
    const members = exchange.problemMembers;
    const problem = problems.render(id, { instance: exchange.request.path, traceId: record.traceId, params, ...(members === undefined ? {} : { extensions: members }) });
    exchange.problem(problem, extra, head);
    record.status = problem.status;
    record.problem = problem.type;
    record.outcome = outcomeOfStatus(problem.status);
  }

  /**
   * Answers what the walk ended with: nothing more when a node took the answer over (a broken
   * answer when it failed after starting it), the built answer, or the final state's problem;
   * nothing to a client that left.
   */
  function answerWalked(req: IncomingMessage, res: ServerResponse, exchange: RequestExchange, record: RequestRecord, workflow: CompiledWorkflow, result: WalkResult, head: boolean): void {
    const meta = result.final.meta;
    if (exchange.answeredBy === 'node') {
      if (meta.outcome === 'finish' && exchange.response) {
        record.status = exchange.response.status;
        record.outcome = 'ok';
        return;
      }
      // The node that took the answer over (a streaming proxy) failed after starting it: the
      // client gets a broken answer, never a problem appended to half a body.
      res.destroy();
      const clientLeft = !res.writableFinished && req.socket.destroyed;
      record.status = clientLeft ? CLIENT_CLOSED : (exchange.response?.status ?? 502);
      record.outcome = clientLeft ? 'rejected' : 'upstream_error';
      return;
    }
    if (meta.outcome === 'finish' && exchange.response) {
      exchange.releaseClientGone();
      const sent = exchange.send(head, slowReaders);
      if (sent === 'sent') {
        record.status = exchange.response.status;
        record.outcome = 'ok';
      } else if (sent === 'not_reading') {
        // closed with its earlier answers unread: as for a client that left, no answer was delivered
        record.status = CLIENT_CLOSED;
        record.outcome = 'rejected';
      } else {
        logger.warn({ traceId: exchange.trace.traceId, workflow: workflow.id, version: workflow.version, maxBufferedBytes: slowReaders.maxBufferedBytes }, 'answer larger than SLUICE_MAX_BUFFERED_ANSWER');
        refuse(exchange, record, head, 'internal_error', undefined, undefined);
      }
      return;
    }
    if (req.socket.destroyed) {
      // The client went away before its answer (the upstream call was cancelled for it): no one
      // to answer, and not the upstream's failure, so logs and metrics do not count it as one.
      record.status = CLIENT_CLOSED;
      record.outcome = 'rejected';
      return;
    }
    if (meta.outcome === 'fault') logger.error({ err: result.error, traceId: exchange.trace.traceId, workflow: workflow.id, version: workflow.version, node: record.path[record.path.length - 1] }, 'node failed');
    const { id, params } = finalProblem(meta, result.error, exchange.problemParams, problems);
    refuse(exchange, record, head, id, params, exchange.answerHeaders);
  }

  return {
    get routes() {
      return routes;
    },
    update(changes) {
      routes = routes.update(changes);
    },
    setProblems(next) {
      problems = next;
    },
    // One async function per request (no inner serve() to await): every return below still logs.
    handle: async function handle(req, res) {
      const started = performance.now();
      inFlight += 1;
      const record: RequestRecord = {
        traceId: '', spanId: '', method: req.method ?? 'GET', client: '', workflowFields: '',
        partner: undefined, subject: undefined, fields: undefined, outcome: 'error', status: 500, problem: undefined, ms: 0, upstreamMs: undefined, path: [], rateLimitStoreDown: undefined, mcpTool: undefined,
      };
      let served: CompiledWorkflow | undefined;
      /** The canary the request was split by, and whether it went to the candidate. */
      let split: CanarySplit | undefined;
      let toCandidate = false;
      let final: string | undefined;
      let exchange: RequestExchange | undefined;
      let trace: TraceContext | undefined;
      const spanTimings = spans === undefined ? undefined : new SpanTimings();
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
        const match = table.match(method, path, req.headers);
        exchange = new RequestExchange(req, res, path, search, match.kind === 'found' ? match.params : NO_PARAMS, trace, client.client, client.forwardedFor);
        const tool = (req as { [MCP_TOOL]?: string })[MCP_TOOL];
        if (tool !== undefined) exchange.mcpTool = { name: tool, label: tool };
        if (certificates !== undefined) {
          exchange.certificates = certificates;
          exchange.certificateHeader = certificates.take(req);
        }
        if (match.kind !== 'found') {
          if (match.kind === 'method_not_allowed') refuse(exchange, record, head, 'method_not_allowed', undefined, { allow: match.allowed.join(', ') });
          else if (match.kind === 'bad_path') refuse(exchange, record, head, 'bad_request', { reason: 'the path is malformed' }, undefined);
          else refuse(exchange, record, head, 'not_found', undefined, undefined);
          return;
        }
        let workflow = match.workflow;
        split = workflow.canary;
        if (split !== undefined && (toCandidate = split.pick(req.headers))) workflow = split.candidate;
        served = workflow;
        record.workflowFields = workflow.logFields;
        const lifecycle = workflow.lifecycle;
        if (lifecycle?.retired) {
          refuse(exchange, record, head, 'workflow_retired', { version: String(workflow.version) }, lifecycle.headers);
          return;
        }
        // a copy per request, made member by member: nodes add to it (RateLimit-*, CORS), and a spread's copy makes that slow (copyOwn says why)
        if (lifecycle?.headers) exchange.answerHeaders = copyOwn(lifecycle.headers);
        if (workflow.needsRequestBody) {
          const body = await readBody(req, options.maxBodyBytes);
          if (!body.ok) {
            // The rest of a too-large body is never read, so the connection closes: say so, or a client reuses it.
            refuse(exchange, record, head, body.error, { reason: body.reason }, body.error === 'payload_too_large' ? { connection: 'close' } : undefined);
            if (body.error === 'payload_too_large') res.once('finish', () => req.socket.destroySoon?.());
            return;
          }
          exchange.receivedBody = { raw: body.raw, parsed: body.parsed };
          exchange.request.body = body.parsed;
        }
        const result = await walk(workflow, exchange, record.path, spanTimings);
        final = result.final.state;
        record.partner = exchange.partner;
        record.subject = exchange.subject;
        record.upstreamMs = exchange.upstreamMs;
        record.rateLimitStoreDown = exchange.rateLimitStoreDown;
        if (exchange.llm !== undefined) record.llm = loggedLlm(exchange.llm);
        answerWalked(req, res, exchange, record, workflow, result, head);
      } catch (error) {
        logger.error({ err: error, traceId: record.traceId }, 'gateway failed');
        const problem = problems.render('internal_error', { instance: '/', traceId: record.traceId });
        if (exchange === undefined) writeProblem(res, problem);
        else if (exchange.answeredBy === undefined) exchange.problem(problem, undefined, false);
        else res.destroy();
      } finally {
        exchange?.end(); // what the nodes held for other requests (a cache key's flight) is let go
        split?.count(toCandidate, record.status >= 500 || record.problem !== undefined);
        const mcpTool = exchange?.mcpTool;
        if (mcpTool !== undefined) {
          record.mcpTool = mcpTool.name;
          if (served !== undefined) options.mcpCalls?.count(served.id, mcpTool.label, record.partner, record.outcome);
        }
        const ended = performance.now();
        const ms = ended - started;
        const now = Date.now(); // one clock read for the metrics' time windows and the log line's time
        inFlight -= 1;
        if (metrics !== undefined) {
          if (served?.metrics !== undefined) {
            served.metrics.request(record.partner, record.outcome, record.status, ms / 1000, record.upstreamMs === undefined ? undefined : record.upstreamMs / 1000, now);
            if (exchange?.llm?.usage !== undefined) countTokens(metrics.llmTokens, served.metrics, record.partner, exchange.llm);
          }
          else if (served === undefined) metrics.unrouted.set(record.status, (metrics.unrouted.get(record.status) ?? 0) + 1);
        }
        if (logRequest !== undefined || evidence !== undefined) {
          record.ms = Math.round(ms * 1000) / 1000;
          if (record.upstreamMs !== undefined) record.upstreamMs = Math.round(record.upstreamMs * 1000) / 1000;
          if (record.subject !== undefined) record.subject = subjectOf(record.subject);
        }
        if (logRequest) {
          // opted-in fields are read after the answer went out, so they never delay it
          if (served?.loggedFields !== undefined && exchange !== undefined) record.fields = await evaluateLoggedFields(served.loggedFields, exchange);
          logRequest(record, now, inFlight > 0);
        }
        evidence?.add({ time: now, record, workflow: served, final, keyId: exchange?.keyId, upstreamStatus: exchange?.upstreamStatus, llm: exchange?.llm });
        if (samples !== undefined && served !== undefined && exchange !== undefined) samples.offer(served, exchange, req, record, now);
        if (spans !== undefined && trace !== undefined) {
          spans.add({
            traceId: trace.traceId, spanId: trace.spanId, parentSpanId: trace.parentSpanId, method: record.method,
            route: served?.graph.document.route.path, path: (req.url ?? '/').split('?')[0]!, workflow: served?.id, version: served?.version,
            partner: record.partner, outcome: record.outcome, status: record.status, problem: record.problem, started, ended,
            nodes: record.path, kinds: record.path.map((id) => served?.graph.nodes.get(id)?.kind ?? ''), timings: spanTimings!.timings,
            llm: exchange?.llm,
            tool: record.mcpTool,
          });
        }
      }
    },
  };
}
