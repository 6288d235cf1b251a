import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessGateway, type ProcessGateway } from '../../helpers/process-gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminCall } from '../admin/support.ts';
import { ADMIN_TOKENS, publish, stamped, stampOf, until } from './support.ts';

/*
 * A canary across two gateway processes sharing one Redis: both split the callers alike, the
 * counts of both add up, and an abort decided on the counts of both ends it on both.
 */

const redisUp = await sharedRedisAvailable();

/** Saves `document` as the draft of its workflow. */
async function saveDraft(url: string, document: { id: string }) {
  const { body } = await adminCall(url, 'editor', 'GET', `/workflows/${document.id}`);
  const saved = await adminCall(url, 'editor', 'PUT', `/workflows/${document.id}/draft`, { document, baseRevision: body.draft.revision });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
}

/** Waits until `replica` serves the store's revision. */
const applied = (replica: ProcessGateway) =>
  until(`${replica.url} to apply the revision`, async () => {
    const { body } = await adminCall(replica.url, 'viewer', 'GET', '/status');
    return body.appliedRevision === body.revision ? true : undefined;
  });

describe.runIf(redisUp)('a canary on two replicas sharing one Redis', () => {
  const prefix = testPrefix('canary');
  let a: ProcessGateway;
  let b: ProcessGateway;
  /** Answers /good with stamp "1" and anything else with a 503: what a broken new upstream does. */
  let upstream: Server;
  const proxied = (where: string) => ({ id: 'fails', name: 'Fails', route: { methods: ['GET'], path: '/fails' }, nodes: [{ id: 'call', kind: 'proxy', config: { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}${where}` } }], edges: [] });

  beforeAll(async () => {
    upstream = createServer((req, res) => (req.url?.startsWith('/good') ? res.writeHead(200, { 'content-type': 'application/json' }).end('{"stamp":"1"}') : res.writeHead(503).end()));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_CANARY_CHECK: '100ms' };
    [a, b] = await Promise.all([startProcessGateway({ env }), startProcessGateway({ env })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    upstream?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  }, 30_000);

  it('puts each caller on the same side on both, and counts both', async () => {
    await publish(a.url, stamped('both', '/both', '1'));
    await saveDraft(a.url, stamped('both', '/both', '2'));
    const started = await adminCall(a.url, 'publisher', 'POST', '/workflows/both/canary', { share: 40, sticky: { by: 'header', header: 'x-caller' } });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await applied(b);
    const sideOn = async (url: string, caller: number) => {
      const res = await fetch(`${url}/both`, { headers: { 'x-caller': `caller-${caller}` } });
      return ((await res.json()) as { stamp: string }).stamp;
    };
    const callers = Array.from({ length: 400 }, (_, i) => i);
    const onA = await Promise.all(callers.map((i) => sideOn(a.url, i)));
    const onB = await Promise.all(callers.map((i) => sideOn(b.url, i)));
    expect(onB).toEqual(onA);
    expect(new Set(onA)).toEqual(new Set(['1', '2']));
    const candidates = onA.filter((v) => v === '2').length;
    // both replicas' requests add up, on either
    for (const replica of [a, b])
      await until(`both replicas' counts on ${replica.url}`, async () => {
        const { body } = await adminCall(replica.url, 'viewer', 'GET', '/workflows/both/canary');
        return body.counted === 'replicas' && body.sides.active.requests === 2 * (400 - candidates) && body.sides.candidate.requests === 2 * candidates ? true : undefined;
      });
  }, 60_000);

  it('is aborted on both when the candidate fails on one of them, once, as system', async () => {
    // the candidate's upstream fails (the error contract is the same: the gate lets it through as a canary)
    await publish(a.url, proxied('/good'));
    await saveDraft(a.url, proxied('/broken'));
    const started = await adminCall(a.url, 'publisher', 'POST', '/workflows/fails/canary', { share: 50, sticky: { by: 'random' }, abort: { margin: 10, minSample: 40 } });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await applied(b);
    // only b's traffic shows the failure; the abort is decided on the sum, by whichever replica sees it first
    let ended = false;
    const seen: string[] = [];
    const load = (async () => {
      while (!ended) seen.push(await stampOf(b.url, '/fails'));
    })();
    await until('the abort', async () => ((await adminCall(a.url, 'viewer', 'GET', '/workflows/fails/canary')).body.canary === null ? true : undefined), 30_000);
    ended = true;
    await load;
    expect(seen).toContain('503');
    await applied(a);
    await applied(b);
    for (const replica of [a, b]) for (let i = 0; i < 30; i++) expect(await stampOf(replica.url, '/fails')).toBe('1');
    const audit = (await adminCall(a.url, 'auditor', 'GET', '/audit')).body.entries as Array<{ action: string; workflow?: string; actor: string }>;
    expect(audit.filter((e) => e.workflow === 'fails' && e.action === 'canary.abort').map((e) => e.actor)).toEqual(['system']);
  }, 60_000);
});
