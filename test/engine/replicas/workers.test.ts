import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessGateway, type ProcessGateway } from '../../helpers/process-gateway.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { adminCall, PEOPLE } from '../admin/support.ts';
import { ADMIN_TOKENS, publish, stamped, until } from './support.ts';

/*
 * `sluice serve --workers 2` as a user runs it: two Node cluster workers behind one port. Which
 * worker answers is the cluster's choice, so the tests ask /admin/api/status (which names the
 * worker's pid) until each worker has answered.
 */

interface WorkerStatus {
  pid: number;
  revision: number;
  appliedRevision: number;
  workflows: Array<{ workflow: string; version: number }>;
}

/** An admin API call on a new connection: the cluster hands out connections, not requests, to workers. */
function adminOnNewConnection<T>(gw: ProcessGateway, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}/admin/api${path}`, { method, agent: false, timeout: 3_000, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => void (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as T }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const statusOnNewConnection = async (gw: ProcessGateway) => (await adminOnNewConnection<WorkerStatus>(gw, 'GET', '/status', PEOPLE.viewer.token)).body;

/** Polls status until `count` different workers have each reported a status that passes `ok`; returns them by pid. */
async function everyWorker(gw: ProcessGateway, count: number, what: string, ok: (status: WorkerStatus) => boolean): Promise<Map<number, WorkerStatus>> {
  const good = new Map<number, WorkerStatus>();
  await until(
    `${count} workers: ${what}`,
    async () => {
      const status = await statusOnNewConnection(gw).catch(() => undefined); // a worker being replaced
      if (status === undefined) return undefined;
      if (ok(status)) good.set(status.pid, status);
      else good.delete(status.pid);
      return good.size >= count ? true : undefined;
    },
    20_000,
    5,
  );
  return good;
}

const serves = (id: string, version: number) => (s: WorkerStatus) => s.appliedRevision === s.revision && s.workflows.some((w) => w.workflow === id && w.version === version);

describe('sluice serve --workers 2 with the file store', () => {
  let gw: ProcessGateway;

  beforeAll(async () => {
    gw = await startProcessGateway({ args: ['--workers', '2'], env: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS }, workflows: [stamped('stamp', '/stamp', 'file one')] });
    await until('both workers listening', () => (gw.logs.filter((l) => l.msg === 'sluice listening').length >= 2 ? true : undefined), 30_000);
  }, 60_000);
  afterAll(() => gw?.close(), 30_000);

  it('both workers serve a workflow file, and its change (published once, by the first worker)', async () => {
    const first = await everyWorker(gw, 2, 'serve version 1 of the file', serves('stamp', 1));
    expect([...first.keys()].sort()).not.toContain(gw.pid); // workers, not the primary
    writeFileSync(join(gw.dataDir, 'workflows', 'stamp.json'), JSON.stringify(stamped('stamp', '/stamp', 'file two')));
    await everyWorker(gw, 2, 'serve version 2 of the file', serves('stamp', 2));
    const audit = await adminCall(gw.url, 'auditor', 'GET', '/audit');
    expect(audit.body.entries.filter((e: { action: string; workflow?: string }) => e.action === 'workflow.publish' && e.workflow === 'stamp').map((e: { version: number }) => e.version)).toEqual([1, 2]);
  }, 60_000);

  it('changes made through either worker reach both, in one audit chain', async () => {
    // Every call on a new connection, so the cluster spreads them over both workers.
    expect((await adminOnNewConnection(gw, 'POST', '/workflows', PEOPLE.editor.token, { document: stamped('api', '/api-stamp', 'api 0') })).status).toBe(201);
    let version = 0;
    for (let i = 1; i <= 6; i++) {
      expect((await adminOnNewConnection(gw, 'PUT', '/workflows/api/draft', PEOPLE.editor.token, { document: stamped('api', '/api-stamp', `api ${i}`), baseRevision: i })).status).toBe(200);
      version = (await adminOnNewConnection<{ version: number }>(gw, 'POST', '/workflows/api/publish', PEOPLE.publisher.token)).body.version;
    }
    expect(version).toBe(6);
    await everyWorker(gw, 2, `serve version ${version} of the API workflow`, serves('api', version));
    const verify = await adminCall(gw.url, 'auditor', 'GET', '/audit/verify');
    expect(verify.body).toMatchObject({ ok: true });
  }, 60_000);

  it('a worker that dies is started again and serves what the store says', async () => {
    const before = await everyWorker(gw, 2, 'report', () => true);
    const victim = [...before.keys()][0]!;
    process.kill(victim, 'SIGKILL');
    const after = await everyWorker(gw, 2, 'serve the API workflow after a restart', (s) => s.pid !== victim && serves('api', 6)(s));
    expect(after.has(victim)).toBe(false);
  }, 60_000);
});

const redisUp = await sharedRedisAvailable();

describe.runIf(redisUp)('sluice serve --workers 2 with Redis', () => {
  const prefix = testPrefix('workers');
  let gw: ProcessGateway;

  beforeAll(async () => {
    gw = await startProcessGateway({ args: ['--workers', '2'], env: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix }, workflows: [stamped('stamp', '/stamp', 'redis one')] });
    await until('both workers listening', () => (gw.logs.filter((l) => l.msg === 'sluice listening').length >= 2 ? true : undefined), 30_000);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  }, 30_000);

  it('each worker is a replica of the shared store: both listed in the cluster view, both serve a change', async () => {
    const cluster = await until('two replicas in the cluster view', async () => {
      const answer = await adminCall(gw.url, 'viewer', 'GET', '/cluster');
      return answer.body.replicas.length === 2 ? answer.body : undefined;
    });
    expect(cluster.store).toBe('redis');
    const version = await publish(gw.url, stamped('stamp', '/stamp', 'redis two'));
    const statuses = await everyWorker(gw, 2, `serve version ${version}`, serves('stamp', version));
    expect([...statuses.keys()].sort()).toEqual(cluster.replicas.map((r: { pid: number }) => r.pid).sort());
  }, 60_000);
});
