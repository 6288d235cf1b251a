// `npm run bench` (compare mode: bench/compare.ts), `npm run bench -- tokens` (its many-token
// targets alone) and `npm run bench -- scale` (or BENCH_MODE=scale: bench/scale.ts). Both start their servers as child processes; this file
// makes sure none of them outlives the run, whatever way it ends. See bench/README.md.
import { CAN_PIN, stopAll } from './children.ts';
import { runCompare } from './compare.ts';
import { runEvidence } from './evidence.ts';
import { runReplicas } from './replicas.ts';
import { runScale } from './scale.ts';
import { cleanUp } from './servers.ts';

const MODES = { compare: () => runCompare(), tokens: () => runCompare('tokens'), scale: runScale, replicas: runReplicas, evidence: runEvidence } as const;

function mode(): keyof typeof MODES {
  const name = process.argv[2] ?? process.env.BENCH_MODE ?? 'compare';
  if (!(name in MODES)) throw new Error(`unknown mode "${name}" (choose from ${Object.keys(MODES).join(', ')})`);
  return name as keyof typeof MODES;
}

async function main(): Promise<void> {
  const run = MODES[mode()];
  if (!CAN_PIN) console.log('cannot pin to cores 0 and 1 (no taskset, or fewer than 2 usable cores): numbers will be noisier');
  await run();
}

/**
 * Stops every child (servers and load generator), then exits. The first caller decides the exit
 * code: after a Ctrl-C, main() fails too (its children died) and must not turn 130 into 1.
 */
let shuttingDown: Promise<never> | undefined;
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    await stopAll();
    cleanUp(code === 1);
    process.exit(code);
  })();
  return shuttingDown;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    if (!shuttingDown) console.error(`\n${signal}: stopping…`);
    void shutdown(code);
  });
}

main().then(
  () => shutdown(0),
  (err: unknown) => {
    // Once we are stopping, errors are just the children we killed: don't report them.
    if (!shuttingDown) console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    return shutdown(1);
  },
);
