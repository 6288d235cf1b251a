import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, stamped, stampOf, startAdminGateway, until, untilApplied, untilStamp, type Admin } from './support.ts';

/*
 * The issue "Publish without redeploying", end to end over HTTP against one listening gateway:
 * draft -> validate -> publish -> edit -> publish -> versions and diffs -> rollback -> deprecate
 * -> retire, with the gateway answering every step with real requests. The steps build on each
 * other, in order.
 */

describe('workflow lifecycle over the admin API', () => {
  let gw: TestGateway;
  let admin: Admin;
  const path = '/life/orders';
  const route = (p = path) => `${gw.url}${p}`;
  let sunset: string;

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it('creates a draft (201), not served yet', async () => {
    const created = await admin('editor', 'POST', '/workflows', { document: stamped('life', path, 'draft') });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'life', createdBy: 'eddie', draft: { revision: 1, updatedBy: 'eddie' }, versions: [], active: null });
    expect(await stampOf(route())).toBe('404');
    const again = await admin('editor', 'POST', '/workflows', { document: stamped('life', path, 'x') });
    expectProblem(again, 409, 'conflict');
  });

  it('saves the draft against its base revision', async () => {
    const saved = await admin('editor', 'PUT', '/workflows/life/draft', { document: stamped('life', path, '1'), baseRevision: 1 });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ draft: { revision: 2, updatedBy: 'eddie' }, problems: [] });
    const read = await admin('viewer', 'GET', '/workflows/life');
    expect(read.body.draft).toMatchObject({ revision: 2, document: { nodes: [{ config: { body: { v: '1' } } }] } });
  });

  it('validates a document, listing every problem with its node and field', async () => {
    const broken = {
      ...stamped('life', path, 'broken', { guard: true }),
      nodes: [
        { id: 'check', kind: 'condition', config: { when: 'request.query.x = ' } },
        { id: 'deny', kind: 'error', config: { error: 'no_such_error' } },
        { id: 'answer', kind: 'respond', config: { status: 'teapot' } },
      ],
    };
    const answer = await admin('editor', 'POST', '/workflows/life/validate', { document: broken });
    expect(answer.status).toBe(200);
    expect(answer.body.ok).toBe(false);
    expect(answer.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'expression_syntax', node: 'check', field: 'config.when' }),
        expect.objectContaining({ code: 'invalid_config', node: 'answer', field: 'config.status' }),
      ]),
    );
    const draft = await admin('editor', 'POST', '/workflows/life/validate', {});
    expect(draft.body).toEqual({ ok: true, problems: [] });
  });

  it('publishes the draft as version 1, which serves on its route', async () => {
    const published = await admin('publisher', 'POST', '/workflows/life/publish');
    expect(published.status).toBe(200);
    expect(published.body).toEqual({ version: 1, unchanged: false });
    await untilStamp(gw.url, path, '1');
  });

  it('publishing an unchanged draft makes no new version', async () => {
    const again = await admin('publisher', 'POST', '/workflows/life/publish');
    expect(again.body).toEqual({ version: 1, unchanged: true });
  });

  it('an edit published becomes version 2 and serves', async () => {
    const saved = await admin('editor', 'PUT', '/workflows/life/draft', { document: stamped('life', path, '2', { guard: true }), baseRevision: 2 });
    expect(saved.body.draft.revision).toBe(3);
    expect((await admin('publisher', 'POST', '/workflows/life/publish')).body).toEqual({ version: 2, unchanged: false });
    await untilStamp(gw.url, path, '2');
    const denied = await fetch(route(`${path}?deny=1`));
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe('application/problem+json');
  });

  it('lists versions and reads one with its document', async () => {
    const versions = await admin('viewer', 'GET', '/workflows/life/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.active).toBe(2);
    expect(versions.body.versions).toEqual([
      expect.objectContaining({ version: 1, publishedBy: 'pia', hash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      expect.objectContaining({ version: 2, publishedBy: 'pia' }),
    ]);
    const one = await admin('viewer', 'GET', '/workflows/life/versions/1');
    expect(one.body).toMatchObject({ version: 1, active: false, document: { id: 'life', nodes: [{ id: 'answer', config: { body: { v: '1' } } }] } });
    expectProblem(await admin('viewer', 'GET', '/workflows/life/versions/9'), 404, 'not-found');
    expectProblem(await admin('viewer', 'GET', '/workflows/life/versions/0x1'), 400, 'bad-request');
    expectProblem(await admin('viewer', 'GET', '/workflows/nope/versions'), 404, 'not-found');
  });

  it('diffs two versions: nodes and edges added, removed and changed', async () => {
    const forward = await admin('viewer', 'GET', '/workflows/life/diff?from=1&to=2');
    expect(forward.status).toBe(200);
    expect(forward.body.same).toBe(false);
    expect(forward.body.nodes.added.map((n: { id: string }) => n.id).sort()).toEqual(['check', 'deny']);
    expect(forward.body.nodes.removed).toEqual([]);
    expect(forward.body.nodes.changed).toEqual([expect.objectContaining({ id: 'answer', fields: ['config.body', 'config.headers'] })]);
    expect(forward.body.edges.added).toHaveLength(2);
    const backward = await admin('viewer', 'GET', '/workflows/life/diff?from=2&to=1');
    expect(backward.body.nodes.removed.map((n: { id: string }) => n.id).sort()).toEqual(['check', 'deny']);
    expect(backward.body.edges.removed).toHaveLength(2);
  });

  it('a layout-only change diffs as the same workflow', async () => {
    const moved = stamped('life', path, '2', { guard: true, layout: { check: { x: 10, y: 20 }, answer: { x: 300, y: 0 } } });
    const saved = await admin('editor', 'PUT', '/workflows/life/draft', { document: moved, baseRevision: 3 });
    expect(saved.status).toBe(200);
    const diff = await admin('viewer', 'GET', '/workflows/life/diff?from=active&to=draft');
    expect(diff.body).toMatchObject({ same: true, fields: [], nodes: { added: [], removed: [], changed: [] }, edges: { added: [], removed: [] } });
  });

  it('a diff against a draft that is not a valid document is a 422 naming the problems, not a 500', async () => {
    const draft = (await admin('viewer', 'GET', '/workflows/life')).body.draft;
    const invalid = { id: 'life', name: 'half drawn', nodes: [] };
    expect((await admin('editor', 'PUT', '/workflows/life/draft', { document: invalid, baseRevision: draft.revision })).status).toBe(200);
    const diff = await admin('viewer', 'GET', '/workflows/life/diff?from=1&to=draft');
    const problem = expectProblem(diff, 422, 'validation-failed');
    expect(problem.problems).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'route' })]));
    expectProblem(await admin('viewer', 'GET', '/workflows/life/diff?from=1&to=later'), 400, 'bad-request');
    // put the good draft back for the next steps
    const back = await admin('editor', 'PUT', '/workflows/life/draft', { document: stamped('life', path, '2', { guard: true }), baseRevision: draft.revision + 1 });
    expect(back.status).toBe(200);
  });

  it('shows the served version and an applied revision equal to the store revision', async () => {
    const status = await untilApplied(admin);
    expect(status.store).toBe('file');
    expect(status.workflows).toEqual([{ workflow: 'life', version: 2, route: path, state: 'active' }]);
    const list = await admin('viewer', 'GET', '/workflows');
    expect(list.body.workflows).toEqual([expect.objectContaining({ id: 'life', activeVersion: 2, state: 'active', route: { methods: ['GET'], path } })]);
  });

  it('rolls back to version 1, which serves again, and audits the rollback', async () => {
    const rolled = await admin('publisher', 'POST', '/workflows/life/rollback', { version: 1 });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toEqual({ active: 1, previous: 2 });
    await untilStamp(gw.url, path, '1');
    const audit = await admin('auditor', 'GET', '/audit');
    expect(audit.body.entries.at(-1)).toMatchObject({ action: 'workflow.rollback', actor: 'pia', role: 'publisher', workflow: 'life', version: 1, detail: 'from version 2' });
    expect((await untilApplied(admin)).workflows).toEqual([{ workflow: 'life', version: 1, route: path, state: 'active' }]);
  });

  it('deprecating version 1 with a sunset adds Deprecation and Sunset headers to its answers', async () => {
    sunset = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const deprecated = await admin('publisher', 'POST', '/workflows/life/deprecate', { version: 1, sunset });
    expect(deprecated.status).toBe(200);
    const at = Math.floor(Date.parse(deprecated.body.deprecated.at) / 1000);
    const res = await until200WithHeader(route(), 'deprecation');
    expect(res.headers.get('deprecation')).toBe(`@${at}`);
    expect(res.headers.get('sunset')).toBe(new Date(sunset).toUTCString());
    expect(res.headers.get('sunset')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(await res.json()).toMatchObject({ v: '1' });
    expect((await untilApplied(admin)).workflows).toEqual([{ workflow: 'life', version: 1, route: path, state: 'deprecated' }]);
    expectProblem(await admin('publisher', 'POST', '/workflows/life/deprecate', { version: 1, sunset: 'next tuesday' }), 400, 'bad-request');
  });

  it('retiring the active version makes its route answer 410 problem+json', async () => {
    const retired = await admin('publisher', 'POST', '/workflows/life/retire', { version: 1 });
    expect(retired.status).toBe(200);
    await untilStamp(gw.url, path, '410');
    const res = await fetch(route());
    expect(res.status).toBe(410);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { type: string; status: number };
    expect(body.type).toMatch(/\/workflow-retired$/);
    expect(body.status).toBe(410);
    expect((await untilApplied(admin)).workflows).toEqual([{ workflow: 'life', version: 1, route: path, state: 'retired' }]);
  });

  it('a retired version cannot be rolled back to (409); a live one can', async () => {
    expectProblem(await admin('publisher', 'POST', '/workflows/life/rollback', { version: 1 }), 409, 'conflict');
    expectProblem(await admin('publisher', 'POST', '/workflows/life/rollback', { version: 7 }), 404, 'not-found');
    expect((await admin('publisher', 'POST', '/workflows/life/rollback', { version: 2 })).status).toBe(200);
    await untilStamp(gw.url, path, '2');
  });

  it('every change was audited with who, role, what, workflow and version, and the chain verifies', async () => {
    const entries = (await admin('auditor', 'GET', '/audit')).body.entries as Array<Record<string, unknown>>;
    const life = entries.filter((e) => e.workflow === 'life').map((e) => [e.action, e.actor, e.role, e.version ?? null]);
    expect(life).toEqual([
      ['workflow.create', 'eddie', 'editor', null],
      ['draft.save', 'eddie', 'editor', null],
      ['workflow.publish', 'pia', 'publisher', 1],
      ['workflow.publish', 'pia', 'publisher', 1],
      ['draft.save', 'eddie', 'editor', null],
      ['workflow.publish', 'pia', 'publisher', 2],
      ['draft.save', 'eddie', 'editor', null],
      ['draft.save', 'eddie', 'editor', null],
      ['draft.save', 'eddie', 'editor', null],
      ['workflow.rollback', 'pia', 'publisher', 1],
      ['workflow.deprecate', 'pia', 'publisher', 1],
      ['workflow.retire', 'pia', 'publisher', 1],
      ['workflow.rollback', 'pia', 'publisher', 2],
    ]);
    const verify = await admin('auditor', 'GET', '/audit/verify');
    expect(verify.body).toEqual({ ok: true, entries: entries.length, head: entries.at(-1)!.hash });
    const page = await admin('auditor', 'GET', `/audit?after=${entries.length - 2}&limit=1`);
    expect(page.body.entries).toEqual([entries.at(-2)]);
  });

  describe('the error catalog', () => {
    it('is readable', async () => {
      const catalog = await admin('viewer', 'GET', '/errors');
      expect(catalog.status).toBe(200);
      expect(catalog.body.errors.insufficient_scope).toMatchObject({ status: 403 });
    });

    it('a catalog lacking an error an active workflow raises is refused (422) with the problems, and audited', async () => {
      const { body: catalog } = await admin('viewer', 'GET', '/errors');
      const { insufficient_scope: _gone, ...errors } = catalog.errors as Record<string, unknown>;
      const refused = await admin('publisher', 'PUT', '/errors', { errors });
      const problem = expectProblem(refused, 422, 'validation-failed');
      expect(problem.problems).toEqual([expect.objectContaining({ code: 'unknown_error', node: 'deny', message: expect.stringContaining('workflow "life"') })]);
      const last = (await admin('auditor', 'GET', '/audit')).body.entries.at(-1);
      expect(last).toMatchObject({ action: 'refused', actor: 'pia', role: 'publisher', detail: expect.stringMatching(/^catalog\.update: /) });
      expect((await admin('viewer', 'GET', '/errors')).body).toEqual(catalog);
    });

    it('a catalog lacking an error the gateway itself answers with is refused (422), naming it', async () => {
      const { body: catalog } = await admin('viewer', 'GET', '/errors');
      const { forbidden: _gone, ...errors } = catalog.errors as Record<string, unknown>;
      const problem = expectProblem(await admin('publisher', 'PUT', '/errors', { errors }), 422, 'validation-failed');
      expect(problem.problems).toEqual([expect.objectContaining({ field: 'errors.forbidden' })]);
      // and the admin API still answers its own refusals as problems
      expectProblem(await admin('viewer', 'PUT', '/errors', { errors }), 403, 'forbidden');
    });

    it('a valid catalog changes the titles and details the gateway answers with', async () => {
      const { body: catalog } = await admin('viewer', 'GET', '/errors');
      const errors = {
        ...catalog.errors,
        insufficient_scope: { ...catalog.errors.insufficient_scope, title: 'Nope', detail: 'You may not ({missing}).' },
        not_found: { ...catalog.errors.not_found, detail: 'Nothing lives here.' },
      };
      const put = await admin('publisher', 'PUT', '/errors', { errors });
      expect(put.status).toBe(200);
      expect(put.body.hash).toMatch(/^[0-9a-f]{64}$/);
      const denied = await until('the new catalog to answer', async () => {
        const res = await fetch(route(`${path}?deny=1`));
        const body = (await res.json()) as Record<string, unknown>;
        return body.title === 'Nope' ? { status: res.status, body } : undefined;
      });
      expect(denied).toMatchObject({ status: 403, body: { title: 'Nope', detail: 'You may not ().' } });
      const missing = await fetch(route('/life/nowhere'));
      expect(((await missing.json()) as { detail: string }).detail).toBe('Nothing lives here.');
      expect((await admin('viewer', 'GET', '/errors')).body.errors.not_found.detail).toBe('Nothing lives here.');
    });
  });

  describe('ids that are names of Object.prototype members', () => {
    it('a workflow called "constructor" can be created and read; "toString" is not a workflow', async () => {
      const created = await admin('editor', 'POST', '/workflows', { document: stamped('constructor', '/life/ctor', 'c') });
      expect(created.status).toBe(201);
      expect((await admin('viewer', 'GET', '/workflows/constructor/versions')).body).toEqual({ active: null, versions: [] });
      expectProblem(await admin('viewer', 'GET', '/workflows/toString'), 404, 'not-found');
      expectProblem(await admin('viewer', 'GET', '/workflows/hasOwnProperty/versions'), 404, 'not-found');
      expectProblem(await admin('viewer', 'GET', '/workflows/valueOf/versions/1'), 404, 'not-found');
      expectProblem(await admin('publisher', 'POST', '/workflows/toString/publish'), 404, 'not-found');
    });
  });

  describe('the registry', () => {
    it('whenApplied resolves once this process serves a revision, not before', async () => {
      const { registry, lifecycle, store } = gw.sluice;
      const actor = { name: 'test', role: 'publisher' };
      await lifecycle.create(actor, stamped('applied', '/life/applied', 'a1'));
      await lifecycle.publish(actor, 'applied');
      const revision = (await store.state()).revision;
      await registry.whenApplied(revision);
      expect(registry.appliedRevision).toBeGreaterThanOrEqual(revision);
      expect(await stampOf(route('/life/applied'))).toBe('a1');
      await registry.whenApplied(1); // long applied: at once
    });
  });

  /** Polls until the route answers 200 with `header` (the registry swaps right after the store commits). */
  async function until200WithHeader(url: string, header: string): Promise<Response> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await fetch(url);
      if (res.status === 200 && res.headers.has(header)) return res;
      await res.arrayBuffer();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${header} on ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
});
