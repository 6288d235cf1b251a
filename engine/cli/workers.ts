import cluster from 'node:cluster';
import { loadSettings } from '../config.ts';
import { prepareDataDir } from '../sources/data-dir.ts';

/**
 * `sluice serve --workers N`: this process forks N workers (Node cluster) sharing the port; each
 * is a full gateway on the same store (the file store, locked per change and watched, or Redis).
 * A worker that dies is started again with the same index; SIGTERM/SIGINT stop them all, each
 * draining its connections.
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
  // Each worker drains on its own (readiness 503, in-flight requests finish: see Sluice.close); this
  // process exits when they all have, 0 if each did, and gives up a little after their bound.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
    if (alive.length === 0) process.exit(0);
    let left = alive.length;
    let failed = 0;
    for (const worker of alive)
      worker!.once('exit', (code) => {
        if (code !== 0) failed++;
        if (--left === 0) process.exit(failed === 0 ? 0 : 1);
      }).process.kill('SIGTERM');
    setTimeout(() => process.exit(1), settings.shutdown.delayMs + settings.shutdown.graceMs + STOP_MARGIN_MS).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Beyond its drain, how long a worker may take to close its stores before this process stops waiting. */
const STOP_MARGIN_MS = 10_000;

