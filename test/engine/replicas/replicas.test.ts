import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessGateway, type ProcessGateway } from '../../helpers/process-gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminCall } from '../admin/support.ts';
import { ACME_KEY, ADMIN_TOKENS, awayFromMinuteBoundary, limited, percentile, publish, stamped, stampOf, until } from './support.ts';

/*
 * Three gateway processes (`sluice serve`, as a user starts it) sharing the Redis at
 * 127.0.0.1:6379 under a key prefix of this run: reloads reach every replica, the cluster view
 * lists them, and a rate limit holds across them.
 */

const redisUp = await sharedRedisAvailable();

describe.runIf(redisUp)('three replicas sharing one Redis', () => {
  const prefix = testPrefix('replicas');
  const replicas: ProcessGateway[] = [];
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    // A rate-limit check waits up to 1 s here (100 ms by default): on a loaded test machine a slow answer
    // would be decided by onStoreDown, and this file checks counting, not Redis faults (redis-down.test.ts does).
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_RATE_LIMIT_TIMEOUT_MS: '1000' };
    replicas.push(...(await Promise.all([0, 1, 2].map(() => startProcessGateway({ env })))));
  }, 90_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    redis?.disconnect();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  }, 30_000);

  it('each of 50 versions published on one replica is served by the other two (how soon is printed: a speed claim, not asserted here)', async () => {
    const [a, ...others] = replicas as [ProcessGateway, ProcessGateway, ProcessGateway];
    await publish(a.url, stamped('stamp', '/stamp', 'start'));
    for (const r of others) await until('the first version everywhere', async () => ((await stampOf(r.url, '/stamp')) === 'start' ? true : undefined));
    const delays: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const stamp = `publish ${i}`;
      await publish(a.url, stamped('stamp', '/stamp', stamp));
      // The publish call returns once replica a serves the version: from there, how long until the others do.
      const published = performance.now();
      await Promise.all(
        others.map(async (r) => {
          await until(`${stamp} on ${r.url}`, async () => ((await stampOf(r.url, '/stamp')) === stamp ? true : undefined), 15_000, 2);
          delays.push(performance.now() - published);
        }),
      );
    }
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    console.log(`publish -> served on the other two replicas, ${delays.length} observations: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms`);
    expect(delays).toHaveLength(100);
    // each of them applied the last revision: their own account agrees with what they serve
    const revision = (await adminCall(a.url, 'viewer', 'GET', '/status')).body.revision as number;
    for (const r of others) expect((await adminCall(r.url, 'viewer', 'GET', '/status')).body.appliedRevision).toBe(revision);
  }, 120_000);

  it('a fragment published on one replica reaches the workflows following it on the others', async () => {
    const [a, ...others] = replicas as [ProcessGateway, ProcessGateway, ProcessGateway];
    const gate = (when: string) => ({
      id: 'gate',
      name: 'Gate',
      exits: [{ name: 'ok' }],
      nodes: [
        { id: 'check', kind: 'condition', config: { when } },
        { id: 'shut', kind: 'respond', config: { status: 200, body: { stamp: 'shut' } } },
      ],
      edges: [
        { from: 'check', port: 'true', to: 'shut' },
        { from: 'check', port: 'false', to: 'ok' },
      ],
    });
    expect((await adminCall(a.url, 'editor', 'POST', '/fragments', { document: gate('false') })).status).toBe(201);
    expect((await adminCall(a.url, 'publisher', 'POST', '/fragments/gate/publish')).status).toBe(200);
    const open = stamped('gated', '/gated', 'open');
    const gated = { ...open, nodes: [{ id: 'gate', kind: 'subflow', config: { fragment: 'gate', exits: ['ok'] } }, ...open.nodes], edges: [{ from: 'gate', port: 'ok', to: 'answer' }] };
    await publish(a.url, gated);
    for (const r of replicas) await until(`the gated workflow on ${r.url}`, async () => ((await stampOf(r.url, '/gated')) === 'open' ? true : undefined));
    const view = await adminCall(a.url, 'viewer', 'GET', '/fragments/gate');
    const saved = await adminCall(a.url, 'editor', 'PUT', '/fragments/gate/draft', { document: gate('true'), baseRevision: view.body.draft.revision });
    expect(saved.status).toBe(200);
    expect((await adminCall(a.url, 'publisher', 'POST', '/fragments/gate/publish')).body).toMatchObject({ version: 2, checked: [{ workflow: 'gated', version: 1, tests: 0 }] });
    // acknowledged once replica a serves it; the others follow through the store's change notice
    expect(await stampOf(a.url, '/gated')).toBe('shut');
    for (const r of others) await until(`fragment version 2 on ${r.url}`, async () => ((await stampOf(r.url, '/gated')) === 'shut' ? true : undefined));
  });

  it('status shows the revision and versions a replica serves; the cluster view lists every live replica', async () => {
    const revision = (await adminCall(replicas[0]!.url, 'viewer', 'GET', '/status')).body.revision as number;
    for (const r of replicas) await until('every replica at the revision', async () => ((await adminCall(r.url, 'viewer', 'GET', '/status')).body.appliedRevision === revision ? true : undefined));
    const status = await adminCall(replicas[1]!.url, 'viewer', 'GET', '/status');
    expect(status.body).toMatchObject({ store: 'redis', revision, appliedRevision: revision, pid: replicas[1]!.pid, replica: expect.stringContaining(`-${replicas[1]!.pid}-`), rateLimits: { store: 'redis', state: 'up' } });
    expect(status.body.workflows).toContainEqual(expect.objectContaining({ workflow: 'stamp', state: 'active' }));

    const cluster = await until('three replicas in the cluster view, none lagging', async () => {
      const answer = await adminCall(replicas[2]!.url, 'viewer', 'GET', '/cluster');
      return answer.body.replicas.length === 3 && answer.body.lagging === 0 ? answer.body : undefined;
    });
    expect(cluster.store).toBe('redis');
    expect(cluster.replicas.map((r: { pid: number }) => r.pid).sort()).toEqual(replicas.map((r) => r.pid).sort());
    for (const view of cluster.replicas) {
      expect(view).toMatchObject({ appliedRevision: revision, behind: 0, lagging: false });
      expect(view.lastSeenMs).toBeGreaterThanOrEqual(0); // listed at all: seen within the heartbeat expiry, on Redis's clock
      expect(view.serving).toContainEqual(expect.objectContaining({ workflow: 'stamp' }));
    }
    expect(cluster.replicas.filter((v: { self: boolean }) => v.self).map((v: { pid: number }) => v.pid)).toEqual([replicas[2]!.pid]);
  }, 30_000);

  it('a replica whose Redis connections are killed while a version is published converges after it reconnects', async () => {
    const [a, b] = replicas as [ProcessGateway, ProcessGateway];
    const clients = (await redis.client('LIST')) as string;
    const ofB = clients.split('\n').filter((line) => line.includes(`name=sluice-store-${b.pid} `) || line.includes(`name=sluice-changes-${b.pid} `));
    expect(ofB).toHaveLength(2);
    // Kill them over and over while the version is published, so its announcement finds b disconnected.
    let killing = true;
    const killer = (async () => {
      while (killing) {
        for (const name of [`sluice-store-${b.pid}`, `sluice-changes-${b.pid}`]) {
          const list = (await redis.client('LIST')) as string;
          for (const line of list.split('\n').filter((l) => l.includes(`name=${name} `))) await redis.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]!);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publish(a.url, stamped('stamp', '/stamp', 'while b was cut off'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    killing = false;
    await killer;
    const stoppedKilling = performance.now();
    await until('b to serve the version published while it was cut off', async () => ((await stampOf(b.url, '/stamp')) === 'while b was cut off' ? true : undefined), 10_000);
    console.log(`replica with killed Redis connections served the new version ${(performance.now() - stoppedKilling).toFixed(0)} ms after the kills stopped`);
  }, 60_000);

  it('limit 100/min for partner acme across three replicas lets exactly 100 through under concurrent load', async () => {
    await publish(replicas[0]!.url, limited('acme-limit', '/acme', 100, 'deny'));
    for (const r of replicas) await until('the limited route everywhere', async () => ((await fetch(`${r.url}/acme`)).status === 401 ? true : undefined));
    await awayFromMinuteBoundary();
    const statuses: number[] = [];
    // 300 requests, 100 to each replica, 20 in flight per replica at a time.
    await Promise.all(
      replicas.flatMap((r) =>
        Array.from({ length: 20 }, async (_, worker) => {
          for (let i = worker; i < 100; i += 20) {
            const res = await fetch(`${r.url}/acme`, { headers: { 'x-api-key': ACME_KEY } });
            await res.arrayBuffer();
            statuses.push(res.status);
          }
        }),
      ),
    );
    const counts = { ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length };
    const other = statuses.filter((s) => s !== 200 && s !== 429);
    console.log(`rate limit 100/min across 3 replicas, 300 concurrent requests: ${counts.ok} allowed, ${counts.limited} refused${other.length ? `, other statuses: ${other.join(', ')}` : ''}`);
    expect(counts).toEqual({ ok: 100, limited: 200 });
  }, 60_000);
});
