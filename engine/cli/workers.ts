import cluster from 'node:cluster';
import { loadSettings } from '../config.ts';
import { prepareDataDir } from '../sources/data-dir.ts';

/**
 * `sluice serve --workers N`: this process forks N workers (Node cluster) sharing the port; each
 * is a full gateway on the same store (the file store, locked per change and watched, or Redis).
 * A worker that dies is started again with the same index; SIGTERM/SIGINT stop them all.
 */
export async function serveWorkers(count: number) {
  const settings = loadSettings();
  const created = await prepareDataDir(settings); // before the workers race to make the same files
  if (created) process.stderr.write(`no SLUICE_ADMIN_TOKENS: created an admin token in ${created} (mode 0600)\n`);
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork({ SLUICE_WORKER_INDEX: String(index) });
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`sluice: worker ${index} (pid ${worker.process.pid}) exited (${signal ?? code}); starting it again\n`);
      setTimeout(() => fork(index), 500).unref();
    });
  };
  for (let i = 0; i < count; i++) fork(i);
  const stop = () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
    if (alive.length === 0) process.exit(0);
    let left = alive.length;
    for (const worker of alive)
      worker!.once('exit', () => {
        if (--left === 0) process.exit(0);
      }).kill('SIGTERM');
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

