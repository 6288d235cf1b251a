import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partOf } from '../../../engine/compile/canary-split.ts';
import { abortReason } from '../../../engine/canary/watch.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { adminOf, expectProblem, stamped, stampOf, startAdminGateway, until, type Admin } from '../admin/support.ts';

/*
 * Canaries over HTTP: a candidate version serving a share of the requests beside the active one,
 * sticky by header, partner or at random; promoted, aborted by hand, and aborted by the gateway
 * when the candidate answers errors, with every request answered meanwhile.
 */

/** A version that proxies to `${CANARY_UPSTREAM}<where>`: the same error contract whatever the upstream answers. */
const proxied = (id: string, path: string, where: string) => ({
  id, name: `Proxied ${id}`, route: { methods: ['GET'], path },
  nodes: [{ id: 'call', kind: 'proxy', config: { url: `\${CANARY_UPSTREAM}${where}`, timeout: '5s' } }], edges: [],
});

/** An upstream on 127.0.0.1: /good answers stamp "1" as `stamped` does, /broken a 500. */
async function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/good')) res.writeHead(200, { 'content-type': 'application/json', 'x-stamp': '1' }).end(JSON.stringify({ v: '1', again: '1' }));
    else res.writeHead(500, { 'content-type': 'text/plain' }).end('broken');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Sends `count` requests, `concurrency` at a time; `headersOf(i)` the headers of the i-th. Answers each one's stamp (or status), in order. */
async function send(url: string, count: number, concurrency: number, headersOf: (i: number) => Record<string, string> = () => ({})): Promise<string[]> {
  const stamps = Array.from<string>({ length: count });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const res = await fetch(url, { headers: headersOf(i) });
        const text = await res.text();
        stamps[i] = res.status === 200 ? (JSON.parse(text) as { v: string }).v : String(res.status);
      }
    }),
  );
  return stamps;
}

const shareOf = (stamps: string[], stamp: string) => (100 * stamps.filter((s) => s === stamp).length) / stamps.length;

