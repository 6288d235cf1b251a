import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { sluiceArgs } from './engine-bundle.ts';

/* The `sluice` CLI as a user runs it: a child process of the engine bundle (engine-bundle.ts). */

const REPO = join(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Where it runs (the repository by default). */
  cwd?: string;
  /** Its whole environment (this process's by default). */
  env?: NodeJS.ProcessEnv;
  /** Killed after this long: a guard against a hang, not a speed bound (30 s by default). */
  timeout?: number;
}

function run(command: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, command, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, timeout: options.timeout ?? 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `sluice <args>` as it ships (`node <npm start's flags> dist/cli.mjs <args>`) to its end. */
export async function sluice(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return run(await sluiceArgs(args), options);
}

/** Starts `sluice <args>` as it ships, for a command that keeps running (serve, demo-upstream). */
export async function spawnSluice(args: string[], options: SpawnOptions = {}): Promise<ChildProcess> {
  return spawn(process.execPath, await sluiceArgs(args), { cwd: REPO, ...options });
}

/**
 * Runs `sluice <args>` the development way, `npm run sluice` (`tsx engine/cli.ts`), which the
 * README's examples use: a few tests prove it still works; the rest run the bundle, a fraction
 * of the cost (tsx transpiles the whole engine in every process).
 */
export function sluiceFromSources(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return run(['--import', import.meta.resolve('tsx'), join(REPO, 'engine', 'cli.ts'), ...args], options);
}
