import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminOf, expectProblem, startAdminGateway, type Admin } from './support.ts';

/*
 * Shared flows over the admin API and real HTTP, on the file store and on Redis: a fragment used
 * by two workflows through subflow nodes; a fragment publish that breaks one workflow's test is
 * refused (naming it) and changes nothing served; a good one is served by both by the time the
 * publish is acknowledged; a pinned workflow keeps its version; a rollback is checked alike.
 */

const redisUp = await sharedRedisAvailable();

/** The guard fragment: denies when `deny` (a JSONata predicate) holds, else leaves by "ok". */
const guard = (deny: string, exits: string[] = ['ok']) => ({
  id: 'guard',
  name: 'Guard',
  exits: exits.map((name) => ({ name })),
  nodes: [
    { id: 'check', kind: 'condition', config: { when: deny } },
    { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } },
  ],
  edges: [
    { from: 'check', port: 'true', to: 'deny' },
    { from: 'check', port: 'false', to: 'ok' },
  ],
});

/** A workflow answering its id behind the guard; its tests say a plain request passes and ?deny=1 is refused. */
const user = (id: string, options: { pin?: number; tests?: boolean } = {}) => ({
  id,
  name: `Uses guard ${id}`,
  route: { methods: ['GET'], path: `/frag/${id}` },
  nodes: [
    { id: 'guard', kind: 'subflow', config: { fragment: 'guard', exits: ['ok'], ...(options.pin ? { version: options.pin } : {}) } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { served: id } } },
  ],
  edges: [{ from: 'guard', port: 'ok', to: 'answer' }],
  tests:
    options.tests === false
      ? []
      : [
          { name: 'a plain request passes', request: { method: 'GET', path: `/frag/${id}` }, expect: { status: 200, body: { served: id } } },
          { name: 'deny=1 is refused', request: { method: 'GET', path: `/frag/${id}?deny=1` }, expect: { status: 403 } },
        ],
});

