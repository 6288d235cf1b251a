/**
 * The architecture's import rules (npm run lint). .tsx files are left to oxlint (its
 * no-restricted-imports keeps the editor's components off engine/): swc, the parser used here
 * because typescript@7 has no JS API, does not parse them for dependency-cruiser.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other in a circle (type-only imports count): move what both need into a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'shared/ runs in the engine and in the browser: it imports neither engine/ nor editor/.',
      from: { path: '^shared/' },
      to: { path: '^(engine|editor)/' },
    },
    {
      name: 'shared-without-node',
      severity: 'error',
      comment: 'shared/ runs in the browser too: no Node core modules.',
      from: { path: '^shared/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'editor-not-engine',
      severity: 'error',
      comment: 'The editor talks to the engine over HTTP only: it imports shared/, never engine/.',
      from: { path: '^editor/' },
      to: { path: '^engine/' },
    },
    {
      name: 'store-not-upward',
      severity: 'error',
      comment: 'engine/store/ is the bottom of the engine: it never imports the admin API, the gateway or the workflow sources.',
      from: { path: '^engine/store/' },
      to: { path: '^engine/(admin|gateway|sources)/' },
    },
    {
      name: 'observe-not-gateway',
      severity: 'error',
      comment: 'engine/observe/ is told what happened; it never imports engine/gateway/.',
      from: { path: '^engine/observe/' },
      to: { path: '^engine/gateway/' },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'An import that does not resolve would slip past every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '\\.tsx$', '^editor/dist/', '^dist/', '^bench/\\.peers/', '^bench/results/'] },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
