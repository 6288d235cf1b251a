import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processCoverage, processCoverageEnv } from '../coverage/collector.ts';
import { spawnSluice } from './cli.ts';
import { REPO } from './gateway.ts';

/** A gateway in a process of its own, started as a user starts it: `sluice serve` with environment variables. */
export interface ProcessGateway {
  url: string;
  pid: number;
  child: ChildProcess;
  dataDir: string;
  /** Every JSON log line it wrote to stdout, parsed. */
  logs: Array<Record<string, unknown>>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts `sluice serve` (the engine bundle, as npm start runs it: helpers/engine-bundle.ts) on a free port with its own data directory
 * holding the examples' error catalog and the given workflow files (none by default), or, with
 * `examples`, an empty one the server seeds as on a fresh machine (the example workflows, their
 * fragments and the catalog), and resolves once it logs that it listens.
 */
export async function startProcessGateway(options: { env?: Record<string, string>; workflows?: unknown[]; examples?: boolean; args?: string[]; startTimeoutMs?: number } = {}): Promise<ProcessGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-proc-'));
  if (options.examples !== true) {
    mkdirSync(join(dataDir, 'workflows'));
    for (const doc of options.workflows ?? []) writeFileSync(join(dataDir, 'workflows', `${(doc as { id: string }).id}.json`), JSON.stringify(doc));
    writeFileSync(join(dataDir, 'errors.json'), readFileSync(join(REPO, 'examples', 'errors.json')));
  }
  const child = await spawnSluice(['serve', ...(options.args ?? [])], {
    // loopback upstreams are allowed explicitly: the egress policy refuses them by default
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SLUICE_DATA: dataDir, SLUICE_DEMO: 'off', LOG_LEVEL: 'info', SLUICE_EGRESS_ALLOW: '127.0.0.1', ...processCoverageEnv(options.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice serve did not start in time; stderr: ${stderr}`)), options.startTimeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited with ${code}; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'sluice listening') {
          clearTimeout(timer);
          resolve(String(entry.url));
        }
      }
    });
  });
  const url = await listening;
  return {
    url,
    pid: child.pid!,
    child,
    dataDir,
    logs,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        await processCoverage(logs); // what it reached (test/coverage), read before it stops
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
