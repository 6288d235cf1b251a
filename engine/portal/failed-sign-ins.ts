/**
 * Failed sign-ins by client address: after `maxFailures` within `windowMs` an address is refused
 * (429, whatever it sends) until its window ends, so keys and tokens cannot be guessed from it.
 * Memory is bounded: past `maxClients` addresses the oldest entry goes first. A success does not
 * clear the count (one valid credential must not buy more guesses at other partners' keys).
 * @example
 * const failures = createFailedSignIns({ maxFailures: 10, windowMs: 300_000 });
 * const wait = failures.refusedFor(client); // seconds to wait, or undefined
 */
export function createFailedSignIns(options: { maxFailures: number; windowMs: number; maxClients?: number }) {
  const { maxFailures, windowMs } = options;
  const maxClients = options.maxClients ?? 10_000;
  const failures = new Map<string, { count: number; since: number }>();
  return {
    /** Seconds the address must wait before it may try again, or undefined when it may now. */
    refusedFor(client: string, now = Date.now()): number | undefined {
      const entry = failures.get(client);
      if (entry === undefined) return undefined;
      if (now - entry.since >= windowMs) {
        failures.delete(client);
        return undefined;
      }
      return entry.count >= maxFailures ? Math.max(1, Math.ceil((entry.since + windowMs - now) / 1000)) : undefined;
    },
    /** Counts a failed sign-in of the address. */
    failed(client: string, now = Date.now()): void {
      const entry = failures.get(client);
      if (entry !== undefined && now - entry.since < windowMs) {
        entry.count++;
        return;
      }
      failures.delete(client);
      while (failures.size >= maxClients) failures.delete(failures.keys().next().value!);
      failures.set(client, { count: 1, since: now });
    },
    /** Addresses tracked now (for tests of the bound). */
    get size() {
      return failures.size;
    },
  };
}
