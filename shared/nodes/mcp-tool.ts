import { z } from 'zod';
import { defineKind, type PortSpec } from './kind.ts';

/** A port name: a lower-case word, as switch cases name theirs. */
const PORT_WORD = /^[a-z][a-z0-9_-]{0,31}$/;
/** An MCP tool name as servers declare them (letters, digits, `_`, `-`, `.`, `/`), case-sensitive. */
const TOOL_NAME = /^[A-Za-z0-9_./-]{1,128}$/;

/** Ports the kind always has, after the configured tools' own. */
const FIXED_PORTS = ['other', 'invalid'];

const mcpToolConfig = z
  .object({
    tools: z
      .array(
        z
          .object({
            name: z.string().regex(TOOL_NAME, 'an MCP tool name: letters, digits, _ - . / (1 to 128)').meta({ title: 'Tool name', description: 'As the upstream MCP server names it (case-sensitive).' }),
            port: z.string().regex(PORT_WORD, 'port names are lower-case words').meta({ title: 'Port' }),
          })
          .strict(),
      )
      .min(1)
      .max(64)
      .meta({ title: 'Tools', description: 'A tools/call naming one of these leaves by its port; several tools may share a port.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.tools.forEach((t, i) => {
      if (FIXED_PORTS.includes(t.port)) ctx.addIssue({ code: 'custom', path: ['tools', i, 'port'], message: `"${t.port}" is a port of its own (other: any other message; invalid: not a JSON-RPC message)` });
      if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tools', i, 'name'], message: `tool "${t.name}" is listed twice` });
      names.add(t.name);
    });
  });

export type McpToolConfig = z.infer<typeof mcpToolConfig>;

/**
 * The ports: one per configured tool port (in order, each once), then `other` and `invalid`.
 * Tolerant of a half-written config, so the editor can draw the node while it is configured.
 */
function portsOf(c: Partial<McpToolConfig> | undefined): PortSpec[] {
  const tools = Array.isArray(c?.tools) ? c.tools : [];
  const seen = new Set<string>();
  const ports: PortSpec[] = [];
  for (const t of tools) {
    const port = t?.port;
    if (typeof port !== 'string' || !PORT_WORD.test(port) || FIXED_PORTS.includes(port) || seen.has(port)) continue;
    seen.add(port);
    const names = tools.filter((o) => o?.port === port && typeof o.name === 'string').map((o) => o.name);
    ports.push({ name: port, description: `A tools/call of ${names.join(', ') || '…'}`, unwired: 'required' });
  }
  ports.push({ name: 'other', description: 'Any other MCP message: another tool\'s call, initialize, tools/list, notifications, a GET or DELETE without a body.', unwired: 'required' });
  ports.push({ name: 'invalid', description: 'The body is not a JSON-RPC message, a tools/call names no tool, or a batch holds a tools/call.', unwired: { error: 'mcp_request_invalid' } });
  return ports;
}

export const mcpToolKind = defineKind<McpToolConfig>({
  kind: 'mcp-tool',
  title: 'MCP tool',
  category: 'Flow',
  description: 'Routes MCP (JSON-RPC) traffic by the tool a tools/call names, so one tool can be guarded (a scope-check on its port).',
  config: mcpToolConfig,
  ports: portsOf,
  errors: ['mcp_request_invalid'],
  expressions: () => [],
  readsRequestBody: () => true,
});
