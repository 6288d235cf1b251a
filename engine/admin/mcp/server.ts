/**
 * `/admin/mcp`: the admin API as an MCP server (Streamable HTTP, stateless), for operators'
 * assistants. The admin token is the bearer; the caller's role decides exactly as for the HTTP
 * API (engine/admin/http/calls.ts is the one way in for both), and every change is audited with
 * `via: "mcp"`.
 */
import type { CallToolResult, McpError } from '@modelcontextprotocol/sdk/types.js';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { allows, type Identity } from '../../../shared/admin/index.ts';
import { writeProblem } from '../../gateway/problem.ts';
import { traceContextOf } from '../../gateway/trace.ts';
import { AdminError } from '../errors.ts';
import type { Endpoint } from '../http/endpoint.ts';
import { adminBodyBytes, boundedJson, type MountOptions } from '../http/mount.ts';
import { adminProblems } from '../http/problems.ts';
import { getPrompt, PROMPTS } from './prompts.ts';
import { listResources, readResource, RESOURCE_TEMPLATES, type Invoke } from './resources.ts';
import { adminTools, resultSummary, type AdminTool } from './tools.ts';
import { mcpSdk, type McpSdk } from '../../mcp/sdk.ts';

/** The JSON-RPC error of a call the caller's role may not make (the range -32000..-32099 is the server's own). */
export const FORBIDDEN = -32003;
/** A result's JSON is repeated in its text for clients that read only text, up to this size. */
const TEXT_JSON_BYTES = 16 * 1024;

const INSTRUCTIONS =
  'Sluice gateway administration. Workflows are drawn request pipelines; each has a draft and immutable versions, one of them active. ' +
  'Read before you change: list_workflows, get_workflow, get_workflow_contract, get_workflow_diff. Check a change with validate_workflow, test_workflow and simulate. ' +
  'Tools that change what the gateway serves or who may call it (publish, rollback, suspend, keys…) run only with confirm: true: ask the person first. ' +
  'Every change is in the audit log under the token\'s name.';

/**
 * The router for `/admin/mcp`. Each POST is one JSON-RPC message answered with JSON (no session:
 * any replica answers any request); GET and DELETE (session streams) answer 405.
 */