describe('canaries', () => {
  let gw: TestGateway;
  let admin: Admin;
  let issuer: TestIssuer;
  let upstream: Server;

  async function saveDraft(id: string, document: unknown) {
    const { body } = await admin('editor', 'GET', `/workflows/${id}`);
    const saved = await admin('editor', 'PUT', `/workflows/${id}/draft`, { document, baseRevision: body.draft.revision });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }
  /** A workflow at version 1 (stamp "1") with a draft stamped "2". */
  async function twoVersions(id: string, path: string, second: unknown = stamped(id, path, '2')) {
    expect((await admin('editor', 'POST', '/workflows', { document: stamped(id, path, '1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', `/workflows/${id}/publish`)).body).toEqual({ version: 1, unchanged: false });
    await saveDraft(id, second);
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startAdminGateway({ settings: { SLUICE_CANARY_CHECK: '100ms' }, env: { CANARY_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } });
    admin = adminOf(gw.url);
    issuer = await createIssuer();
  });
  afterAll(async () => {
    await gw.close();
    upstream.close();
  });

  it('splits by a header: the share within 2 points over 4000 callers, each caller always on one side, the version in the request log', async () => {
    await twoVersions('split', '/canary/split');
    const started = await admin('publisher', 'POST', '/workflows/split/canary', { share: 20, sticky: { by: 'header', header: 'X-Caller' } });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body).toMatchObject({ started: true, canary: { version: 2, share: 20, sticky: { by: 'header', header: 'x-caller' }, abort: { margin: 5, minSample: 100 }, startedBy: 'pia' } });
    // the draft became version 2, and version 1 is still the active one
    expect((await admin('viewer', 'GET', '/workflows/split/versions')).body).toMatchObject({ active: 1, versions: [{ version: 1 }, { version: 2 }] });
    const canaryId = started.body.canary.id as string;

    const stamps = await send(`${gw.url}/canary/split`, 4000, 16, (i) => ({ 'x-caller': `caller-${i}` }));
    expect(new Set(stamps)).toEqual(new Set(['1', '2']));
    expect(Math.abs(shareOf(stamps, '2') - 20)).toBeLessThanOrEqual(2);
    // exactly the callers the hash puts under the share (the same on every replica)
    stamps.forEach((stamp, i) => expect(stamp, `caller-${i}`).toBe(partOf(canaryId, `caller-${i}`) < 2000 ? '2' : '1'));
    // one caller, many requests: always the same side
    const candidateCaller = stamps.findIndex((s) => s === '2');
    const activeCaller = stamps.findIndex((s) => s === '1');
    expect(new Set(await send(`${gw.url}/canary/split`, 50, 5, () => ({ 'x-caller': `caller-${candidateCaller}` })))).toEqual(new Set(['2']));
    expect(new Set(await send(`${gw.url}/canary/split`, 50, 5, () => ({ 'x-caller': `caller-${activeCaller}` })))).toEqual(new Set(['1']));
    // the request log names the version that answered
    const logged = gw.logs.filter((line) => line.workflow === 'split' && line.msg === 'request');
    expect(logged.filter((line) => line.version === 2).length).toBe(stamps.filter((s) => s === '2').length + 50);

    // both sides' counts, and a share changed in place (same canary, same split of callers)
    const view = await until('the counts', async () => {
      const { body } = await admin('viewer', 'GET', '/workflows/split/canary');
      return body.sides.active.requests + body.sides.candidate.requests >= 4100 ? body : undefined;
    });
    expect(view).toMatchObject({ active: 1, counted: 'process', canary: { id: canaryId, version: 2 }, sides: { active: { version: 1, bad: 0, badRate: 0 }, candidate: { version: 2, bad: 0, badRate: 0 } } });
    expect(view.sides.candidate.requests).toBe(stamps.filter((s) => s === '2').length + 50);
    const widened = await admin('publisher', 'POST', '/workflows/split/canary', { share: 60, sticky: { by: 'header', header: 'x-caller' } });
    expect(widened.body).toMatchObject({ started: false, canary: { id: canaryId, share: 60 } });
    // a change is answered once this gateway serves it
    const wider = await send(`${gw.url}/canary/split`, 1000, 16, (i) => ({ 'x-caller': `caller-${i}` }));
    wider.forEach((stamp, i) => expect(stamp, `caller-${i}`).toBe(partOf(canaryId, `caller-${i}`) < 6000 ? '2' : '1'));

    // promote: version 2 serves everything, the canary is gone, audited
    expect((await admin('publisher', 'POST', '/workflows/split/canary/promote')).body).toEqual({ active: 2, candidate: 2, outcome: 'promoted' });
    expect(new Set(await send(`${gw.url}/canary/split`, 200, 8, (i) => ({ 'x-caller': `caller-${i}` })))).toEqual(new Set(['2']));
    expect((await admin('viewer', 'GET', '/workflows/split/canary')).body).toMatchObject({ canary: null, active: 2, sides: null });
    const audit = (await admin('auditor', 'GET', '/audit')).body.entries as Array<{ action: string; workflow?: string; actor: string; detail?: string }>;
    expect(audit.filter((e) => e.workflow === 'split' && e.action.startsWith('canary.')).map((e) => [e.action, e.actor])).toEqual([
      ['canary.start', 'pia'],
      ['canary.update', 'pia'],
      ['canary.promote', 'pia'],
    ]);
  }, 120_000);

  it('splits at random: the share within 2 points over 5000 requests', async () => {
    await twoVersions('random', '/canary/random');
    expect((await admin('publisher', 'POST', '/workflows/random/canary', { share: 30, sticky: { by: 'random' } })).status).toBe(200);
    const stamps = await send(`${gw.url}/canary/random`, 5000, 16);
    // 5000 draws of 30%: 2 points is more than 3 standard deviations (0.65 points)
    expect(Math.abs(shareOf(stamps, '2') - 30)).toBeLessThanOrEqual(2);
    expect((await admin('publisher', 'POST', '/workflows/random/canary/abort', { reason: 'seen enough' })).body).toEqual({ active: 1, candidate: 2, outcome: 'aborted' });
    expect(new Set(await send(`${gw.url}/canary/random`, 200, 8))).toEqual(new Set(['1']));
    // the candidate stays in the versions list
    expect((await admin('viewer', 'GET', '/workflows/random/versions')).body).toMatchObject({ active: 1, versions: [{ version: 1 }, { version: 2 }] });
  }, 120_000);

  it('keeps a partner on one version whatever token it presents (the client id its tokens name), and splits the partners', async () => {
    const guarded = (stamp: string) => ({
      id: 'partners', name: 'Partners', route: { methods: ['GET'], path: '/canary/partners' },
      nodes: [
        { id: 'auth', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE, algorithms: ['RS256'] } },
        { id: 'answer', kind: 'respond', config: { status: 200, headers: { 'x-stamp': stamp }, body: { v: stamp, again: stamp } } },
      ],
      edges: [{ from: 'auth', port: 'ok', to: 'answer' }],
    });
    expect((await admin('editor', 'POST', '/workflows', { document: guarded('1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/partners/publish')).status).toBe(200);
    await saveDraft('partners', guarded('2'));
    expect((await admin('publisher', 'POST', '/workflows/partners/canary', { share: 50, sticky: { by: 'partner' } })).status).toBe(200);
    const sides = new Map<string, Set<string>>();
    for (let p = 0; p < 30; p++) {
      // each request its own token: another subject, another id, the same client id
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => issuer.sign({ azp: `partner-${p}`, sub: `user-${i}`, jti: `${p}-${i}` })));
      const stamps = await Promise.all(tokens.map((token) => fetch(`${gw.url}/canary/partners`, { headers: { authorization: `Bearer ${token}` } }).then(async (res) => ((await res.json()) as { v: string }).v)));
      sides.set(`partner-${p}`, new Set(stamps));
    }
    for (const [partner, seen] of sides) expect(seen.size, partner).toBe(1);
    const candidates = [...sides.values()].filter((seen) => seen.has('2')).length;
    expect(candidates).toBeGreaterThan(0);
    expect(candidates).toBeLessThan(30);
    // a forged token chooses a side, never access: the candidate verifies it and refuses
    const forged = `${(await issuer.sign({ azp: 'partner-0' })).split('.').slice(0, 2).join('.')}.AAAA`;
    expect((await fetch(`${gw.url}/canary/partners`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  }, 120_000);

  it('is aborted by the gateway when the candidate answers errors, as system, with every request answered meanwhile', async () => {
    // version 1 proxies to an upstream that answers, the candidate to one that fails: the same contract
    expect((await admin('editor', 'POST', '/workflows', { document: proxied('abort', '/canary/abort', '/good') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/abort/publish')).status).toBe(200);
    await saveDraft('abort', proxied('abort', '/canary/abort', '/broken'));
    const started = await admin('publisher', 'POST', '/workflows/abort/canary', { share: 50, sticky: { by: 'random' }, abort: { margin: 5, minSample: 50 } });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    // load until the canary is gone, then some more: every request gets an answer from one side or the other
    const answers: string[] = [];
    let failures = 0;
    let ended = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        let after = 0;
        while (after < 50) {
          try {
            answers.push(await stampOf(`${gw.url}/canary/abort`));
          } catch {
            failures += 1;
          }
          if (ended) after += 1;
        }
      }),
    );
    await until('the automatic abort', async () => ((await admin('viewer', 'GET', '/workflows/abort/canary')).body.canary === null ? true : undefined), 60_000);
    ended = true;
    await load;
    expect(failures).toBe(0);
    expect(new Set(answers)).toEqual(new Set(['1', '500']));
    // after it: the active version answers every request
    expect(new Set(await send(`${gw.url}/canary/abort`, 200, 8))).toEqual(new Set(['1']));
    const audit = (await admin('auditor', 'GET', '/audit')).body.entries as Array<{ action: string; workflow?: string; actor: string; version?: number; detail?: string }>;
    const abort = audit.find((e) => e.workflow === 'abort' && e.action === 'canary.abort');
    expect(abort).toMatchObject({ actor: 'system', version: 2, detail: expect.stringMatching(/^automatic: the candidate answered 100\.0% errors or problems \(\d+ of \d+\), the active version 0\.0% \(0 of \d+\): more than 5 points apart$/) });
  }, 120_000);

  it('refuses what a canary cannot be: an editor starting one, a publish while one runs, another route, the active version, nothing served', async () => {
    await twoVersions('rules', '/canary/rules');
    expectProblem(await admin('editor', 'POST', '/workflows/rules/canary', { share: 10 }), 403, 'forbidden');
    expectProblem(await admin('publisher', 'POST', '/workflows/rules/canary', { share: 0 }), 400, 'bad-request');
    expectProblem(await admin('publisher', 'POST', '/workflows/rules/canary', { share: 10, version: 1 }), 409, 'conflict');
    await saveDraft('rules', stamped('rules', '/canary/elsewhere', '2'));
    const moved = expectProblem(await admin('publisher', 'POST', '/workflows/rules/canary', { share: 10 }), 422, 'validation-failed');
    expect(moved.problems).toEqual([expect.objectContaining({ field: 'route', message: expect.stringContaining("a canary serves the active version's route (GET /canary/rules)") })]);
    // nothing was published by the refused start
    expect((await admin('viewer', 'GET', '/workflows/rules/versions')).body.versions).toHaveLength(1);
    await saveDraft('rules', stamped('rules', '/canary/rules', '2'));
    expect((await admin('publisher', 'POST', '/workflows/rules/canary', { share: 10 })).status).toBe(200);
    expectProblem(await admin('publisher', 'POST', '/workflows/rules/publish'), 409, 'conflict');
    expectProblem(await admin('publisher', 'POST', '/workflows/rules/canary', { share: 10, version: 1 }), 409, 'conflict');
    // a rollback ends the canary with it
    expect((await admin('publisher', 'POST', '/workflows/rules/rollback', { version: 1 })).status).toBe(200);
    expect((await admin('viewer', 'GET', '/workflows/rules/canary')).body.canary).toBeNull();
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('unserved', '/canary/unserved', '1') })).status).toBe(201);
    expectProblem(await admin('publisher', 'POST', '/workflows/unserved/canary', { share: 10 }), 409, 'conflict');
    // a candidate that takes an answer away goes through the contract gate, not around it
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('guarded', '/canary/guarded', '1', { guard: true }) })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/guarded/publish')).status).toBe(200);
    await saveDraft('guarded', stamped('guarded', '/canary/guarded', '2'));
    const around = expectProblem(await admin('publisher', 'POST', '/workflows/guarded/canary', { share: 10 }), 409, 'conflict');
    expect(around.detail).toMatch(/^the candidate removes .*403 .* at deny\.\w+ .*published through the contract gate/);
    expect((await admin('viewer', 'GET', '/workflows/guarded/versions')).body.versions).toHaveLength(1);
  });
});

describe('the abort rule', () => {
  const rule = { margin: 5, minSample: 100 };
  it('waits for the minimum sample on both sides, then aborts only past the margin', () => {
    expect(abortReason([99, 0, 1000, 1000], rule)).toBeUndefined(); // the active side is short of the sample
    expect(abortReason([1000, 0, 99, 99], rule)).toBeUndefined(); // the candidate side is
    expect(abortReason([100, 10, 100, 15], rule)).toBeUndefined(); // 15% against 10%: exactly the margin
    expect(abortReason([100, 10, 100, 16], rule)).toBe('automatic: the candidate answered 16.0% errors or problems (16 of 100), the active version 10.0% (10 of 100): more than 5 points apart');
    expect(abortReason([1000, 500, 100, 10], rule)).toBeUndefined(); // the candidate does better
  });
});
