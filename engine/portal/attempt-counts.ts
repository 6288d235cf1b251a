/**
 * Attempts counted by key in fixed windows: after `max` within `windowMs` a key is refused until
 * its window ends. The portal counts failed sign-ins by client address (so keys and tokens cannot
 * be guessed from it; a success does not clear the count: one valid credential must not buy more
 * guesses at other partners' keys) and sign-ins by partner (so a valid credential cannot fill the
 * session store). Memory is bounded: past `maxKeys` keys the oldest entry goes first.
 * @example
 * const failures = createAttemptCounts({ max: 10, windowMs: 300_000 });
 * const wait = failures.refusedFor(client); // seconds to wait, or undefined
 * failures.count(client);
 */
export function createAttemptCounts(options: { max: number; windowMs: number; maxKeys?: number }) {
  const { max, windowMs } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const failures = new Map<string, { count: number; since: number }>();
  return {
    /** Seconds the key must wait before it may try again, or undefined when it may now. */
    refusedFor(client: string, now = Date.now()): number | undefined {
      const entry = failures.get(client);
      if (entry === undefined) return undefined;
      if (now - entry.since >= windowMs) {
        failures.delete(client);
        return undefined;
      }
      return entry.count >= max ? Math.max(1, Math.ceil((entry.since + windowMs - now) / 1000)) : undefined;
    },
    /** Counts an attempt of the key. */
    count(client: string, now = Date.now()): void {
      const entry = failures.get(client);
      if (entry !== undefined && now - entry.since < windowMs) {
        entry.count++;
        return;
      }
      failures.delete(client);
      while (failures.size >= maxKeys) failures.delete(failures.keys().next().value!);
      failures.set(client, { count: 1, since: now });
    },
    /** Keys tracked now (for tests of the bound). */
    get size() {
      return failures.size;
    },
  };
}
