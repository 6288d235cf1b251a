/**
 * Takes the gateway's captures off the request path: a bounded queue (a capture that finds it full
 * is dropped and counted, never waited for), written in batches; retention and the size cap
 * enforced on a timer.
 */
import type { Logger } from 'pino';
import type { PartnerDirectory } from '../kinds/support/partner-directory.ts';
import { evidenceOf, type EvidenceCapture } from './capture.ts';
import type { EvidenceStore } from './types.ts';

export interface EvidenceRecorderOptions {
  store: EvidenceStore;
  /** This process's name among the replicas. */
  replica: string;
  /** The partner directory in force, for each record's product. */
  directory(): PartnerDirectory;
  /** Captures waiting at most; past it they are dropped (and counted). */
  maxQueue?: number;
  /** Records per write. */
  batch?: number;
  /** The longest a capture waits for its batch. */
  flushMs?: number;
  /** SLUICE_EVIDENCE_RETENTION in ms, and SLUICE_EVIDENCE_MAX_BYTES. */
  retentionMs: number;
  maxBytes: number;
  /** How often retention and the cap are enforced. */
  pruneEveryMs?: number;
  /** Counts records written and dropped (sluice_evidence_records_total). */
  count?(result: 'written' | 'dropped', n: number): void;
  logger: Logger;
  now?(): number;
}

export interface EvidenceRecorder {
  /** Queues a finished request; O(1), never waits. */
  add(capture: EvidenceCapture): void;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** What was written and dropped since the start, and what waits. */
  stats(): { written: number; dropped: number; queued: number };
  /** Writes what is queued and stops the timers (the store stays open). */
  close(): Promise<void>;
}

const MAX_QUEUE = 100_000;
/**
 * A batch written within ~100 ms of its first capture: captures die young. Batches of 2,000 or
 * 250 ms lived through a scavenge or two at 11k req/s and were promoted (1.1 of the 2.4 MB/s a
 * gateway promoted under load), and a gateway of 10,000 workflows pays each full collection that
 * promotion brings with marking its ~200 MB heap; at 500 / 100 ms evidence promotes 0.3 MB/s.
 */
const BATCH = 500;
const FLUSH_MS = 100;
const PRUNE_EVERY_MS = 3_600_000;
/** Records made before the event loop gets a turn. */
const CONVERT_SLICE = 500;

export function createEvidenceRecorder(options: EvidenceRecorderOptions): EvidenceRecorder {
  const { store, logger } = options;
  const maxQueue = options.maxQueue ?? MAX_QUEUE;
  const batch = options.batch ?? BATCH;
  const flushMs = options.flushMs ?? FLUSH_MS;
  const now = options.now ?? Date.now;
  let queue: EvidenceCapture[] = [];
  let written = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  /** The last time a failed write was logged: once a minute at most. */
  let warnedAt = 0;

  const drop = (n: number) => {
    dropped += n;
    options.count?.('dropped', n);
  };

  /** A batch is written when it is full or its oldest capture has waited flushMs: not whenever the last write ended (under load that was a write per few dozen records). */
  function schedule(): void {
    if (timer !== undefined || queue.length === 0) return;
    timer = setTimeout(() => void flush(), flushMs);
    timer.unref();
  }

  async function writeOut(): Promise<void> {
    while (queue.length > 0) {
      const taken = queue.length <= batch ? queue : queue.slice(0, batch);
      queue = queue.length <= batch ? [] : queue.slice(batch);
      const directory = options.directory();
      const records = [];
      for (let i = 0; i < taken.length; i++) {
        if (i > 0 && i % CONVERT_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        records.push(evidenceOf(taken[i]!, options.replica, directory));
      }
      try {
        await store.insert(records);
        written += records.length;
        options.count?.('written', records.length);
      } catch (error) {
        drop(records.length);
        if (now() - warnedAt > 60_000) {
          warnedAt = now();
          logger.warn({ err: error, store: store.name, dropped: records.length }, 'evidence could not be written; the records are dropped and counted');
        }
      }
      if (queue.length < batch) break; // a part batch waits for its flushMs
    }
    schedule();
  }

  function flush(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    flushing ??= writeOut().finally(() => (flushing = undefined));
    return flushing;
  }

  const prune = async () => {
    try {
      const { deleted } = await store.prune({ olderThan: now() - options.retentionMs, maxBytes: options.maxBytes });
      if (deleted > 0) logger.info({ deleted, store: store.name }, 'evidence pruned (retention and size cap)');
    } catch (error) {
      logger.warn({ err: error, store: store.name }, 'evidence could not be pruned');
    }
  };
  const pruning = setInterval(() => void prune(), options.pruneEveryMs ?? PRUNE_EVERY_MS);
  pruning.unref();
  void prune();

  return {
    add(capture) {
      if (closed || queue.length >= maxQueue) return drop(1);
      queue.push(capture);
      if (flushing !== undefined) return; // the write under way takes a full batch next, or schedules the rest
      if (queue.length >= batch) void flush();
      else schedule();
    },
    flush: async () => {
      while (flushing !== undefined || queue.length > 0) await flush();
    },
    stats: () => ({ written, dropped, queued: queue.length }),
    async close() {
      closed = true;
      clearInterval(pruning);
      while (flushing !== undefined || queue.length > 0) await flush();
    },
  };
}
