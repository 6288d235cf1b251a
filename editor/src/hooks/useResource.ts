import { useCallback, useEffect, useState } from 'react';

export type Resource<T> = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; value: T };

/** Loads something once per `key`, with a reload for after a change. */
export function useResource<T>(load: () => Promise<T>, key: string): { resource: Resource<T>; reload(): void } {
  const [resource, setResource] = useState<Resource<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setResource({ status: 'ready', value }),
      (error: unknown) => live && setResource({ status: 'error', error }),
    );
    return () => {
      live = false;
    };
    // `load` is a new closure each render; `key` and `round` say when to load again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { resource, reload };
}
