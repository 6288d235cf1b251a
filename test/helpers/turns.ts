/** For tests that work over many workflows is paced: it gives the event loop turns while it runs. */

/** Event-loop turns taken while `work` runs. */
export async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number }> {
  let turns = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  const started = performance.now();
  const done = work().finally(() => (running = false));
  setImmediate(turn);
  await done;
  return { turns, ms: performance.now() - started };
}
