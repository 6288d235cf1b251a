import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdminTokens } from '../../../engine/admin/auth.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, expectProblem, passThrough, PEOPLE, ROLE_NAMES, stamped, startAdminGateway, until, untilStamp, type Admin, type RoleName } from './support.ts';

/*
 * Who may call what: every endpoint the API describes, called by every role, with a request that
 * would succeed; the roles that may call it get a 2xx, the others a 403 problem that the audit
 * log records. The expected table is written from the design (viewer reads; editor drafts;
 * publisher publishes, rolls back, deprecates; auditor reads everything and changes nothing;
 * admin does everything), not read back from the code.
 */

const ALL: readonly RoleName[] = ['viewer', 'editor', 'publisher', 'auditor', 'admin'];
const EDITORS: readonly RoleName[] = ['editor', 'publisher', 'admin'];
const PUBLISHERS: readonly RoleName[] = ['publisher', 'admin'];
const AUDITORS: readonly RoleName[] = ['auditor', 'admin'];

/** The trace of a request to /matrix, for the evidence of one trace. */
const MATRIX_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** Workflows made for the approval calls so far: each call gets a workflow of its own. */
let approvals = 0;

/**
 * A workflow `id` whose publish waits for approval: its draft (saved by the editor) removes the
 * guard's 403, and the second publisher asked, so the publisher and the admin may decide it.
 */
async function pendingApproval(admin: Admin, id: string): Promise<void> {
  expect((await admin('editor', 'POST', '/workflows', { document: stamped(id, `/${id}`, '1', { guard: true }) })).status).toBe(201);
  expect((await admin('publisher2', 'POST', `/workflows/${id}/publish`)).status).toBe(200);
  expect((await admin('editor', 'PUT', `/workflows/${id}/draft`, { document: stamped(id, `/${id}`, '2'), baseRevision: 1 })).status).toBe(200);
  expect((await admin('publisher2', 'POST', `/workflows/${id}/publish`)).status).toBe(202);
}

/** Each operation of the API: who may call it, and a call that succeeds for them. */
/** A workflow `id` at version 1 with a canary of version 2 running (made by the admin). */
async function withCanary(admin: Admin, id: string, start = true) {
  await admin('admin', 'POST', '/workflows', { document: stamped(id, `/${id}`, '1') });
  await admin('admin', 'POST', `/workflows/${id}/publish`);
  await admin('admin', 'PUT', `/workflows/${id}/draft`, { document: stamped(id, `/${id}`, '2'), baseRevision: 1 });
  if (start) await admin('admin', 'POST', `/workflows/${id}/canary`, { share: 10 });
}

