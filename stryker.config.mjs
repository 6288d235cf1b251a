// @ts-check
// `npm run test:mutation`: mutation testing of the per-request core and the rules that guard it
// (issue 27). Incremental: a run reuses the results of mutants whose code and tests did not change
// (reports/stryker-incremental.json), so a run on a change takes minutes. Reports (HTML + JSON)
// go to reports/mutation/, git-ignored. MUTATE narrows a run: MUTATE=engine/gateway/route-table.ts.
// Tests run with vitest.mutation.config.ts: the in-process tests (no replica processes, no browser).

/** The per-request core and its guards. */
const SCOPE = [
  'engine/gateway/route-table.ts',
  'engine/compile/walk.ts',
  'engine/kinds/*.ts',
  'engine/kinds/support/rate-limit-store.ts',
  'engine/kinds/support/redis-rate-limit-store.ts',
  'engine/kinds/support/jwks.ts',
  'engine/kinds/support/jwt-verifier.ts',
  'engine/kinds/support/token-cache.ts',
  'engine/kinds/support/jsonata-bounds.ts',
  'engine/gateway/problem.ts',
  'shared/compile/validate.ts',
  'shared/compile/route.ts',
];

/** @type {Record<string, unknown>} the options of @stryker-mutator/core (its api package is not a dependency of ours) */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: process.env.MUTATE ? process.env.MUTATE.split(',') : SCOPE,
  // The vitest runner records which test reached a mutant (requests the in-process gateway handles
  // count for the test awaiting them) and Stryker runs only those tests against it. Static mutants
  // (code run when a module loads or in a beforeAll, reached by no one test) would need every test:
  // the whole scope ignores them, where that would take hours; a run narrowed by MUTATION_TESTS runs
  // the files it names against them.
  coverageAnalysis: 'perTest',
  ignoreStatic: !process.env.MUTATION_TESTS,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 20_000,
  tempDirName: '.stryker-tmp',
  // Stryker rewrites the tsconfig's outside paths with TypeScript's JS API, which TypeScript 7 (native) no longer has;
  // ours points nowhere outside the tree, so it names no file and is copied as it is.
  tsconfigFile: 'tsconfig.none.json',
  cleanTempDir: 'always',
};
export default config;
