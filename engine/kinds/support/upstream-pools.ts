import { Pool } from 'undici';
import type { SharedResources } from '../types.ts';
import type { EgressPolicy } from './egress.ts';

/**
 * How long a pool no node holds any more stays open. Requests a replaced version took before the
 * swap may still be on their way to its proxy (reading their body, waiting on an earlier node),
 * and a draft previewed again finds its connection. 30 s: as long as a client may take to send its
 * whole request by default (SLUICE_REQUEST_TIMEOUT), and as long as the pools keep an idle
 * connection they were given no keep-alive hint for.
 */
export const POOL_GRACE_MS = 30_000;

/**
 * At most this many pools that only drafts let go of (previews, simulations, workflow tests, the
 * checks before a publish) are kept open for the grace; past it the one let go of least recently
 * is closed at once. An editor previewing drafts that name ever new origins so holds at most this
 * many, each with the connections its preview made (one, as a preview's nodes call one at a
 * time). 16 is more than the upstreams of the drafts a few people work on at once, each found
 * again by its next preview. Pools a served version let go of are not counted: requests it took
 * may still reach them, so they stay for the whole grace whatever drafts come and go.
 */
export const IDLE_POOLS = 16;

/** The pools of proxy and http-call nodes, by egress policy and origin, each open while a node holds it. */
interface UpstreamPools {
  /**
   * The pool of `key`, made by `create` when none is open, held until `release` (once, when the
   * node holding it is closed). `served`: held by a version the gateway serves.
   */
  hold(key: string, create: () => Pool, served: boolean): { pool: Pool; release(): void };
  /** Closes every pool, held or not (the process stops). */
  close(): Promise<void>;
}

interface OpenPool {
  key: string;
  pool: Pool;
  /** Nodes holding it. */
  holders: number;
  /** Until when requests of a served version that let it go may still reach it (0: none did). */
  servedUntil: number;
  /** Closes it at the end of the grace, while no node holds it. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

function createUpstreamPools(): UpstreamPools {
  const open = new Map<string, OpenPool>();
  /** The open pools no node holds, the least recently let go of first. */
  const idle = new Set<OpenPool>();

  function shut(entry: OpenPool): void {
    clearTimeout(entry.timer);
    idle.delete(entry);
    if (open.get(entry.key) === entry) open.delete(entry.key);
    // requests under way finish first (undici's close waits for them); idle connections close now
    void entry.pool.close().catch(() => undefined);
  }

  /** Past IDLE_POOLS pools that only drafts let go of, the least recently let go of are closed. */
  function bound(now: number): void {
    let drafts = 0;
    for (const entry of idle) if (entry.servedUntil <= now) drafts += 1;
    for (const entry of idle) {
      if (drafts <= IDLE_POOLS) return;
      if (entry.servedUntil > now) continue;
      shut(entry);
      drafts -= 1;
    }
  }

  return {
    hold(key, create, served) {
      let entry = open.get(key);
      if (entry === undefined) open.set(key, (entry = { key, pool: create(), holders: 0, servedUntil: 0, timer: undefined }));
      else if (entry.holders === 0) {
        clearTimeout(entry.timer);
        idle.delete(entry);
      }
      entry.holders += 1;
      const held = entry;
      let released = false;
      return {
        pool: held.pool,
        release() {
          if (released) return;
          released = true;
          const now = Date.now();
          if (served) held.servedUntil = now + POOL_GRACE_MS;
          held.holders -= 1;
          // closed already when the process stopped
          if (held.holders > 0 || open.get(key) !== held) return;
          idle.add(held);
          held.timer = setTimeout(shut, POOL_GRACE_MS, held);
          held.timer.unref();
          bound(now);
        },
      };
    },
    async close() {
      const entries = [...open.values()];
      open.clear();
      idle.clear();
      for (const entry of entries) clearTimeout(entry.timer);
      await Promise.all(entries.map((entry) => entry.pool.close().catch(() => undefined)));
    },
  };
}

/**
 * The pools one node being prepared holds: `pool` is its PrepareContext.upstreamPool, `release`
 * lets them all go (when the node is closed, or at once when preparing it failed).
 */
export function nodePools(shared: SharedResources, egress: EgressPolicy, served: boolean): { pool(origin: string, options: Pool.Options): Pool; release(): void; holding(): boolean } {
  const pools = shared.get('upstream-pools', createUpstreamPools);
  const releases: Array<() => void> = [];
  return {
    pool(origin, options) {
      // every connection goes through the egress policy's connector: it checks the address each one is made to
      const held = pools.hold(`${egress.key} ${origin}`, () => new Pool(origin, { ...options, connect: egress.connector() }), served);
      releases.push(held.release);
      return held.pool;
    },
    release() {
      for (const release of releases.splice(0)) release();
    },
    // a method, not a getter: an object literal with a getter is a dictionary-mode object in V8, and a proxy node holds this one
    holding: () => releases.length > 0,
  };
}
