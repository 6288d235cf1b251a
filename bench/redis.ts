// The Redis the sluice-c-redis target counts its rate limits in: the bench's own redis-server,
// pinned beside the upstream (or BENCH_REDIS_URL), is it there, and removing the run's keys
// afterwards (only those holding the run's own prefix; never FLUSH a shared Redis).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandExists, spawnPinned } from './children.ts';
import { freePort, UPSTREAM_CORE } from './servers.ts';

/** The shared Redis used when the bench cannot start its own (no redis-server installed). */
const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis of this run, and where it runs. Redis is a dependency of the server under test, like
 * the upstream: a redis-server of the bench's own (nothing saved to disk) pinned to the load
 * generator's core, so it never takes the measured server's core. BENCH_REDIS_URL names another
 * one instead (used as it is, not pinned); without redis-server the shared 127.0.0.1:6379 is used.
 * `own`: the bench's redis-server, stopped with the other children (its keys go with it).
 */
export async function benchRedis(): Promise<{ url: string; where: string; own: boolean }> {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, where: 'BENCH_REDIS_URL', own: false };
  if (!commandExists('redis-server')) return { url: SHARED_REDIS_URL, where: 'the shared Redis (redis-server is not installed)', own: false };
  const port = await freePort();
  const child = spawnPinned(UPSTREAM_CORE, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url)) return { url, where: `redis-server of its own on port ${port}, pinned with the upstream and the load generator`, own: true };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  return { url: SHARED_REDIS_URL, where: 'the shared Redis (the bench could not start its own redis-server)', own: false };
}

/** A prefix no other run or test uses: the gateway's keys all contain it. */
export const redisPrefix = (): string => `bench-${randomBytes(6).toString('hex')}`;

/** Answers PING with PONG within a second (no auth, no TLS: the bench's local Redis). */
export function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Deletes the keys whose name contains `prefix`; returns how many, or why it could not. */
export function deleteRedisKeys(prefix: string, url: string): number | string {
  if (!commandExists('redis-cli')) return 'redis-cli is not installed';
  const scan = spawnSync('redis-cli', ['-u', url, '--scan', '--pattern', `*${prefix}*`], { encoding: 'utf8' });
  if (scan.status !== 0) return `redis-cli --scan failed: ${scan.stderr.trim()}`;
  const keys = scan.stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) {
    const del = spawnSync('redis-cli', ['-u', url, 'DEL', ...keys.slice(i, i + 500)], { encoding: 'utf8' });
    if (del.status !== 0) return `redis-cli DEL failed: ${del.stderr.trim()}`;
  }
  return keys.length;
}
