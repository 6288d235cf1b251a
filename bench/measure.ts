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
  const startedAtMs = performance.now();
  const result = await runLoad(gen, target.url, seconds, token);
  result.startedAtMs = startedAtMs;
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
 * The window `settle` watches: longer than the 1 s between a gateway's looks at its own idleness,
 * after which its evidence store copies the spool in (within ~1.5 s of a load run's end: the
 * first look may still see the run's tail). A shorter window (500 ms, as before) found a gateway
 * quiet just before that copy began, and the copy (160-570 ms of CPU after a 3 s run) landed in
 * the next target's run, on the same core.
 */
const QUIET_WINDOW_MS = 1_600;

/**
 * Waits until none of `servers` uses CPU (each under 2% of a core over `windowMs`), or `maxMs`.
 * The servers under test share one core: what one does when it is idle (the evidence store
 * copying its spool in, a garbage collection) must not land in another's load run, nor a start's
 * work in a reading of memory.
 */
export async function settle(servers: ChildProcess[], { windowMs = QUIET_WINDOW_MS, maxMs = 30_000 } = {}): Promise<void> {
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
 * alike. With `baselineEvery`, the first target (the baseline) is measured again after every
 * `baselineEvery` others and once more at the very end, so that every run has a run of the
 * baseline shortly before and after it (`bracketedRatios`). A failure stops the run, unless
 * `mayDrop` says the target may fail: then it is recorded in `dropped` with why, and left out of
 * the later rounds.
 */
export async function measureAlternately(
  gen: LoadGenName,
  targets: LiveTarget[],
  token: string,
  { seconds, rounds, baselineEvery }: { seconds: number; rounds: number; baselineEvery?: number },
  dropped: Map<string, string> = new Map(),
  mayDrop: (name: string) => boolean = () => false,
): Promise<Map<string, LoadResult[]>> {
  const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  const width = Math.max(...targets.map((t) => t.name.length));
  const roundOrder = orderOfRound(targets, baselineEvery);
  const baseline = targets[0];
  const warm = new Set<string>();
  const measure = async (target: LiveTarget, round: number) => {
    if (dropped.has(target.name)) return;
    try {
      await settle(targets.map((t) => t.server));
      // Warm-up lets V8 optimise the hot path and the pools fill before anything is recorded.
      if (!warm.has(target.name)) await load(gen, target, WARMUP_SECONDS, target.tokens?.(0) ?? token);
      warm.add(target.name);
      const r = await load(gen, target, seconds, target.tokens?.(round) ?? token);
      runs.get(target.name)!.push(r);
      const wrk = r.loadGenBusy === undefined ? '' : `  wrk ${fmt(r.loadGenUsPerRequest, 1)} µs/req, ${fmt(100 * r.loadGenBusy, 0)}% of its core`;
      console.log(`round ${round}/${rounds}  ${target.name.padEnd(width)} ${fmt(r.rps, 0).padStart(8)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  CPU ${fmt(r.cpuUsPerRequest, 1)} µs/req${wrk}`);
    } catch (err) {
      if (!mayDrop(target.name)) throw err;
      dropped.set(target.name, (err as Error).message);
      console.log(`${target.name}: dropped from the run: ${(err as Error).message}`);
    }
  };
  for (let round = 1; round <= rounds; round++) for (const target of roundOrder) await measure(target, round);
  // the last round's last targets get a baseline run after them too (its tokens: the last round's)
  if (baselineEvery !== undefined && baseline !== undefined) await measure(baseline, rounds);
  return runs;
}

/** One round's runs: the targets in turn, the first (the baseline) again before every `baselineEvery` others. */
export function orderOfRound<T>(targets: T[], baselineEvery?: number): T[] {
  const [baseline, ...others] = targets;
  if (baselineEvery === undefined || baseline === undefined) return targets;
  return others.flatMap((target, i) => (i % baselineEvery === 0 ? [baseline, target] : [target]));
}

/**
 * For each run of a target, `value` of the run over the mean `value` of the baseline's runs just
 * before and just after it (the one there is, at either end): judge by their median. On this VM a
 * run's CPU per request can double from one run to the next; a ratio of two medians sets one
 * target's fast rounds against the other's slow ones, minutes apart.
 */
export function bracketedRatios(runs: LoadResult[], baseline: LoadResult[], value: (run: LoadResult) => number): number[] {
  return runs.map((run) => {
    const at = run.startedAtMs!;
    const beside = [baseline.findLast((b) => b.startedAtMs! < at), baseline.find((b) => b.startedAtMs! > at)].filter((b) => b !== undefined);
    return value(run) / (beside.reduce((sum, b) => sum + value(b), 0) / beside.length);
  });
}

/**
 * The round-by-round ratios `a[i] / b[i]` of two targets measured one right after the other in
 * every round; judge by their median. A slow stretch of the machine (on this VM a run's CPU per
 * request can double from one run to the next) lands on both runs of a pair, where a ratio of two
 * medians sets one target's fast rounds against the other's slow ones.
 */
export function pairedRatios(a: number[], b: number[]): number[] {
  if (a.length !== b.length) throw new Error(`paired ratios of ${a.length} and ${b.length} rounds`);
  return a.map((x, i) => x / b[i]!);
}

/** Reads a positive integer setting from the environment. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}
