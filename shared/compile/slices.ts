/**
 * Work cut into slices: a generator that yields between units of work (a node, a batch of
 * edges) and returns its result. The same code runs at once where nothing else waits (the
 * editor, the CLI, tests) or paced where a server must keep answering while a large document
 * is checked (the engine gives the event loop its turn whenever a slice has run long enough).
 */
export type Sliced<T> = Generator<void, T, void>;

/**
 * How many cheap units (edges, graph steps, small elements) sliced work does between yields:
 * few enough that a slice overruns its time by well under a millisecond, many enough that the
 * yields themselves cost nothing measurable.
 */
export const SLICE_UNITS = 256;

/**
 * A count of units that says when a slice's worth has run: `const due = sliceCounter();` then
 * `if (due()) yield;` before each unit pauses once every SLICE_UNITS units.
 */
export function sliceCounter(): () => boolean {
  let units = 0;
  return () => ++units % SLICE_UNITS === 0;
}

/** Runs sliced work to its end without pausing. */
export function runAtOnce<T>(work: Sliced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs sliced work, asking `pace` between units whether to pause: it answers a promise to wait
 * for (the slice has run long enough), or nothing to go on at once.
 */
export async function runPaced<T>(work: Sliced<T>, pace: () => Promise<void> | undefined): Promise<T> {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    const pause = pace();
    if (pause) await pause;
  }
}
