import type { Logger } from 'pino';
import type { RedisClient } from '../../store/redis.ts';
import { budgetDecision, createMemoryRateLimitStore, slidingWindowDecision, type RateLimitDecision, type RateLimitOccupancy, type RateLimitStore, type RateLimitStoreHealth, type StoreDownChoice } from './rate-limit-store.ts';

/**
 * Requests counted in one step, on Redis's clock: the same sliding window as the memory store
 * (the previous window's count weighted by how much of it still overlaps, plus the current
 * window's), kept in one hash per key that expires two windows after its last use. Several
 * requests on the same key in one turn of the event loop are counted one after the other in one
 * call, exactly as that many calls in a row would count them.
 * A token budget checks without counting (mode `p`: peek) and charges after the answer (mode `c`:
 * added whether it fits or not), in the same hash.
 * KEYS[1]: the counter  ARGV: limit, window ms, mode, then for `h` how many requests, for `p` and `c` one amount each
 * Returns, per request or amount, the counts its decision was made on: previous, current (before it), ms into the window.
 */
const SLIDING_WINDOW = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local mode = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local start = now - (now % window)
local stored = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
local s = tonumber(stored[1])
local current = tonumber(stored[2]) or 0
local previous = tonumber(stored[3]) or 0
local changed = false
if s ~= start then
  if s ~= nil and start - s == window then previous = current else previous = 0 end
  current = 0
  changed = true
