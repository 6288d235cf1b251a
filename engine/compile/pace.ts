import { runPaced, validateWorkflowSliced, type ValidateOptions, type ValidationResult } from '../../shared/compile/index.ts';

/**
 * The longest a slice of publish-time work (validating, compiling, simulating a document) runs
 * before requests get their turn: well under the expression bound, so a large publish delays a
 * request by a slice per event-loop turn the request needs, never by the whole compile. A pause
 * costs one turn (tens of microseconds), so 5 ms slices add about 1% to a compile.
 */
export const SLICE_MS = 5;

/** A pacer: a pause to await when the slice has run long enough, else nothing. */
export type Pace = () => Promise<void> | undefined;

/**
 * A pacer for one long task: once the task has run `sliceMs` since it last paused, it answers a
 * pause of one event-loop turn (setImmediate: pending I/O is read first), otherwise nothing, so
 * the many cheap steps in between cost a clock read each (awaited only when it answers a pause:
 * `await undefined` still costs a promise and a microtask turn, ~21 per workflow at a start).
 * @example
 * const pace = createPace();
 * for (const node of nodes) { prepare(node); const pause = pace(); if (pause) await pause; }
 */
export function createPace(sliceMs = SLICE_MS): Pace {
  let started = performance.now();
  const resume = (resolve: () => void) =>
    setImmediate(() => {
      started = performance.now();
      resolve();
    });
  return () => (performance.now() - started < sliceMs ? undefined : new Promise<void>(resume));
}

/**
 * validateWorkflow in slices of at most `slice` ms each, with the event loop's turn between them;
 * or paced by the pacer of a longer task it is part of (a sync of many workflows).
 */
export function validatePaced(input: unknown, options: ValidateOptions = {}, slice: number | Pace = SLICE_MS): Promise<ValidationResult> {
  return runPaced(validateWorkflowSliced(input, options), typeof slice === 'number' ? createPace(slice) : slice);
}
