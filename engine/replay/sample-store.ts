import type { Settings } from '../config.ts';
import { createRedisClient, redisKeys, whenReady, type RedisClient } from '../store/redis.ts';

/**
 * Where recorded samples live: the last `perWorkflow` of each workflow, newest first, as JSON.
 * In memory per process; in Redis (a capped list per workflow) when REDIS_URL is set, so a
 * compare on any replica replays every replica's traffic.
 */
export interface SampleStore {
  readonly name: 'memory' | 'redis';
  /** Keeps one sample; never waits, never throws (a sample that cannot be stored is lost). */
  add(workflow: string, sample: string): void;
  /** The workflow's samples, newest first. */
  list(workflow: string): Promise<string[]>;
  close(): void;
}

/** A Redis list of samples outlives its last write by this much, so a workflow gone quiet leaves nothing behind for ever. */
const REDIS_TTL_MS = 7 * 86_400_000;

/** Most characters the memory store holds for all workflows together; past it the longest list loses its oldest samples. */
const MEMORY_MAX_CHARS = 64 * 1024 * 1024;

function createMemorySampleStore(perWorkflow: number, maxChars = MEMORY_MAX_CHARS): SampleStore {
  const lists = new Map<string, { samples: string[]; chars: number }>();
  let total = 0;
  const dropOldest = (list: { samples: string[]; chars: number }) => {
    const dropped = list.samples.shift()!;
    list.chars -= dropped.length;
    total -= dropped.length;
  };
  return {
    name: 'memory',
    add(workflow, sample) {
      let list = lists.get(workflow);
      if (list === undefined) lists.set(workflow, (list = { samples: [], chars: 0 }));
      list.samples.push(sample);
      list.chars += sample.length;
      total += sample.length;
      if (list.samples.length > perWorkflow) dropOldest(list);
      while (total > maxChars) {
        let longest = list;
        for (const other of lists.values()) if (other.chars > longest.chars) longest = other;
        dropOldest(longest);
      }
    },
    list: async (workflow) => [...(lists.get(workflow)?.samples ?? [])].reverse(),
    close() {
      lists.clear();
    },
  };
}

/** LPUSH + LTRIM in one MULTI per sample, on a connection of its own that never queues while Redis is down. */
function createRedisSampleStore(options: { client: RedisClient; keyPrefix: string; perWorkflow: number }): SampleStore {
  const { client, keyPrefix, perWorkflow } = options;
  return {
    name: 'redis',
    add(workflow, sample) {
      const key = `${keyPrefix}${workflow}`;
      client.multi().lpush(key, sample).ltrim(key, 0, perWorkflow - 1).pexpire(key, REDIS_TTL_MS).exec().catch(() => undefined);
    },
    list: (workflow) => client.lrange(`${keyPrefix}${workflow}`, 0, perWorkflow - 1),
    close() {
      client.disconnect();
    },
  };
}

/** The sample store of the settings; undefined when replay recording is off (SLUICE_REPLAY=off). */
export async function openSampleStore(settings: Settings): Promise<SampleStore | undefined> {
  const replay = settings.replay;
  if (replay === undefined) return undefined;
  const redis = settings.redis;
  if (!redis) return createMemorySampleStore(replay.samples);
  const client = createRedisClient(redis, { name: 'sluice-samples', offlineQueue: false, commandTimeoutMs: Math.max(settings.rateLimitTimeoutMs, 1_000) });
  client.on('error', () => undefined); // a sample that cannot be written is lost; requests never wait for one
  await whenReady(client, redis, 2_000).catch(() => undefined);
  return createRedisSampleStore({ client, keyPrefix: redisKeys(redis.prefix).samples, perWorkflow: replay.samples });
}
