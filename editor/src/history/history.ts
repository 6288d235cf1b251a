/**
 * Undo/redo over immutable snapshots. Every change is one step, except that consecutive changes
 * with the same `group` (keystrokes in one field) merge into one until the group is sealed
 * (the field loses focus) or another change comes.
 */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** The group the present step belongs to, while it may still grow. */
  group: string | undefined;
}

/** Enough to undo a working session; older steps are dropped. */
export const HISTORY_LIMIT = 300;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], group: undefined };
}

/**
 * Records `next` as a step.
 * @example
 * let h = createHistory(a);
 * h = commit(h, b, 'field:x'); h = commit(h, c, 'field:x'); // one step: undo goes back to a
 */
export function commit<T>(history: History<T>, next: T, group?: string): History<T> {
  if (next === history.present) return history;
  if (group !== undefined && group === history.group) return { ...history, present: next, future: [] };
  const past = [...history.past, history.present];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: next, future: [], group };
}

/** Ends the open group, so the next change is a step of its own. */
export function seal<T>(history: History<T>): History<T> {
  return history.group === undefined ? history : { ...history, group: undefined };
}

export function undo<T>(history: History<T>): History<T> {
  const previous = history.past[history.past.length - 1];
  if (history.past.length === 0) return history;
  return { past: history.past.slice(0, -1), present: previous as T, future: [history.present, ...history.future], group: undefined };
}

export function redo<T>(history: History<T>): History<T> {
  if (history.future.length === 0) return history;
  const [next, ...future] = history.future;
  return { past: [...history.past, history.present], present: next as T, future, group: undefined };
}

export const canUndo = (history: History<unknown>) => history.past.length > 0;
export const canRedo = (history: History<unknown>) => history.future.length > 0;
