import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLifecycle } from '../../../engine/admin/commands/workflows.ts';
import { openRedisStore, type RedisStore } from '../../../engine/store/redis-store.ts';
import { startProcessGateway, type ProcessGateway } from '../../helpers/process-gateway.ts';
import { startOwnedRedis, type OwnedRedis } from '../../helpers/redis.ts';
import { adminCall } from '../admin/support.ts';
import { ACME_KEY, ADMIN_TOKENS, limited, percentile, publish, stamped, stampOf, until } from './support.ts';

/*
 * Redis faults, on a redis-server this test starts itself on a free port (never the shared one):
 * stopped, every rate-limit node decides by its onStoreDown choice without waiting on Redis, the
 * gateway keeps serving what it applied, and when Redis comes back everything recovers with
 * nothing lost from the store. Also: a restart between a commit and its announcement.
 */

const LOCAL_LIMIT = 30;

describe('three replicas when their Redis stops and comes back', () => {
  let redis: OwnedRedis;
  const replicas: ProcessGateway[] = [];
  const withKey = { headers: { 'x-api-key': ACME_KEY } };

  beforeAll(async () => {
    redis = await startOwnedRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: 'down', SLUICE_ADMIN_TOKENS: ADMIN_TOKENS };
    replicas.push(...(await Promise.all([0, 1, 2].map(() => startProcessGateway({ env })))));
    const a = replicas[0]!.url;
    await publish(a, limited('allow', '/allow', 1_000, 'allow'));
    await publish(a, limited('deny', '/deny', 1_000, 'deny'));
    await publish(a, limited('local', '/local', LOCAL_LIMIT, 'local'));
    await publish(a, stamped('stamp', '/stamp', 'before'));
    for (const r of replicas) await until('every route on every replica', async () => ((await stampOf(r.url, '/stamp')) === 'before' && (await fetch(`${r.url}/local`, withKey)).status === 200 ? true : undefined));
    // Every replica counts three live replicas (each sees the others' heartbeats), so `local` allows 30 / 3 each.
    for (const r of replicas) await until('three live replicas, seen by each', async () => ((await adminCall(r.url, 'viewer', 'GET', '/cluster')).body.replicas.length === 3 ? true : undefined));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await redis?.close();
  }, 30_000);

  it('allow lets traffic through, deny answers 503 problem+json, local limits at limit / replicas, each decided by the choice without Redis; all recovers with nothing lost', async () => {
    const a = replicas[0]!.url;
    const before = await adminCall(a, 'auditor', 'GET', '/status');
    const auditBefore = await adminCall(a, 'auditor', 'GET', '/audit/verify');
    expect(auditBefore.body.ok).toBe(true);

    await redis.stop();
    for (const r of replicas) await until('deny to refuse on every replica', async () => ((await fetch(`${r.url}/deny`, withKey)).status === 503 ? true : undefined));

    // 100 rounds over the three replicas, allow and deny alternating: every one decided by its choice, none
    // waiting on Redis (each replica's own count of those decisions grows by exactly the requests it was sent).
    // How long they take is printed, not asserted: a speed claim is the bench's.
    const decisionsOf = async (r: ProcessGateway) => (await adminCall(r.url, 'viewer', 'GET', '/status')).body.rateLimits.storeDownDecisions as Record<'allow' | 'deny' | 'local', number>;
    const decisionsBefore = await Promise.all(replicas.map(decisionsOf));
    const latencies: number[] = [];
    const statuses = { allow: new Set<number>(), deny: new Set<number>() };
    const sent = replicas.map(() => ({ allow: 0, deny: 0 }));
    let denied: Response | undefined;
    for (let i = 0; i < 100; i++) {
      const r = replicas[i % 3]!;
      for (const path of ['allow', 'deny'] as const) {
        const started = performance.now();
        const res = await fetch(`${r.url}/${path}`, withKey);
        const text = await res.text();
        latencies.push(performance.now() - started);
        statuses[path].add(res.status);
        sent[i % 3]![path] += 1;
        if (path === 'deny') denied = new Response(text, { status: res.status, headers: res.headers });
      }
    }
    console.log(`while Redis is down: ${latencies.length} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
    const decisionsAfter = await Promise.all(replicas.map(decisionsOf));
    expect(decisionsAfter.map((d, i) => ({ allow: d.allow - decisionsBefore[i]!.allow, deny: d.deny - decisionsBefore[i]!.deny }))).toEqual(sent);
    expect([...statuses.allow]).toEqual([200]);
    expect([...statuses.deny]).toEqual([503]);
    expect(denied!.headers.get('content-type')).toBe('application/problem+json');
    expect(await denied!.json()).toMatchObject({ status: 503, type: 'https://problems.sluice.example/rate-limit-unavailable', title: 'Service Unavailable' });

    // local: each replica counts on its own, at 30 / 3 live replicas = 10.
    const local = [];
    for (let i = 0; i < 15; i++) local.push((await fetch(`${replicas[1]!.url}/local`, withKey)).status);
    expect(local).toEqual([...Array(10).fill(200), ...Array(5).fill(429)]);

    // The choices show in the request log lines and in the counters of the status endpoint.
    const logged = new Set(replicas.flatMap((r) => r.logs.filter((l) => l.msg === 'request' && l.rateLimitStoreDown).map((l) => `${String(l.workflow)}:${String(l.rateLimitStoreDown)}`)));
    expect(logged).toEqual(new Set(['allow:allow', 'deny:deny', 'local:local']));
    const down = await adminCall(replicas[1]!.url, 'viewer', 'GET', '/status');
    expect(down.body).toMatchObject({ store: 'redis', revision: null, storeReachable: false, appliedRevision: before.body.revision });
    expect(down.body.rateLimits).toMatchObject({ store: 'redis', state: 'down' });
    expect(down.body.rateLimits.storeDownDecisions.local).toBeGreaterThanOrEqual(15);
    expect(down.body.rateLimits.storeDownDecisions.allow).toBeGreaterThan(0);
    expect(down.body.rateLimits.storeDownDecisions.deny).toBeGreaterThan(0);

    // The gateway keeps serving what it applied; a change cannot be made, and says so at once.
    expect(await stampOf(replicas[2]!.url, '/stamp')).toBe('before');
    const refused = await adminCall(a, 'publisher', 'POST', '/workflows/stamp/publish');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toMatchObject({ type: 'https://problems.sluice.example/store-unavailable', detail: expect.stringContaining('nothing was changed') });

    await redis.start();
    const restarted = performance.now();
    for (const r of replicas) await until('deny to count in Redis again on every replica', async () => ((await fetch(`${r.url}/deny`, withKey)).status === 200 ? true : undefined), 15_000);
    console.log(`rate limits counted in Redis again on all three replicas ${(performance.now() - restarted).toFixed(0)} ms after Redis restarted`);
    await until('status up', async () => ((await adminCall(replicas[1]!.url, 'viewer', 'GET', '/status')).body.rateLimits.state === 'up' ? true : undefined));

    // Nothing lost: the same revision and audit chain, and changes go through again.
    const after = await adminCall(a, 'auditor', 'GET', '/status');
    expect(after.body.revision).toBe(before.body.revision);
    expect((await adminCall(a, 'auditor', 'GET', '/audit/verify')).body).toEqual(auditBefore.body);
    await publish(a, stamped('stamp', '/stamp', 'after'));
    for (const r of replicas) await until('the version published after recovery everywhere', async () => ((await stampOf(r.url, '/stamp')) === 'after' ? true : undefined));
  }, 120_000);

  it('a Redis that hangs (CLIENT PAUSE) never holds a check: each is decided by its choice while Redis is still paused, then the breaker probes off the request path until Redis answers again', async () => {
    const r = replicas[2]!;
    const control = new Redis(redis.url);
    const REQUESTS = 40;
    try {
      const linesBefore = r.logs.filter((l) => l.msg === 'request' && l.workflow === 'allow').length;
      // paused far longer than the requests below need (UNPAUSE ends it): a check that waited for Redis would be
      // answered only after it, counted in Redis, without the store-down mark. WRITE pauses the counting scripts
      // (EVALSHA) and lets this connection's UNPAUSE through (ALL would hold it too, to the pause's end).
      await control.client('PAUSE', 60_000, 'WRITE');
      const latencies: number[] = [];
      const statuses = new Set<number>();
      for (let i = 0; i < REQUESTS; i++) {
        const started = performance.now();
        const res = await fetch(`${r.url}/allow`, withKey);
        await res.arrayBuffer();
        latencies.push(performance.now() - started);
        statuses.add(res.status);
      }
      console.log(`while Redis hangs: ${latencies.length} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
      expect([...statuses]).toEqual([200]);
      // the replica's own account: every one of them decided by onStoreDown (allow), none counted in Redis
      await until('the request lines', () => (r.logs.filter((l) => l.msg === 'request' && l.workflow === 'allow').length >= linesBefore + REQUESTS ? true : undefined), 15_000);
      const lines = r.logs.filter((l) => l.msg === 'request' && l.workflow === 'allow').slice(linesBefore);
      expect(lines.map((l) => l.rateLimitStoreDown)).toEqual(Array(REQUESTS).fill('allow'));
      await control.client('UNPAUSE');
      await until('the breaker to close', async () => ((await adminCall(r.url, 'viewer', 'GET', '/status')).body.rateLimits.state === 'up' ? true : undefined));
    } finally {
      await control.client('UNPAUSE').catch(() => undefined);
      control.disconnect();
    }
  }, 60_000);

  it('a Redis restart between a commit and its announcement still reaches every replica', async () => {
    let armed = false;
    const store: RedisStore = await openRedisStore({
      target: { url: redis.url, prefix: 'down', cluster: false },
      // The publisher's commit is durable (appendfsync always); Redis restarts before the announcement goes out.
      beforeAnnounce: async () => {
        if (!armed) return;
        armed = false;
        await redis.stop();
        await redis.start();
      },
    });
    try {
      const lifecycle = createLifecycle({ store, fourEyes: false, prepare: async () => [] });
      const actor = { name: 'restart-test', role: 'publisher' };
      const state = await store.state();
      await lifecycle.saveDraft(actor, 'stamp', stamped('stamp', '/stamp', 'announced into a restart'), state.workflows.get('stamp')!.draft!.revision);
      armed = true;
      const { version } = await lifecycle.publish(actor, 'stamp');
      const committed = performance.now();
      expect(armed).toBe(false); // the restart happened between commit and announcement
      for (const r of replicas) await until(`version ${version} on ${r.url}`, async () => ((await stampOf(r.url, '/stamp')) === 'announced into a restart' ? true : undefined), 15_000);
      console.log(`a commit whose announcement was lost to a Redis restart reached all three replicas ${(performance.now() - committed).toFixed(0)} ms later`);
      expect((await adminCall(replicas[0]!.url, 'auditor', 'GET', '/audit/verify')).body.ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});
