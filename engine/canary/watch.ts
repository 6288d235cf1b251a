import type { Logger } from 'pino';
import type { CanarySplit, CompiledWorkflow } from '../compile/types.ts';
import { redisKeys, type RedisClient } from '../store/redis.ts';

/** Requests and bad answers of both sides of a canary: [active requests, active bad, candidate requests, candidate bad]. */
type CanaryCounts = [number, number, number, number];

export interface CanaryWatch {
  /** A running canary's counts (summed over the replicas with Redis); undefined when it is not served here. */
  counts(workflow: string): Promise<CanaryCounts | undefined>;
  /** Whether the counts are every replica's (Redis) or this process's. */
  readonly counted: 'replicas' | 'process';
  close(): void;
}

/** Counts kept two days after a canary's last request: long enough to read after it ends. */
const KEEP_SECONDS = 2 * 24 * 3600;

/**
 * Whether the candidate's error/problem rate exceeds the active's by more than the margin, both
 * sides having served the minimum sample; the reason in words when it does.
 */
export function abortReason(counts: CanaryCounts, abort: { margin: number; minSample: number }): string | undefined {
  const [active, activeBad, candidate, candidateBad] = counts;
  if (active < abort.minSample || candidate < abort.minSample) return undefined;
  const activeRate = (100 * activeBad) / active;
  const candidateRate = (100 * candidateBad) / candidate;
  if (candidateRate - activeRate <= abort.margin) return undefined;
  const pct = (rate: number) => `${rate.toFixed(1)}%`;
  return `automatic: the candidate answered ${pct(candidateRate)} errors or problems (${candidateBad} of ${candidate}), the active version ${pct(activeRate)} (${activeBad} of ${active}): more than ${abort.margin} points apart`;
}

/**
 * Watches the canaries this process serves: every `intervalMs` it adds the requests counted since
 * the last time to the canary's totals (in Redis, where every replica adds its own, or in this
 * process), and aborts a canary whose candidate does worse than its abort rule allows, as the
 * `system` actor. Replicas may decide the same abort at once: the first one ends it, the others
 * find it ended.
 */
export function createCanaryWatch(options: {
  /** The served workflows running a canary (the others are passed over). */
  served: () => Iterable<CompiledWorkflow>;
  redis?: { client: RedisClient; prefix: string } | undefined;
  abort: (workflow: string, canaryId: string, reason: string) => Promise<unknown>;
  logger: Logger;
  intervalMs?: number;
}): CanaryWatch {
  const { redis, logger } = options;
  const keys = redis === undefined ? undefined : redisKeys(redis.prefix);
  /** Totals by canary id, without Redis. */
  const totals = new Map<string, CanaryCounts>();
  /** Canaries this process is ending, so one abort is asked for once. */
  const ending = new Set<string>();

  /** Adds what a split counted since the last time to its canary's totals, and answers them. */
  async function add(workflow: string, split: CanarySplit): Promise<CanaryCounts> {
    const delta = Array.from(split.unsent) as CanaryCounts;
    split.unsent.fill(0);
    const id = split.record.id;
    if (keys === undefined) {
      const total = totals.get(id) ?? [0, 0, 0, 0];
      for (let i = 0; i < 4; i++) total[i] = total[i]! + delta[i]!;
      totals.set(id, total);
      return [...total];
    }
    const key = keys.canary(workflow, id);
    const fields = ['ar', 'ab', 'cr', 'cb'];
    try {
      const batch = redis!.client.multi();
      delta.forEach((n, i) => n > 0 && batch.hincrby(key, fields[i]!, n));
      batch.expire(key, KEEP_SECONDS).hmget(key, ...fields);
      const answers = (await batch.exec()) ?? [];
      const read = answers[answers.length - 1]?.[1] as Array<string | null>;
      return read.map((v) => Number(v ?? 0)) as CanaryCounts;
    } catch (error) {
      // not lost: counted again next time
      for (let i = 0; i < 4; i++) split.unsent[i] = split.unsent[i]! + delta[i]!;
      throw error;
    }
  }

  const splits = () => [...options.served()].flatMap((w) => (w.canary === undefined ? [] : [{ workflow: w.id, split: w.canary }]));

  async function tick() {
    for (const { workflow, split } of splits()) {
      let counts: CanaryCounts;
      try {
        counts = await add(workflow, split);
      } catch (error) {
        logger.warn({ err: error, workflow }, 'canary counts cannot be added now; trying again');
        continue;
      }
      const reason = abortReason(counts, split.record.abort);
      const id = split.record.id;
      if (reason === undefined || ending.has(id)) continue;
      ending.add(id);
      logger.warn({ workflow, candidate: split.record.version, canary: id }, `canary aborted: ${reason}`);
      try {
        await options.abort(workflow, id, reason);
      } catch (error) {
        // another replica ended it first (the same outcome), or the store cannot be reached: asked again while it runs here
        ending.delete(id);
        logger.info({ workflow, canary: id, reason: (error as Error).message }, 'canary not aborted by this replica');
      }
    }
  }

  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    // one tick at a time: a slow Redis does not pile them up
    running ??= tick().finally(() => (running = undefined));
  }, options.intervalMs ?? 1_000);
  timer.unref();

  return {
    counted: keys === undefined ? 'process' : 'replicas',
    async counts(workflow) {
      const split = splits().find((s) => s.workflow === workflow)?.split;
      return split === undefined ? undefined : add(workflow, split);
    },
    close() {
      clearInterval(timer);
    },
  };
}
