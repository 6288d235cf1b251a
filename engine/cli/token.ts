import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../config.ts';
import { DEMO_JWKS_FILE, DEMO_KEY_FILE, signDemoToken, type DemoTokenOptions } from '../demo/keys.ts';
import { keysDir } from '../kinds/support/key-files.ts';

/** The demo key of a data directory when it has one, with the public key set the gateway serves beside it. */
const demoKeyIn = (dataDir: string) => {
  const keyFile = join(dataDir, DEMO_KEY_FILE);
  const jwks = [join(keysDir(dataDir), DEMO_JWKS_FILE), join(dataDir, DEMO_JWKS_FILE)];
  return existsSync(keyFile) && jwks.some((file) => existsSync(file)) ? keyFile : undefined;
};

/**
 * The data directories `sluice token` looks in, in order: SLUICE_DATA alone when it is set (what
 * the gateway was started with); otherwise ./data of the working directory (`npm start` and
 * `npm run sluice` both run in the package root, so that is the gateway's) and the package
 * root's data/ (for a call from elsewhere, e.g. `npx tsx engine/cli.ts token` in a subfolder).
 */
function tokenDataDirs(env: Record<string, string | undefined>, cwd = process.cwd()): string[] {
  if (env.SLUICE_DATA !== undefined && env.SLUICE_DATA !== '') return [resolve(cwd, env.SLUICE_DATA)];
  return [...new Set([resolve(cwd, 'data'), join(ROOT, 'data')])];
}

/**
 * Signs a demo token with the demo key of the data directory the gateway uses. It never makes a
 * key (a new key would sign tokens the running gateway answers 401 to, and making ./data here
 * would hide the mistake): with no key it says where it looked and how to get one. Which key
 * signed is said on stderr, so stdout stays the token alone.
 */
export async function signTokenCommand(env: Record<string, string | undefined>, options: DemoTokenOptions, out: { stdout(text: string): void; stderr(text: string): void }): Promise<number> {
  const dirs = tokenDataDirs(env);
  const dataDir = dirs.find((dir) => demoKeyIn(dir) !== undefined);
  if (dataDir === undefined) {
    out.stderr(
      `sluice token: no demo key found (looked for ${DEMO_KEY_FILE} in ${dirs.join(' and ')}).\n` +
        '  The demo key is made by the gateway in demo mode: start it with `npm start` (or SLUICE_DEMO=on), then run this again;\n' +
        '  if the gateway uses another data directory, set SLUICE_DATA to it. This command never makes a key or a data directory.\n',
    );
    return 1;
  }
  const token = await signDemoToken(dataDir, options);
  out.stderr(`signed with the demo key ${demoKeyIn(dataDir)}${env.SLUICE_DATA ? ' (SLUICE_DATA)' : ''}\n`);
  out.stdout(`${token}\n`);
  return 0;
}
