import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type Settings } from '../config.ts';
import { loadAdminTokens } from '../admin/auth.ts';
import { ensureDemoKeys } from '../demo/keys.ts';
import { keysDir } from '../kinds/support/key-files.ts';

/** The example workflows and error catalog a new data directory starts with. */
export const EXAMPLES = join(ROOT, 'examples');

/** Seeds a new data directory with the example workflows, their fragments and the error catalog. */
export function seedDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  const workflows = join(dataDir, 'workflows');
  const fragments = join(dataDir, 'fragments');
  if (!existsSync(workflows)) {
    cpSync(join(EXAMPLES, 'workflows'), workflows, { recursive: true });
    // the fragments the example workflows use
    if (!existsSync(fragments)) cpSync(join(EXAMPLES, 'fragments'), fragments, { recursive: true });
  }
  const catalog = join(dataDir, 'errors.json');
  if (!existsSync(catalog)) copyFileSync(join(EXAMPLES, 'errors.json'), catalog);
  mkdirSync(keysDir(dataDir), { recursive: true }); // the only folder workflow documents may name files in
}

/**
 * Makes the data directory's one-time files (examples, demo keys, the admin token file) before
 * several processes start on it, so they all read the same ones. Returns the admin token file
 * it created, if any.
 */
export async function prepareDataDir(settings: Settings): Promise<string | undefined> {
  seedDataDir(settings.dataDir);
  if (settings.demo) await ensureDemoKeys(settings.dataDir);
  return loadAdminTokens(settings.adminTokens, settings.dataDir).createdFile;
}
