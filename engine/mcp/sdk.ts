/**
 * The MCP SDK's server side, loaded when the first MCP request comes (a product's /mcp/ endpoint
 * or /admin/mcp), not at every start: importing it took ~100 ms of each gateway's start (and of
 * each worker's), for endpoints many gateways never answer.
 */
let loading: Promise<McpSdk> | undefined;

export type McpSdk = typeof import('@modelcontextprotocol/sdk/server/mcp.js') &
  typeof import('@modelcontextprotocol/sdk/server/index.js') &
  typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js') &
  typeof import('@modelcontextprotocol/sdk/types.js');

export function mcpSdk(): Promise<McpSdk> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/mcp.js'),
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([mcp, server, http, types]) => ({ ...types, ...http, ...server, ...mcp }));
  return loading;
}
