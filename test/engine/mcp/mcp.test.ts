import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { validateWorkflow } from '../../../shared/compile/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, type TestIssuer } from '../../helpers/issuer.ts';
import { bearer, registerPartners, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';

/*
 * MCP end to end with the SDK's own client: a product's workflows as tools at /mcp/<product> on
 * the gateway, and MCP traffic to an upstream MCP server (the SDK's McpServer) through a workflow
 * whose mcp-tool node puts a scope check in front of one tool.
 */

const echo = (status = 200): NodeDoc => ({ id: 'answer', kind: 'respond', config: { status, bodyExpression: '{"params": request.params, "query": request.query, "body": request.body, "partner": partner}' } });

/** A workflow: jwt-verify, the nodes given, then the echo. */
function guarded(id: string, route: { path: string; methods?: string[] }, jwks: unknown, middle: NodeDoc[] = [], status = 200) {
  const nodes: NodeDoc[] = [{ id: 'verify', kind: 'jwt-verify', config: { jwks, issuer: 'https://issuer.test', audience: 'orders' } }, ...middle, echo(status)];
  const edges = nodes.slice(0, -1).map((n, i) => [n.id, 'ok', nodes[i + 1]!.id] as [string, string, string]);
  return { ...workflow(id, route, nodes, edges), description: `The ${id} operation.` };
}

/** An SDK client connected to a gateway MCP URL with these headers. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const problemOf = (result: CallToolResult) => JSON.parse((result.content[0] as { text: string }).text) as { status: number; type: string; detail: string };

describe('MCP: workflows as tools at /mcp/<product>', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let upstream: Server;
  /** A plain HTTP upstream answering what it received. */
  let echoUpstream: Server;
  /** Requests to the echo upstream's /slow, which it never answers: whether each one's connection was closed. */
  const slow: Array<{ closed: boolean }> = [];
  const clients: Client[] = [];
  const token = (partner: string, scope?: string) => issuer.sign({ sub: `user-of-${partner}`, azp: `${partner}-client`, ...(scope ? { scope } : {}) });
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const client = await connect(`${gw.url}${path}`, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    issuer = await createIssuer();
    // The upstream MCP server: stateless, answering as SSE (the SDK's default), a server per request.
    upstream = createServer((req, res) => {
      const server = new McpServer({ name: 'files', version: '1.0.0' });
      server.registerTool('read_file', { description: 'Reads a file', inputSchema: { path: z.string() } }, ({ path }) => ({ content: [{ type: 'text', text: `contents of ${path}` }] }));
      server.registerTool('delete_file', { description: 'Deletes a file', inputSchema: { path: z.string() } }, ({ path }) => ({ content: [{ type: 'text', text: `deleted ${path}` }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    echoUpstream = createServer((req, res) => {
      if (req.url?.startsWith('/big')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(300 * 1024));
        return;
      }
      if (req.url?.startsWith('/slow')) {
        const seen = { closed: false };
        slow.push(seen);
        res.on('close', () => (seen.closed = true));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'], authorized: req.headers.authorization !== undefined, body: Buffer.concat(chunks).toString('utf8') }));
      });
    });
    await new Promise<void>((resolve) => echoUpstream.listen(0, '127.0.0.1', resolve));
    const jwks = issuer.jwks;
    gw = await startGateway(
      [
        guarded('get-order', { path: '/orders/:id' }, jwks),
        guarded('create-order', { path: '/orders', methods: ['POST'] }, jwks, [
          { id: 'scopes', kind: 'scope-check', config: { all: ['orders:write'] } },
          { id: 'check', kind: 'validate-request', config: { body: { type: 'object', properties: { item: { type: 'string' } }, required: ['item'], additionalProperties: false } } },
        ], 201),
        guarded('limited', { path: '/limited' }, jwks, [{ id: 'limit', kind: 'rate-limit', config: { limit: 1, window: '1m' } }]),
        guarded('bill', { path: '/billing/:account' }, jwks),
        workflow('big', { path: '/big' }, [{ id: 'upstream', kind: 'proxy', config: { url: '${ECHO_UPSTREAM}' } }]),
        workflow('slow', { path: '/slow' }, [{ id: 'upstream', kind: 'proxy', config: { url: '${ECHO_UPSTREAM}', timeout: '60s' } }]),
        workflow('forward', { path: '/forward/:id', methods: ['PUT'] }, [
          { id: 'verify', kind: 'jwt-verify', config: { jwks, issuer: 'https://issuer.test', audience: 'orders' } },
          { id: 'upstream', kind: 'proxy', config: { url: '${ECHO_UPSTREAM}' } },
        ], [['verify', 'ok', 'upstream']]),
        workflow('files-mcp', { path: '/files/mcp', methods: ['POST', 'GET', 'DELETE'] }, [
          { id: 'verify', kind: 'jwt-verify', config: { jwks, issuer: 'https://issuer.test', audience: 'orders' } },
          { id: 'tool', kind: 'mcp-tool', config: { tools: [{ name: 'delete_file', port: 'delete' }] } },
          { id: 'may-delete', kind: 'scope-check', config: { all: ['files:delete'] } },
          { id: 'upstream', kind: 'proxy', config: { url: '${MCP_UPSTREAM}' } },
        ], [['verify', 'ok', 'tool'], ['tool', 'delete', 'may-delete'], ['tool', 'other', 'upstream'], ['may-delete', 'ok', 'upstream']]),
      ],
      { demo: false, env: { MCP_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`, ECHO_UPSTREAM: `http://127.0.0.1:${(echoUpstream.address() as AddressInfo).port}` }, settings: { LOG_LEVEL: 'info', SLUICE_MAX_BUFFERED_ANSWER: '256kb' } },
    );
    await registerPartners(gw, { 'orders-api': ['get-order', 'create-order', 'limited', 'forward', 'slow', 'big'], 'billing-api': ['bill'], files: ['files-mcp'] }, {
      acme: { products: ['orders-api', 'files'], clientIds: ['acme-client'] },
      beta: { products: ['orders-api', 'billing-api'], clientIds: ['beta-client'] },
    });
  });
  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await gw?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    await new Promise((resolve) => echoUpstream?.close(resolve));
  });

  it('initializes, and lists the tools of the product each partner subscribes to, those whose scopes it lacks left out', async () => {
    const acme = await open('/mcp/orders-api', bearer(await token('acme', 'orders:write')));
    expect(acme.getServerVersion()).toEqual({ name: 'sluice-orders-api', version: '1' });
    const listed = await acme.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(['big', 'create-order', 'forward', 'get-order', 'limited', 'slow']);
    const create = listed.tools.find((t) => t.name === 'create-order')!;
    expect(create.description).toContain('The create-order operation.');
    // the body schema is the validate-request node's; the route's params are strings
    expect(create.inputSchema.properties?.body).toMatchObject({ required: ['item'] });
    expect(listed.tools.find((t) => t.name === 'get-order')!.inputSchema).toMatchObject({ required: ['params'], properties: { params: { required: ['id'] } } });

    const withoutScope = await open('/mcp/orders-api', bearer(await token('acme')));
    expect((await withoutScope.listTools()).tools.map((t) => t.name).sort()).toEqual(['big', 'forward', 'get-order', 'limited', 'slow']);
    const acmeBilling = await open('/mcp/billing-api', bearer(await token('acme')));
    expect((await acmeBilling.listTools()).tools).toEqual([]);
    const betaBilling = await open('/mcp/billing-api', bearer(await token('beta')));
    expect((await betaBilling.listTools()).tools.map((t) => t.name)).toEqual(['bill']);
    // without credentials: only the workflow that asks for none
    const anonymous = await open('/mcp/orders-api');
    expect((await anonymous.listTools()).tools.map((t) => t.name)).toEqual(['slow', 'big']);
  });

  it('calls a tool through the workflow: path params encoded, query and body from the arguments; the call is logged and counted with partner and tool', async () => {
    const acme = await open('/mcp/orders-api', bearer(await token('acme', 'orders:write')));
    const got = (await acme.callTool({ name: 'get-order', arguments: { params: { id: 'a/b?c' }, query: { expand: 'lines' } } })) as CallToolResult;
    expect(got.isError).toBeFalsy();
    expect(got.structuredContent).toEqual({ params: { id: 'a/b?c' }, query: { expand: 'lines' }, partner: 'acme' });
    const created = (await acme.callTool({ name: 'create-order', arguments: { body: { item: 'tea' } } })) as CallToolResult;
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ body: { item: 'tea' }, partner: 'acme' });
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.workflow === 'get-order' && l.partner === 'acme' && l.mcpTool === 'get-order' && l.status === 200)).toBe(true), { timeout: 15_000 });
    const metrics = await gw.sluice.metrics!.text();
    expect(metrics).toMatch(/sluice_mcp_tool_calls_total\{workflow="get-order",tool="get-order",partner="acme",outcome="ok"\} 1/);
  });

  it('a tool whose workflow proxies sends the route\'s method, the encoded path, the JSON body and the caller\'s Authorization upstream', async () => {
    const acme = await open('/mcp/orders-api', bearer(await token('acme')));
    const sent = (await acme.callTool({ name: 'forward', arguments: { params: { id: 'x y/z' }, query: { tag: ['a', 'b'] }, body: { qty: 2 } } })) as CallToolResult;
    expect(sent.isError).toBeFalsy();
    expect(sent.structuredContent).toEqual({ method: 'PUT', url: '/forward/x%20y%2Fz?tag=a&tag=b', type: 'application/json', authorized: true, body: '{"qty":2}' });
  });

  it('an answer over SLUICE_MAX_BUFFERED_ANSWER is a tool error, not held whole', async () => {
    const acme = await open('/mcp/orders-api', bearer(await token('acme')));
    const big = (await acme.callTool({ name: 'big' })) as CallToolResult;
    expect(big.isError).toBe(true);
    expect((big.content[0] as { text: string }).text).toContain('SLUICE_MAX_BUFFERED_ANSWER');
  });

  it('a client that goes away cancels its tool call: the upstream request is closed', async () => {
    const abort = new AbortController();
    const pending = fetch(`${gw.url}/mcp/orders-api`, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } }),
    }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(slow).toHaveLength(1), { timeout: 15_000 });
    expect(slow[0]!.closed).toBe(false);
    abort.abort();
    await pending;
    await vi.waitFor(() => expect(slow[0]!.closed).toBe(true), { timeout: 15_000 });
    await vi.waitFor(() => expect(gw.logs.some((l) => l.workflow === 'slow' && l.mcpTool === 'slow' && l.status === 499)).toBe(true), { timeout: 15_000 });
  });

  it('an editor cannot put a workflow route under /mcp, in any case or encoding', () => {
    for (const path of ['/mcp', '/mcp/orders-api', '/MCP/orders-api']) {
      const result = validateWorkflow(workflow('squat', { path }, [{ id: 'answer', kind: 'respond', config: {} }]));
      expect(result.ok, path).toBe(false);
      if (!result.ok) expect(result.problems.map((p) => p.code), path).toContain('route_clash');
    }
    // percent-encoding is refused by the route schema before the reserved prefixes are looked at
    expect(validateWorkflow(workflow('squat', { path: '/%6dcp/x' }, [{ id: 'answer', kind: 'respond', config: {} }])).ok).toBe(false);
    expect(validateWorkflow(workflow('fine', { path: '/mcpx/orders' }, [{ id: 'answer', kind: 'respond', config: {} }])).ok).toBe(true);
  });

  it('answers 401, 403, 429 and an invalid body as tool errors carrying the problem', async () => {
    const anonymous = await open('/mcp/orders-api');
    const unauthorized = (await anonymous.callTool({ name: 'get-order', arguments: { params: { id: '1' } } })) as CallToolResult;
    expect(unauthorized.isError).toBe(true);
    expect(problemOf(unauthorized)).toMatchObject({ status: 401 });

    const noScope = await open('/mcp/orders-api', bearer(await token('acme')));
    const forbidden = (await noScope.callTool({ name: 'create-order', arguments: { body: { item: 'tea' } } })) as CallToolResult;
    expect(forbidden.isError).toBe(true);
    expect(problemOf(forbidden)).toMatchObject({ status: 403, type: expect.stringContaining('insufficient-scope') });

    const unsubscribed = await open('/mcp/billing-api', bearer(await token('acme')));
    expect(problemOf((await unsubscribed.callTool({ name: 'bill', arguments: { params: { account: 'x' } } })) as CallToolResult)).toMatchObject({ status: 403, type: expect.stringContaining('product-not-subscribed') });

    const beta = await open('/mcp/orders-api', bearer(await token('beta', 'orders:write')));
    expect(((await beta.callTool({ name: 'limited' })) as CallToolResult).isError).toBeFalsy();
    const limited = (await beta.callTool({ name: 'limited' })) as CallToolResult;
    expect(limited.isError).toBe(true);
    expect(problemOf(limited)).toMatchObject({ status: 429 });

    const invalid = (await beta.callTool({ name: 'create-order', arguments: { body: { item: 3 } } })) as CallToolResult;
    expect(problemOf(invalid)).toMatchObject({ status: 422 });
    await vi.waitFor(() => expect(gw.logs.some((l) => l.workflow === 'limited' && l.partner === 'beta' && l.mcpTool === 'limited' && l.status === 429)).toBe(true), { timeout: 15_000 });
    expect(await gw.sluice.metrics!.text()).toMatch(/sluice_mcp_tool_calls_total\{workflow="limited",tool="limited",partner="beta",outcome="limited"\} 1/);
  });

  it('refuses arguments that would leave the tool\'s route, and tools of other products', async () => {
    const acme = await open('/mcp/orders-api', bearer(await token('acme', 'orders:write')));
    for (const args of [{ params: { id: '..' } }, { params: { id: '' } }, { params: {} }, { params: { id: '1', other: 'x' } }, { params: { id: '1' }, path: '/billing/x' }, { params: { id: '1' }, query: { a: { b: 1 } } }]) {
      const result = (await acme.callTool({ name: 'get-order', arguments: args })) as CallToolResult;
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect((result.content[0] as { text: string }).text).toMatch(/^Invalid arguments/);
    }
    const other = (await acme.callTool({ name: 'bill', arguments: { params: { account: 'x' } } })) as CallToolResult;
    expect(other.isError).toBe(true);
    expect((other.content[0] as { text: string }).text).toMatch(/Unknown tool/);
    // a path param is one segment: %2F is not a separator to the route table
    const slash = (await acme.callTool({ name: 'get-order', arguments: { params: { id: '../../billing/x' } } })) as CallToolResult;
    expect(slash.structuredContent).toMatchObject({ params: { id: '../../billing/x' } });
  });

  it('answers problems at the HTTP level for an unknown product, a GET, a batch and a body over SLUICE_MAX_BODY', async () => {
    await expect(connect(`${gw.url}/mcp/no-such-product`)).rejects.toThrow();
    const get = await fetch(`${gw.url}/mcp/orders-api`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const batch = await fetch(`${gw.url}/mcp/orders-api`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]' });
    expect(batch.status).toBe(400);
    // one plain POST is enough (stateless): the README's curl
    const plain = await fetch(`${gw.url}/mcp/orders-api`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(await token('beta')) }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toContain('application/json');
    expect(((await plain.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name)).toContain('get-order');
    const huge = await fetch(`${gw.url}/mcp/orders-api`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(2_000_000) } }) });
    expect(huge.status).toBe(413);
  });
  it('fronts an upstream MCP server: JSON-RPC and SSE answers pass, and the guarded tool needs its scope', async () => {
    const reader = await open('/files/mcp', bearer(await token('acme')));
    expect((await reader.listTools()).tools.map((t) => t.name).sort()).toEqual(['delete_file', 'read_file']);
    const read = (await reader.callTool({ name: 'read_file', arguments: { path: 'a.txt' } })) as CallToolResult;
    expect(read.content).toEqual([{ type: 'text', text: 'contents of a.txt' }]);
    // the scope check answers 403 problem+json to the MCP request itself: the client sees the HTTP error
    await expect(reader.callTool({ name: 'delete_file', arguments: { path: 'a.txt' } })).rejects.toThrow(/403|insufficient/i);
    const deleter = await open('/files/mcp', bearer(await token('acme', 'files:delete')));
    const deleted = (await deleter.callTool({ name: 'delete_file', arguments: { path: 'a.txt' } })) as CallToolResult;
    expect(deleted.content).toEqual([{ type: 'text', text: 'deleted a.txt' }]);
    await vi.waitFor(() => expect(gw.logs.some((l) => l.workflow === 'files-mcp' && l.partner === 'acme' && l.mcpTool === 'delete_file' && l.status === 403)).toBe(true), { timeout: 15_000 });
    const metrics = await gw.sluice.metrics!.text();
    expect(metrics).toMatch(/sluice_mcp_tool_calls_total\{workflow="files-mcp",tool="delete",partner="acme",outcome="ok"\} 1/);
    expect(metrics).toMatch(/sluice_mcp_tool_calls_total\{workflow="files-mcp",tool="other",partner="acme",outcome="ok"\} 1/);
  });

  it('refuses a tools/call the gateway cannot read past the guard: a text body, a batch holding the guarded tool', async () => {
    const headers = { ...bearer(await token('acme')), accept: 'application/json, text/event-stream' };
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_file', arguments: { path: 'a' } } };
    const text = await fetch(`${gw.url}/files/mcp`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: JSON.stringify(call) });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { type: string }).type).toContain('mcp-request-invalid');
    const batch = await fetch(`${gw.url}/files/mcp`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/initialized' }, call]) });
    expect(batch.status).toBe(400);
  });
});
