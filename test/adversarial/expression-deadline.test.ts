/**
 * Expressions cannot stall the gateway (issue defect 8): a catastrophic regex runs in linear
 * time, string-growing built-ins are bounded by what they build, and an evaluation stuck inside
 * one JSONata step (where JSONata's own timeout never looks) is stopped by its worker's deadline,
 * while a bystander partner on the compiled fast path keeps being answered. Before:
 * `/^([a-z]+)+$/` on 29 a's held the event loop ~20 s, `$pad("", 9e6, "ab")` 4.3 s, and a
 * `$distinct` of 50 000 items seconds, every other route waiting meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../helpers/issuer.ts';
import { adminCall, ADMIN_TOKENS, startAdminGateway } from '../engine/admin/support.ts';
import { startGateway, workflow, type NodeDoc } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('expression-deadline');

const REDOS = '$match(request.query.name, /^([a-z]+)+$/)';
/** 29 a's held a backtracking engine ~20 s; each one more doubles it: 45 would take days, far past the test's timeout. */
const EVIL_NAME = `${'a'.repeat(45)}!`;

const answer = (id: string, bodyExpression: string): NodeDoc => ({ id, kind: 'respond', config: { status: 200, bodyExpression } });

describe('expressions under a hard deadline', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let token: string;
  let before: Snapshot;

  beforeAll(async () => {
    issuer = await createIssuer();
    token = await bystanderToken(issuer);
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    gw = await startGateway(
      [
        workflow('bystander', { path: '/adv/bystander' }, [verify, answer('answer', '{ "partner": partner }')], [['verify', 'ok', 'answer']]),
        workflow(
          'redos',
          { path: '/adv/redos' },
          [{ id: 'check', kind: 'condition', config: { when: REDOS } }, answer('yes', '{ "matched": true }'), answer('no', '{ "matched": false }')],
          [
            ['check', 'true', 'yes'],
            ['check', 'false', 'no'],
          ],
        ),
        workflow('pad', { path: '/adv/pad' }, [answer('answer', '{ "n": $length($pad("", 9000000, "ab")) }')]),
        workflow('join', { path: '/adv/join' }, [answer('answer', '($s := $pad("", 100000, "x"); { "n": $length($join([1..1000].($s), ",")) })')]),
        // one step, O(n²) inside JSONata's $distinct: its own timeout never gets a look in
        workflow('distinct', { path: '/adv/distinct', methods: ['POST'] }, [answer('answer', '{ "n": $count($distinct(request.body)) }')]),
      ],
      { settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } },
    );
    before = await snapshotOf(gw);
  });

  afterAll(async () => {
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
  });

  /**
   * Runs `hostile` while a bystander calls every 10 ms; every bystander call answers 200. Returns
   * how many bystander answers were read while `hostile` ran (its latency is the bench's to measure).
   */
  async function besideBystander(hostile: () => Promise<void>): Promise<number> {
    const bystander = startBystander(gw, '/adv/bystander', token, 10);
    await vi.waitFor(() => expect(bystander.results.length).toBeGreaterThan(0), { timeout: 15_000 }); // it is being served before the hostile work starts
    const started = performance.now();
    try {
      await hostile();
    } finally {
      await bystander.stopAndCheck();
    }
    return bystander.answeredBetween(started, performance.now());
  }

  it('a catastrophic regex runs in linear time: the condition answers (a backtracking engine would take days), the bystander is served', async () => {
    // warm: the first expression off the fast path may wait for its worker to start
    await (await gw.fetch('/adv/redos?name=abc')).arrayBuffer();
    await besideBystander(async () => {
      const res = await gw.fetch(`/adv/redos?name=${EVIL_NAME}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ matched: false });
    });
    const ok = await gw.fetch('/adv/redos?name=abc');
    expect(await ok.json()).toEqual({ matched: true });
    group.counted();
  }, 60_000);

  it('$pad("", 9e6, "ab") is refused before it builds: 500 expression-failed (built, it would answer 200 with its length)', async () => {
    await besideBystander(async () => {
      await group.refused(await gw.fetch('/adv/pad'), 500, 'expression-failed');
    });
  }, 60_000);

  it('$join of a thousand references to one 100 000-character string is refused before it builds', async () => {
    await group.refused(await gw.fetch('/adv/join'), 500, 'expression-failed');
  }, 60_000);

  it('20 concurrent $pad bombs: each 500 expression-failed, every bystander call served', async () => {
    await besideBystander(async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => gw.fetch('/adv/pad')));
      for (const res of answers) await group.refused(res, 500, 'expression-failed');
    });
  }, 60_000);

  it('one JSONata step that runs for seconds ($distinct of 50 000 items) is stopped by the worker deadline, off the event loop', async () => {
    const body = JSON.stringify(Array.from({ length: 50_000 }, (_, i) => i));
    // run to its end, it would answer 200 {"n": 50000}: the 500 is the deadline at work
    const served = await besideBystander(async () => {
      const answers = await Promise.all(Array.from({ length: 3 }, () => gw.fetch('/adv/distinct', { method: 'POST', headers: { 'content-type': 'application/json' }, body })));
      for (const res of answers) await group.refused(res, 500, 'expression-failed');
    });
    // the evaluations ran in workers: the bystander, in this process, was answered while they ran
    expect(served).toBeGreaterThan(0);
    // the stopped workers were replaced: a small input still gets its answer
    const res = await gw.fetch('/adv/distinct', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1, 2, 2, 3]' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 3 });
  }, 60_000);

  it('a preview of the same stall is stopped the same way: simulate answers with the 500', async () => {
    const document = workflow('preview', { path: '/adv/preview', methods: ['POST'] }, [answer('answer', '{ "n": $count($distinct(request.body)) }')]);
    const simulated = await adminCall(gw.url, 'admin', 'POST', '/simulate', { document, request: { method: 'POST', path: '/adv/preview', headers: { 'content-type': 'application/json' }, body: Array.from({ length: 50_000 }, (_, i) => i) } });
    expect(simulated.status, JSON.stringify(simulated.body).slice(0, 300)).toBe(200);
    expect(simulated.body.response).toMatchObject({ status: 500 });
    before = { ...before, revision: before.revision + 1 }; // who simulated is audited: one entry more, nothing else
    group.counted();
  }, 60_000);
});

describe('regexes at publish', () => {
  let admin: TestGateway;
  beforeAll(async () => {
    admin = await startAdminGateway();
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('a regex only a backtracking engine can run is refused at publish, naming the node and field', async () => {
    const document = workflow('backref', { path: '/adv/backref' }, [{ id: 'check', kind: 'condition', config: { when: '$match(request.query.name, /^(a+)\\1$/)' } }, answer('yes', '1'), answer('no', '0')], [
      ['check', 'true', 'yes'],
      ['check', 'false', 'no'],
    ]);
    const created = await adminCall(admin.url, 'admin', 'POST', '/workflows', { document });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const published = await adminCall(admin.url, 'admin', 'POST', '/workflows/backref/publish');
    expect(published.status, JSON.stringify(published.body)).toBe(422);
    expect(published.body.type).toMatch(/\/validation-failed$/);
    expect(published.body.problems).toContainEqual(expect.objectContaining({ node: 'check', field: 'config.when', message: expect.stringMatching(/backreferences/) }));
    expect(admin.sluice.registry.active.has('backref')).toBe(false);
    group.counted();
  });
});
