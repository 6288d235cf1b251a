import type { McpCallCounter } from '../gateway/gateway.ts';
import type { Metrics } from '../observe/metrics.ts';

/**
 * `sluice_mcp_tool_calls_total{workflow,tool,partner,outcome}`: requests that called an MCP tool,
 * through the /mcp/<product> endpoint (tool: the workflow id) or an mcp-tool node (tool: the
 * node's port for it, `other` for tools it does not name). Every label is bounded: tool names a
 * client sends reach the request log, never a label; partners are labelled as everywhere else.
 */
export function createMcpCallCounter(metrics: Metrics): McpCallCounter {
  const counts = new Map<string, { labels: Record<string, string>; value: number }>();
  metrics.counter('sluice_mcp_tool_calls_total', 'MCP tool calls by workflow, tool (the /mcp/ endpoint: the workflow; an mcp-tool node: its port), partner and outcome.', () => [...counts.values()]);
  return {
    count(workflow, tool, partner, outcome) {
      const label = metrics.partners.label(partner);
      const key = `${workflow}\n${tool}\n${label}\n${outcome}`;
      const entry = counts.get(key);
      if (entry !== undefined) entry.value++;
      else counts.set(key, { labels: { workflow, tool, partner: label, outcome }, value: 1 });
    },
  };
}
