// Child-process plumbing for run.ts: CPU pinning, startup handshakes, RSS, and making sure that
// no server outlives the benchmark.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildSync } from 'esbuild';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether processes can be pinned to cores 0 and 1 (taskset exists and both cores are ours to use,
 * which a single-core VM or a restrictive cpuset denies). Without pinning the run still works, but
 * servers and load generator fight over the same cores.
 */
export const CAN_PIN = commandExists('taskset') && spawnSync('taskset', ['-c', '0,1', 'true'], { stdio: 'ignore' }).status === 0;

const live = new Set<ChildProcess>();

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
}

/**
 * Starts `cmd args` pinned to one core. taskset execs the command, so the pid we get is the
 * command's own. Each child leads its own process group (detached) so that stopAll() also reaches
 * anything it spawned; the flip side is that a terminal Ctrl-C no longer reaches it directly,
 * which is why run.ts handles SIGINT itself.
 */
export function spawnPinned(core: number, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const [file, argv] = CAN_PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, {
    cwd: REPO,
    detached: true,
    env: opts.env ?? process.env,
    // stdin stays a pipe so our own servers notice (stdin 'end') if this process is SIGKILLed.
    stdio: opts.stdio ?? ['pipe', 'pipe', 'inherit'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/**
 * Runs a TypeScript file as plain JavaScript, compiled by esbuild the way scripts/build.mjs
 * compiles the gateway: the baseline and the gateway pay the same (no) transpiler tax. tsx would
 * keep function names by wrapping every closure, and spawn node as a grandchild, so the pid we
 * hold (for VmRSS) would not be the server's.
 */
export function spawnCompiled(core: number, script: string, args: string[], opts?: SpawnOptions, wrap: string[] = []): ChildProcess {
  const outfile = join(REPO, 'bench', '.build', basename(script).replace(/\.ts$/, '.mjs'));
  buildSync({ entryPoints: [join(REPO, script)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  // `wrap`: a command node runs under (valgrind and its options: bench/callgrind.ts)
  const command = [...wrap, process.execPath, outfile, ...args];
  return spawnPinned(core, command[0]!, command.slice(1), opts);
}

/** Resolves with the port from the child's `LISTENING <port>` stdout line. */
export function waitForListening(child: ChildProcess, name: string, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`${name} did not report LISTENING within ${timeoutMs / 1000} s`), timeoutMs);
    const onExit = (code: number | null, signal: string | null) =>
      fail(`${name} exited (${signal ?? `code ${code}`}) before listening; see its stderr above`);
    function fail(message: string) {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(new Error(message));
    }
    child.once('exit', onExit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /^LISTENING (\d+)$/.exec(line)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(Number(port));
    });
  });
}

/**
 * What a /proc stat file (a process's, or one of its threads' under task/) says: the command name
 * and the CPU time used so far, user and system apart, in µs; undefined if it is gone.
 */
export function procStat(file: string): { name: string; user: number; system: number } | undefined {
  try {
    // after the command name, which may hold spaces: state is field 3, utime 14 and stime 15 (in clock ticks)
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), user: (Number(fields[11]) * 1_000_000) / CLOCK_TICKS, system: (Number(fields[12]) * 1_000_000) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** CPU time a live process has used so far (user + system, all its threads), in µs; undefined if it is gone. */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const stat = procStat(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.user + stat.system;
}

/**
 * CPU time (µs) of each thread of a live process, user and system apart, by thread: `main` for
 * the process's own thread, the others by name (node's helpers are all `node`, so summed).
 */
export function threadMicros(pid: number): Map<string, { user: number; system: number }> {
  const times = new Map<string, { user: number; system: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return times; // gone
  }
  for (const tid of tids) {
    const stat = procStat(`/proc/${pid}/task/${tid}/stat`);
    if (stat === undefined) continue; // a thread that ended meanwhile
    const name = tid === String(pid) ? 'main' : stat.name;
    const sum = times.get(name) ?? { user: 0, system: 0 };
    times.set(name, { user: sum.user + stat.user, system: sum.system + stat.system });
  }
  return times;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux whatever the kernel's HZ). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Resident set size of a live process, in MB, or undefined if it is gone. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM a child's process group, then SIGKILL whatever is still there after 3 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      killGroup(child, 'SIGKILL'); // grandchildren that ignored SIGTERM
      resolve();
    });
    killGroup(child, 'SIGTERM');
  });
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stopChild));
}

/**
 * Last resort when the process exits, where nothing asynchronous runs any more: children lead their
 * own process groups, so nothing else would stop them when a script dies (an uncaught error in
 * callgrind.ts left a gateway under valgrind eating a core). Every script that spawns here gets it.
 */
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});
