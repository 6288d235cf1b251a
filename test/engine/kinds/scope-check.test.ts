import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('scope-check', {
  minimal: { config: { all: ['orders:read'] }, parsed: { all: ['orders:read'], any: [] } },
  accepts: [
    ['any only', { any: ['a', 'b'] }],
  ],
  refuses: [
    ['no scopes', {}, ['all']],
    ['empty lists', { all: [], any: [] }, ['all']],
    ['a scope with a space', { all: ['orders read'] }, ['all.0']],
  ],
});

describe('scope-check', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createIssuer();
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    const guarded = (id: string, path: string, scopes: Record<string, string[]>, wired: boolean) =>
      workflow(
        id,
        { path },
        [verify, { id: 'scopes', kind: 'scope-check', config: scopes }, portNode('ok'), ...(wired ? [portNode('denied')] : [])],
        [['verify', 'ok', 'scopes'], ['scopes', 'ok', 'ok'], ...(wired ? ([['scopes', 'denied', 'denied']] as Array<[string, string, string]>) : [])],
      );
    gw = await startGateway([
      guarded('scopes-all', '/scopes/all', { all: ['orders:read', 'orders:write'] }, false),
      guarded('scopes-any', '/scopes/any', { any: ['orders:admin', 'orders:support'] }, false),
      guarded('scopes-both', '/scopes/both', { all: ['orders:read'], any: ['eu', 'us'] }, false),
      guarded('scopes-ports', '/scopes/ports', { all: ['orders:read'] }, true),
      // a denial handled by an error node still names the missing scope
      workflow(
        'scopes-error-node',
        { path: '/scopes/error-node' },
        [verify, { id: 'scopes', kind: 'scope-check', config: { all: ['orders:delete'] } }, portNode('ok'), { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } }],
        [['verify', 'ok', 'scopes'], ['scopes', 'ok', 'ok'], ['scopes', 'denied', 'deny']],
      ),
    ]);
  });
  afterAll(() => gw?.close());

  const call = async (path: string, claims: Record<string, unknown>) => gw.fetch(path, { headers: bearer(await issuer.sign(claims)) });

  it.each([
    { name: 'all granted (scope string)', path: '/scopes/all', claims: { scope: 'orders:write orders:read profile' } },
    { name: 'all granted (scp array)', path: '/scopes/all', claims: { scp: ['orders:read', 'orders:write'] } },
    { name: 'one of any', path: '/scopes/any', claims: { scope: 'orders:support' } },
    { name: 'all and one of any', path: '/scopes/both', claims: { scope: 'orders:read us' } },
  ])('takes ok with $name', async ({ path, claims }) => {
    await expectPort(await call(path, claims), 'ok');
  });

  it.each([
    { name: 'all: names only the missing scope', path: '/scopes/all', claims: { scope: 'orders:read' }, detail: 'orders:write', absent: 'orders:read' },
    { name: 'all: no scopes at all', path: '/scopes/all', claims: {}, detail: 'orders:read orders:write', absent: undefined },
    { name: 'all: a prefix is not the scope', path: '/scopes/all', claims: { scope: 'orders:rea orders:write' }, detail: 'orders:read', absent: 'orders:write' },
    { name: 'any: names the alternatives', path: '/scopes/any', claims: { scope: 'orders:read' }, detail: 'one of orders:admin, orders:support', absent: undefined },
    { name: 'both: any missing', path: '/scopes/both', claims: { scope: 'orders:read' }, detail: 'one of eu, us', absent: undefined },
    { name: 'both: all missing names it, not the alternatives', path: '/scopes/both', claims: { scope: 'profile' }, detail: 'orders:read', absent: 'one of' },
    { name: 'an error node keeps the detail', path: '/scopes/error-node', claims: { scope: 'orders:read' }, detail: 'orders:delete', absent: undefined },
  ])('unwired denied answers 403 insufficient-scope, $name', async ({ path, claims, detail, absent }) => {
    const problem = await expectProblem(await call(path, claims), 403, 'insufficient-scope', detail);
    // exactly the missing scopes, space-separated, in the catalog's sentence
    expect(problem.detail).toBe(`The token lacks the required scope: ${detail}.`);
    if (absent) expect(problem.detail).not.toContain(absent);
  });

  it('takes the wired denied port', async () => {
    await expectPort(await call('/scopes/ports', { scope: 'profile' }), 'denied');
    await expectPort(await call('/scopes/ports', { scope: 'orders:read' }), 'ok');
  });
});
