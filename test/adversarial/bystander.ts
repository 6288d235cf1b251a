/**
 * A bystander on a fixed schedule, for proving that hostile work (a compile, an expression) does
 * not hold the event loop: its latency counts from when each request was due.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/*
 * How late the bystander is answered is measured, and printed, but asserted nowhere here: the
 * bench measures it (`npm run bench -- scale`: a bystander every 10 ms beside compile + publish
 * and simulations of the largest-allowed workflow, its p99 and max). A functional test asserts
 * what it can without the clock: every call served, and calls served while the work ran.
 */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * The share of a core this process gets now: CPU time over wall time of a short CPU-bound
 * spin. 1 on an idle machine; a fifth when each core is shared by five busy processes, and then
 * everything this process does, a compile slice as a garbage collection, takes five times as
 * long by the clock. The median of three spins.
 */
function cpuShare(): number {
  const shares = [0, 1, 2].map(() => {
    const [cpu0, wall0] = [cpuMs(), performance.now()];
    let x = 0;
    while (cpuMs() - cpu0 < 20) x += Math.sqrt(x + 1);
    return Math.min(1, (cpuMs() - cpu0) / (performance.now() - wall0));
  });
  return shares.sort((a, b) => a - b)[1]!;
}

/**
 * A well-behaved client calling `path` every `everyMs` on a fixed schedule, in the background:
 * each request's latency counts from when it was due, so an event loop held by a compile
 * shows as the time the requests due during it waited, not hidden by a client that was itself
 * held (this test runs in the gateway's process). Requests count for the phase they were due
 * in: `quiet` windows before and after the work measure what the machine itself adds (the
 * other processes sharing its cores), the `busy` window what the work adds to that.
 */
const describeLatency = (s: { count: number; p50: number; p99: number; max: number }) => `${s.count} requests, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;

export function scheduledBystander(baseUrl: string, path: string, everyMs = 20) {
  const samples: Array<{ phase: 'quiet' | 'busy'; ms: number; answeredAt: number }> = [];
  /** performance.now() when the work started and ended. */
  const work = { from: Number.NaN, to: Number.NaN };
  const failures: number[] = [];
  const pending = new Set<Promise<void>>();
  let phase: 'quiet' | 'busy' = 'quiet';
  const shares: number[] = [];
  let longestGcMs = 0;
  let running = true;
  const start = performance.now();
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const due = start + n * everyMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const dueIn = phase;
      const call = fetch(`${baseUrl}${path}`).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status !== 200) failures.push(res.status);
          const answeredAt = performance.now();
          samples.push({ phase: dueIn, ms: answeredAt - due, answeredAt });
        },
        () => void failures.push(0),
      );
      pending.add(call);
      void call.finally(() => pending.delete(call));
    }
  })();
  const stats = (which: 'quiet' | 'busy') => {
    const sorted = samples.filter((s) => s.phase === which).map((s) => s.ms).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
    return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
  };
  return {
    /**
     * Runs `work` between two quiet windows of `quietMs`, the requests due during it counted as
     * busy. The share of a core the process gets is taken in each quiet window (cpuShare) and
     * over the work itself, which keeps the process busy: its CPU time over the wall time. The
     * garbage collector's longest pause during the work is kept too: a pause of the runtime's,
     * not a stretch the work holds the event loop for (on an idle machine a few milliseconds; on
     * one whose cores are shared, its parallel scavenges wait for descheduled helper threads).
     */
    async around<T>(task: () => Promise<T>, quietMs = 2_000): Promise<T> {
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      shares.push(cpuShare());
      phase = 'busy';
      const collector = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
      });
      collector.observe({ entryTypes: ['gc'] });
      const [cpu0, wall0] = [cpuMs(), performance.now()];
      work.from = wall0;
      try {
        return await task();
      } finally {
        work.to = performance.now();
        shares.push(Math.min(1, (cpuMs() - cpu0) / (work.to - wall0)));
        collector.disconnect();
        phase = 'quiet';
        await new Promise((resolve) => setTimeout(resolve, quietMs));
        shares.push(cpuShare());
      }
    },
    async stop() {
      running = false;
      await loop;
      await Promise.all(pending);
      const share = Math.min(...shares);
      const quiet = stats('quiet');
      const busy = stats('busy');
      /** Bystander answers read while the work ran: a work holding the event loop throughout would leave none. */
      const answeredDuringWork = samples.filter((s) => s.answeredAt > work.from && s.answeredAt < work.to).length;
      const summary = `bystander while busy: ${describeLatency(busy)}, ${answeredDuringWork} answered during the work; quiet: ${describeLatency(quiet)}; share of a core ${share.toFixed(2)}, longest GC pause ${longestGcMs.toFixed(0)} ms`;
      return { failures, quiet, busy, answeredDuringWork, summary };
    },
  };
}

