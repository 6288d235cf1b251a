import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portWords } from '../../../shared/compile/port-words.ts';
import { kinds } from '../../../shared/nodes/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { startUpstream } from '../../helpers/upstream.ts';

describeKind('mcp-tool', {
  minimal: { config: { tools: [{ name: 'delete_file', port: 'delete' }] }, parsed: { tools: [{ name: 'delete_file', port: 'delete' }] } },
  accepts: [
    ['several tools, two on one port', { tools: [{ name: 'rm', port: 'delete' }, { name: 'delete_file', port: 'delete' }, { name: 'github.create_issue', port: 'write' }] }],
    ['a mixed-case tool name', { tools: [{ name: 'getWeather', port: 'weather' }] }],
  ],
  refuses: [
    ['no tools', { tools: [] }, ['tools']],
    ['a tool listed twice', { tools: [{ name: 'a', port: 'x' }, { name: 'a', port: 'y' }] }, ['tools.1.name']],
    ['a tool on the "other" port', { tools: [{ name: 'a', port: 'other' }] }, ['tools.0.port']],
    ['a tool on the "invalid" port', { tools: [{ name: 'a', port: 'invalid' }] }, ['tools.0.port']],
    ['a port in capitals', { tools: [{ name: 'a', port: 'Delete' }] }, ['tools.0.port']],
    ['a tool name with a space', { tools: [{ name: 'rm -rf', port: 'x' }] }, ['tools.0.name']],
    ['an unknown field', { tools: [{ name: 'a', port: 'x' }], methods: [] }, ['methods']],
  ],
  readsBody: [[{ tools: [{ name: 'a', port: 'x' }] }, true]],
});

describe('the mcp-tool descriptor', () => {
  it('has one port per configured port (in order, once), then "other" and "invalid"', () => {
    const d = kinds['mcp-tool'];
    const config = d.config.parse({ tools: [{ name: 'rm', port: 'delete' }, { name: 'write_file', port: 'write' }, { name: 'delete_file', port: 'delete' }] });
    expect(d.ports(config).map((p) => [p.name, p.unwired])).toEqual([
      ['delete', 'required'],
      ['write', 'required'],
      ['other', 'required'],
      ['invalid', { error: 'mcp_request_invalid' }],
    ]);
    expect(d.ports(config)[0]!.description).toContain('rm, delete_file');
    const node = { id: 'tool', kind: 'mcp-tool', config };
    expect(portWords(node, 'delete')).toContain('a tools/call of `rm` or `delete_file`');
    expect(portWords(node, 'other')).toContain('not a tools/call of a tool this node names');
  });
});

const rpc = (method: string, params?: unknown, id: number | undefined = 1) => ({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, ...(params === undefined ? {} : { params }) });

