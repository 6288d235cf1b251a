import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { CompiledWorkflow } from '../compile/types.ts';
import { readBody } from '../gateway/body.ts';
import type { ClientAddress } from '../gateway/client-address.ts';
import { createSyntheticExchange } from '../gateway/exchange.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { writeProblem, type ProblemRenderer } from '../gateway/problem.ts';
import type { RouteTable } from '../gateway/route-table.ts';
import { traceContextOf } from '../gateway/trace.ts';
import type { PartnerAccess } from '../kinds/support/partner-directory.ts';
import { mcpSdk } from './sdk.ts';
import { AnswerCapture, toolRequest } from './capture.ts';
import { admits } from './listing.ts';
import { requestOf, toolOf } from './tools.ts';

export interface McpEndpointOptions {
  gateway: Gateway;
  /** Products (and their workflows) as the registry last applied them. */
  partners: PartnerAccess;
  problems: () => ProblemRenderer;
  clientAddress: ClientAddress;
  /** SLUICE_MAX_BODY: the MCP request's body, and the body a tool call sends. */
  maxBodyBytes: number;
  /** SLUICE_MAX_BUFFERED_ANSWER: the most of a workflow's answer a tool result carries. */
  maxAnswerBytes: number;
  logger: Logger;
}

/** Headers of the MCP request that are about the MCP exchange itself (framing, negotiation), not passed to the workflow. */
const MCP_ONLY = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'accept', 'accept-encoding', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id']);

/**
 * The headers a tool call's request carries: the MCP request's own (Authorization, an API key
 * header, X-Forwarded-For as any client sends them: the workflow judges them as for HTTP), less
 * the MCP exchange's framing, with a JSON body's type and length.
 */
function callHeaders(mcp: IncomingMessage, body: Buffer | undefined): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const name in mcp.headers) if (!MCP_ONLY.has(name)) headers[name] = mcp.headers[name];
  headers.accept = 'application/json, application/problem+json;q=0.9, */*;q=0.1';
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  return headers;
}

/** Workflows whose guards a listing runs at once: a product of many workflows behind introspect nodes makes its calls a few at a time. */
const LISTING_CONCURRENCY = 8;

/** The served workflows by id, made once per route table. */
const byId = new WeakMap<RouteTable, Map<string, CompiledWorkflow>>();
function servedOf(routes: RouteTable): Map<string, CompiledWorkflow> {
  let map = byId.get(routes);
  if (map === undefined) {
    map = new Map(routes.workflows.map((w) => [w.id, w]));
    byId.set(routes, map);
  }
  return map;
}

/** What a tool call's answer is as an MCP result: the body as text (and as structured content when it is a JSON object); an error status or a problem is a tool error. */
function resultOf(status: number, contentType: string, body: Buffer, broken: boolean): CallToolResult {
  if (broken) return { isError: true, content: [{ type: 'text', text: 'The workflow\'s answer broke off or exceeds the gateway\'s bound (SLUICE_MAX_BUFFERED_ANSWER).' }] };
  const text = body.toString('utf8');
  let structured: Record<string, unknown> | undefined;
  if (/json/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) structured = parsed as Record<string, unknown>;
    } catch {
      // left as text
    }
  }
  return { ...(status >= 400 ? { isError: true } : {}), content: [{ type: 'text', text }], ...(structured === undefined ? {} : { structuredContent: structured }) };
}

const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/**
 * `/mcp/<product>`: the product's workflows as MCP tools over Streamable HTTP (stateless: any
 * replica answers any request). tools/list shows the tools whose workflows' guards admit the
 * caller's credentials (listing.ts); a tools/call runs the workflow through the gateway as an
 * HTTP request with the caller's headers: identity, subscriptions, scopes, limits, logs and
 * metrics are the workflow's, and a problem answer is a tool error with the problem inside.
 */
