#!/usr/bin/env node
// Builds what `npm start` serves: the engine as one plain-JavaScript bundle (dist/cli.mjs, by
// esbuild, in tens of milliseconds) and the editor (Vite) when it is missing or stale; with
// --force, the editor too. The gateway runs the bundle rather than TypeScript through tsx:
// tsx keeps function names by wrapping every closure, which cost ~8% of requests/s (bench).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildEditorIfNeeded } from '../editor/build-if-needed.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

/**
 * dist/ sits beside engine/, so the bundle finds examples/ and editor/ as engine/config.ts (ROOT) does. The
 * expression worker is a bundle of its own beside it (engine/kinds/support/expression-pool.ts starts
 * dist/expression-worker.mjs from dist/cli.mjs): copy both when you copy the bundle.
 */
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning' };
await build({ ...common, entryPoints: [join(ROOT, 'engine', 'cli.ts')], outfile: join(ROOT, 'dist', 'cli.mjs'), packages: 'external' });
// self-contained (jsonata and re2js inside): it starts wherever the bundle was copied
await build({ ...common, entryPoints: [join(ROOT, 'engine', 'kinds', 'support', 'expression-worker.ts')], outfile: join(ROOT, 'dist', 'expression-worker.mjs') });

if (force) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: join(ROOT, 'editor', 'vite.config.ts'), logLevel: 'warn' });
} else await buildEditorIfNeeded();
