import { useRef } from 'react';

/**
 * A ref holding the value of the latest render, for handlers that must read the newest value
 * without being made anew on every change (the canvas model while a drag or a paste runs).
 * Set during render, as useShortcuts and useClipboard do, so no handler ever sees an older value.
 */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}
