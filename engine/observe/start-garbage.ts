/**
 * The garbage a large start leaves, collected before the gateway takes traffic.
 *
 * Measured with --trace-gc on a gateway of 10,000 workflows (bench/README.md, scale mode): after
 * its start the old generation's limit stood at about four times the heap the start kept (~270 MB
 * of ~1.1 GB), and until the first full collection under load about a third of every young
 * generation survived its scavenge (15 MB promoted per scavenge, 45-120 ms each, against 0.3 MB
 * and ~10 ms after it): 20-40 s of a tail latency of 300 ms, and 1.1 GB of RSS, before V8 marked
 * the heap. One full collection as the start ends (~0.4 s there) and the same load runs as among
 * 10 workflows from its first second. A small gateway's start leaves little: below
 * START_GARBAGE_WORKFLOWS nothing is collected.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Served workflows from which a start collects its garbage (at 1,000 the collection takes ~40 ms). */
export const START_GARBAGE_WORKFLOWS = 1_000;

/**
 * One full garbage collection now: how long it took, and the heap before and after.
 * Node runs without --expose-gc: the flag is set just long enough to take V8's gc function from a
 * new context, then unset, so no context made later (an expression worker's) has it. (The
 * inspector's HeapProfiler.collectGarbage collects until nothing more is freed: 2-3 full
 * collections, measured ~1 s at 10,000 workflows against 0.35-0.4 s for this one.)
 */
export function collectGarbage(): { ms: number; heapBefore: number; heapAfter: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  gc();
  return { ms: performance.now() - started, heapBefore, heapAfter: process.memoryUsage().heapUsed };
}