export function createAdminMcp(endpoints: readonly Endpoint[], options: MountOptions): Router {
  const { calls, limits } = options;
  // The tools' JSON Schemas (~60 ms of zod's toJSONSchema) are made on the first MCP request, not at every start.
  let made: Map<string, AdminTool> | undefined;
  const tools = () => (made ??= adminTools(endpoints));
  const problems = adminProblems({ problems: options.problems, limits, bodyBytes: adminBodyBytes(limits), logger: options.logger });
  const clientOf = options.clientAddress ?? ((req: Request) => req.socket.remoteAddress ?? 'unknown');

  /** Calls a tool as `actor`: the role checked first (a refusal audited), then the arguments read by the endpoint's schemas. */
  const invokerOf = (actor: Identity): Invoke => async (name, args) => {
    const tool = tools().get(name);
    if (tool === undefined) throw new AdminError('not_found', `no tool "${name}"`);
    await authorize(actor, tool, args);
    return run(actor, tool, args);
  };

  async function authorize(actor: Identity, tool: AdminTool, args: Record<string, unknown>): Promise<void> {
    await calls.authorize(actor, tool.endpoint, `MCP ${tool.name} (${tool.endpoint.method.toUpperCase()} ${tool.pathOf(args).slice(0, 300)})`, args.id);
  }

  async function run(actor: Identity, tool: AdminTool, args: Record<string, unknown>): Promise<unknown> {
    const made = tool.inputOf(args);
    if (!made.ok) throw new AdminError('bad_request', made.reason);
    return calls.run(tool.endpoint, actor, made.input);
  }

  async function callTool(sdk: McpSdk, actor: Identity, name: string, args: Record<string, unknown>, traceId: string): Promise<CallToolResult> {
    const tool = tools().get(name);
    if (tool === undefined) throw new sdk.McpError(sdk.ErrorCode.InvalidParams, `no tool "${name.slice(0, 64)}" (see tools/list)`);
    try {
      await authorize(actor, tool, args);
    } catch (error) {
      if (error instanceof AdminError && error.code === 'forbidden') throw new sdk.McpError(FORBIDDEN, error.message, { permission: tool.endpoint.permission, role: actor.role, tool: tool.name });
      throw error; // the store could not record the refusal: its problem, by guarded()
    }
    if (tool.destructive && args.confirm !== true)
      return { isError: true, content: [{ type: 'text', text: `${tool.name} changes what the gateway serves or who may call it: ask the person to confirm, then call it again with "confirm": true. Nothing was changed.` }] };
    try {
      const answer = await run(actor, tool, args);
      const structured = typeof answer === 'object' && answer !== null && !Array.isArray(answer) ? (answer as Record<string, unknown>) : undefined;
      const whole = JSON.stringify(answer);
      const text = `${resultSummary(tool, answer)}${whole.length <= TEXT_JSON_BYTES ? `\n${whole}` : ` (the whole answer, ${whole.length} bytes, is in structuredContent)`}`;
      return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: structured } : {}) };
    } catch (error) {
      const { answer } = problems.problemOf(error, { instance: tool.pathOf(args), traceId, method: `MCP ${tool.name}` });
      const problem = JSON.parse(answer.body) as { title?: string; detail?: string };
      return { isError: true, content: [{ type: 'text', text: `${problem.title ?? 'Refused'} (${answer.status}): ${problem.detail ?? ''}\n${answer.body}` }] };
    }
  }

  /**
   * A failed resource read or prompt as the MCP error a client shows: a role refusal names the
   * permission; anything else says what its problem answer says (an internal error only its
   * trace id, the log line under it says what failed), never an exception's own message.
   */
  const mcpErrorOf = (sdk: McpSdk, error: unknown, what: string, traceId: string): McpError => {
    if (error instanceof sdk.McpError) return error;
    if (error instanceof AdminError && error.code === 'forbidden') return new sdk.McpError(FORBIDDEN, error.message, error.extra);
    const { answer } = problems.problemOf(error, { instance: '/admin/mcp', traceId, method: `MCP ${what}` });
    const problem = JSON.parse(answer.body) as { detail?: string; title?: string };
    const code = answer.status === 404 || answer.status === 400 ? sdk.ErrorCode.InvalidParams : answer.status >= 500 ? sdk.ErrorCode.InternalError : sdk.ErrorCode.InvalidRequest;
    return new sdk.McpError(code, problem.detail ?? problem.title ?? 'refused', { status: answer.status, type: answer.type, traceId });
  };

  /** The server of one request, for one caller. */
  function serverFor(sdk: McpSdk, actor: Identity, traceId: string): InstanceType<McpSdk['Server']> {
    const server = new sdk.Server({ name: 'sluice-admin', version: '1' }, { capabilities: { tools: {}, resources: {}, prompts: {} }, instructions: INSTRUCTIONS });
    const invoke = invokerOf(actor);
    /** A handler whose failure is the MCP error of its problem. */
    const guarded = <T>(what: string, work: () => Promise<T>) => work().catch((error: unknown) => Promise.reject(mcpErrorOf(sdk, error, what, traceId)));
    server.setRequestHandler(sdk.ListToolsRequestSchema, () => ({ tools: [...tools().values()].filter((t) => allows(actor.role, t.endpoint.permission)).map((t) => t.listing) }));
    server.setRequestHandler(sdk.CallToolRequestSchema, (request) => guarded(request.params.name, () => callTool(sdk, actor, request.params.name, request.params.arguments ?? {}, traceId)));
    server.setRequestHandler(sdk.ListResourcesRequestSchema, () => guarded('resources/list', async () => ({ resources: await listResources(invoke) })));
    server.setRequestHandler(sdk.ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
    server.setRequestHandler(sdk.ReadResourceRequestSchema, (request) => guarded('resources/read', () => readResource(invoke, request.params.uri)));
    server.setRequestHandler(sdk.ListPromptsRequestSchema, () => ({ prompts: PROMPTS }));
    server.setRequestHandler(sdk.GetPromptRequestSchema, (request) => guarded('prompts/get', () => getPrompt(invoke, request.params.name, request.params.arguments ?? {})));
    return server;
  }

  const router = express.Router();
  /** Who is calling, before the body is read. */
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.actor = { ...(await options.authenticate(req.headers.authorization, clientOf(req))), via: 'mcp' } satisfies Identity;
      next();
    } catch (error) {
      next(error);
    }
  };
  router.post('/', authenticate, boundedJson(limits), async (req: Request, res: Response, next: NextFunction) => {
    try {
      // One message per request (batches left MCP in 2025-06-18): a batch of calls would be many calls in one.
      if (Array.isArray(req.body)) throw new AdminError('bad_request', 'JSON-RPC batches are not accepted: send one message per request');
      const traceId = traceContextOf(req.headers.traceparent, undefined).traceId;
      const sdk = await mcpSdk();
      const server = serverFor(sdk, res.locals.actor as Identity, traceId);
      const transport = new sdk.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      next(error);
    }
  });
  // Stateless: no session stream to open (GET) or end (DELETE).
  router.all('/', (req, res) => {
    const answer = options.problems().render('method_not_allowed', { instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId });
    writeProblem(res, answer, { allow: 'POST' });
  });
  router.use(problems.onError);
  return router;
}