end
local elapsed = now - start
local counts = {}
if mode == 'h' then
  for i = 1, tonumber(ARGV[4]) do
    counts[#counts + 1] = previous
    counts[#counts + 1] = current
    counts[#counts + 1] = elapsed
    if previous * (1 - elapsed / window) + current + 1 <= limit then
      current = current + 1
      changed = true
    end
  end
else
  for i = 4, #ARGV do
    counts[#counts + 1] = previous
    counts[#counts + 1] = current
    counts[#counts + 1] = elapsed
    if mode == 'c' then
      current = current + tonumber(ARGV[i])
      changed = true
    end
  end
end
if changed then
  redis.call('HSET', KEYS[1], 's', start, 'c', current, 'p', previous)
  redis.call('PEXPIRE', KEYS[1], window * 2)
end
return counts
`;

export interface RedisRateLimitOptions {
  /** A connection of its own: offline queue off and a short command timeout (see createRedisClient). */
  client: RedisClient;
  /** Key prefix (redisKeys(prefix).rateLimit). */
  keyPrefix: string;
  /** How many replicas share the limits now (live heartbeats); `local` counts limit / this. */
  replicas: () => number;
  logger?: Logger;
  /** Consecutive failed calls that open the breaker (a connection that is not ready opens it at once). */
  failuresToOpen?: number;
  /** How long the breaker stays open before one call probes Redis again. */
  probeAfterMs?: number;
  /** Most keys the `local` fallback holds in memory (SLUICE_RATE_LIMIT_MAX_KEYS). */
  localMaxKeys?: number;
}

type Sliding = (key: string, limit: number, windowMs: number, mode: Mode, ...amounts: number[]) => Promise<number[]>;

/** `h`: count requests that fit; `p`: check amounts without counting; `c`: count amounts whether they fit or not. */
type Mode = 'h' | 'p' | 'c';

/** The requests of one turn of the event loop waiting on one counter (same key, limit and window). */
interface Batch {
  key: string;
  limit: number;
  windowMs: number;
  scope: string | undefined;
  mode: Mode;
  /** With mode `p` and `c`: each waiting call's amount. */
  amounts: number[];
  waiting: Array<{ onStoreDown: StoreDownChoice; resolve: (decision: RateLimitDecision) => void }>;
}

/**
 * Rate-limit counters shared by every replica, in Redis: one EVALSHA per counter per turn of the
 * event loop, for however many requests of that turn it counts (under load, tens). The request
 * path never waits on a dead connection: with the connection down (ioredis reconnecting) a
 * check is decided at once by the node's onStoreDown; calls that fail or time out (the command
 * timeout) open a circuit breaker, and while it is open every check is decided that way at once,
 * while a PING off the request path every `probeAfterMs` finds out when Redis answers again.
 */
export function createRedisRateLimitStore(options: RedisRateLimitOptions): RateLimitStore & { health(): RateLimitStoreHealth; occupancy(): RateLimitOccupancy } {
  const { client, keyPrefix, logger } = options;
  const failuresToOpen = options.failuresToOpen ?? 3;
  const probeAfterMs = options.probeAfterMs ?? 500;
  client.defineCommand('sluiceSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });
  const sliding = (client as unknown as { sluiceSlidingWindow: Sliding }).sluiceSlidingWindow.bind(client);
  const local = createMemoryRateLimitStore(options.localMaxKeys === undefined ? {} : { maxKeys: options.localMaxKeys });
  const storeDownDecisions: Record<StoreDownChoice, number> = { allow: 0, deny: 0, local: 0 };

  let failures = 0;
  /** When the breaker opened (0: closed). */
  let openedAt = 0;
  let probing = false;
  let probeTimer: NodeJS.Timeout | undefined;

  const close = () => {
    if (openedAt !== 0) logger?.info('rate limits: Redis answers again, counting there');
    openedAt = 0;
    failures = 0;
    clearInterval(probeTimer);
    probeTimer = undefined;
  };
  /** Off the request path: one PING every probeAfterMs while open; an answer closes the breaker. */
  const probe = async () => {
    if (probing || client.status !== 'ready') return;
    probing = true;
    try {
      await client.ping();
      close();
    } catch {
      // still down (or hanging: the command timeout bounds the probe)
    } finally {
      probing = false;
    }
  };
  const open = (why: string) => {
    if (openedAt === 0) {
      logger?.warn({ reason: why }, "rate limits: Redis unreachable, deciding by each node's onStoreDown until it answers again");
      probeTimer = setInterval(() => void probe(), probeAfterMs);
      probeTimer.unref();
    }
    openedAt = Date.now();
  };

  /**
   * The decision of a node's onStoreDown choice; a charge (mode `c`) is counted locally with
   * `local` and dropped otherwise, deciding nothing.
   */
  function withoutRedis(batch: Omit<Batch, 'waiting' | 'amounts'>, amount: number, choice: StoreDownChoice): RateLimitDecision {
    const { key, limit, windowMs, scope, mode } = batch;
    if (mode === 'c') {
      if (choice === 'local') local.charge(key, amount, windowMs, choice, scope);
      return { allowed: true, limit, remaining: 0, resetSeconds: 0, retryAfterSeconds: 0, storeDown: choice };
    }
    storeDownDecisions[choice] += 1;
    if (choice === 'local') {
      const share = Math.max(1, Math.floor(limit / Math.max(1, options.replicas())));
      const decision = (mode === 'h' ? local.hit(key, share, windowMs, choice, scope) : local.check(key, amount, share, windowMs, choice, scope)) as RateLimitDecision;
      decision.storeDown = 'local';
      return decision;
    }
    return { allowed: choice === 'allow', limit, remaining: 0, resetSeconds: 0, retryAfterSeconds: 0, storeDown: choice };
  }

  /** Counters asked for in this turn of the event loop, sent together once the turn's I/O is handled. */
  let batches = new Map<string, Batch>();
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const sending = batches;
    batches = new Map();
    for (const batch of sending.values()) {
      const { key, limit, windowMs, mode, amounts, waiting } = batch;
      const asked = mode === 'h' ? sliding(keyPrefix + key + '}', limit, windowMs, mode, waiting.length) : sliding(keyPrefix + key + '}', limit, windowMs, mode, ...amounts);
      asked.then(
        (counts) => {
          failures = 0;
          for (let i = 0; i < waiting.length; i++) {
            const [previous, current, elapsed] = [counts[3 * i]!, counts[3 * i + 1]!, counts[3 * i + 2]!];
            waiting[i]!.resolve(mode === 'h' ? slidingWindowDecision(limit, windowMs, elapsed, 0, previous, current) : budgetDecision(limit, windowMs, elapsed, 0, previous, current, amounts[i]!));
          }
        },
        (error: Error) => {
          failures += 1;
          if (failures >= failuresToOpen || client.status !== 'ready') open(error.message);
          for (let i = 0; i < waiting.length; i++) waiting[i]!.resolve(withoutRedis(batch, amounts[i] ?? 1, waiting[i]!.onStoreDown));
        },
      );
    }
  };

  /** Asks for a counter in this turn's batch of its key, limit, window and mode. */
  function ask(key: string, limit: number, windowMs: number, onStoreDown: StoreDownChoice, scope: string | undefined, mode: Mode, amount: number): RateLimitDecision | Promise<RateLimitDecision> {
    if (openedAt !== 0) return withoutRedis({ key, limit, windowMs, scope, mode }, amount, onStoreDown);
    if (client.status !== 'ready') {
      open(`connection ${client.status}`);
      return withoutRedis({ key, limit, windowMs, scope, mode }, amount, onStoreDown);
    }
    const id = `${mode}:${limit}:${windowMs}:${key}`;
    let batch = batches.get(id);
    if (batch === undefined) {
      batch = { key, limit, windowMs, scope, mode, amounts: [], waiting: [] };
      batches.set(id, batch);
    }
    if (mode !== 'h') batch.amounts.push(amount);
    if (!flushScheduled) {
      flushScheduled = true;
      // after the poll phase: every request read in this turn has asked by then
      setImmediate(flush);
    }
    const waiting = batch.waiting;
    return new Promise((resolve) => waiting.push({ onStoreDown, resolve }));
  }

  return {
    name: 'redis',
    hit: (key, limit, windowMs, onStoreDown, scope) => ask(key, limit, windowMs, onStoreDown, scope, 'h', 1),
    check: (key, need, limit, windowMs, onStoreDown, scope) => ask(key, limit, windowMs, onStoreDown, scope, 'p', need),
    async charge(key, amount, windowMs, onStoreDown, scope) {
      const charged = await ask(key, 0, windowMs, onStoreDown, scope, 'c', amount);
      if (charged.storeDown !== undefined && charged.storeDown !== 'local') throw new Error('not charged: the shared counters cannot be reached');
    },
    health() {
      const state = openedAt !== 0 ? (probing ? 'probing' : 'down') : client.status === 'ready' ? 'up' : 'down';
      return { store: 'redis', state, storeDownDecisions: { ...storeDownDecisions } };
    },
    occupancy: () => local.occupancy(),
    close() {
      clearInterval(probeTimer);
      local.close?.();
      client.disconnect();
    },
  };
}
