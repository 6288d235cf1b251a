#!/usr/bin/env node
// Builds what `npm start` serves: the engine as one plain-JavaScript bundle (dist/cli.mjs, by
// esbuild, in tens of milliseconds) and the editor (Vite) when it is missing or stale; with
// --force, the editor too. The gateway runs the bundle rather than TypeScript through tsx:
// tsx keeps function names by wrapping every closure, which cost ~8% of requests/s (bench).
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildEditorIfNeeded } from '../editor/build-if-needed.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * dist/ sits beside engine/, so the bundle finds examples/ and editor/ as engine/config.ts (ROOT) does. The
 * expression worker is a bundle of its own beside it (engine/kinds/support/expression-pool.ts starts
 * dist/expression-worker.mjs from dist/cli.mjs): copy both when you copy the bundle.
 * The tests build these same bundles once per run and run the CLI from them (test/helpers/engine-bundle.ts).
 */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning', inject: [join(ROOT, 'scripts', 'node-globals.mjs')] };

/**
 * The CommonJS packages the engine imports, loaded with require() rather than import: Node reads
 * a CommonJS module imported from ESM a second time to find its named exports (cjs-module-lexer),
 * ~90 ms of every start for these (measured: importing them 416-449 ms, requiring them 321-342).
 */
const COMMONJS_PACKAGES = ['express', 'undici', 'pino', 'prom-client', 'jsonata', 'ipaddr.js', 'proxy-addr', '@duckdb/node-api'];
const requireCommonJs = {
  name: 'require-commonjs',
  setup(build) {
    const filter = new RegExp(`^(${COMMONJS_PACKAGES.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    // an import of the package becomes a module of one line that requires it, left to Node
    build.onResolve({ filter }, (args) => (args.namespace === 'require-commonjs' ? { path: args.path, external: true } : { path: args.path, namespace: 'require-commonjs' }));
    build.onLoad({ filter: /.*/, namespace: 'require-commonjs' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
export const ENGINE_BUNDLES = [
  {
    ...common,
    entryPoints: [join(ROOT, 'engine', 'cli.ts')],
    outfile: join(ROOT, 'dist', 'cli.mjs'),
    packages: 'external',
    define: { SLUICE_BUNDLED: 'true' },
    plugins: [requireCommonJs],
    // the require() the plugin's modules call (an ES module has none of its own)
    banner: { js: "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);" },
  },
  // self-contained (jsonata and re2js inside): it starts wherever the bundle was copied
  { ...common, entryPoints: [join(ROOT, 'engine', 'kinds', 'support', 'expression-worker.ts')], outfile: join(ROOT, 'dist', 'expression-worker.mjs') },
];

// run as a script (imported, it only names the bundles)
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const options of ENGINE_BUNDLES) await build(options);
  if (process.argv.includes('--force')) {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ configFile: join(ROOT, 'editor', 'vite.config.ts'), logLevel: 'warn' });
  } else await buildEditorIfNeeded();
}
