#!/usr/bin/env node
// Builds the editor (Vite) when editor/dist is missing or older than what it is built from:
// `npm start` and the browser tests run this, so a fresh checkout serves a current editor.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EDITOR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(EDITOR, '..');
const STAMP = join(EDITOR, 'dist', 'index.html');
/** The editor bundles shared/ (ports, validation rules, schemas), so it is a source too. */
const SOURCES = [join(EDITOR, 'src'), join(EDITOR, 'index.html'), join(EDITOR, 'portal.html'), join(EDITOR, 'vite.config.ts'), join(ROOT, 'shared'), join(ROOT, 'package-lock.json')];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** True when the built editor is missing or older than one of its sources. */
export function editorIsStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.some((source) => newest(source) > built);
}

/** Builds the editor if it is stale; resolves to whether it built. */
export async function buildEditorIfNeeded({ quiet = false } = {}) {
  if (!editorIsStale()) return false;
  const { build } = await import('vite');
  if (!quiet) console.log('sluice: building the editor (editor/dist is missing or older than its sources)…');
  await build({ configFile: join(EDITOR, 'vite.config.ts'), logLevel: quiet ? 'warn' : 'info' });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildEditorIfNeeded().catch((error) => {
    console.error('sluice: the editor could not be built:', error);
    process.exit(1);
  });
}
