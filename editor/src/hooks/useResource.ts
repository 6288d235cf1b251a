import { useCallback, useEffect, useState } from 'react';
import { useLatest } from './useLatest.ts';

export type Resource<T> = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; value: T };

const LOADING = { status: 'loading' } as const;

/**
 * Loads something once per `key`, with a reload for after a change. What was loaded for another
 * key is never returned: while the new key loads, the resource is loading.
 */
export function useResource<T>(load: () => Promise<T>, key: string): { resource: Resource<T>; reload(): void } {
  const [loaded, setLoaded] = useState<{ key: string; resource: Resource<T> } | undefined>();
  const [round, setRound] = useState(0);
  // `load` is a new closure each render; `key` and `round` say when to load again.
  const latestLoad = useLatest(load);
  useEffect(() => {
    let live = true;
    latestLoad.current().then(
      (value) => live && setLoaded({ key, resource: { status: 'ready', value } }),
      (error: unknown) => live && setLoaded({ key, resource: { status: 'error', error } }),
    );
    return () => {
      live = false;
    };
  }, [latestLoad, key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { resource: loaded?.key === key ? loaded.resource : LOADING, reload };
}
