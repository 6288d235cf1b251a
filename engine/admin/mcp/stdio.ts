/**
 * `sluice mcp`: the admin MCP server for desktop assistants, over stdio. It holds no tools of its
 * own: each message goes to the gateway's /admin/mcp as the token's caller and each answer comes
 * back, so the tools, the role's limits and the audit log are the gateway's, whichever way in.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The JSON-RPC error of a message the gateway could not be asked (unreachable, token refused). */
const UNREACHABLE = -32000;

/**
 * Relays MCP messages between stdin/stdout and `<url>/admin/mcp`. Resolves when stdin closes.
 * Nothing of a message is written anywhere else: stderr says only that the gateway failed and why.
 */
export async function relayStdio(options: { url: string; token: string; stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream }): Promise<void> {
  // loaded here, not with the CLI: every `sluice serve` would pay for it (see engine/mcp/sdk.ts)
  const [{ StreamableHTTPClientTransport }, { StdioServerTransport }, { InitializeResultSchema, isJSONRPCRequest, isJSONRPCResponse }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  const endpoint = new URL('/admin/mcp', options.url);
  const stderr = options.stderr ?? process.stderr;
  const http = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${options.token}` } } });
  const stdio = new StdioServerTransport(options.stdin as never, options.stdout as never);
  /** Requests sent to the gateway and not answered yet, by id: the initialize answer sets the protocol version of the later ones. */
  const initializing = new Set<string | number>();

  /** Messages on their way to the gateway: when stdin ends, their answers are still written. */
  const sending = new Set<Promise<void>>();

  stdio.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializing.add(message.id);
    const sent = http.send(message).catch((error: unknown) => {
      const why = (error as Error).message;
      stderr.write(`sluice mcp: ${endpoint.href}: ${why}\n`);
      if (isJSONRPCRequest(message)) return stdio.send({ jsonrpc: '2.0', id: message.id, error: { code: UNREACHABLE, message: `the Sluice gateway at ${endpoint.origin} refused or could not be reached: ${why}` } });
    });
    sending.add(sent);
    void sent.finally(() => sending.delete(sent));
  };
  http.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResponse(message) && initializing.delete(message.id)) {
      const result = InitializeResultSchema.safeParse(message.result);
      if (result.success) http.setProtocolVersion(result.data.protocolVersion);
    }
    void stdio.send(message);
  };
  http.onerror = (error) => stderr.write(`sluice mcp: ${endpoint.href}: ${error.message}\n`);

  const stdin = options.stdin ?? process.stdin;
  const ended = new Promise<void>((resolve) => stdin.once('end', resolve));
  await http.start();
  await stdio.start();
  await ended;
  // a message is sent and its answer relayed in one step: what was sent before stdin ended is answered
  while (sending.size > 0) await Promise.allSettled(sending);
  await stdio.close();
  await http.close();
}
