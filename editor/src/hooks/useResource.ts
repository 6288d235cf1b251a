import { useCallback, useEffect, useState } from 'react';
import { useLatest } from './useLatest.ts';

export type Resource<T> = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; value: T };

/** Loads something once per `key`, with a reload for after a change. */
export function useResource<T>(load: () => Promise<T>, key: string): { resource: Resource<T>; reload(): void } {
  const [resource, setResource] = useState<Resource<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  // `load` is a new closure each render; `key` and `round` say when to load again.
  const latestLoad = useLatest(load);
  useEffect(() => {
    let live = true;
    latestLoad.current().then(
      (value) => live && setResource({ status: 'ready', value }),
      (error: unknown) => live && setResource({ status: 'error', error }),
    );
    return () => {
      live = false;
    };
  }, [latestLoad, key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { resource, reload };
}
