import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { redisKeys, type RedisClient } from './redis.ts';

/** What a replica says about itself in its heartbeat. */
export interface ReplicaReport {
  appliedRevision: number;
  serving: Array<{ workflow: string; version: number }>;
  rateLimits?: unknown;
}

interface ReplicaView extends ReplicaReport {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Milliseconds since its last heartbeat, on Redis's clock. */
  lastSeenMs: number;
  /** Store revisions it has not applied yet. */
  behind: number;
  lagging: boolean;
  self: boolean;
}

/**
 * Records a heartbeat on Redis's clock: the replica's report, and its liveness in a sorted set
 * scored by time; replicas silent for longer than the expiry are dropped. Returns how many live.
 * KEYS: liveness set, reports hash  ARGV: id, report, expiry ms
 */
const HEARTBEAT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if ARGV[2] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return redis.call('ZCARD', KEYS[1])
`;

/** The live replicas: [now, id, last seen, report, …]. KEYS: liveness set, reports hash  ARGV: expiry ms */
const LIVE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local seen = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
local out = {now}
for i = 1, #seen, 2 do
  local report = redis.call('HGET', KEYS[2], seen[i])
  if report then
    out[#out + 1] = seen[i]
    out[#out + 1] = seen[i + 1]
    out[#out + 1] = report
  end
end
return out
`;

export interface ReplicaRegistry {
  readonly id: string;
  /** Live replicas at the last heartbeat (at least 1: this one). */
  readonly live: number;
  /** Sends a heartbeat now (after applying a revision, so the cluster view is current). */
  beat(): Promise<void>;
  list(revision: number): Promise<ReplicaView[]>;
  close(): Promise<void>;
}

/**
 * This replica's entry in the shared list of replicas: a heartbeat every `intervalMs` carrying
 * what it serves; an entry not renewed within `expiryMs` is dropped.
 */
export function createReplicaRegistry(options: { client: RedisClient; prefix: string; report: () => ReplicaReport; logger?: Logger; intervalMs?: number; expiryMs?: number }): ReplicaRegistry {
  const { client } = options;
  const keys = redisKeys(options.prefix);
  const intervalMs = options.intervalMs ?? 1_000;
  const expiryMs = options.expiryMs ?? 5_000;
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const identity = { host: hostname(), pid: process.pid, startedAt: new Date().toISOString() };
  client.defineCommand('sluiceHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
  client.defineCommand('sluiceLiveReplicas', { numberOfKeys: 2, lua: LIVE });
  const commands = client as unknown as {
    sluiceHeartbeat(set: string, hash: string, id: string, report: string, expiry: number): Promise<number>;
    sluiceLiveReplicas(set: string, hash: string, expiry: number): Promise<Array<string | number>>;
  };
  let live = 1;
  let closed = false;

  async function beat() {
    if (closed) return;
    try {
      live = Math.max(1, await commands.sluiceHeartbeat(keys.replicas, `${keys.replicas}:reports`, id, JSON.stringify({ ...identity, ...options.report() }), expiryMs));
    } catch {
      // Redis down: the entry expires elsewhere; `live` keeps its last value for local rate limits
    }
  }
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  void beat();

  return {
    id,
    get live() {
      return live;
    },
    beat,
    async list(revision) {
      const reply = await commands.sluiceLiveReplicas(keys.replicas, `${keys.replicas}:reports`, expiryMs);
      const now = Number(reply[0]);
      const views: ReplicaView[] = [];
      for (let i = 1; i + 2 < reply.length; i += 3) {
        const report = JSON.parse(String(reply[i + 2])) as Omit<ReplicaView, 'id' | 'lastSeenMs' | 'behind' | 'lagging' | 'self'>;
        const behind = Math.max(0, revision - report.appliedRevision);
        views.push({ id: String(reply[i]), ...report, lastSeenMs: now - Number(reply[i + 1]), behind, lagging: behind > 0, self: reply[i] === id });
      }
      return views.sort((a, b) => a.id.localeCompare(b.id));
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await commands.sluiceHeartbeat(keys.replicas, `${keys.replicas}:reports`, id, '', expiryMs).catch(() => undefined);
    },
  };
}
