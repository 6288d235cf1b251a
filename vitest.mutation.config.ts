import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against each mutant (stryker.config.mjs): everything that runs the code
 * in this process. Tests that start processes of their own (replicas, deploy) or a browser run
 * the unmutated code elsewhere, so they would only slow a run down.
 */
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // MUTATION_TESTS narrows a run to some test files (comma-separated globs), with MUTATE naming the code
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : ['test/engine/**/*.test.ts', 'test/shared/**/*.test.ts', 'test/adversarial/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/engine/replicas/**', 'test/deploy/**', 'test/**/*.e2e.test.ts'],
  },
});
