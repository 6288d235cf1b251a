// Load runs against live targets: one at a time, taking turns round after round, each run checked.
import type { ChildProcess } from 'node:child_process';
import { cpuMicros } from './children.ts';
import { runLoad } from './loadgen.ts';
import type { LoadGenName, LoadResult, TokenList } from './loadgen.ts';
import { fmt } from './report.ts';

export interface LiveTarget {
  name: string;
  url: string;
  server: ChildProcess;
  /**
   * The tokens of run `run` (0: the warm-up, then 1, 2, … one per round) when the target is sent
   * many tokens (tokens.ts) instead of the run's one token.
   */
  tokens?: (run: number) => TokenList;
}

/** Each target's first run is a warm-up of this length, not recorded. */
export const WARMUP_SECONDS = 2;

/** One load run; throws if the server died or any request failed (a failing target would "win" by failing fast). */
export async function load(gen: LoadGenName, target: LiveTarget, seconds: number, token: string | TokenList): Promise<LoadResult> {
  const cpuBefore = cpuMicros(target.server.pid);
  const result = await runLoad(gen, target.url, seconds, token);
  const cpuAfter = cpuMicros(target.server.pid);
  // what each request cost the server, whatever the machine's other core did meanwhile
  if (cpuBefore !== undefined && cpuAfter !== undefined && result.requests > 0) result.cpuUsPerRequest = (cpuAfter - cpuBefore) / result.requests;
  // A dead server shows up in wrk only as a flood of socket errors; say what really happened.
  if (target.server.exitCode !== null || target.server.signalCode !== null) {
    throw new Error(`${target.name}: its server exited (${target.server.signalCode ?? `code ${target.server.exitCode}`}) during the load run`);
  }
  if (result.failures > 0) throw new Error(`${target.name} failed under load (${result.failureDetail}) at ${target.url}`);
  return result;
}

/**
 * Waits until none of `servers` uses CPU (each under 2% of a core over `windowMs`), or `maxMs`.
 * The servers under test share one core: what one does when it is idle (the evidence store
 * copying its spool in, a garbage collection) must not land in another's load run, nor a start's
 * work in a reading of memory.
 */
export async function settle(servers: ChildProcess[], { windowMs = 500, maxMs = 30_000 } = {}): Promise<void> {
  const deadline = performance.now() + maxMs;
  const pids = [...new Set(servers.map((s) => s.pid))];
  let before = pids.map(cpuMicros);
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = pids.map(cpuMicros);
    if (now.every((cpu, i) => cpu === undefined || before[i] === undefined || cpu - before[i]! < windowMs * 20)) return;
    before = now;
  }
}

/**
 * Targets take turns, round after round, so drift (thermal, noisy neighbours) hits them all
 * alike. A failure stops the run, unless `mayDrop` says the target may fail: then it is recorded
 * in `dropped` with why, and left out of the later rounds.
 */
export async function measureAlternately(
  gen: LoadGenName,
  targets: LiveTarget[],
  token: string,
  { seconds, rounds }: { seconds: number; rounds: number },
  dropped: Map<string, string> = new Map(),
  mayDrop: (name: string) => boolean = () => false,
): Promise<Map<string, LoadResult[]>> {
  const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  const width = Math.max(...targets.map((t) => t.name.length));
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      if (dropped.has(target.name)) continue;
      try {
        await settle(targets.map((t) => t.server));
        // Warm-up lets V8 optimise the hot path and the pools fill before anything is recorded.
        if (round === 1) await load(gen, target, WARMUP_SECONDS, target.tokens?.(0) ?? token);
        const r = await load(gen, target, seconds, target.tokens?.(round) ?? token);
        runs.get(target.name)!.push(r);
        const wrk = r.loadGenBusy === undefined ? '' : `  wrk ${fmt(r.loadGenUsPerRequest, 1)} µs/req, ${fmt(100 * r.loadGenBusy, 0)}% of its core`;
        console.log(`round ${round}/${rounds}  ${target.name.padEnd(width)} ${fmt(r.rps, 0).padStart(8)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  CPU ${fmt(r.cpuUsPerRequest, 1)} µs/req${wrk}`);
      } catch (err) {
        if (!mayDrop(target.name)) throw err;
        dropped.set(target.name, (err as Error).message);
        console.log(`${target.name}: dropped from the run: ${(err as Error).message}`);
      }
    }
  }
  return runs;
}

/** Reads a positive integer setting from the environment. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}
