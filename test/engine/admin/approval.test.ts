import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDirectory, createAdminClient } from '../../../engine/admin/client.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, PEOPLE, stamped, stampOf, startAdminGateway, untilStamp, type Admin, type Person } from './support.ts';

/*
 * The contract gate over HTTP against one listening gateway: a publish that removes or changes
 * an answer of the error contract waits for a second publisher (202), the gateway keeps serving
 * the version before it, and only another publisher than who asked (and who last edited the
 * draft) can approve it, by any way in; a refusal, a withdrawal, a draft saved since and checks
 * that fail by approval time publish nothing. The steps build on each other, in order.
 */

const path = '/gate/orders';
/** The workflow with the guard (403 on ?deny=1) or without it, answering `stamp` with `status`. */
const gate = (stamp: string, options: { guard?: boolean; status?: number; tests?: unknown[] } = {}) => {
  const document = stamped('gate', path, stamp, { guard: options.guard ?? false });
  return {
    ...document,
    nodes: document.nodes.map((n) => (n.id === 'answer' ? { ...n, config: { ...n.config, status: options.status ?? 200 } } : n)),
    ...(options.tests ? { tests: options.tests } : {}),
  };
};

describe('the contract gate over the admin API', () => {
  let gw: TestGateway;
  let admin: Admin;
  const mcpClients: Client[] = [];

  /** Saves `document` as the draft of gate as `who`, on top of whatever revision it has. */
  async function saveDraft(who: Person, document: unknown) {
    const { body } = await admin('viewer', 'GET', '/workflows/gate');
    const saved = await admin(who, 'PUT', '/workflows/gate/draft', { document, baseRevision: body.draft.revision });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }
  const auditTail = async (n: number) => ((await admin('auditor', 'GET', '/audit')).body.entries as Array<Record<string, unknown>>).slice(-n);
  const deniedStatus = async () => {
    const res = await gw.fetch(`${path}?deny=1`);
    await res.arrayBuffer();
    return res.status;
  };
  const versionCount = async () => ((await admin('viewer', 'GET', '/workflows/gate/versions')).body.versions as unknown[]).length;

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    expect((await admin('editor', 'POST', '/workflows', { document: gate('1', { guard: true }) })).status).toBe(201);
    // nothing serves yet: the first version has no contract to keep, so it publishes at once
    expect(await admin('publisher', 'POST', '/workflows/gate/publish')).toMatchObject({ status: 200, body: { version: 1, unchanged: false } });
    await untilStamp(gw.url, path, '1');
  });
  afterAll(async () => {
    await Promise.all(mcpClients.map((c) => c.close()));
    await gw.close();
  });

  it('a publish that removes the guard\'s 403 answers 202 pending with the contract diff; the gateway still serves version 1', async () => {
    await saveDraft('editor', gate('2'));
    const asked = await admin('publisher', 'POST', '/workflows/gate/publish', { note: 'drop the guard' });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ pending: true, approval: { requestedBy: 'pia', activeVersion: 1, note: 'drop the guard', draftHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(asked.body.approval.diff.removed).toEqual(expect.arrayContaining([{ id: 'insufficient_scope', status: 403, type: 'https://problems.sluice.example/insufficient-scope', node: 'deny', port: 'raise' }]));
    expect(asked.body.approval.diff.summary).toMatch(/removes 403 Insufficient Scope at deny\.raise/);
    // a real request: the guard of version 1 still answers
    expect(await deniedStatus()).toBe(403);
    expect(await stampOf(`${gw.url}${path}`)).toBe('1');
    expect(await versionCount()).toBe(1);
    const read = await admin('viewer', 'GET', '/workflows/gate/approval');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ workflow: 'gate', requestedBy: 'pia', stale: false });
    expect(read.body).not.toHaveProperty('staleBecause');
    expect((await admin('viewer', 'GET', '/workflows/gate')).body.approval).toMatchObject({ requestedBy: 'pia', draftHash: asked.body.approval.draftHash });
    expect(await auditTail(1)).toMatchObject([{ action: 'workflow.approval-requested', actor: 'pia', role: 'publisher', workflow: 'gate', documentHash: asked.body.approval.draftHash, detail: expect.stringMatching(/^against version 1: this change .*removes 403 Insufficient Scope/) }]);
  });

  it('the requester cannot approve it over HTTP nor as an MCP tool; an editor can neither approve nor refuse; each refusal is audited', async () => {
    const own = expectProblem(await admin('publisher', 'POST', '/workflows/gate/approval/approve', {}), 403, 'forbidden');
    expect(own.detail).toMatch(/four-eyes rule: pia asked for this publish/);
    const mcp = new Client({ name: 'test-pia', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/admin/mcp`), { requestInit: { headers: { authorization: `Bearer ${PEOPLE.publisher.token}` } } }));
    mcpClients.push(mcp);
    const viaMcp = (await mcp.callTool({ name: 'approve_workflow_approval', arguments: { id: 'gate', confirm: true } })) as CallToolResult;
    expect(viaMcp.isError).toBe(true);
    expect(JSON.parse((viaMcp.content[0] as { text: string }).text.split('\n')[1]!)).toMatchObject({ status: 403, detail: expect.stringMatching(/pia asked for this publish/) });
    expectProblem(await admin('editor', 'POST', '/workflows/gate/approval/approve', {}), 403, 'forbidden');
    expectProblem(await admin('editor', 'POST', '/workflows/gate/approval/refuse', { reason: 'an editor says no' }), 403, 'forbidden');
    expect(await auditTail(4)).toMatchObject([
      { action: 'refused', actor: 'pia', workflow: 'gate', detail: expect.stringMatching(/^workflow\.approval-approved: four-eyes rule: pia asked/) },
      { action: 'refused', actor: 'pia', via: 'mcp', workflow: 'gate', detail: expect.stringMatching(/^workflow\.approval-approved: four-eyes rule: pia asked/) },
      { action: 'refused', actor: 'eddie', role: 'editor', workflow: 'gate', detail: expect.stringMatching(/approval\/approve: role editor may not/) },
      { action: 'refused', actor: 'eddie', role: 'editor', workflow: 'gate', detail: expect.stringMatching(/approval\/refuse: role editor may not/) },
    ]);
    expect((await admin('viewer', 'GET', '/workflows/gate/approval')).body).toMatchObject({ requestedBy: 'pia', stale: false });
    expect(await deniedStatus()).toBe(403);
  });

  it('another publisher approves: exactly that draft becomes version 2 and serves, audited as the publish and as the approval', async () => {
    const { draftHash } = (await admin('viewer', 'GET', '/workflows/gate/approval')).body;
    const approved = await admin('publisher2', 'POST', '/workflows/gate/approval/approve', { draftHash });
    expect(approved).toMatchObject({ status: 200, body: { version: 2, requestedBy: 'pia', approvedBy: 'paul' } });
    await untilStamp(gw.url, path, '2');
    expect(await deniedStatus()).toBe(200);
    const { body: versions } = await admin('viewer', 'GET', '/workflows/gate/versions');
    expect(versions.active).toBe(2);
    expect(versions.versions[1]).toMatchObject({ version: 2, hash: draftHash, publishedBy: 'paul', note: 'drop the guard' });
    expectProblem(await admin('viewer', 'GET', '/workflows/gate/approval'), 404, 'not-found');
    expect((await admin('viewer', 'GET', '/workflows/gate')).body).not.toHaveProperty('approval');
    expect(await auditTail(2)).toMatchObject([
      { action: 'workflow.publish', actor: 'paul', workflow: 'gate', version: 2, documentHash: draftHash, detail: expect.stringMatching(/^approved by paul, asked by pia at .*; note: drop the guard$/) },
      { action: 'workflow.approval-approved', actor: 'paul', workflow: 'gate', version: 2, detail: expect.stringMatching(/^asked by pia, approved by paul: this change .*removes 403 Insufficient Scope/) },
    ]);
  });

  it('a publish that only adds answers publishes at once (200)', async () => {
    await saveDraft('editor', gate('3', { guard: true }));
    expect(await admin('publisher', 'POST', '/workflows/gate/publish')).toMatchObject({ status: 200, body: { version: 3, unchanged: false } });
    await untilStamp(gw.url, path, '3');
    expect(await deniedStatus()).toBe(403);
  });

  it('refused with a reason, nothing is published; the draft\'s last editor cannot approve; who asked withdraws it the same way', async () => {
    // the admin edits: a 200 that becomes a 201 changes an answer
    await saveDraft('admin', gate('4', { guard: true, status: 201 }));
    const asked = await admin('publisher', 'POST', '/workflows/gate/publish');
    expect(asked.status).toBe(202);
    expect(asked.body.approval.diff.changed).toEqual([{ node: 'answer', port: 'done', before: { id: 'answer:answer', status: 200, node: 'answer', port: 'done' }, after: { id: 'answer:answer', status: 201, node: 'answer', port: 'done' } }]);
    expect(expectProblem(await admin('admin', 'POST', '/workflows/gate/approval/approve', {}), 403, 'forbidden').detail).toMatch(/ada last edited this draft/);
    const noReason = expectProblem(await admin('publisher2', 'POST', '/workflows/gate/approval/refuse', {}), 400, 'bad-request');
    expect(noReason.problems).toEqual([expect.objectContaining({ field: 'reason' })]);
    const refused = await admin('publisher2', 'POST', '/workflows/gate/approval/refuse', { reason: 'partners read 200 only' });
    expect(refused).toMatchObject({ status: 200, body: { requestedBy: 'pia', refusedBy: 'paul', reason: 'partners read 200 only', withdrawn: false } });
    expectProblem(await admin('viewer', 'GET', '/workflows/gate/approval'), 404, 'not-found');
    expect(await auditTail(1)).toMatchObject([{ action: 'workflow.approval-refused', actor: 'paul', workflow: 'gate', detail: 'refused by paul, asked by pia: partners read 200 only' }]);
    expect(await versionCount()).toBe(3);
    const res = await gw.fetch(path);
    expect([res.status, (await res.json()).v]).toEqual([200, '3']);

    expect((await admin('publisher', 'POST', '/workflows/gate/publish')).status).toBe(202);
    expect(await admin('publisher', 'POST', '/workflows/gate/approval/refuse', { reason: 'not this week' })).toMatchObject({ status: 200, body: { withdrawn: true, requestedBy: 'pia', refusedBy: 'pia' } });
    expect(await auditTail(1)).toMatchObject([{ action: 'workflow.approval-refused', actor: 'pia', detail: 'withdrawn by pia: not this week' }]);
    expect(await versionCount()).toBe(3);
  });

  it('a draft saved after the request voids it: shown as stale, approve is 409 naming that, and nothing publishes', async () => {
    expect((await admin('publisher', 'POST', '/workflows/gate/publish')).status).toBe(202);
    await saveDraft('editor', gate('4b', { guard: true, status: 201 }));
    const read = (await admin('viewer', 'GET', '/workflows/gate/approval')).body;
    expect(read).toMatchObject({ stale: true, staleBecause: expect.stringMatching(/^the draft was saved since the request \(revision \d+ by eddie\)/) });
    const voided = expectProblem(await admin('publisher2', 'POST', '/workflows/gate/approval/approve', {}), 409, 'conflict');
    expect(voided.detail).toMatch(/the request to publish is void: the draft was saved since the request/);
    expect(await auditTail(1)).toMatchObject([{ action: 'refused', actor: 'paul', detail: expect.stringMatching(/^workflow\.approval-approved: the request to publish is void/) }]);
    expect(await versionCount()).toBe(3);
    expect(await stampOf(`${gw.url}${path}`)).toBe('3');

    // asked again: an approver who looked at another draft than the one waiting is refused too
    const again = await admin('publisher', 'POST', '/workflows/gate/publish');
    expect(again.status).toBe(202);
    expect(await auditTail(1)).toMatchObject([{ action: 'workflow.approval-requested', detail: expect.stringMatching(/; replaces the request of pia of /) }]);
    expect(expectProblem(await admin('publisher2', 'POST', '/workflows/gate/approval/approve', { draftHash: read.draftHash }), 409, 'conflict').detail).toMatch(/of another draft than the one shown/);
    expect(await versionCount()).toBe(3);
  });

  it('the workflow tests and checks run again at approval: a catalog changed since the request refuses it (422) until it is put back', async () => {
    const catalog = (await admin('viewer', 'GET', '/errors')).body;
    const tests = [{ name: 'denied', request: { method: 'GET', path: `${path}?deny=1` }, expect: { status: 403, type: catalog.errors.insufficient_scope.type } }];
    await saveDraft('editor', gate('5', { guard: true, status: 201, tests }));
    expect((await admin('publisher', 'POST', '/workflows/gate/publish')).status).toBe(202);
    const moved = { ...catalog, errors: { ...catalog.errors, insufficient_scope: { ...catalog.errors.insufficient_scope, type: 'https://problems.sluice.example/scope-missing' } } };
    expect((await admin('admin', 'PUT', '/errors', moved)).status).toBe(200);
    const failed = expectProblem(await admin('publisher2', 'POST', '/workflows/gate/approval/approve', {}), 422, 'validation-failed');
    expect(failed.problems).toEqual([expect.objectContaining({ code: 'test_failed', field: 'tests.0' })]);
    expect(await versionCount()).toBe(3);
    expect((await admin('viewer', 'GET', '/workflows/gate/approval')).body).toMatchObject({ stale: false });
    expect((await admin('admin', 'PUT', '/errors', catalog)).status).toBe(200);
    expect(await admin('publisher2', 'POST', '/workflows/gate/approval/approve', {})).toMatchObject({ status: 200, body: { version: 4 } });
    await untilStamp(gw.url, path, '201'); // version 5 answers 201 (stampOf names a status that is not 200)
    expect(await (await gw.fetch(path)).json()).toMatchObject({ v: '5' });
  });

  it('GitOps: `sluice apply` reports a file that removes answers as pending; the workflows directory asks as its file, and a publisher approves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-gate-'));
    writeFileSync(join(dir, 'gate.json'), JSON.stringify(gate('6')));
    const [result] = await applyDirectory(createAdminClient(gw.url, PEOPLE.admin.token), dir);
    expect(result).toMatchObject({ file: 'gate.json', workflow: 'gate', outcome: 'pending', message: expect.stringMatching(/^waits for another publisher's approval: this change .*removes 403 Insufficient Scope/) });
    expect(result).not.toHaveProperty('version');
    expect((await admin('viewer', 'GET', '/workflows/gate/approval')).body).toMatchObject({ requestedBy: 'ada', stale: false });
    expect(await stampOf(`${gw.url}${path}`)).toBe('201');

    await gw.putWorkflow(gate('7'), 'gate-file.json');
    const asked = (await admin('viewer', 'GET', '/workflows/gate/approval')).body;
    expect(asked).toMatchObject({ requestedBy: 'file:gate-file.json', stale: false });
    expect(gw.logs.some((l) => l.workflow === 'gate' && /waits for another publisher's approval/.test(String(l.msg)))).toBe(true);
    expect(await stampOf(`${gw.url}${path}`)).toBe('201');
    expect(await admin('publisher', 'POST', '/workflows/gate/approval/approve', { draftHash: asked.draftHash })).toMatchObject({ status: 200, body: { version: 5, requestedBy: 'file:gate-file.json', approvedBy: 'pia' } });
    await untilStamp(gw.url, path, '7');
    expect(await deniedStatus()).toBe(200);
  });

  it('the audit chain holds', async () => {
    expect((await admin('auditor', 'GET', '/audit/verify')).body).toMatchObject({ ok: true });
  });
});

describe('the contract gate turned off (SLUICE_CONTRACT_GATE=off: an installation with one publisher)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_CONTRACT_GATE: 'off' } });
  });
  afterAll(() => gw.close());

  it('publishes a draft that removes an answer at once, and lets it start as a canary', async () => {
    const admin = adminOf(gw.url);
    expect((await admin('editor', 'POST', '/workflows', { document: gate('1', { guard: true }) })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/gate/publish')).status).toBe(200);
    const { body } = await admin('viewer', 'GET', '/workflows/gate');
    expect((await admin('editor', 'PUT', '/workflows/gate/draft', { document: gate('2'), baseRevision: body.draft.revision })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/gate/canary', { share: 10 })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/gate/canary/promote')).body).toMatchObject({ active: 2, outcome: 'promoted' });
    const again = await admin('viewer', 'GET', '/workflows/gate');
    expect((await admin('editor', 'PUT', '/workflows/gate/draft', { document: gate('3', { status: 201 }), baseRevision: again.body.draft.revision })).status).toBe(200);
    // the answer's status changed (200 to 201): published at once all the same
    expect(await admin('publisher', 'POST', '/workflows/gate/publish')).toMatchObject({ status: 200, body: { version: 3, unchanged: false } });
    expect(await stampOf(`${gw.url}${path}`)).toBe('201');
  });
});

describe('an answer moved, not removed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startAdminGateway();
  });
  afterAll(() => gw.close());

  it('publishes at once when a renamed node gives the same answer; asks when the answer is gone', async () => {
    const admin = adminOf(gw.url);
    const named = (id: string, stamp: string, status = 200) => {
      const document = gate(stamp, { status });
      return { ...document, nodes: document.nodes.map((n) => (n.id === 'answer' ? { ...n, id } : n)) };
    };
    expect((await admin('editor', 'POST', '/workflows', { document: named('answer', '1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/gate/publish')).status).toBe(200);
    const save = async (document: unknown) => {
      const { body } = await admin('viewer', 'GET', '/workflows/gate');
      expect((await admin('editor', 'PUT', '/workflows/gate/draft', { document, baseRevision: body.draft.revision })).status).toBe(200);
    };
    // the 200 now comes from "reply": removed at answer, added at reply
    await save(named('reply', '2'));
    expect(await admin('publisher', 'POST', '/workflows/gate/publish')).toMatchObject({ status: 200, body: { version: 2 } });
    // the 200 is gone (a 201 instead): that waits for a second publisher
    await save(named('created', '3', 201));
    expect(await admin('publisher', 'POST', '/workflows/gate/publish')).toMatchObject({ status: 202, body: { pending: true } });
  });
});
