import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that start processes of their own (gateway replicas, workers, redis-servers, the compose
 * services' commands): they run after the others, one file at a time, so they neither slow nor
 * are slowed by the rest.
 */
const PROCESS_TESTS = ['test/engine/replicas/**/*.test.ts', 'test/deploy/**/*.test.ts'];

export default defineConfig({
  test: {
    // guards against a hang, not speed bounds: a loaded 2-core machine is slow
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // a poll waits for behaviour, never judges speed: 1 s (the default) flakes on a loaded 2-core machine
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    // Two files at a time on the 2-core machine (Vitest's default is one fewer than the cores: one
    // here). Most files wait on what they start (gateways, Chromium, timers), not on the CPU: the
    // suite took 1,110-1,142 s one at a time, 823-940 s two at a time. The first runs at two each
    // surfaced a test that judged wall time, a tiny TTL or an unawaited write; all four are fixed.
    maxWorkers: 2,
    // prints the adversarial suite's case counts by group after the run; checks that the run
    // reached every port and declared error of every kind over HTTP (test/coverage); builds the
    // engine bundle the tests spawn `sluice` from, fresh in every run (test/helpers/engine-bundle.ts)
    globalSetup: ['test/adversarial/summary.ts', 'test/coverage/setup.ts', 'test/helpers/engine-bundle.ts'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...PROCESS_TESTS], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