describe.each([
  { store: 'file', redis: false },
  { store: 'redis', redis: true },
])('fragments on the $store store', ({ redis }) => {
  let gw: TestGateway;
  let admin: Admin;
  const prefix = testPrefix('fragments');
  const skip = redis && !redisUp;
  const status = async (path: string) => (await fetch(`${gw.url}${path}`)).status;

  beforeAll(async () => {
    if (skip) return;
    gw = await startAdminGateway(redis ? { settings: { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix } } : {});
    admin = adminOf(gw.url);
  });
  afterAll(async () => {
    if (skip) return;
    await gw.close();
    if (redis) await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  /** Saves fragment guard's draft (based on its current revision) as the editor. */
  const saveGuard = async (document: unknown) => {
    const view = await admin('viewer', 'GET', '/fragments/guard');
    const saved = await admin('editor', 'PUT', '/fragments/guard/draft', { document, baseRevision: view.body.draft?.revision ?? 0 });
    expect(saved.status).toBe(200);
    return saved.body;
  };

  it.skipIf(skip)('a workflow cannot publish with a fragment that is not published, naming the node and field', async () => {
    expect((await admin('editor', 'POST', '/workflows', { document: user('early') })).status).toBe(201);
    const refused = expectProblem(await admin('publisher', 'POST', '/workflows/early/publish'), 422, 'validation-failed');
    // its tests run first, and say why the workflow cannot run
    expect(refused.problems[0].message).toContain('guard config.fragment: no published fragment');
    const validated = await admin('editor', 'POST', '/workflows/early/validate');
    expect(validated.body.problems).toContainEqual(expect.objectContaining({ code: 'unknown_fragment', node: 'guard', field: 'config.fragment' }));
  });

  it.skipIf(skip)('a fragment used by two workflows serves both; a draft of it is checked on its own', async () => {
    expect((await admin('editor', 'POST', '/fragments', { document: guard('request.query.deny = "1"') })).status).toBe(201);
    // a fragment edge to a node that is neither a node nor an exit is refused, pinned to the fragment's own edge
    const bad = await admin('editor', 'POST', '/fragments/guard/validate', { document: { ...guard('true'), edges: [{ from: 'check', port: 'true', to: 'deny' }, { from: 'check', port: 'false', to: 'nowhere' }] } });
    expect(bad.body.ok).toBe(false);
    expect(bad.body.problems).toContainEqual(expect.objectContaining({ code: 'dangling_edge', node: 'check' }));
    // the editor may save and validate, not publish
    expectProblem(await admin('editor', 'POST', '/fragments/guard/publish'), 403, 'forbidden');
    const published = await admin('publisher', 'POST', '/fragments/guard/publish', { note: 'first guard' });
    expect(published.body).toMatchObject({ version: 1, unchanged: false, checked: [] });

    for (const id of ['a', 'b']) {
      expect((await admin('editor', 'POST', '/workflows', { document: user(id) })).status).toBe(201);
      expect((await admin('publisher', 'POST', `/workflows/${id}/publish`)).body).toMatchObject({ unchanged: false });
      expect(await status(`/frag/${id}`)).toBe(200);
      expect(await status(`/frag/${id}?deny=1`)).toBe(403);
    }
    const list = await admin('viewer', 'GET', '/fragments');
    expect(list.body.fragments).toEqual([
      expect.objectContaining({ id: 'guard', activeVersion: 1, exits: [{ name: 'ok' }], usedBy: expect.arrayContaining([{ workflow: 'a', node: 'guard', in: 1 }, { workflow: 'b', node: 'guard', in: 1 }, { workflow: 'early', node: 'guard', in: 'draft' }]) }),
    ]);
    // the error contract of a user lists the fragment's error, raised by the inlined node
    const contract = await admin('viewer', 'GET', '/workflows/a/contract');
    expect(contract.body.entries).toContainEqual(expect.objectContaining({ node: 'guard/deny', status: 403 }));
  });

  it.skipIf(skip)('a fragment publish that breaks one workflow\'s test is refused, naming it, and nothing served changes', async () => {
    // b has no tests of its own for this: only a's test "a plain request passes" fails
    await saveGuard(guard('true'));
    const refused = expectProblem(await admin('publisher', 'POST', '/fragments/guard/publish'), 422, 'validation-failed');
    expect(refused.detail).toContain('a');
    expect(refused.problems).toContainEqual(expect.objectContaining({ code: 'test_failed', field: 'tests.0', message: expect.stringContaining('workflow "a" version 1: test "a plain request passes"') }));
    expect((await admin('viewer', 'GET', '/fragments/guard')).body).toMatchObject({ active: 1, versions: [{ version: 1 }] });
    expect(await status('/frag/a')).toBe(200);
    expect(await status('/frag/b')).toBe(200);
    const audit = await admin('auditor', 'GET', '/audit?limit=50');
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ action: 'refused', fragment: 'guard', detail: expect.stringContaining('fragment.publish') }));

    // exits that differ from the nodes using the fragment: refused, naming the subflow node's field
    const twoExits = guard('request.query.deny = "1"', ['ok', 'other']);
    await saveGuard({ ...twoExits, nodes: twoExits.nodes.slice(0, 1), edges: [{ from: 'check', port: 'true', to: 'other' }, { from: 'check', port: 'false', to: 'ok' }] });
    const exits = expectProblem(await admin('publisher', 'POST', '/fragments/guard/publish'), 422, 'validation-failed');
    expect(exits.problems).toContainEqual(expect.objectContaining({ node: 'guard', field: 'config.exits' }));
  });

  it.skipIf(skip)('a good fragment publish is served by both workflows when it is acknowledged; a pinned one keeps its version', async () => {
    expect((await admin('editor', 'POST', '/workflows', { document: user('pinned', { pin: 1, tests: false }) })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/pinned/publish')).status).toBe(200);

    await saveGuard(guard('request.query.deny = "1" or request.query.deny = "yes"'));
    const published = await admin('publisher', 'POST', '/fragments/guard/publish');
    expect(published.body).toMatchObject({ version: 2, unchanged: false });
    // the workflows following the fragment were checked, their tests run; the pinned one was not
    expect(published.body.checked).toEqual(expect.arrayContaining([{ workflow: 'a', version: 1, tests: 2 }, { workflow: 'b', version: 1, tests: 2 }]));
    expect(published.body.checked).toHaveLength(2);
    // acknowledged once this gateway serves it: no polling
    expect(await status('/frag/a?deny=yes')).toBe(403);
    expect(await status('/frag/b?deny=yes')).toBe(403);
    expect(await status('/frag/a')).toBe(200);
    expect(await status('/frag/pinned?deny=yes')).toBe(200);
    expect(await status('/frag/pinned?deny=1')).toBe(403);

    // a rollback is checked and served alike
    const back = await admin('publisher', 'POST', '/fragments/guard/rollback', { version: 1 });
    expect(back.body).toMatchObject({ version: 1, unchanged: false });
    expect(await status('/frag/a?deny=yes')).toBe(200);
    const audit = await admin('auditor', 'GET', '/audit?limit=100');
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ action: 'fragment.publish', fragment: 'guard', version: 2 }));
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ action: 'fragment.rollback', fragment: 'guard', version: 1 }));
  });

  it.skipIf(skip)('a preview of a draft runs the fragment\'s nodes, traced under the subflow node', async () => {
    const simulated = await admin('editor', 'POST', '/simulate', { workflow: 'b', version: 'active', request: { method: 'GET', path: '/frag/b?deny=1' } });
    expect(simulated.status).toBe(200);
    expect(simulated.body.response.status).toBe(403);
    expect(simulated.body.trace.map((step: { node: string }) => step.node)).toEqual(['guard/check', 'guard/deny']);
  });
});