export function createMcpEndpoint(options: McpEndpointOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { gateway, partners, clientAddress, logger } = options;

  const refuse = (res: ServerResponse, req: IncomingMessage, id: string, params?: Record<string, string>, extra?: Record<string, string>) => {
    const problem = options.problems().render(id, { instance: (req.url ?? '/').split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, req.headers.tracestate).traceId, ...(params ? { params } : {}) });
    writeProblem(res, problem, extra);
  };

  /** The tools of a product this caller is shown. */
  async function listTools(req: IncomingMessage, workflows: readonly CompiledWorkflow[]) {
    const headers = callHeaders(req, undefined);
    const clientIp = clientAddress.chain(req).client;
    const shown: Array<ReturnType<typeof toolOf> | undefined> = [];
    const one = async (workflow: CompiledWorkflow) => {
      const route = workflow.graph.document.route;
      const exchange = createSyntheticExchange({ method: route.methods[0]!, url: route.path, headers: headers as Record<string, string>, clientIp });
      try {
        return (await admits(workflow, exchange)) ? toolOf(workflow) : undefined;
      } finally {
        exchange.end();
      }
    };
    for (let i = 0; i < workflows.length; i += LISTING_CONCURRENCY) shown.push(...(await Promise.all(workflows.slice(i, i + LISTING_CONCURRENCY).map(one))));
    return shown.filter((t) => t !== undefined);
  }

  /** Runs one tools/call through the gateway and captures its answer. */
  async function callTool(req: IncomingMessage, workflow: CompiledWorkflow, args: Record<string, unknown> | undefined, calls: Set<AnswerCapture>): Promise<CallToolResult> {
    const made = requestOf(workflow, args);
    if (!made.ok) return toolError(`Invalid arguments: ${made.reason}.`);
    if (made.body !== undefined && made.body.length > options.maxBodyBytes) return toolError(`Invalid arguments: the body exceeds ${options.maxBodyBytes} bytes.`);
    const path = made.url.split('?')[0]!;
    // The request must reach this tool's workflow and no other: arguments never pick the route.
    const match = gateway.routes.match(made.method, path, req.headers);
    if (match.kind !== 'found' || match.workflow.id !== workflow.id) return toolError('Invalid arguments: they do not make a request to this tool\'s route.');
    const incoming = toolRequest(req, made.method, made.url, callHeaders(req, made.body), made.body, workflow.id);
    const capture = new AnswerCapture(incoming, options.maxAnswerBytes);
    calls.add(capture);
    gateway.handle(incoming, capture as unknown as ServerResponse); // it logs and counts the call as any request; the capture says when it is answered
    const answer = await capture.done;
    calls.delete(capture);
    return resultOf(answer.status, String(answer.headers['content-type'] ?? ''), answer.body, answer.broken);
  }

  return function mcpEndpoint(req, res) {
    void (async () => {
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      const productId = path.startsWith('/mcp/') ? path.slice('/mcp/'.length) : '';
      const product = productId === '' || productId.includes('/') ? undefined : partners.current.products.get(productId);
      if (product === undefined) return refuse(res, req, 'not_found');
      // Stateless: no session stream to open (GET) or end (DELETE).
      if (req.method !== 'POST') return refuse(res, req, 'method_not_allowed', undefined, { allow: 'POST' });
      const body = await readBody(req, options.maxBodyBytes);
      if (!body.ok) {
        refuse(res, req, body.error, { reason: body.reason }, body.error === 'payload_too_large' ? { connection: 'close' } : undefined);
        if (body.error === 'payload_too_large') res.once('finish', () => req.socket.destroySoon?.());
        return;
      }
      // One message per request (batches left MCP in 2025-06-18): a batch of calls would be many requests in one.
      if (Array.isArray(body.parsed)) return refuse(res, req, 'bad_request', { reason: 'JSON-RPC batches are not accepted' });
      const served = servedOf(gateway.routes);
      const workflows = product.workflows.map((id) => served.get(id)).filter((w): w is CompiledWorkflow => w !== undefined && !w.lifecycle?.retired);
      // Says nothing the URL does not: the product's name and description are for its partners, and initialize needs no credentials.
      const { McpServer, StreamableHTTPServerTransport, CallToolRequestSchema, ListToolsRequestSchema } = await mcpSdk();
      const server = new McpServer({ name: `sluice-${product.id}`, version: '1' }, { capabilities: { tools: {} } });
      /** The calls in flight: a client that goes away cancels them, as it cancels its HTTP requests. */
      const calls = new Set<AnswerCapture>();
      server.server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await listTools(req, workflows) }));
      server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
        const workflow = workflows.find((w) => w.id === request.params.name);
        if (workflow === undefined) return toolError(`Unknown tool "${request.params.name.slice(0, 128)}".`);
        return callTool(req, workflow, request.params.arguments, calls);
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        if (!res.writableFinished) for (const capture of calls) capture.destroy();
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body.parsed);
    })().catch((error: unknown) => {
      logger.error({ err: error, path: (req.url ?? '/').split('?')[0] }, 'mcp endpoint failed');
      if (!res.headersSent) refuse(res, req, 'internal_error');
      else res.destroy();
    });
  };
}