const OPERATIONS: Record<string, { roles: readonly RoleName[]; call: (role: RoleName, admin: Admin) => Promise<Call> | Call }> = {
  'GET /admin/api/whoami': { roles: ALL, call: () => ({ method: 'GET', path: '/whoami' }) },
  'GET /admin/api/kinds': { roles: ALL, call: () => ({ method: 'GET', path: '/kinds' }) },
  'GET /admin/api/workflows': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows' }) },
  'POST /admin/api/workflows': { roles: EDITORS, call: (role) => ({ method: 'POST', path: '/workflows', body: { document: stamped(`made-by-${role}`, `/made/${role}`, 'm') } }) },
  'GET /admin/api/workflows/{id}': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix' }) },
  'PUT /admin/api/workflows/{id}/draft': {
    roles: EDITORS,
    call: async (role, admin) => {
      const { body } = await admin('admin', 'GET', '/workflows/matrix');
      return { method: 'PUT', path: '/workflows/matrix/draft', body: { document: stamped('matrix', '/matrix', `draft by ${role}`), baseRevision: body.draft.revision } };
    },
  },
  'POST /admin/api/workflows/{id}/validate': { roles: EDITORS, call: () => ({ method: 'POST', path: '/workflows/matrix/validate', body: {} }) },
  'POST /admin/api/workflows/{id}/publish': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/workflows/matrix/publish' }) },
  'GET /admin/api/workflows/{id}/approval': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/gated/approval' }) },
  'POST /admin/api/workflows/{id}/approval/approve': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      const id = `approve-${role}-${++approvals}`;
      await pendingApproval(admin, id);
      return { method: 'POST', path: `/workflows/${id}/approval/approve`, body: {} };
    },
  },
  'POST /admin/api/workflows/{id}/approval/refuse': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      const id = `refuse-${role}-${++approvals}`;
      await pendingApproval(admin, id);
      return { method: 'POST', path: `/workflows/${id}/approval/refuse`, body: { reason: 'roles' } };
    },
  },
  'POST /admin/api/workflows/{id}/rollback': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/workflows/matrix/rollback', body: { version: 1 } }) },
  'POST /admin/api/workflows/{id}/canary': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await withCanary(admin, `canary-${role}`, false);
      return { method: 'POST', path: `/workflows/canary-${role}/canary`, body: { share: 10, sticky: { by: 'random' } } };
    },
  },
  'GET /admin/api/workflows/{id}/canary': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/canary' }) },
  'POST /admin/api/workflows/{id}/canary/promote': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await withCanary(admin, `promote-${role}`);
      return { method: 'POST', path: `/workflows/promote-${role}/canary/promote` };
    },
  },
  'POST /admin/api/workflows/{id}/canary/abort': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await withCanary(admin, `abort-${role}`);
      return { method: 'POST', path: `/workflows/abort-${role}/canary/abort`, body: { reason: 'roles' } };
    },
  },
  'POST /admin/api/workflows/{id}/deprecate': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/workflows/matrix/deprecate', body: { version: 1, sunset: '2030-01-01T00:00:00Z' } }) },
  'POST /admin/api/workflows/{id}/retire': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/workflows/matrix/retire', body: { version: 2 } }) },
  'POST /admin/api/workflows/{id}/archive': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await admin('admin', 'POST', '/workflows', { document: stamped(`archive-${role}`, `/archive/${role}`, 'a') });
      return { method: 'POST', path: `/workflows/archive-${role}/archive`, body: { reason: 'roles' } };
    },
  },
  'POST /admin/api/workflows/{id}/restore': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await admin('admin', 'POST', '/workflows', { document: stamped(`restore-${role}`, `/restore/${role}`, 'r') });
      await admin('admin', 'POST', `/workflows/restore-${role}/archive`, {});
      return { method: 'POST', path: `/workflows/restore-${role}/restore` };
    },
  },
  'DELETE /admin/api/workflows/{id}': {
    roles: PUBLISHERS,
    call: async (role, admin) => {
      await admin('admin', 'POST', '/workflows', { document: stamped(`delete-${role}`, `/delete/${role}`, 'd') });
      return { method: 'DELETE', path: `/workflows/delete-${role}` };
    },
  },
  'GET /admin/api/workflows/{id}/versions': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/versions' }) },
  'GET /admin/api/workflows/{id}/versions/{n}': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/versions/1' }) },
  'GET /admin/api/workflows/{id}/diff': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/diff?from=1&to=2' }) },
  'GET /admin/api/fragments': { roles: ALL, call: () => ({ method: 'GET', path: '/fragments' }) },
  'POST /admin/api/fragments': { roles: EDITORS, call: (role) => ({ method: 'POST', path: '/fragments', body: { document: passThrough(`frag-by-${role}`) } }) },
  'GET /admin/api/fragments/{id}': { roles: ALL, call: () => ({ method: 'GET', path: '/fragments/mfrag' }) },
  'PUT /admin/api/fragments/{id}/draft': {
    roles: EDITORS,
    call: async (role, admin) => {
      const { body } = await admin('admin', 'GET', '/fragments/mfrag');
      return { method: 'PUT', path: '/fragments/mfrag/draft', body: { document: passThrough('mfrag', `"${role}" = "${role}"`), baseRevision: body.draft.revision } };
    },
  },
  'POST /admin/api/fragments/{id}/validate': { roles: EDITORS, call: () => ({ method: 'POST', path: '/fragments/mfrag/validate', body: {} }) },
  'POST /admin/api/fragments/{id}/publish': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/fragments/mfrag/publish', body: {} }) },
  'POST /admin/api/fragments/{id}/rollback': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/fragments/mfrag/rollback', body: { version: 1 } }) },
  'GET /admin/api/fragments/{id}/versions/{n}': { roles: ALL, call: () => ({ method: 'GET', path: '/fragments/mfrag/versions/1' }) },
  'GET /admin/api/errors': { roles: ALL, call: () => ({ method: 'GET', path: '/errors' }) },
  'PUT /admin/api/errors': {
    roles: PUBLISHERS,
    call: async (_role, admin) => ({ method: 'PUT', path: '/errors', body: (await admin('admin', 'GET', '/errors')).body }),
  },
  'GET /admin/api/rules': { roles: ALL, call: () => ({ method: 'GET', path: '/rules' }) },
  'PUT /admin/api/rules': { roles: ['admin'], call: () => ({ method: 'PUT', path: '/rules', body: { rules: [] } }) },
  'GET /admin/api/rules/violations': { roles: ALL, call: () => ({ method: 'GET', path: '/rules/violations' }) },
  'GET /admin/api/audit': { roles: AUDITORS, call: () => ({ method: 'GET', path: '/audit?limit=5' }) },
  'GET /admin/api/audit/verify': { roles: AUDITORS, call: () => ({ method: 'GET', path: '/audit/verify' }) },
  'GET /admin/api/status': { roles: ALL, call: () => ({ method: 'GET', path: '/status' }) },
  'POST /admin/api/simulate': { roles: EDITORS, call: () => ({ method: 'POST', path: '/simulate', body: { workflow: 'matrix', version: 'active', request: { method: 'GET', path: '/matrix' } } }) },
  'POST /admin/api/cache/purge': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/cache/purge', body: { name: 'matrix', prefix: '[["GET"' } }) },
  'POST /admin/api/expressions/evaluate': { roles: EDITORS, call: () => ({ method: 'POST', path: '/expressions/evaluate', body: { expression: 'request.path', request: { path: '/matrix' } } }) },
  'GET /admin/api/workflows/{id}/contract': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/contract?version=active' }) },
  'GET /admin/api/workflows/{id}/contract/diff': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/contract/diff?from=1&to=active' }) },
  'POST /admin/api/workflows/{id}/test': { roles: EDITORS, call: () => ({ method: 'POST', path: '/workflows/matrix/test', body: {} }) },
  'POST /admin/api/workflows/{id}/compare': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/workflows/matrix/compare', body: {} }) },
  'POST /admin/api/demo-token': { roles: EDITORS, call: () => ({ method: 'POST', path: '/demo-token', body: { sub: 'someone' } }) },
  'GET /admin/api/workflows/{id}/stats': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/stats?window=5m' }) },
  'GET /admin/api/workflows/{id}/live': { roles: ALL, call: () => ({ method: 'GET', path: '/workflows/matrix/live' }) },
  'GET /admin/api/cluster': { roles: ALL, call: () => ({ method: 'GET', path: '/cluster' }) },
  'GET /admin/api/partners': { roles: ALL, call: () => ({ method: 'GET', path: '/partners' }) },
  'POST /admin/api/partners': { roles: PUBLISHERS, call: (role) => ({ method: 'POST', path: '/partners', body: { id: `made-by-${role}`, name: role } }) },
  'GET /admin/api/partners/{id}': { roles: ALL, call: () => ({ method: 'GET', path: '/partners/mp' }) },
  'PUT /admin/api/partners/{id}': { roles: PUBLISHERS, call: () => ({ method: 'PUT', path: '/partners/mp', body: { name: 'Matrix partner', products: ['mx'], plan: 'mx-plan' } }) },
  'POST /admin/api/partners/{id}/suspend': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/partners/mp-status/suspend', body: { reason: 'test' } }) },
  'POST /admin/api/partners/{id}/reactivate': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/partners/mp-status/reactivate', body: {} }) },
  'POST /admin/api/partners/{id}/hmac-secrets': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/partners/mp/hmac-secrets', body: {} }) },
  'POST /admin/api/partners/{id}/hmac-secrets/{secret}/rotate': {
    roles: PUBLISHERS,
    call: async (_role, admin) => ({ method: 'POST', path: `/partners/mp/hmac-secrets/${(await admin('admin', 'POST', '/partners/mp/hmac-secrets', {})).body.id}/rotate`, body: { overlap: '1m' } }),
  },
  'POST /admin/api/partners/{id}/hmac-secrets/{secret}/revoke': {
    roles: PUBLISHERS,
    call: async (_role, admin) => ({ method: 'POST', path: `/partners/mp/hmac-secrets/${(await admin('admin', 'POST', '/partners/mp/hmac-secrets', {})).body.id}/revoke`, body: {} }),
  },
  'POST /admin/api/partners/{id}/keys': { roles: PUBLISHERS, call: () => ({ method: 'POST', path: '/partners/mp/keys', body: {} }) },
  'POST /admin/api/partners/{id}/keys/{key}/rotate': {
    roles: PUBLISHERS,
    call: async (_role, admin) => ({ method: 'POST', path: `/partners/mp/keys/${(await admin('admin', 'POST', '/partners/mp/keys', {})).body.id}/rotate`, body: { overlap: '1m' } }),
  },
  'POST /admin/api/partners/{id}/keys/{key}/revoke': {
    roles: PUBLISHERS,
    call: async (_role, admin) => ({ method: 'POST', path: `/partners/mp/keys/${(await admin('admin', 'POST', '/partners/mp/keys', {})).body.id}/revoke`, body: {} }),
  },
  'POST /admin/api/partners/{id}/certificates': { roles: PUBLISHERS, call: (role) => ({ method: 'POST', path: '/partners/mp/certificates', body: { match: 'subject', value: `cert-by-${role}` } }) },
  'POST /admin/api/partners/{id}/certificates/{certificate}/remove': {
    roles: PUBLISHERS,
    call: async (role, admin) => ({ method: 'POST', path: `/partners/mp/certificates/${(await admin('admin', 'POST', '/partners/mp/certificates', { match: 'subject', value: `removed-by-${role}` })).body.id}/remove`, body: {} }),
  },
  'GET /admin/api/partners/{id}/stats': { roles: ALL, call: () => ({ method: 'GET', path: '/partners/mp/stats?window=1m' }) },
  'GET /admin/api/products': { roles: ALL, call: () => ({ method: 'GET', path: '/products' }) },
  'PUT /admin/api/products/{id}': { roles: PUBLISHERS, call: () => ({ method: 'PUT', path: '/products/mx', body: { name: 'Matrix', workflows: ['matrix'] } }) },
  'GET /admin/api/plans': { roles: ALL, call: () => ({ method: 'GET', path: '/plans' }) },
  'GET /admin/api/evidence': { roles: AUDITORS, call: () => ({ method: 'GET', path: '/evidence?limit=10' }) },
  'GET /admin/api/evidence/aggregate': { roles: ALL, call: () => ({ method: 'GET', path: '/evidence/aggregate?by=workflow,outcome' }) },
  'GET /admin/api/evidence/traces/{traceId}': { roles: AUDITORS, call: () => ({ method: 'GET', path: `/evidence/traces/${MATRIX_TRACE}` }) },
  'GET /admin/api/evidence/export': { roles: AUDITORS, call: () => ({ method: 'GET', path: '/evidence/export?format=ndjson' }) },
  'PUT /admin/api/plans/{id}': { roles: PUBLISHERS, call: () => ({ method: 'PUT', path: '/plans/mx-plan', body: { name: 'Matrix plan', limits: { mx: { limit: 10, window: '1m' } } } }) },
};

describe('roles × endpoints', () => {
  let gw: TestGateway;
  let admin: Admin;
  let operations: string[];

  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_DEMO: 'on' } }); // the demo issuer, for POST /demo-token
    admin = adminOf(gw.url);
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('matrix', '/matrix', '1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/matrix/publish')).status).toBe(200);
    expect((await admin('editor', 'PUT', '/workflows/matrix/draft', { document: stamped('matrix', '/matrix', '2'), baseRevision: 1 })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/matrix/publish')).status).toBe(200);
    await pendingApproval(admin, 'gated');
    expect((await admin('editor', 'POST', '/fragments', { document: passThrough('mfrag') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/fragments/mfrag/publish')).status).toBe(200);
    expect((await admin('publisher', 'PUT', '/products/mx', { name: 'Matrix', workflows: ['matrix'] })).status).toBe(200);
    expect((await admin('publisher', 'PUT', '/plans/mx-plan', { name: 'Matrix plan' })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/partners', { id: 'mp', name: 'Matrix partner' })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/partners', { id: 'mp-status', name: 'Status partner' })).status).toBe(201);
    await (await fetch(`${gw.url}/matrix`, { headers: { traceparent: `00-${MATRIX_TRACE}-00f067aa0ba902b7-01` } })).arrayBuffer();
    await until('the request to /matrix in evidence', async () => ((await admin('admin', 'GET', `/evidence/traces/${MATRIX_TRACE}`)).status === 200 ? true : undefined));
    const openapi = (await (await fetch(`${gw.url}/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { description: string }>> };
    operations = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
  });
  afterAll(() => gw.close());

  it('the table above covers every operation the API describes, and the API documents the same roles', async () => {
    expect(operations.sort()).toEqual(Object.keys(OPERATIONS).sort());
    const openapi = (await (await fetch(`${gw.url}/admin/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { description: string }>> };
    for (const [operation, { roles }] of Object.entries(OPERATIONS)) {
      const [method, path] = operation.split(' ') as [string, string];
      expect(openapi.paths[path]![method.toLowerCase()]!.description, operation).toBe(`Roles: ${roles.join(', ')}.`);
    }
  });

  it.each(Object.keys(OPERATIONS))('%s: allowed roles get a 2xx, the others a 403 problem that is audited', async (operation) => {
    const { roles, call } = OPERATIONS[operation]!;
    for (const role of ROLE_NAMES) {
      const request = await call(role, admin);
      const before = (await admin('admin', 'GET', '/status')).body.revision as number;
      const answer = await admin(role, request.method, request.path, request.body);
      if (roles.includes(role)) {
        expect(answer.status, `${role} ${operation}: ${JSON.stringify(answer.body)}`).toBeGreaterThanOrEqual(200);
        expect(answer.status, `${role} ${operation}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
        continue;
      }
      const problem = expectProblem(answer, 403, 'forbidden');
      expect(problem.detail).toMatch(new RegExp(`^role ${role} may not `));
      const added = (await admin('admin', 'GET', `/audit?after=${before}`)).body.entries as Array<Record<string, unknown>>;
      expect(added, `${role} ${operation}`).toEqual([
        expect.objectContaining({ action: 'refused', actor: PEOPLE[role].name, role, detail: expect.stringContaining(`${request.method} /admin/api${request.path.split('?')[0]}`) }),
      ]);
      if (request.path.startsWith('/workflows/matrix')) expect(added[0]!.workflow).toBe('matrix');
    }
  });

  it.each(Object.keys(OPERATIONS))('%s: no token, a wrong token or another scheme is a 401 with a Bearer challenge, and not audited', async (operation) => {
    const request = await OPERATIONS[operation]!.call('admin', admin);
    const before = (await admin('admin', 'GET', '/status')).body.revision as number;
    const wrong = [{}, { authorization: 'Bearer not-a-token-of-this-gateway-0000' }, { authorization: `Bearer ${PEOPLE.admin.token}x` }, { authorization: `Basic ${Buffer.from(`ada:${PEOPLE.admin.token}`).toString('base64')}` }, { authorization: PEOPLE.admin.token }];
    for (const who of wrong) {
      const answer = await admin(who, request.method, request.path, request.body);
      expectProblem(answer, 401, 'unauthorized');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect((await admin('admin', 'GET', '/status')).body.revision).toBe(before);
  });

  it('whoami names the token holder and role', async () => {
    for (const person of Object.keys(PEOPLE) as Array<keyof typeof PEOPLE>)
      expect((await admin(person, 'GET', '/whoami')).body).toEqual({ name: PEOPLE[person].name, role: PEOPLE[person].role });
  });

  it('a forbidden change changes nothing', async () => {
    const before = (await admin('admin', 'GET', '/workflows/matrix')).body;
    for (const role of ['viewer', 'auditor', 'editor'] as const) {
      expectProblem(await admin(role, 'POST', '/workflows/matrix/rollback', { version: 1 }), 403, 'forbidden');
      expectProblem(await admin(role, 'POST', '/workflows/matrix/publish'), 403, 'forbidden');
    }
    expect((await admin('admin', 'GET', '/workflows/matrix')).body).toEqual(before);
  });
});

describe('four eyes (SLUICE_FOUR_EYES=1)', () => {
  let gw: TestGateway;
  let admin: Admin;

  beforeAll(async () => {
    gw = await startAdminGateway({ settings: { SLUICE_FOUR_EYES: '1' } });
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it('the publisher who last saved the draft is refused (403, audited); another publisher publishes it', async () => {
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('eyes', '/eyes', '1') })).status).toBe(201);
    expect((await admin('publisher', 'PUT', '/workflows/eyes/draft', { document: stamped('eyes', '/eyes', '2'), baseRevision: 1 })).status).toBe(200);

    const refused = expectProblem(await admin('publisher', 'POST', '/workflows/eyes/publish'), 403, 'forbidden');
    expect(refused.detail).toMatch(/four-eyes/);
    const last = (await admin('auditor', 'GET', '/audit')).body.entries.at(-1);
    expect(last).toMatchObject({ action: 'refused', actor: 'pia', role: 'publisher', workflow: 'eyes', detail: expect.stringMatching(/^workflow\.publish: four-eyes/) });
    expect((await admin('viewer', 'GET', '/workflows/eyes/versions')).body).toEqual({ active: null, versions: [] });

    const published = await admin('publisher2', 'POST', '/workflows/eyes/publish');
    expect(published.status).toBe(200);
    expect(published.body).toEqual({ version: 1, unchanged: false });
    await untilStamp(gw.url, '/eyes', '2');
  });

  it('a draft an editor saved can be published by any publisher; admins are held to the rule too', async () => {
    expect((await admin('editor', 'PUT', '/workflows/eyes/draft', { document: stamped('eyes', '/eyes', '3'), baseRevision: 2 })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/workflows/eyes/publish')).body).toEqual({ version: 2, unchanged: false });
    expect((await admin('admin', 'PUT', '/workflows/eyes/draft', { document: stamped('eyes', '/eyes', '4'), baseRevision: 3 })).status).toBe(200);
    expectProblem(await admin('admin', 'POST', '/workflows/eyes/publish'), 403, 'forbidden');
    expect((await admin('publisher2', 'POST', '/workflows/eyes/publish')).body).toEqual({ version: 3, unchanged: false });
    await untilStamp(gw.url, '/eyes', '4');
  });
});

describe('SLUICE_ADMIN_TOKENS', () => {
  const token = (n: number) => `token-${n}-0123456789abcdef`;

  it('reads name:role:token entries, a token may contain colons', () => {
    expect(parseAdminTokens(` ana:editor:${token(1)} , bo:admin:${token(2)}:x `)).toEqual([
      { name: 'ana', role: 'editor', token: token(1) },
      { name: 'bo', role: 'admin', token: `${token(2)}:x` },
    ]);
  });

  it.each([
    ['an unknown role', `ana:root:${token(1)}`, /role "root"/],
    ['a short token', 'ana:editor:short', /shorter than 16/],
    ['a missing token', 'ana:editor', /name:role:token/],
    ['one token for two identities', `ana:viewer:${token(1)},bo:admin:${token(1)}`, /ana and bo have the same token/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseAdminTokens(text)).toThrow(message);
  });
});
