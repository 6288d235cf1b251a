import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEndpoint } from '../../../engine/admin/http/endpoint.ts';
import { createEndpointCalls } from '../../../engine/admin/http/calls.ts';
import { FORBIDDEN, createAdminMcp } from '../../../engine/admin/mcp/server.ts';
import { toolName } from '../../../engine/admin/mcp/tools.ts';
import { createProblemRenderer } from '../../../engine/gateway/problem.ts';
import { DEFAULT_DOCUMENT_LIMITS, errorCatalogSchema } from '../../../shared/schema/index.ts';
import { REPO, type TestGateway } from '../../helpers/gateway.ts';
import { sluiceArgs } from '../../helpers/engine-bundle.ts';
import { adminOf, endpointTable, PEOPLE, ROLE_NAMES, stamped, startAdminGateway, until, untilStamp, type Admin, type Person, type RoleName } from './support.ts';

/*
 * The admin API as an MCP server, through the SDK's own client over both transports: Streamable
 * HTTP to /admin/mcp, and stdio through `sluice mcp` (the shipped bundle) relaying to it. The
 * expected tools per role come from the API's OpenAPI document (whose roles roles.test.ts holds
 * to the design), so the MCP server is held to the same table as the HTTP API.
 */

const text = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;

describe('the admin MCP server', () => {
  let gw: TestGateway;
  let admin: Admin;
  const clients: Client[] = [];

  /** A client of /admin/mcp with a person's token. */
  async function overHttp(who: Person): Promise<Client> {
    const client = new Client({ name: `test-${who}`, version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/admin/mcp`), { requestInit: { headers: { authorization: `Bearer ${PEOPLE[who].token}` } } }));
    clients.push(client);
    return client;
  }

  /** A client of `sluice mcp` (stdio) with a person's token, and what the relay wrote on stderr. */
  async function overStdio(who: Person): Promise<{ client: Client; stderr: () => string }> {
    const [command, ...args] = [process.execPath, ...(await sluiceArgs(['mcp']))];
    const transport = new StdioClientTransport({ command: command!, args, env: { PATH: process.env.PATH ?? '', SLUICE_ADMIN_URL: gw.url, SLUICE_ADMIN_TOKEN: PEOPLE[who].token }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: `stdio-${who}`, version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return { client, stderr: () => stderr };
  }

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.close();
  });

  it('lists for each role exactly the tools of the endpoints its role may call, by the permission table', async () => {
    const openapi = (await (await fetch(`${gw.url}/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { description: string; responses: Record<string, { content?: Record<string, unknown> }> }>> };
    const expected = (role: RoleName) =>
      Object.entries(openapi.paths)
        .flatMap(([path, operations]) => Object.entries(operations).map(([method, op]) => ({ method, path, roles: /Roles: ([a-z, ]+)\./.exec(op.description)![1]!.split(', '), streamed: !('application/json' in (Object.values(op.responses)[0]!.content ?? {})) })))
        .filter((op) => op.roles.includes(role) && !op.streamed)
        .map((op) => toolName({ method: op.method as 'get', path: op.path.replace('/admin/api', '').replace(/\{([A-Za-z]+)\}/g, ':$1') }))
        .sort();
    const listed: Record<string, string[]> = {};
    for (const role of ROLE_NAMES) {
      const { tools } = await (await overHttp(role)).listTools();
      listed[role] = tools.map((t) => t.name).sort();
      expect(listed[role]).toEqual(expected(role));
    }
    // the design's lines, said outright
    expect(listed.viewer).toContain('list_workflows');
    expect(listed.viewer).not.toContain('publish_workflow');
    expect(listed.viewer).not.toContain('save_workflow_draft');
    expect(listed.viewer).not.toContain('get_audit');
    expect(listed.editor).toContain('save_workflow_draft');
    expect(listed.editor).not.toContain('publish_workflow');
    expect(listed.publisher).toEqual(expect.arrayContaining(['publish_workflow', 'rollback_workflow', 'create_partner_key', 'suspend_partner']));
    expect(listed.auditor).toEqual(expect.arrayContaining(['get_audit', 'get_audit_verify']));
    expect(listed.auditor).not.toContain('save_workflow_draft');
    expect(listed.admin).toHaveLength(endpointTable(gw).filter((e) => !e.streamed).length);
    for (const role of ['viewer', 'editor', 'publisher'] as const) expect(listed.admin).toEqual(expect.arrayContaining(listed[role]!));
  });

  it('marks what changes serving as destructive, needing confirm: true; reads as read-only', async () => {
    const { tools } = await (await overHttp('admin')).listTools();
    const tool = (name: string) => tools.find((t) => t.name === name)!;
    expect(tool('publish_workflow').annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(tool('publish_workflow').inputSchema.required).toEqual(expect.arrayContaining(['id', 'confirm']));
    expect(tool('save_workflow_draft').annotations).toMatchObject({ destructiveHint: false, idempotentHint: true });
    expect(tool('save_workflow_draft').inputSchema.required).not.toContain('confirm');
    expect(tool('list_workflows').annotations).toMatchObject({ readOnlyHint: true });
    expect(tool('revoke_partner_key').annotations).toMatchObject({ destructiveHint: true });
    // the input schema says what the endpoint takes, from its zod schemas
    expect(Object.keys(tool('rollback_workflow').inputSchema.properties ?? {}).sort()).toEqual(['confirm', 'id', 'version']);
    expect(tool('create_partner_key').description).toMatch(/shown this once/);
  });

  it('a publisher publishes and rolls back through MCP (stdio and HTTP); the gateway serves each version; every change is audited via mcp and the chain verifies', async () => {
    const editor = await overHttp('editor');
    const created = await editor.callTool({ name: 'create_workflow', arguments: { document: stamped('mcp-flow', '/mcp-flow', 'one') } });
    expect(created.isError).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ id: 'mcp-flow', draft: { revision: 1 } });

    const { client: publisher, stderr } = await overStdio('publisher');
    // without confirm nothing changes
    const unconfirmed = await publisher.callTool({ name: 'publish_workflow', arguments: { id: 'mcp-flow' } });
    expect(unconfirmed.isError).toBe(true);
    expect(text(unconfirmed)).toMatch(/confirm/);
    expect((await admin('admin', 'GET', '/workflows/mcp-flow')).body.versions).toEqual([]);

    const first = await publisher.callTool({ name: 'publish_workflow', arguments: { id: 'mcp-flow', note: 'first through MCP', confirm: true } });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ version: 1 });
    expect(text(first)).toMatch(/^publish_workflow: done\. .*version: 1/);
    await untilStamp(gw.url, '/mcp-flow', 'one');

    const draft = await editor.callTool({ name: 'save_workflow_draft', arguments: { id: 'mcp-flow', document: stamped('mcp-flow', '/mcp-flow', 'two'), baseRevision: 1 } });
    expect(draft.structuredContent).toMatchObject({ draft: { revision: 2 }, problems: [] });
    expect((await publisher.callTool({ name: 'publish_workflow', arguments: { id: 'mcp-flow', confirm: true } })).structuredContent).toMatchObject({ version: 2 });
    await untilStamp(gw.url, '/mcp-flow', 'two');

    const back = await publisher.callTool({ name: 'rollback_workflow', arguments: { id: 'mcp-flow', version: 1, confirm: true } });
    expect(back.structuredContent).toMatchObject({ active: 1 });
    await untilStamp(gw.url, '/mcp-flow', 'one');
    // a refusal of the endpoint is a tool error carrying its problem
    const missing = await publisher.callTool({ name: 'rollback_workflow', arguments: { id: 'mcp-flow', version: 9, confirm: true } });
    expect(missing.isError).toBe(true);
    expect(JSON.parse(text(missing).split('\n')[1]!)).toMatchObject({ status: 404, instance: '/admin/api/workflows/mcp-flow/rollback' });
    expect(stderr()).toBe('');

    const auditor = await overHttp('auditor');
    const audit = (await auditor.callTool({ name: 'get_audit', arguments: {} })).structuredContent as { entries: Array<Record<string, unknown>> };
    const mine = audit.entries.filter((e) => e.workflow === 'mcp-flow').map((e) => ({ action: e.action, actor: e.actor, via: e.via }));
    expect(mine).toEqual([
      { action: 'workflow.create', actor: 'eddie', via: 'mcp' },
      { action: 'workflow.publish', actor: 'pia', via: 'mcp' },
      { action: 'draft.save', actor: 'eddie', via: 'mcp' },
      { action: 'workflow.publish', actor: 'pia', via: 'mcp' },
      { action: 'workflow.rollback', actor: 'pia', via: 'mcp' },
    ]);
    expect((await auditor.callTool({ name: 'get_audit_verify', arguments: {} })).structuredContent).toMatchObject({ ok: true });
    // the same change through the HTTP API is not marked
    await admin('editor', 'POST', '/workflows', { document: stamped('http-flow', '/http-flow', 'h') });
    const viaHttp = (await admin('auditor', 'GET', '/audit')).body.entries.find((e: Record<string, unknown>) => e.workflow === 'http-flow');
    expect(viaHttp).toMatchObject({ action: 'workflow.create', actor: 'eddie' });
    expect(viaHttp).not.toHaveProperty('via');
  });

  it('refuses a viewer\'s publish with an MCP error naming the permission, audits it, and changes nothing', async () => {
    await admin('editor', 'POST', '/workflows', { document: stamped('viewer-try', '/viewer-try', 'v') });
    for (const viewer of [await overHttp('viewer'), (await overStdio('viewer')).client]) {
      const refused = await viewer.callTool({ name: 'publish_workflow', arguments: { id: 'viewer-try', confirm: true } }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(McpError);
      expect(refused).toMatchObject({ code: FORBIDDEN, data: { permission: 'publish', role: 'viewer', tool: 'publish_workflow' } });
      expect((refused as McpError).message).toMatch(/role viewer may not publish .*"publish" permission: publisher, admin/);
    }
    expect((await admin('admin', 'GET', '/workflows/viewer-try')).body.versions).toEqual([]);
    const entries = (await admin('auditor', 'GET', '/audit')).body.entries as Array<Record<string, unknown>>;
    const refusal = entries.find((e) => e.action === 'refused' && e.workflow === 'viewer-try');
    expect(refusal).toMatchObject({ actor: 'vera', role: 'viewer', via: 'mcp', detail: expect.stringMatching(/^MCP publish_workflow \(POST \/admin\/api\/workflows\/viewer-try\/publish\): role viewer may not/) });
  });

  it('answers a key created through MCP once: it is in no resource, prompt, later answer, log line or audit entry', async () => {
    const { client: publisher, stderr } = await overStdio('publisher');
    await publisher.callTool({ name: 'save_product', arguments: { id: 'mcp-product', name: 'MCP product', workflows: ['mcp-flow'], confirm: true } });
    const partner = await publisher.callTool({ name: 'create_partner', arguments: { id: 'mcp-partner', name: 'MCP partner', products: ['mcp-product'], confirm: true } });
    expect(partner.isError).toBeFalsy();
    const created = await publisher.callTool({ name: 'create_partner_key', arguments: { id: 'mcp-partner', confirm: true } });
    const secret = (created.structuredContent as { key: string }).key;
    expect(secret.length).toBeGreaterThan(20);
    expect(text(created)).toContain(secret); // answered once, to whoever created it

    const seen: string[] = [];
    const adminClient = await overHttp('admin');
    const { resources } = await adminClient.listResources();
    for (const r of resources) seen.push(JSON.stringify(await adminClient.readResource({ uri: r.uri })));
    seen.push(JSON.stringify(await adminClient.getPrompt({ name: 'explain_answer', arguments: { partner: 'mcp-partner', workflow: 'mcp-flow', status: '403' } })));
    for (const name of ['get_partner', 'list_partners', 'get_partner_stats']) seen.push(JSON.stringify(await adminClient.callTool({ name, arguments: name === 'list_partners' ? {} : { id: 'mcp-partner' } })));
    seen.push(JSON.stringify(await adminClient.callTool({ name: 'get_audit', arguments: {} })));
    seen.push(JSON.stringify((await admin('auditor', 'GET', '/audit')).body));
    seen.push(JSON.stringify(gw.logs), stderr());
    expect(seen.join('\n')).toContain('mcp-partner'); // the reads did see the partner
    for (const [i, what] of seen.entries()) expect(what, `read ${i}`).not.toContain(secret);
    // and the key works: it is a real one
    const entries = (await admin('auditor', 'GET', '/audit')).body.entries as Array<Record<string, unknown>>;
    expect(entries.find((e) => e.action === 'key.create' && e.partner === 'mcp-partner')).toMatchObject({ via: 'mcp', actor: 'pia' });
  });

  it('serves workflow documents, contracts (JSON and Markdown) and the catalog as resources, and prompts built from what the caller may read', async () => {
    const viewer = await overHttp('viewer');
    const { resources } = await viewer.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['sluice://catalog', 'sluice://workflows/mcp-flow/active', 'sluice://workflows/mcp-flow/contract.md', 'sluice://workflows/viewer-try/draft']));
    const active = await viewer.readResource({ uri: 'sluice://workflows/mcp-flow/active' });
    expect(JSON.parse((active.contents[0] as { text: string }).text)).toMatchObject({ id: 'mcp-flow', nodes: [{ config: { body: { v: 'one' } } }] });
    const v2 = await viewer.readResource({ uri: 'sluice://workflows/mcp-flow/versions/2' });
    expect(JSON.parse((v2.contents[0] as { text: string }).text)).toMatchObject({ nodes: [{ config: { body: { v: 'two' } } }] });
    const markdown = await viewer.readResource({ uri: 'sluice://workflows/mcp-flow/contract.md' });
    expect(markdown.contents[0]).toMatchObject({ mimeType: 'text/markdown', text: expect.stringMatching(/^# mcp-flow: the answers it gives\n[^]*\| Status \| Title \|/) });
    const catalog = JSON.parse(((await viewer.readResource({ uri: 'sluice://catalog' })).contents[0] as { text: string }).text) as { errors: Record<string, unknown> };
    expect(Object.keys(catalog.errors)).toEqual(expect.arrayContaining(['not_found', 'insufficient_scope']));
    expect((await viewer.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toContain('sluice://workflows/{id}/versions/{n}');
    await expect(viewer.readResource({ uri: 'sluice://workflows/nope/active' })).rejects.toThrow(/no workflow "nope"/);

    // review a draft: a publisher's prompt carries the diff, the contract change and the tests; a viewer's says the tests need another role
    await admin('editor', 'PUT', '/workflows/mcp-flow/draft', { document: stamped('mcp-flow', '/mcp-flow', 'three', { guard: true }), baseRevision: 2 });
    const review = JSON.stringify(await (await overHttp('publisher')).getPrompt({ name: 'review_draft', arguments: { workflow: 'mcp-flow' } }));
    expect(review).toContain('Changes from the active version to the draft');
    expect(review).toContain('insufficient_scope'); // the contract gains the guard's answer
    expect(review).toContain('The workflow tests run against the draft');
    const viewerReview = JSON.stringify(await viewer.getPrompt({ name: 'review_draft', arguments: { workflow: 'mcp-flow' } }));
    expect(viewerReview).toMatch(/Tests not run: role viewer may not run the workflow tests/);
    expect((await viewer.listPrompts()).prompts.map((p) => p.name)).toEqual(['explain_answer', 'review_draft']);

    // explain an answer from its trace id: the evidence of the request, its node path and the version that served
    const traceId = 'aa'.repeat(16);
    await (await gw.fetch('/mcp-flow', { headers: { traceparent: `00-${traceId}-${'bb'.repeat(8)}-01` } })).arrayBuffer();
    await until('the request in evidence', async () => ((await admin('auditor', 'GET', `/evidence/traces/${traceId}`)).status === 200 ? true : undefined));
    const explained = JSON.stringify(await (await overHttp('auditor')).getPrompt({ name: 'explain_answer', arguments: { trace: traceId, workflow: 'mcp-flow' } }));
    expect(explained).toContain(`Evidence of trace ${traceId}`);
    expect(explained).toMatch(/answer:done/);
    expect(explained).toMatch(/publishedBy[^,]*pia/);
    // a viewer gets counts, not records
    const counted = JSON.stringify(await viewer.getPrompt({ name: 'explain_answer', arguments: { workflow: 'mcp-flow' } }));
    expect(counted).toContain('Evidence counts (records need the auditor role');
    expect(counted).not.toContain(traceId);
  });

  it('answers over HTTP only to a token, one message per POST; a wrong token is a 401 problem', async () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    const post = (body: unknown, authorization?: string) =>
      fetch(`${gw.url}/admin/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
    const anonymous = await post(initialize);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
    expect((await post(initialize, 'Bearer not-a-token-at-all-0000')).status).toBe(401);
    const batch = await post([initialize, initialize], `Bearer ${PEOPLE.viewer.token}`);
    expect(batch.status).toBe(400);
    expect(((await batch.json()) as { detail: string }).detail).toMatch(/batches/);
    const get = await fetch(`${gw.url}/admin/mcp`, { headers: { authorization: `Bearer ${PEOPLE.viewer.token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const ok = await post(initialize, `Bearer ${PEOPLE.viewer.token}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe('sluice-admin');
  });

  it('a relay whose token is refused answers each request with an error saying so', async () => {
    const [command, ...args] = [process.execPath, ...(await sluiceArgs(['mcp']))];
    const transport = new StdioClientTransport({ command: command!, args, env: { PATH: process.env.PATH ?? '', SLUICE_ADMIN_URL: gw.url, SLUICE_ADMIN_TOKEN: 'wrong-token-0123456789abcdef' }, stderr: 'pipe' });
    const client = new Client({ name: 'stdio-wrong', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow(/refused or could not be reached/);
    await transport.close();
  });

  it('adding an endpoint to the table adds its tool, with nothing else changed', async () => {
    const extra = defineEndpoint({
      method: 'get', path: '/workflows/:id/owner', permission: 'read', summary: 'Who owns a workflow', params: z.object({ id: z.string() }), response: z.object({ owner: z.string() }),
      handler: async ({ params }) => ({ owner: `team-of-${params.id}` }),
    });
    const failing = defineEndpoint({
      method: 'get', path: '/broken', permission: 'read', summary: 'Fails inside', response: z.object({}),
      handler: () => Promise.reject(new Error('connection to db://admin:hunter2@10.0.0.5 failed')),
    });
    const calls = createEndpointCalls({ store: gw.sluice.store, appliedRevision: () => 0 });
    const app = express();
    app.use('/admin/mcp', createAdminMcp([...endpointTable(gw), extra, failing], { calls, authenticate: async () => ({ name: 'vera', role: 'viewer' }), problems: () => createProblemRenderer(errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')))), limits: DEFAULT_DOCUMENT_LIMITS }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const client = new Client({ name: 'extra', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/mcp`)));
      clients.push(client);
      const tool = (await client.listTools()).tools.find((t) => t.name === 'get_workflow_owner');
      expect(tool).toMatchObject({ inputSchema: { properties: { id: { type: 'string' } }, required: ['id'] }, outputSchema: { properties: { owner: { type: 'string' } } }, annotations: { readOnlyHint: true } });
      expect((await client.callTool({ name: 'get_workflow_owner', arguments: { id: 'orders' } })).structuredContent).toEqual({ owner: 'team-of-orders' });
      // an endpoint that fails inside answers its internal_error problem with a trace id, never the exception's words
      const broken = await client.callTool({ name: 'get_broken', arguments: {} });
      expect(broken.isError).toBe(true);
      expect(JSON.parse(text(broken).split('\n')[1]!)).toMatchObject({ status: 500, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(text(broken)).not.toMatch(/hunter2|10\.0\.0\.5/);
      // a tool the table does not have is an MCP error, not a call
      await expect(client.callTool({ name: 'get_nothing', arguments: {} })).rejects.toThrow(/no tool "get_nothing"/);
      // an argument the tool does not take is refused, naming the ones it takes
      const extraArgument = await client.callTool({ name: 'get_workflow_owner', arguments: { id: 'orders', path: '/etc/passwd' } });
      expect(text(extraArgument)).toMatch(/takes no argument "path" \(it takes id\)/);
    } finally {
      server.close();
      await calls.close();
    }
  });
});
