import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { SUMMARY_DIR } from './summary.ts';
import type { TestIssuer } from '../helpers/issuer.ts';
import { expectProblem } from '../helpers/workflow.ts';


/**
 * Counts a group's cases and, after the file, writes the count for the summary line. Every case
 * asserts an exact status and problem type; the group's afterAll asserts what must not change.
 */
export function adversarialGroup(group: string) {
  let cases = 0;
  afterAll(() => {
    mkdirSync(SUMMARY_DIR, { recursive: true });
    writeFileSync(join(SUMMARY_DIR, `${group}.json`), JSON.stringify({ group, cases }));
  });
  return {
    /** Asserts a hostile request's answer: the exact status and problem type (slug), and counts the case. */
    async refused(res: Response, status: number, slug: string, detail?: string | RegExp) {
      cases++;
      return expectProblem(res, status, slug, detail);
    },
    /** Counts a case asserted some other way (a raw socket answer, a refused admin call). */
    counted() {
      cases++;
    },
  };
}

/** `npm run test:soak` runs the same cases at this many times the volume (longer fuzzing, more sockets, more tokens). */
export const SOAK = process.env.SLUICE_SOAK === '1' ? 50 : 1;

/** What must be the same after hostile input: the versions served and the audit chain. */
export interface Snapshot {
  revision: number;
  active: Record<string, number | undefined>;
  auditOk: boolean;
}

export async function snapshotOf(gw: TestGateway): Promise<Snapshot> {
  const state = await gw.sluice.store.state();
  const verification = await gw.sluice.store.verifyAudit();
  return {
    revision: state.revision,
    active: Object.fromEntries([...state.workflows.values()].map((w) => [w.id, w.active])),
    auditOk: (verification as { ok: boolean }).ok,
  };
}

/**
 * A well-behaved partner calling all along, in the background: every one of its requests must
 * succeed, whatever the hostile requests beside it do. How long they take is the bench's to
 * measure (`npm run bench -- scale`), not a functional test's: `answeredAt` (performance.now()
 * when each answer was read) is for ordering against the hostile work, never for a bound.
 */
export function startBystander(gw: TestGateway, path: string, token: string, everyMs = 25) {
  const results: Array<{ status: number; answeredAt: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await gw.fetch(path, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      results.push({ status: res.status, answeredAt: performance.now() });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    results,
    /** How many bystander answers were read between `from` and `to` (performance.now() readings). */
    answeredBetween: (from: number, to: number) => results.filter((r) => r.answeredAt > from && r.answeredAt < to).length,
    /** Stops and asserts: at least one call, all 200. */
    async stopAndCheck() {
      running = false;
      await loop;
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
    },
  };
}

export async function bystanderToken(issuer: TestIssuer): Promise<string> {
  return issuer.sign({ sub: 'bystander', azp: 'bystander', scope: 'orders:read' });
}
