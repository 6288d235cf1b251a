import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../../engine/store/redis.ts';

/** The Redis every machine of the project runs; tests use their own key prefix and never flush it. */
export const SHARED_REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the shared Redis answers. Locally a test may skip without it (loudly); with CI=true it fails. */
export async function sharedRedisAvailable(): Promise<boolean> {
  const client = new Redis(SHARED_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    if (process.env.CI === 'true') throw new Error(`Redis is not reachable at ${SHARED_REDIS_URL}, and CI needs it`);
    process.stderr.write(`\n!!! Redis is not reachable at ${SHARED_REDIS_URL}: the Redis tests are SKIPPED (they fail under CI=true)\n\n`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** A key prefix of its own for one test run. */
export const testPrefix = (what = 'test') => `${what}-${process.pid}-${randomBytes(4).toString('hex')}`;

export const sharedTarget = (prefix = testPrefix()): RedisTarget => ({ url: SHARED_REDIS_URL, prefix, cluster: false });

/** Deletes every key of a prefix (SCAN + DEL, never FLUSH: other engineers share this Redis). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (const pattern of [`{sluice:${prefix}}:*`, `sluice:${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of the test's own, on a free port, with an append-only file fsynced on every write. */
export interface OwnedRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM: it finishes writing and exits) and waits until it has. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function untilPing(url: string, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not come up`);
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startOwnedRedis(): Promise<OwnedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' });
    await untilPing(url);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of three masters of the test's own (no replicas), on free ports, for the cluster code path. */
export async function startOwnedRedisCluster(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-cluster-'));
  // three distinct ports: a port let go of may be handed out again by the next freePort (seen in CI: EEXIST on its directory)
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const children = ports.map((port) => {
    mkdirSync(join(dir, String(port)));
    return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no', '--save', '', '--protected-mode', 'no'], { cwd: join(dir, String(port)), stdio: 'ignore' });
  });
  const close = async () => {
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await untilPing(`redis://127.0.0.1:${port}`);
    await new Promise<void>((resolve, reject) => {
      const create = spawn('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
      create.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited with ${code}`))));
    });
    const client = new Redis(`redis://127.0.0.1:${ports[0]}`);
    try {
      const deadline = Date.now() + 10_000;
      while (!String(await client.cluster('INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the test cluster did not reach cluster_state:ok');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, close };
}
