import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

/*
 * The engine as `npm start` runs it: the bundles scripts/build.mjs names (dist/cli.mjs and the
 * expression worker beside it), built with its very options, started with package.json's
 * config.serveFlags. A spawned `sluice` costs a fraction of `tsx engine/cli.ts` (which
 * transpiles the whole engine in every process), and the tests check what ships.
 *
 * Never stale: the global setup (vitest.config.ts) builds them at the start of every run, whatever
 * files it runs, and names the bundle in SLUICE_TEST_ENGINE_BUNDLE for the test processes. A test
 * process started without it (another config, e.g. vitest.mutation.config.ts) builds them itself,
 * once.
 */

const REPO = join(import.meta.dirname, '..', '..');
/** Set by the global setup once the bundles of this run are written. */
const BUNDLE_ENV = 'SLUICE_TEST_ENGINE_BUNDLE';

/** npm start's Node flags (package.json config.serveFlags). */
export const SERVE_FLAGS: string[] = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { serveFlags: string } }).config.serveFlags.split(/\s+/).filter(Boolean);

/**
 * Builds scripts/build.mjs's engine bundles, each file written whole under a temporary name and
 * renamed into place: a process starting the bundle (this run's, another run's in the same
 * checkout) never reads half a file. Resolves to the path of dist/cli.mjs.
 */
async function buildEngineBundles(): Promise<string> {
  const { ENGINE_BUNDLES } = (await import(pathToFileURL(join(REPO, 'scripts', 'build.mjs')).href)) as { ENGINE_BUNDLES: Array<BuildOptions & { outfile: string }> };
  for (const options of ENGINE_BUNDLES) {
    const result = await build({ ...options, write: false });
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      const temporary = `${file.path}.${process.pid}.tmp`;
      writeFileSync(temporary, file.contents);
      renameSync(temporary, file.path);
    }
  }
  return ENGINE_BUNDLES[0]!.outfile;
}

let built: Promise<string> | undefined;

/** The path of the engine bundle (dist/cli.mjs) built in this run. */
export function engineBundle(): Promise<string> {
  const named = process.env[BUNDLE_ENV];
  if (named !== undefined) return Promise.resolve(named);
  built ??= buildEngineBundles();
  return built;
}

/** Vitest global setup: builds the bundles once for the run (each project calls it: the first builds). */
export async function setup(): Promise<void> {
  if (process.env[BUNDLE_ENV] !== undefined) return;
  process.env[BUNDLE_ENV] = await buildEngineBundles();
}

/** `node <npm start's flags> dist/cli.mjs <args>`: the command line of `sluice <args>` as it ships. */
export async function sluiceArgs(args: string[]): Promise<string[]> {
  return [...SERVE_FLAGS, await engineBundle(), ...args];
}
