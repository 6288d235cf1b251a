import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString } from '../../engine/kinds/hmac-verify.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { expectProblem, startGateway, workflow, type NodeDoc } from '../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, type Admin } from './admin/support.ts';
import { FAILING_EXPRESSIONS } from './kinds/fixtures.ts';

/*
 * Ports and catalog errors that the behaviour-derived coverage check (test/coverage) found reached
 * by no test over HTTP, each answered here through a real gateway as a client sees it.
 */

/** The Signature header a partner sends for one request (as test/engine/kinds/hmac-verify.test.ts signs). */
function sign(key: { id: string; secret: string }, method: string, pathWithQuery: string, body = ''): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', key.secret).update(canonicalString(method, pathWithQuery, ts, Buffer.from(body))).digest('hex');
  return { signature: `keyId=${key.id},ts=${ts},sig=${sig}`, 'content-type': 'application/json' };
}

describe('hmac-verify with its partner ports unwired: the catalog errors they default to', () => {
  let gw: TestGateway;
  let admin: Admin;
  const keys: Record<string, { id: string; secret: string }> = {};

  beforeAll(async () => {
    gw = await startGateway(
      [workflow('gap-sig', { path: '/gap/sig', methods: ['POST'] }, [{ id: 'sig', kind: 'hmac-verify' }, { id: 'who', kind: 'respond', config: { bodyExpression: '{ "partner": partner }' } }], [['sig', 'ok', 'who']])],
      { demo: false, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } },
    );
    admin = adminOf(gw.url);
    expect((await admin('publisher', 'PUT', '/products/gap-hooks', { name: 'gap hooks', workflows: ['gap-sig'] })).status).toBe(200);
    for (const [id, products] of [['acme', ['gap-hooks']], ['globex', ['gap-hooks']], ['initech', []]] as const) {
      expect((await admin('publisher', 'POST', '/partners', { id, name: id, products })).status).toBe(201);
      const created = await admin('publisher', 'POST', `/partners/${id}/hmac-secrets`, {});
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      keys[id] = { id: created.body.id as string, secret: created.body.secret as string };
    }
    expect((await admin('publisher', 'POST', '/partners/globex/suspend', {})).status).toBe(200);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
  });
  afterAll(() => gw?.close());

  it('a subscribed partner is served, naming it', async () => {
    const res = await gw.fetch('/gap/sig', { method: 'POST', body: '{}', headers: sign(keys.acme!, 'POST', '/gap/sig', '{}') });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partner: 'acme' });
  });

  it('a suspended partner with a valid signature: 403 partner-suspended, naming the partner', async () => {
    const problem = await expectProblem(await gw.fetch('/gap/sig', { method: 'POST', body: '{}', headers: sign(keys.globex!, 'POST', '/gap/sig', '{}') }), 403, 'partner-suspended');
    expect(problem.detail).toContain('globex');
  });

  it('a partner subscribed to no product that includes the workflow: 403 product-not-subscribed', async () => {
    const problem = await expectProblem(await gw.fetch('/gap/sig', { method: 'POST', body: '{}', headers: sign(keys.initech!, 'POST', '/gap/sig', '{}') }), 403, 'product-not-subscribed');
    expect(problem.detail).toContain('initech');
  });
});

describe('http-call whose expressions fail at run time: 500 expression-failed, and the side service is never called', () => {
  let gw: TestGateway;
  let side: TestUpstream;
  const call = (config: Record<string, unknown>): NodeDoc => ({ id: 'call', kind: 'http-call', config: { name: 'profile', url: '${SIDE}/profiles', ...config } });
  const answer: NodeDoc = { id: 'answer', kind: 'respond', config: { bodyExpression: '{ "status": vars.profile.status }' } };
  const FIELDS = ['query', 'headers', 'body'] as const;

  beforeAll(async () => {
    side = await startUpstream();
    gw = await startGateway(
      [
        workflow('gap-call-ok', { path: '/gap/call/ok' }, [call({ query: '{ "user": "7" }' }), answer], [['call', 'ok', 'answer']]),
        ...FIELDS.flatMap((field) =>
          FAILING_EXPRESSIONS.map((f, i) => workflow(`gap-call-${field}-${i}`, { path: `/gap/call/${field}/${i}`, methods: ['POST'] }, [call({ method: 'POST', [field]: f.source }), answer], [['call', 'ok', 'answer']])),
        ),
      ],
      { env: { SIDE: side.url }, settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1' } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await side?.close();
  });

  it('the same node with an expression that holds calls the side service', async () => {
    const res = await gw.fetch('/gap/call/ok');
    expect(await res.json()).toEqual({ status: 200 });
    expect(side.received.at(-1)).toMatchObject({ method: 'GET', url: '/profiles?user=7' });
  });

  it.each(FIELDS.flatMap((field) => FAILING_EXPRESSIONS.map((f, i) => ({ field, i, name: f.name }))))('$field failing with $name', async ({ field, i }) => {
    const before = side.received.length;
    const problem = await expectProblem(await gw.fetch(`/gap/call/${field}/${i}`, { method: 'POST' }), 500, 'expression-failed');
    expect(problem.detail).not.toContain('boom'); // the expression's own words stay in the log
    expect(side.received.length).toBe(before);
  });
});
