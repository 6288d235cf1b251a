import type { Store } from '../store/types.ts';
import { auditActor } from '../store/audit.ts';
import type { Identity } from '../../shared/admin/index.ts';

/** How long the refusals of one actor's operation are counted after the one written in full. */
const WINDOW_MS = 60_000;

interface Window {
  actor: Identity;
  operation: string;
  /** When the refusal written in full happened. */
  since: string;
  /** Refusals after it, not written one by one. */
  more: number;
}

export interface RefusalAudit {
  /**
   * Audits a refused attempt. The first refusal of an actor's operation in a window is an entry
   * of its own; the ones after it in the window are counted, and the count is one entry
   * (`count`) when the window closes. `operation` names the endpoint (method and route
   * pattern), not the URL, so the windows an actor can open are as few as the endpoints.
   */
  record(actor: Identity, operation: string, detail: string, workflow?: string): Promise<void>;
  /** Writes the counts of the open windows now (the process is stopping). */
  close(): Promise<void>;
}

/**
 * Refused attempts in the audit log, aggregated per actor, operation and minute: a token that
 * may not do something can otherwise grow the audit log (and its chain) by an entry per request
 * (300 refused calls wrote 300 entries in under 2 s). Every refusal stays counted; the chain is
 * written by the store as for any entry. Each process counts its own refusals.
 * @example
 * const refusals = createRefusalAudit({ store });
 * await refusals.record({ name: 'vera', role: 'viewer' }, 'POST /admin/api/workflows', 'POST /admin/api/workflows: role viewer may not create a workflow');
 */
export function createRefusalAudit(options: { store: Store; windowMs?: number; now?: () => Date }): RefusalAudit {
  const { store } = options;
  const windowMs = options.windowMs ?? WINDOW_MS;
  const now = () => (options.now?.() ?? new Date()).toISOString();
  const open = new Map<string, Window>();
  /** Counts whose entry could not be written yet (the store was down): tried again a window later. */
  const unwritten = new Set<Window>();
  const timers = new Set<NodeJS.Timeout>();
  /** Refusals counted in a window whose own entry could not be written: the key's next window starts with them. */
  const carried = new Map<string, number>();
  let closed = false;
  /** Entries being written: close() waits for them, so the store is not closed under them. */
  const writing = new Set<Promise<unknown>>();
  const tracked = <T>(promise: Promise<T>): Promise<T> => {
    writing.add(promise);
    void promise.then(() => writing.delete(promise), () => writing.delete(promise));
    return promise;
  };

  const later = (run: () => void) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, windowMs);
    timer.unref(); // a pending count never keeps the process alive: close() writes it
    timers.add(timer);
  };

  async function writeCount(window: Window): Promise<void> {
    try {
      await tracked(store.transact(() => ({
        entry: { time: now(), ...auditActor(window.actor), action: 'refused', count: window.more, detail: `${window.operation}: ${window.more} more refused attempt(s) since the one at ${window.since}, counted rather than written one by one` },
        result: undefined,
      })));
      unwritten.delete(window);
    } catch {
      unwritten.add(window);
      later(() => void writeCount(window));
    }
  }

  function closeWindow(key: string, window: Window): void {
    if (open.get(key) === window) open.delete(key);
    if (window.more > 0) void writeCount(window);
  }

  return {
    async record(actor, operation, detail, workflow) {
      const key = `${actor.name}\n${actor.role}\n${actor.via ?? 'http'}\n${operation}`;
      const current = open.get(key);
      if (current) {
        current.more++;
        return;
      }
      const time = now();
      const window: Window = { actor, operation, since: time, more: carried.get(key) ?? 0 };
      carried.delete(key);
      open.set(key, window); // before the write: refusals arriving meanwhile are counted in it
      try {
        await tracked(store.transact(() => ({ entry: { time, ...auditActor(actor), action: 'refused', workflow, detail }, result: undefined })));
      } catch (error) {
        // not written (the store is down): the next refusal is written in full, and carries what was counted meanwhile
        if (open.get(key) === window) open.delete(key);
        if (window.more > 0) carried.set(key, window.more);
        throw error;
      }
      later(() => closeWindow(key, window));
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled(writing); // first entries before their counts
      const counts = [...open.values(), ...unwritten].filter((window) => window.more > 0);
      open.clear();
      await Promise.all(counts.map((window) => writeCount(window))); // a count that fails now is lost with the process
    },
  };
}
