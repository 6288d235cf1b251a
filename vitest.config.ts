import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // prints the adversarial suite's case counts by group after the run
    globalSetup: ['test/adversarial/summary.ts'],
  },
});
