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
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning' };
export const ENGINE_BUNDLES = [
  { ...common, entryPoints: [join(ROOT, 'engine', 'cli.ts')], outfile: join(ROOT, 'dist', 'cli.mjs'), packages: 'external', define: { SLUICE_BUNDLED: 'true' } },
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