describe('mcp-tool', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway([
      workflow('mcp-route', { path: '/mcp-tools', methods: ['POST', 'GET', 'DELETE'] }, [
        { id: 'tool', kind: 'mcp-tool', config: { tools: [{ name: 'delete_file', port: 'delete' }, { name: 'rm', port: 'delete' }, { name: 'read_file', port: 'read' }] } },
        portNode('to-delete', 'delete'),
        portNode('to-read', 'read'),
        portNode('to-other', 'other'),
      ], [['tool', 'delete', 'to-delete'], ['tool', 'read', 'to-read'], ['tool', 'other', 'to-other']]),
    ]);
  });
  afterAll(() => gw?.close());

  const post = (body: string, type = 'application/json') => gw.fetch('/mcp-tools', { method: 'POST', headers: { 'content-type': type }, body });

  it.each([
    ['a tools/call of a configured tool', rpc('tools/call', { name: 'delete_file', arguments: { path: 'x' } }), 'delete'],
    ['another configured tool on the same port', rpc('tools/call', { name: 'rm' }), 'delete'],
    ['a tools/call of the other configured port', rpc('tools/call', { name: 'read_file' }), 'read'],
    ['a tools/call of a tool not configured', rpc('tools/call', { name: 'list_dir' }), 'other'],
    ['names are case-sensitive', rpc('tools/call', { name: 'Delete_File' }), 'other'],
    ['a name from the prototype', rpc('tools/call', { name: 'constructor' }), 'other'],
    ['initialize', rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } }), 'other'],
    ['tools/list', rpc('tools/list'), 'other'],
    ['a notification', rpc('notifications/initialized', undefined, undefined), 'other'],
    ['a batch without a tools/call', [rpc('tools/list'), rpc('ping', undefined, 2)], 'other'],
  ])('%s -> %s', async (_name, body, port) => {
    await expectPort(await post(JSON.stringify(body)), port);
  });

  it('a request without a body (the SSE GET, the session DELETE) takes "other"', async () => {
    await expectPort(await gw.fetch('/mcp-tools'), 'other');
    await expectPort(await gw.fetch('/mcp-tools', { method: 'DELETE' }), 'other');
  });

  it.each([
    ['a JSON body in a text content type', JSON.stringify(rpc('tools/call', { name: 'delete_file' })), 'text/plain', 'not a JSON-RPC message'],
    ['a body in an unknown content type', JSON.stringify(rpc('tools/call', { name: 'delete_file' })), 'application/octet-stream', 'not a JSON-RPC message'],
    ['JSON that is no message', '{"jsonrpc":"2.0"}', 'application/json', 'not a JSON-RPC message'],
    ['a tools/call naming no tool', JSON.stringify(rpc('tools/call', { arguments: {} })), 'application/json', 'names no tool'],
    ['a tools/call whose name is not text', JSON.stringify(rpc('tools/call', { name: ['delete_file'] })), 'application/json', 'names no tool'],
    ['a batch holding a tools/call', JSON.stringify([rpc('tools/list'), rpc('tools/call', { name: 'read_file' }, 2)]), 'application/json', 'a batch holds a tools/call'],
    ['an empty batch', '[]', 'application/json', 'the batch is empty'],
    ['a JSON null', 'null', 'application/json', 'not a JSON-RPC message'],
    ['a batch holding a null', '[null]', 'application/json', 'not a JSON-RPC message'],
    ['a batch holding a batch', JSON.stringify([[rpc('tools/call', { name: 'read_file' })]]), 'application/json', 'not a JSON-RPC message'],
    ['a batch holding something that is no message after one that is', JSON.stringify([rpc('ping'), 42]), 'application/json', 'not a JSON-RPC message'],
    ['a tools/call whose params are null', JSON.stringify(rpc('tools/call', null)), 'application/json', 'names no tool'],
    ['a tools/call whose params are a list', JSON.stringify(rpc('tools/call', ['read_file'])), 'application/json', 'names no tool'],
    ['a tools/call naming the empty tool', JSON.stringify(rpc('tools/call', { name: '' })), 'application/json', 'names no tool'],
  ])('%s is refused 400 mcp-request-invalid', async (_name, body, type, reason) => {
    await expectProblem(await post(body, type), 400, 'mcp-request-invalid', reason);
  });

  it('a tools/call with two "name" members goes upstream as the guard read it: the last name only', async () => {
    const upstream = await startUpstream();
    try {
      await gw.putWorkflow(
        workflow('mcp-forward', { path: '/mcp-forward', methods: ['POST'] }, [
          { id: 'tool', kind: 'mcp-tool', config: { tools: [{ name: 'delete_file', port: 'delete' }] } },
          portNode('to-delete', 'delete'),
          { id: 'call', kind: 'proxy', config: { url: upstream.url } },
        ], [['tool', 'delete', 'to-delete'], ['tool', 'other', 'call']]),
      );
      // a first-member parser would read delete_file; the guard (and JSON.parse) read read_file
      const smuggled = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file","name":"read_file"}}';
      const res = await gw.fetch('/mcp-forward', { method: 'POST', headers: { 'content-type': 'application/json' }, body: smuggled });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const sent = upstream.received.at(-1)!.body;
      expect(JSON.parse(sent)).toEqual({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file' } });
      expect(sent).not.toContain('delete_file');
      // a batch without a tools/call goes on whole, in order
      const batch = [rpc('tools/list'), rpc('ping', undefined, 2)];
      const forwarded = await gw.fetch('/mcp-forward', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      expect(forwarded.status).toBe(200);
      await forwarded.arrayBuffer();
      expect(JSON.parse(upstream.received.at(-1)!.body)).toEqual(batch);
    } finally {
      await upstream.close();
    }
  });

  it('the request log carries the tool a tools/call names (cut to 128 characters)', async () => {
    const long = `x${'y'.repeat(300)}`;
    await expectPort(await post(JSON.stringify(rpc('tools/call', { name: long }))), 'other');
    await expectPort(await post(JSON.stringify(rpc('tools/call', { name: 'rm' }))), 'delete');
    await expect.poll(() => gw.logs.filter((l) => l.workflow === 'mcp-route' && typeof l.mcpTool === 'string').map((l) => l.mcpTool), { timeout: 15_000 }).toEqual(expect.arrayContaining([long.slice(0, 128), 'rm']));
    const metrics = await gw.sluice.metrics!.text();
    expect(metrics).toMatch(/sluice_mcp_tool_calls_total\{workflow="mcp-route",tool="delete",partner="none",outcome="ok"\} \d+/);
    expect(metrics).not.toContain('yyyy');
  });
});
