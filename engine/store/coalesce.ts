/**
 * Wraps an async job so that calls coalesce: while it runs, further calls share the run in
 * progress and make it run once more at the end (so a change seen mid-run is never missed).
 * A failing run is handed to `onError` and does not stop later runs.
 */
export function coalesce(job: () => Promise<void>, onError: (error: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await job();
          } catch (error) {
            onError(error);
          }
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
