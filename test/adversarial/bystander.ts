/**
 * A bystander on a fixed schedule, for proving that hostile work (a compile, an expression) does
 * not hold the event loop: its latency counts from when each request was due.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * How much later than when it was due a bystander request may be answered (p99) while the
 * largest document is published or simulated, beyond the p99 of the same bystander in quiet
 * windows just before and after (a few ms on an idle machine; more on one whose cores other
 * processes share) and the garbage collector's longest pause meanwhile. In milliseconds of a
 * whole core: on a machine where this process gets a fifth of a core, five times as many
 * milliseconds of the clock (see cpuShare and around). Before the work was cut into slices,
 * a publish added the whole compile: seconds.
 */
export const BYSTANDER_EXTRA_P99_MS = 100;

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
  const samples: Array<{ phase: 'quiet' | 'busy'; ms: number }> = [];
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
          samples.push({ phase: dueIn, ms: performance.now() - due });
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
    async around<T>(work: () => Promise<T>, quietMs = 2_000): Promise<T> {
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      shares.push(cpuShare());
      phase = 'busy';
      const collector = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longestGcMs = Math.max(longestGcMs, entry.duration);
      });
      collector.observe({ entryTypes: ['gc'] });
      const [cpu0, wall0] = [cpuMs(), performance.now()];
      try {
        return await work();
      } finally {
        shares.push(Math.min(1, (cpuMs() - cpu0) / (performance.now() - wall0)));
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
      /** What the work may add to the p99: BYSTANDER_EXTRA_P99_MS of a core, and the collector's longest pause. */
      const allowedP99 = quiet.p99 + BYSTANDER_EXTRA_P99_MS / share + longestGcMs;
      const summary = `bystander while busy: ${describeLatency(busy)}; quiet: ${describeLatency(quiet)}; share of a core ${share.toFixed(2)}, longest GC pause ${longestGcMs.toFixed(0)} ms: p99 allowed ${allowedP99.toFixed(0)} ms`;
      return { failures, quiet, busy, allowedP99, summary };
    },
  };
}

