// The Redis the sluice-c-redis target counts its rate limits in: is it there, and removing the
// run's keys afterwards (only those holding the run's own prefix; never FLUSH a shared Redis).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { commandExists } from './children.ts';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other run or test uses: the gateway's keys all contain it. */
export const redisPrefix = (): string => `bench-${randomBytes(6).toString('hex')}`;

/** Answers PING with PONG within a second (no auth, no TLS: the bench's local Redis). */
export function redisAnswers(url = REDIS_URL): Promise<boolean> {
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
export function deleteRedisKeys(prefix: string, url = REDIS_URL): number | string {
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
