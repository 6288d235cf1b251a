import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, startAdminGateway, type Admin } from './support.ts';

/*
 * Versions over the admin API: a publish note kept with the version, in the audit entry and the
 * versions list; a diff with old and new values; the contract's conditions in words.
 */

describe('publish notes, diff values and contract words', () => {
  let gw: TestGateway;
  let admin: Admin;
  const path = '/notes/orders';

  async function saveDraft(id: string, document: unknown) {
    const { body } = await admin('editor', 'GET', `/workflows/${id}`);
    const saved = await admin('editor', 'PUT', `/workflows/${id}/draft`, { document, baseRevision: body.draft.revision });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('notes', path, '1', { guard: true }) })).status).toBe(201);
    // a version published without a note, as every version of an older store is
    expect((await admin('publisher', 'POST', '/workflows/notes/publish')).body).toEqual({ version: 1, unchanged: false });
  });
  afterAll(() => gw.close());

  it('keeps a publish note with the version, in the versions list and in the audit entry', async () => {
    await saveDraft('notes', stamped('notes', path, '2', { guard: true }));
    const published = await admin('publisher', 'POST', '/workflows/notes/publish', { note: '  Stamp 2 for the partner launch  ' });
    expect(published.body).toEqual({ version: 2, unchanged: false });
    const { body } = await admin('viewer', 'GET', '/workflows/notes/versions');
    expect(body.versions.map((v: { version: number; note?: string }) => [v.version, v.note])).toEqual([
      [1, undefined],
      [2, 'Stamp 2 for the partner launch'],
    ]);
    expect((await admin('viewer', 'GET', '/workflows/notes/versions/2')).body).toMatchObject({ version: 2, note: 'Stamp 2 for the partner launch', active: true });
    const audit = await admin('auditor', 'GET', '/audit');
    const entry = (audit.body.entries as Array<{ action: string; version?: number; detail?: string }>).find((e) => e.action === 'workflow.publish' && e.version === 2);
    expect(entry?.detail).toBe('note: Stamp 2 for the partner launch');
  });

  it('refuses a note over 1000 characters, a note of another type, and a publish note from an editor', async () => {
    await saveDraft('notes', stamped('notes', path, '3', { guard: true }));
    expectProblem(await admin('publisher', 'POST', '/workflows/notes/publish', { note: 'x'.repeat(1001) }), 400, 'bad-request');
    expectProblem(await admin('publisher', 'POST', '/workflows/notes/publish', { note: 42 }), 400, 'bad-request');
    expectProblem(await admin('editor', 'POST', '/workflows/notes/publish', { note: 'let me in' }), 403, 'forbidden');
    expect((await admin('viewer', 'GET', '/workflows/notes/versions')).body.versions).toHaveLength(2);
  });

  it('answers a diff with old and new values of changed fields and settings', async () => {
    const { body } = await admin('viewer', 'GET', '/workflows/notes/diff?from=1&to=draft');
    expect(body.nodes.changed).toEqual([
      expect.objectContaining({
        id: 'answer',
        changes: [
          { field: 'config.body.again', before: '"1"', after: '"3"' },
          { field: 'config.body.v', before: '"1"', after: '"3"' },
          { field: 'config.headers.x-stamp', before: '"1"', after: '"3"' },
        ],
      }),
    ]);
    await saveDraft('notes', { ...stamped('notes', path, '3', { guard: true }), route: { methods: ['GET'], path: '/notes/v2' } });
    const moved = await admin('viewer', 'GET', '/workflows/notes/diff?from=active&to=draft');
    expect(moved.body.settings).toEqual([{ field: 'route.path', before: '"/notes/orders"', after: '"/notes/v2"' }]);
  });

  it('says why the contract’s answers are given: an error node by the edges into it', async () => {
    const { body } = await admin('viewer', 'GET', '/workflows/notes/contract?version=draft');
    const deny = (body.entries as Array<{ node?: string; condition: string }>).find((e) => e.node === 'deny');
    expect(deny?.condition).toBe('the condition `request.query.deny = "1"` is true');
    expect((await admin('viewer', 'GET', '/workflows/notes/contract/diff')).body.summary).toBe('the contract is unchanged');
  });
});
