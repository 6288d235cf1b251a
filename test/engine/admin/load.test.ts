import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { adminOf, stamped, startAdminGateway, untilApplied, type Admin } from './support.ts';

/*
 * Publishing under traffic: gateway requests run 20 at a time while 50 publishes and rollbacks
 * alternate through the admin API. Every answer must be a 200 carrying one version's stamp (body
 * twice and a header, so an answer mixing versions shows), and that version must have been the
 * active one at some moment while the request ran.
 *
 * A change's window: version X becomes active between the moment its change was sent and the
 * moment that change was acknowledged (the admin API acknowledges once this gateway serves it),
 * and stops being active between the next change's sending and acknowledgement. So an answer of
 * X is right when its request overlaps [sent of the change to X, ack of the next change].
 */

const CONCURRENCY = 20;
const MIN_REQUESTS = 2_000;
const CHANGES = 50;

interface Change {
  version: number;
  sentAt: number;
  ackAt: number;
}
interface Answer {
  startedAt: number;
  endedAt: number;
  status: number;
  stamp: string | undefined;
  mixed: string | undefined;
}

describe('publish and rollback under load', () => {
  let gw: TestGateway;
  let admin: Admin;
  const path = '/load/orders';

  beforeAll(async () => {
    gw = await startAdminGateway();
    admin = adminOf(gw.url);
  });
  afterAll(() => gw.close());

  it(`${MIN_REQUESTS}+ requests while ${CHANGES} publishes and rollbacks alternate: no failed, mixed or stale answer`, async () => {
    const changes: Change[] = [];
    let draftRevision = 1;
    let sentAt = performance.now();
    expect((await admin('editor', 'POST', '/workflows', { document: stamped('load', path, '1') })).status).toBe(201);
    expect((await admin('publisher', 'POST', '/workflows/load/publish')).body).toEqual({ version: 1, unchanged: false });
    changes.push({ version: 1, sentAt, ackAt: performance.now() });
    const published = [1];

    let adminDone = false;
    const adminLoop = (async () => {
      try {
        for (let i = 0; i < CHANGES; i++) {
          const active = changes.at(-1)!.version;
          if (i % 2 === 0) {
            const next = published.length + 1;
            const saved = await admin('editor', 'PUT', '/workflows/load/draft', { document: stamped('load', path, String(next)), baseRevision: draftRevision });
            expect(saved.status).toBe(200);
            draftRevision = saved.body.draft.revision;
            sentAt = performance.now();
            const answer = await admin('publisher', 'POST', '/workflows/load/publish');
            expect(answer.status, JSON.stringify(answer.body)).toBe(200);
            expect(answer.body).toEqual({ version: next, unchanged: false });
            changes.push({ version: next, sentAt, ackAt: performance.now() });
            published.push(next);
          } else {
            const candidates = published.filter((v) => v !== active);
            const target = candidates[(i * 7) % candidates.length]!;
            sentAt = performance.now();
            const answer = await admin('publisher', 'POST', '/workflows/load/rollback', { version: target });
            expect(answer.status, JSON.stringify(answer.body)).toBe(200);
            expect(answer.body).toEqual({ active: target, previous: active });
            changes.push({ version: target, sentAt, ackAt: performance.now() });
          }
        }
      } finally {
        adminDone = true;
      }
    })();

    const answers: Answer[] = [];
    const url = `${gw.url}${path}`;
    const worker = async () => {
      while (answers.length < MIN_REQUESTS || !adminDone) {
        const startedAt = performance.now();
        let status = 0;
        let stamp: string | undefined;
        let mixed: string | undefined;
        try {
          const res = await fetch(url);
          status = res.status;
          const text = await res.text();
          if (status === 200) {
            const body = JSON.parse(text) as { v: string; again: string };
            stamp = body.v;
            if (body.again !== body.v || res.headers.get('x-stamp') !== body.v) mixed = `${text} x-stamp=${res.headers.get('x-stamp')}`;
          } else mixed = text;
        } catch (error) {
          mixed = String(error);
        }
        answers.push({ startedAt, endedAt: performance.now(), status, stamp, mixed });
      }
    };
    await Promise.all([adminLoop, ...Array.from({ length: CONCURRENCY }, worker)]);

    expect(changes).toHaveLength(CHANGES + 1);
    expect(answers.length).toBeGreaterThanOrEqual(MIN_REQUESTS);
    const failed = answers.filter((a) => a.status !== 200);
    expect(failed.slice(0, 3), `${failed.length} failed answers`).toEqual([]);
    const mixed = answers.filter((a) => a.mixed !== undefined);
    expect(mixed.slice(0, 3), `${mixed.length} mixed answers`).toEqual([]);

    /** Was `version` active at some moment between start and end? */
    const activeDuring = (version: number, start: number, end: number) =>
      changes.some((change, i) => change.version === version && change.sentAt <= end && (changes[i + 1]?.ackAt ?? Number.POSITIVE_INFINITY) >= start);
    const stale = answers.filter((a) => !activeDuring(Number(a.stamp), a.startedAt, a.endedAt));
    expect(stale.slice(0, 3), `${stale.length} answers from a version not active during their request`).toEqual([]);

    // the changes really happened under traffic: many versions answered
    const seen = new Set(answers.map((a) => a.stamp));
    expect(seen.size).toBeGreaterThanOrEqual(10);

    const status = await untilApplied(admin);
    expect(status.workflows).toEqual([{ workflow: 'load', version: changes.at(-1)!.version, route: path, state: 'active' }]);
    const verify = await admin('auditor', 'GET', '/audit/verify');
    expect(verify.body).toMatchObject({ ok: true, entries: status.revision });
  }, 120_000); // a load test: on a busy 2-core machine its fixed amount of work takes longer than the default bound
});
