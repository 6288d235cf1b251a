import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, stampOf, startAdminGateway, type Admin } from './support.ts';

/*
 * Organisation rules over HTTP against a real gateway: only an admin changes them (others are
 * refused and audited), a new rule lists the active workflows it breaks while they keep serving,
 * and validate, publish and rollback hold drafts and versions to it without disturbing what serves.
 */

const noAnonymousSuccess = { id: 'no-anonymous-success', description: 'No success answer without an identity', form: 'no-success-without', passes: ['jwt-verify', 'api-key', 'introspect'] };

/** A workflow whose answer (its stamp, as stamped's) comes after an api-key node. */
const keyed = (stamp: string) => {
  const plain = stamped('keyed', '/rules/keyed', stamp);
  return { ...plain, nodes: [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, ...plain.nodes], edges: [{ from: 'key', port: 'ok', to: 'answer' }] };
};

describe('organisation rules over the admin API', () => {
  let gw: TestGateway;
  let admin: Admin;
  let key: string;

  /** What /rules/keyed answers with acme's key: its stamp, or the status. */
  async function keyedStamp(): Promise<string> {
    const res = await fetch(`${gw.url}/rules/keyed`, { headers: { 'x-api-key': key } });
    return res.status === 200 ? ((await res.json()) as { v: string }).v : String(res.status);
  }

  /** The newest audit entries, newest last. */
  const audit = async () => (await admin('auditor', 'GET', '/audit?limit=1000')).body.entries as Array<Record<string, unknown>>;

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    expect((await admin('admin', 'POST', '/partners', { id: 'acme', name: 'Acme' })).status).toBe(201);
    key = (await admin('admin', 'POST', '/partners/acme/keys', {})).body.key as string;
    // open answers anyone; keyed version 1 did too, version 2 asks for a key
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('open', '/rules/open', 'open-1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/open/publish')).body).toEqual({ version: 1, unchanged: false });
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('keyed', '/rules/keyed', 'keyed-1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/keyed/publish')).body).toEqual({ version: 1, unchanged: false });
    const { body } = await admin('editor', 'GET', '/workflows/keyed');
    expect((await admin('editor', 'PUT', '/workflows/keyed/draft', { document: keyed('keyed-2'), baseRevision: body.draft.revision })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/keyed/publish')).body).toEqual({ version: 2, unchanged: false });
    expect(await keyedStamp()).toBe('keyed-2');
  });
  afterAll(() => gw?.close());

  it('are read by every role and changed by an admin only: an editor or publisher is refused (403), and the refusal audited', async () => {
    for (const who of ['editor', 'publisher'] as const) {
      const refused = expectProblem(await admin(who, 'PUT', '/rules', { rules: [noAnonymousSuccess] }), 403, 'forbidden');
      expect(refused.detail).toMatch(/needs the "admin" permission/);
    }
    const entries = await audit();
    for (const [actor, role] of [['eddie', 'editor'], ['pia', 'publisher']])
      expect(entries).toContainEqual(expect.objectContaining({ action: 'refused', actor, role, detail: expect.stringContaining('PUT /admin/api/rules') }));
    expect(entries.some((e) => e.action === 'rules.update')).toBe(false);
    expect((await admin('viewer', 'GET', '/rules')).body).toEqual({ revision: expect.any(Number), rules: [] });
  });

  it('refuse a rule set that is not one, naming the field; nothing is stored', async () => {
    const regex = { id: 'egress', description: 'Approved hosts', form: 'url-allow-list', allow: ['^https://.*\\.example\\.com$'] };
    const refused = expectProblem(await admin('admin', 'PUT', '/rules', { rules: [regex] }), 400, 'bad-request');
    expect(refused.problems).toEqual([expect.objectContaining({ field: 'rules.0.allow.0', message: expect.stringMatching(/no patterns/) })]);
    expect((await admin('viewer', 'GET', '/rules')).body.rules).toEqual([]);
  });

  it('an admin\'s new rule is audited and answers the active workflows it breaks, which keep serving', async () => {
    const put = await admin('admin', 'PUT', '/rules', { rules: [noAnonymousSuccess] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const violator = {
      workflow: 'open',
      name: 'Stamped open',
      version: 1,
      problems: [{ code: 'rule_broken', node: 'answer', message: expect.stringMatching(/^rule "no-anonymous-success" \(No success answer without an identity\): the path answer answers 200 at respond "answer" without first passing/) }],
    };
    expect(put.body).toEqual({ revision: expect.any(Number), rules: [{ ...noAnonymousSuccess, statuses: '2xx' }], violators: [violator] });
    expect((await audit()).at(-1)).toMatchObject({ action: 'rules.update', actor: 'ada', role: 'admin', detail: 'added no-anonymous-success (1 rule now)' });
    expect((await admin('viewer', 'GET', '/rules/violations')).body).toEqual({ revision: expect.any(Number), violators: [violator] });
    expect(await stampOf(`${gw.url}/rules/open`)).toBe('open-1');
    expect(await keyedStamp()).toBe('keyed-2');
  });

  it('a draft breaking a rule fails validate on its node and is refused at publish (audited), while the active version keeps serving', async () => {
    const { body } = await admin('editor', 'GET', '/workflows/keyed');
    expect((await admin('editor', 'PUT', '/workflows/keyed/draft', { document: stamped('keyed', '/rules/keyed', 'keyed-3'), baseRevision: body.draft.revision })).status).toBe(200);
    const validated = await admin('editor', 'POST', '/workflows/keyed/validate', {});
    expect(validated.body).toEqual({ ok: false, problems: [expect.objectContaining({ code: 'rule_broken', node: 'answer', message: expect.stringContaining('rule "no-anonymous-success"') })] });
    const refused = expectProblem(await admin('publisher', 'POST', '/workflows/keyed/publish'), 422, 'validation-failed');
    expect(refused.problems).toEqual([expect.objectContaining({ code: 'rule_broken', node: 'answer' })]);
    expect((await audit()).at(-1)).toMatchObject({ action: 'refused', actor: 'pia', workflow: 'keyed', detail: 'workflow.publish: the draft of "keyed" has 1 problem(s)' });
    expect(await keyedStamp()).toBe('keyed-2');
    expect((await admin('viewer', 'GET', '/workflows/keyed')).body.active).toBe(2);
  });

  it('a rollback to a version that breaks a newer rule is refused with the problem; the active version keeps serving', async () => {
    const refused = expectProblem(await admin('publisher', 'POST', '/workflows/keyed/rollback', { version: 1 }), 422, 'validation-failed');
    expect(refused.problems).toEqual([expect.objectContaining({ code: 'rule_broken', node: 'answer' })]);
    expect(await keyedStamp()).toBe('keyed-2');
  });

  it('once the rule is removed (audited), the draft publishes and nothing is listed', async () => {
    const put = await admin('admin', 'PUT', '/rules', { rules: [] });
    expect(put.body).toEqual({ revision: expect.any(Number), rules: [], violators: [] });
    expect((await audit()).at(-1)).toMatchObject({ action: 'rules.update', detail: 'removed no-anonymous-success (0 rules now)' });
    expect((await admin('publisher', 'POST', '/workflows/keyed/publish')).body).toEqual({ version: 3, unchanged: false });
  });
});
