import type { McpToolConfig } from '../../shared/nodes/index.ts';
import type { Exchange, Runtime } from './types.ts';

/** The longest tool name the request log carries (a client may send any string). */
const LOGGED_TOOL_CHARS = 128;

/** The port of one JSON-RPC message: a tools/call by its tool's port, anything else `other`; undefined when it is malformed. */
type Decision = { port: string; tool: string | undefined } | { invalid: string };

/** An object to read members of: an array or bytes pass too, and fail the checks after (neither has a string `method` or `name`). */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Routes by the JSON-RPC message the request carries: a `tools/call` by its `params.name` (a
 * configured tool's port, else `other`), every other method and a request without a body to
 * `other`. A JSON `null`, a body that is not JSON (a text or bytes content type), a tools/call without a tool
 * name, and a batch holding a tools/call go to `invalid`: what the gateway cannot read, it does
 * not let past a guard that reads it.
 */
export const mcpTool: Runtime<McpToolConfig> = (config) => {
  const ports = new Map(config.tools.map((t) => [t.name, t.port]));
  const decide = (message: unknown): Decision => {
    if (!isObject(message) || typeof message.method !== 'string') return { invalid: 'the body is not a JSON-RPC message' };
    if (message.method !== 'tools/call') return { port: 'other', tool: undefined };
    const params = message.params;
    const name = isObject(params) ? params.name : undefined;
    if (typeof name !== 'string' || name === '') return { invalid: 'a tools/call names no tool' };
    return { port: ports.get(name) ?? 'other', tool: name };
  };
  const refuse = (exchange: Exchange, reason: string) => {
    exchange.problemParams = { reason };
    return 'invalid';
  };
  return {
    run: function mcpTool(exchange) {
      const body = exchange.request.body;
      if (body === undefined) return 'other';
      let decision: Decision;
      if (Array.isArray(body)) {
        if (body.length === 0) return refuse(exchange, 'the batch is empty');
        for (const message of body) {
          const one = decide(message);
          if ('invalid' in one) return refuse(exchange, one.invalid);
          if (one.tool !== undefined) return refuse(exchange, 'a batch holds a tools/call');
        }
        decision = { port: 'other', tool: undefined };
      } else decision = decide(body);
      if ('invalid' in decision) return refuse(exchange, decision.invalid);
      // the message goes on as the guard read it: re-serialised, so an upstream that reads the first of
      // two "name" members (JSON.parse keeps the last) cannot see another tool than the one routed on
      exchange.request.body = Array.isArray(body) ? [...body] : { ...(body as Record<string, unknown>) };
      if (decision.tool !== undefined) exchange.mcpTool = { name: decision.tool.slice(0, LOGGED_TOOL_CHARS), label: decision.port };
      return decision.port;
    },
  };
};
