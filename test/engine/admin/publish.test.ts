import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, stampOf, startAdminGateway, untilStamp, type Admin } from './support.ts';

/*
 * What a publish refuses, and that a refusal never disturbs what is serving: stale drafts,
 * bodies with fields nobody asked for, invalid graphs, missing env vars, route clashes (also
 * between two publishes racing) and rollbacks to a version that can no longer serve.
 */

describe('drafts, bodies and refused publishes', () => {
  let gw: TestGateway;
  let admin: Admin;
  const path = '/pub/orders';

  /** Saves `document` as the draft of `id` on top of whatever revision it has. */
  async function saveDraft(id: string, document: unknown) {
    const { body } = await admin('editor', 'GET', `/workflows/${id}`);
    const saved = await admin('editor', 'PUT', `/workflows/${id}/draft`, { document, baseRevision: body.draft.revision });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    return saved.body.draft.revision as number;
  }

  /** Publishes a draft that removes or changes answers of the error contract: it waits (202) until a second publisher approves it (the contract gate). */
  async function publishApproved(id: string) {
    const asked = await admin('publisher', 'POST', `/workflows/${id}/publish`);
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    return (await admin('publisher2', 'POST', `/workflows/${id}/approval/approve`, {})).body;
  }

  beforeAll(async () => {
    gw = await startAdminGateway({ env: { PUB_UPSTREAM: 'http://127.0.0.1:9' } });
    admin = adminOf(gw.url);
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('pub', path, '1', { guard: true }) })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/pub/publish')).body).toEqual({ version: 1, unchanged: false });
    expect(await stampOf(`${gw.url}${path}`)).toBe('1');
  });
  afterAll(() => gw.close());

  describe('a stale draft save', () => {
    it('is a 409 problem naming the current revision and who saved it', async () => {
      const { body } = await admin('viewer', 'GET', '/workflows/pub');
      const base = body.draft.revision as number;
      expect((await admin('editor', 'PUT', '/workflows/pub/draft', { document: stamped('pub', path, 'mine', { guard: true }), baseRevision: base })).status).toBe(200);
      const stale = await admin('publisher', 'PUT', '/workflows/pub/draft', { document: stamped('pub', path, 'theirs', { guard: true }), baseRevision: base });
      const problem = expectProblem(stale, 409, 'conflict');
      expect(problem).toMatchObject({ currentRevision: base + 1, updatedBy: 'eddie', updatedAt: expect.any(String) });
      const after = await admin('viewer', 'GET', '/workflows/pub');
      expect(after.body.draft).toMatchObject({ revision: base + 1, document: { nodes: expect.arrayContaining([expect.objectContaining({ config: expect.objectContaining({ body: { v: 'mine', again: 'mine' } }) })]) } });
    });

    it('of several saves racing on one base revision, exactly one wins', async () => {
      const base = (await admin('viewer', 'GET', '/workflows/pub')).body.draft.revision as number;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => admin(i % 2 ? 'editor' : 'publisher', 'PUT', '/workflows/pub/draft', { document: stamped('pub', path, `race ${i}`, { guard: true }), baseRevision: base })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      expect((await admin('viewer', 'GET', '/workflows/pub')).body.draft.revision).toBe(base + 1);
    });
  });

  describe('mass assignment: a body field the endpoint does not take', () => {
    it.each([
      ['PUT', '/workflows/pub/draft', { document: stamped('pub', path, 'x'), baseRevision: 1, revision: 99 }, 'revision'],
      ['PUT', '/workflows/pub/draft', { document: stamped('pub', path, 'x'), baseRevision: 1, updatedBy: 'someone-else' }, 'updatedBy'],
      ['POST', '/workflows', { document: stamped('mass', '/mass', 'x'), active: 1 }, 'active'],
      ['POST', '/workflows/pub/validate', { document: stamped('pub', path, 'x'), fix: true }, 'fix'],
      ['POST', '/workflows/pub/publish', { version: 7 }, 'version'],
      ['POST', '/workflows/pub/publish', { publishedBy: 'mallory' }, 'publishedBy'],
      ['POST', '/workflows/pub/rollback', { version: 1, actor: 'mallory' }, 'actor'],
      ['POST', '/workflows/pub/deprecate', { version: 1, at: '2020-01-01T00:00:00Z' }, 'at'],
      ['POST', '/workflows/pub/retire', { version: 1, retired: false }, 'retired'],
      ['PUT', '/errors', { errors: {}, owner: 'mallory' }, 'owner'],
      ['PUT', '/errors', { errors: { not_found: { status: 404, type: 't', title: 't', detail: 'd', internal: true } } }, 'errors.not_found.internal'],
    ])('%s %s with an extra field is a 400 naming it, and changes nothing', async (method, endpoint, body, field) => {
      const before = (await admin('admin', 'GET', '/status')).body.revision;
      const answer = await admin('admin', method, endpoint, body);
      const problem = expectProblem(answer, 400, 'bad-request');
      expect(problem.problems).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect((await admin('admin', 'GET', '/status')).body.revision).toBe(before);
    });

    it('an unknown query parameter is a 400 naming it', async () => {
      const problem = expectProblem(await admin('auditor', 'GET', '/audit?after=1&as=admin'), 400, 'bad-request');
      expect(problem.problems).toEqual([expect.objectContaining({ field: 'as' })]);
    });

    it('a body that is not JSON is a 400 problem', async () => {
      expectProblem(await admin('admin', 'POST', '/workflows/pub/rollback', '{"version": '), 400, 'bad-request');
    });
  });

  describe('an invalid publish is a 422 listing every problem, and the active version keeps serving', () => {
    const broken = {
      id: 'pub',
      name: 'Broken',
      route: { methods: ['GET'], path },
      nodes: [
        { id: 'check', kind: 'condition', config: { when: 'request.query.deny = "1"' } },
        { id: 'deny', kind: 'error', config: { error: 'no_such_error' } },
        { id: 'limit', kind: 'rate-limit', config: { limit: 0 } },
        { id: 'answer', kind: 'respond', config: { body: { v: 'broken' } } },
        { id: 'orphan', kind: 'respond', config: { body: { v: 'orphan' } } },
      ],
      edges: [
        { from: 'check', port: 'true', to: 'deny' },
        { from: 'limit', port: 'ok', to: 'answer' },
      ],
    };
    const missingEnv = {
      ...stamped('pub', path, 'env'),
      nodes: [{ id: 'call', kind: 'proxy', config: { url: '${NOPE}/orders' } }],
    };

    async function expectRefusedPublish(expected: Array<Record<string, unknown>>) {
      const versions = (await admin('viewer', 'GET', '/workflows/pub/versions')).body;
      const answer = await admin('publisher', 'POST', '/workflows/pub/publish');
      const problem = expectProblem(answer, 422, 'validation-failed');
      expect(problem.problems).toEqual(expect.arrayContaining(expected.map((p) => expect.objectContaining(p))));
      // the same list the editor gets from validate
      expect(problem.problems).toEqual((await admin('editor', 'POST', '/workflows/pub/validate', {})).body.problems);
      const last = (await admin('auditor', 'GET', '/audit')).body.entries.at(-1);
      expect(last).toMatchObject({ action: 'refused', actor: 'pia', workflow: 'pub', detail: expect.stringMatching(/^workflow\.publish: /) });
      expect((await admin('viewer', 'GET', '/workflows/pub/versions')).body).toEqual(versions);
      for (let i = 0; i < 5; i++) expect(await stampOf(`${gw.url}${path}`)).toBe('1');
      return problem.problems as unknown[];
    }

    it('a graph with several problems: each named with its node and field', async () => {
      await saveDraft('pub', broken);
      const problems = await expectRefusedPublish([
        { code: 'port_unwired', node: 'check', field: 'ports.false' },
        { code: 'invalid_config', node: 'limit', field: 'config.limit' },
        { code: 'multiple_starts' },
      ]);
      expect(problems.length).toBeGreaterThanOrEqual(3);
    });

    it('a proxy url naming an env var that is not set (${NOPE})', async () => {
      await saveDraft('pub', missingEnv);
      await expectRefusedPublish([{ code: 'invalid_config', node: 'call', field: 'config.url', message: expect.stringContaining('NOPE') }]);
    });

    // Every node whose config parses is prepared whether or not the graph is valid, so one answer lists both kinds.
    it('a graph problem and a missing env var together: both listed in one answer', async () => {
      await saveDraft('pub', { ...missingEnv, nodes: [...missingEnv.nodes, { id: 'lonely', kind: 'respond', config: {} }] });
      await expectRefusedPublish([
        { code: 'multiple_starts' },
        { code: 'invalid_config', node: 'call', field: 'config.url' },
      ]);
    });

    it('a route that clashes with another active workflow', async () => {
      expect((await admin('editor', 'POST', '/workflows', { document: stamped('other', '/pub/other', 'o') })).status).toBe(201);
      expect((await admin('publisher', 'POST', '/workflows/other/publish')).status).toBe(200);
      await saveDraft('pub', stamped('pub', '/pub/other', 'clash'));
      await expectRefusedPublish([{ code: 'route_clash', field: 'route.path' }]);
      expect(await stampOf(`${gw.url}/pub/other`)).toBe('o');
    });

    it('a draft whose id is not the workflow id is refused at save time', async () => {
      const { body } = await admin('viewer', 'GET', '/workflows/pub');
      const answer = await admin('editor', 'PUT', '/workflows/pub/draft', { document: stamped('someone-else', path, 'x'), baseRevision: body.draft.revision });
      expect(expectProblem(answer, 422, 'validation-failed').problems).toEqual([expect.objectContaining({ field: 'id' })]);
    });

    it('the env var set, the same kind of draft publishes', async () => {
      await saveDraft('pub', { ...missingEnv, nodes: [{ id: 'call', kind: 'proxy', config: { url: '${PUB_UPSTREAM}/orders', timeout: '1s' } }] });
      expect(await publishApproved('pub')).toEqual({ version: 2, requestedBy: 'pia', approvedBy: 'paul' });
      await untilStamp(gw.url, path, '502'); // nothing listens on port 9
      expect((await admin('publisher', 'POST', '/workflows/pub/rollback', { version: 1 })).status).toBe(200);
      expect(await stampOf(`${gw.url}${path}`)).toBe('1');
    });
  });

  it('a workflows/ file whose id is an Object.prototype member ("constructor") is published like any other', async () => {
    await gw.putWorkflow(stamped('constructor', '/pub/ctor', 'from-file'));
    await gw.putWorkflow(stamped('after-ctor', '/pub/after', 'a'));
    expect(await stampOf(`${gw.url}/pub/ctor`)).toBe('from-file');
    expect(await stampOf(`${gw.url}/pub/after`)).toBe('a');
    expect((await admin('viewer', 'GET', '/workflows/constructor/versions')).body).toMatchObject({ active: 1, versions: [expect.objectContaining({ publishedBy: 'file:constructor.json' })] });
  });

  describe('checks that must see the state they commit on', () => {
    it('two workflows racing to publish the same route: one wins, the other is refused with a route clash', async () => {
      for (const id of ['race-a', 'race-b']) expect((await admin('editor', 'POST', '/workflows', { document: stamped(id, '/pub/race', id) })).status).toBe(201);
      const [a, b] = await Promise.all([admin('publisher', 'POST', '/workflows/race-a/publish'), admin('publisher', 'POST', '/workflows/race-b/publish')]);
      expect([a.status, b.status].sort()).toEqual([200, 422]);
      const loser = a.status === 422 ? a : b;
      expect(loser.body.problems).toEqual([expect.objectContaining({ code: 'route_clash' })]);
      const winner = a.status === 200 ? 'race-a' : 'race-b';
      expect(await stampOf(`${gw.url}/pub/race`)).toBe(winner);
    });

    it('a rollback to a version whose route another workflow now serves is refused (422); the current version keeps serving', async () => {
      expect((await admin('editor', 'POST', '/workflows', { document: stamped('mover', '/pub/old-place', 'm1') })).status).toBe(201);
      expect((await admin('publisher', 'POST', '/workflows/mover/publish')).status).toBe(200);
      await saveDraft('mover', stamped('mover', '/pub/new-place', 'm2'));
      expect((await admin('publisher', 'POST', '/workflows/mover/publish')).body.version).toBe(2);
      expect((await admin('editor', 'POST', '/workflows', { document: stamped('squatter', '/pub/old-place', 's1') })).status).toBe(201);
      expect((await admin('publisher', 'POST', '/workflows/squatter/publish')).status).toBe(200);

      const refused = expectProblem(await admin('publisher', 'POST', '/workflows/mover/rollback', { version: 1 }), 422, 'validation-failed');
      expect(refused.problems).toEqual([expect.objectContaining({ code: 'route_clash', field: 'route.path' })]);
      expect((await admin('auditor', 'GET', '/audit')).body.entries.at(-1)).toMatchObject({ action: 'refused', workflow: 'mover', version: 1 });
      expect((await admin('viewer', 'GET', '/workflows/mover/versions')).body.active).toBe(2);
      expect(await stampOf(`${gw.url}/pub/old-place`)).toBe('s1');
      expect(await stampOf(`${gw.url}/pub/new-place`)).toBe('m2');
    });

    it('a rollback to a version raising an error the catalog no longer has is refused (422)', async () => {
      // version 1 of "pub" raises insufficient_scope; the active version 1... make version 3 active without it
      await saveDraft('pub', stamped('pub', path, '3'));
      expect((await publishApproved('pub')).version).toBe(3);
      const { body: catalog } = await admin('viewer', 'GET', '/errors');
      const { insufficient_scope: _gone, ...errors } = catalog.errors as Record<string, unknown>;
      expect((await admin('publisher', 'PUT', '/errors', { errors })).status).toBe(200);

      const refused = expectProblem(await admin('publisher', 'POST', '/workflows/pub/rollback', { version: 1 }), 422, 'validation-failed');
      expect(refused.problems).toEqual([expect.objectContaining({ code: 'unknown_error', node: 'deny' })]);
      expect((await admin('viewer', 'GET', '/workflows/pub/versions')).body.active).toBe(3);
      expect(await stampOf(`${gw.url}${path}`)).toBe('3');
      const status = (await admin('viewer', 'GET', '/status')).body;
      expect(status.workflows).toEqual(expect.arrayContaining([expect.objectContaining({ workflow: 'pub', version: 3 })]));
    });
  });
});
