import type { RateLimitStore } from '../kinds/support/rate-limit-store.ts';

/** Attempts counted by key (a client address, a partner) against a limit. */
export interface AttemptLimit {
  /** Seconds the key must wait before it may try again, or undefined when it may now. */
  refusedFor(key: string): Promise<number | undefined>;
  /** Counts an attempt of the key. */
  count(key: string): Promise<void>;
}

/**
 * Attempts counted by key in the gateway's rate-limit store: a sliding window, in Redis when
 * REDIS_URL is set, so every replica and worker counts the same attempts (and in process memory,
 * bounded by the store's key cap, otherwise). After `max` within `windowMs` a key is refused until
 * the window's estimate falls below `max`. The admin API counts wrong tokens by client address.
 * The portal counts failed sign-ins by client address (a success does not clear the count: one
 * valid credential must not buy more guesses at other partners' keys) and sign-ins by partner (so
 * a valid credential cannot fill the session store).
 * Keys are `scope:key`; a scope holds a "/", which no workflow id does, so a workflow's
 * rate-limit counters (`workflow:node:…`) never meet these.
 * @example
 * const failures = createAttemptLimit(rateLimits, { scope: 'portal/sign-in-failures', max: 10, windowMs: 300_000 });
 * const wait = await failures.refusedFor(client); // seconds to wait, or undefined
 * await failures.count(client);
 */
export function createAttemptLimit(store: RateLimitStore, options: { scope: string; max: number; windowMs: number }): AttemptLimit {
  const { scope, max, windowMs } = options;
  // Redis unreachable: the store counts in this process meanwhile, never lets every attempt through
  const onStoreDown = 'local';
  return {
    async refusedFor(key: string): Promise<number | undefined> {
      const decision = await store.check(`${scope}:${key}`, 1, max, windowMs, onStoreDown, scope);
      return decision.allowed ? undefined : decision.retryAfterSeconds;
    },
    async count(key: string): Promise<void> {
      await store.charge(`${scope}:${key}`, 1, windowMs, onStoreDown, scope);
    },
  };
}
