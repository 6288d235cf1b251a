import { useCallback, useState } from 'react';

export interface Busy {
  /** A call to the admin API that changes something is running: its buttons wait. */
  busy: boolean;
  /** Runs `work` with `busy` set, clearing it however the work ends. */
  whileBusy<T>(work: () => Promise<T>): Promise<T>;
}

/** One busy flag shared by saving, publishing, version actions and comparing. */
export function useBusy(): Busy {
  const [busy, setBusy] = useState(false);
  const whileBusy = useCallback(async <T>(work: () => Promise<T>): Promise<T> => {
    setBusy(true);
    try {
      return await work();
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, whileBusy };
}
