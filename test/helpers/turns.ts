/** For tests that work over many workflows is paced: it gives the event loop turns while it runs. */

/**
 * Event-loop turns taken while `work` runs, its wall time and the process's CPU time meanwhile.
 * Judge the turns against the CPU time: a process that shares its core (another test file, the
 * machine) takes longer in wall time for the same work, and its pacer yields more often, not less.
 */
export async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number; cpuMs: number }> {
  let turns = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const done = work().finally(() => (running = false));
  setImmediate(turn);
  await done;
  const used = process.cpuUsage(cpu);
  return { turns, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}
