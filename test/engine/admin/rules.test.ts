import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminOf, expectProblem, passThrough, stamped, stampOf, startAdminGateway, until, type Admin } from './support.ts';

/*
 * Organisation rules over HTTP against a real gateway: only an admin changes them (others are
 * refused and audited), a new rule lists the active workflows it breaks while they keep serving,
 * and validate, publish, rollback, restore and a fragment's publish hold what would serve to it
 * without disturbing what serves. A guard inside a fragment counts where the fragment is used.
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

  it('a guard inside a fragment satisfies the rule; a fragment version dropping it is refused, naming the workflow, which keeps serving', async () => {
    const auth = { id: 'auth', name: 'Auth', exits: [{ name: 'ok' }], nodes: [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }], edges: [{ from: 'key', port: 'ok', to: 'ok' }] };
    expect((await admin('editor', 'POST', '/fragments', { document: auth })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/fragments/auth/publish')).status).toBe(200);
    const member = stamped('member', '/rules/member', 'member-1');
    const document = { ...member, nodes: [{ id: 'auth', kind: 'subflow', config: { fragment: 'auth', exits: ['ok'] } }, ...member.nodes], edges: [{ from: 'auth', port: 'ok', to: 'answer' }] };
    expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/member/publish')).body).toEqual({ version: 1, unchanged: false });
    expect((await admin('viewer', 'GET', '/rules/violations')).body.violators.map((v: { workflow: string }) => v.workflow)).toEqual(['open']);

    const { body } = await admin('editor', 'GET', '/fragments/auth');
    expect((await admin('editor', 'PUT', '/fragments/auth/draft', { document: passThrough('auth'), baseRevision: body.draft.revision })).status).toBe(200);
    const refused = expectProblem(await admin('publisher', 'POST', '/fragments/auth/publish'), 422, 'validation-failed');
    expect(refused.detail).toMatch(/breaks 1 workflow\(s\) that use it: member/);
    expect(refused.problems).toEqual([expect.objectContaining({ code: 'rule_broken', node: 'answer', message: expect.stringMatching(/^workflow "member" version 1: rule "no-anonymous-success"/) })]);
    const res = await fetch(`${gw.url}/rules/member`, { headers: { 'x-api-key': key } });
    expect({ status: res.status, v: ((await res.json()) as { v: string }).v }).toEqual({ status: 200, v: 'member-1' });
    expect((await fetch(`${gw.url}/rules/member`)).status).toBe(401); // the key is still asked for
  });

  it('an archived workflow breaking a rule is restored inactive, saying why', async () => {
    expect((await admin('publisher', 'POST', '/workflows/open/archive', { reason: 'rules test' })).status).toBe(200);
    const restored = await admin('publisher', 'POST', '/workflows/open/restore', {});
    expect(restored.body).toEqual({ active: null, inactiveBecause: expect.stringContaining('rule "no-anonymous-success"'), problems: [expect.objectContaining({ code: 'rule_broken', node: 'answer' })] });
    expect((await fetch(`${gw.url}/rules/open`)).status).toBe(404);
    expect((await admin('viewer', 'GET', '/rules/violations')).body.violators).toEqual([]);
  });

  it('once the rule is removed (audited), the draft publishes and nothing is listed', async () => {
    const put = await admin('admin', 'PUT', '/rules', { rules: [] });
    expect(put.body).toEqual({ revision: expect.any(Number), rules: [], violators: [] });
    expect((await audit()).at(-1)).toMatchObject({ action: 'rules.update', detail: 'removed no-anonymous-success (0 rules now)' });
    // it takes the key's 401 answers away: published through the contract gate, by a second publisher
    expect((await admin('publisher', 'POST', '/workflows/keyed/publish')).body).toMatchObject({ pending: true });
    expect((await admin('publisher2', 'POST', '/workflows/keyed/approval/approve', {})).body).toMatchObject({ version: 3, approvedBy: 'paul' });
  });
});

describe('the every-path and url-allow-list forms over the admin API', () => {
  let gw: TestGateway;
  let admin: Admin;
  const guardedUpstream = { id: 'guarded-upstream', description: 'Every upstream call is authenticated and rate limited', form: 'every-path', to: ['proxy'], passes: [['jwt-verify', 'api-key', 'introspect'], ['rate-limit']] };
  const approvedHosts = { id: 'approved-hosts', description: 'Upstreams on approved hosts only', form: 'url-allow-list', allow: ['https://orders.example.com/v1', '*.partners.example.com'] };
  /** A workflow proxying to `url`, behind an api-key and a rate limit when `guards`. */
  const proxied = (id: string, url: string, guards: boolean) => ({
    id, name: id, route: { methods: ['GET'], path: `/rules/${id}` },
    nodes: [
      ...(guards ? [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }, { id: 'limit', kind: 'rate-limit', config: { limit: 10, window: '1m' } }] : []),
      { id: 'call', kind: 'proxy', config: { url } },
    ],
    edges: guards ? [{ from: 'key', port: 'ok', to: 'limit' }, { from: 'limit', port: 'ok', to: 'call' }] : [],
  });

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
    for (const document of [proxied('bare', 'https://orders.example.com/v1', false), proxied('elsewhere', 'https://api.partners.example.com.evil.test/v1', true), proxied('fine', 'https://eu.partners.example.com/v1', true)]) {
      expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
      expect((await admin('publisher', 'POST', `/workflows/${document.id}/publish`)).status).toBe(200);
    }
  });
  afterAll(() => gw?.close());

  it('lists each active workflow with the rule it breaks on the node and field, and refuses a draft that breaks one', async () => {
    const put = await admin('admin', 'PUT', '/rules', { rules: [guardedUpstream, approvedHosts] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const broken = Object.fromEntries((put.body.violators as Array<{ workflow: string; problems: Array<{ node: string; field?: string; message: string }> }>).map((v) => [v.workflow, v.problems.map((p) => [p.node, p.field ?? null, p.message.match(/^rule "([^"]+)"/)?.[1]])]));
    expect(broken).toEqual({
      bare: [['call', null, 'guarded-upstream']],
      elsewhere: [['call', 'config.url', 'approved-hosts']],
    });
    // fixed in the draft: the host approved, then the guards dropped again
    const { body } = await admin('editor', 'GET', '/workflows/elsewhere');
    expect((await admin('editor', 'PUT', '/workflows/elsewhere/draft', { document: proxied('elsewhere', 'https://orders.example.com/v1/orders', true), baseRevision: body.draft.revision })).status).toBe(200);
    expect((await admin('editor', 'POST', '/workflows/elsewhere/validate', {})).body).toEqual({ ok: true, problems: [] });
    expect((await admin('editor', 'PUT', '/workflows/elsewhere/draft', { document: proxied('elsewhere', 'https://orders.example.com/v1/orders', false), baseRevision: body.draft.revision + 1 })).status).toBe(200);
    const refused = expectProblem(await admin('publisher', 'POST', '/workflows/elsewhere/publish'), 422, 'validation-failed');
    expect(refused.problems).toEqual([expect.objectContaining({ code: 'rule_broken', node: 'call', message: expect.stringContaining('rule "guarded-upstream"') })]);
  });
});

const redisUp = await sharedRedisAvailable();

describe.each([
  { store: 'file', redis: false },
  { store: 'redis', redis: true },
])('rules kept by the $store store, shared by two gateways', ({ redis }) => {
  const skip = redis && !redisUp;
  const prefix = testPrefix('rules');
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    if (skip) return;
    one = await startAdminGateway(redis ? { settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } } : {});
    two = await startAdminGateway({ settings: redis ? { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } : { SLUICE_DATA: one.dataDir } });
  });
  afterAll(async () => {
    if (skip) return;
    await two?.close();
    await one?.close();
    if (redis) await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it.skipIf(skip)('a rule set stored through one gateway is read and enforced by the other', async () => {
    const first = adminOf(one.url);
    const second = adminOf(two.url);
    expect((await first('admin', 'PUT', '/rules', { rules: [noAnonymousSuccess] })).status).toBe(200);
    await until('the other gateway to read the rules', async () => ((await second('viewer', 'GET', '/rules')).body.rules.length === 1 ? true : undefined));
    expect((await second('viewer', 'GET', '/rules')).body.rules).toEqual([{ ...noAnonymousSuccess, statuses: '2xx' }]);
    expect((await second('editor', 'POST', '/workflows', { document: stamped('anon', '/rules/anon', 'anon-1') })).status).toBe(201);
    const refused = expectProblem(await second('publisher', 'POST', '/workflows/anon/publish'), 422, 'validation-failed');
    expect(refused.problems).toEqual([expect.objectContaining({ code: 'rule_broken', node: 'answer' })]);
  });
});
