import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sluice as runSluice, sluiceFromSources, type CliRun } from '../helpers/cli.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/*
 * `sluice token` finds the data directory the way `npm start` does (SLUICE_DATA, else ./data of
 * the working directory), says on stderr which key signed, and with no key fails clearly without
 * making a key or a data directory (a new key would sign tokens the running gateway refuses).
 */

/** The environment of a run in a clean shell: no SLUICE_DATA nor SLUICE_DEMO but those in `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { SLUICE_DATA: _data, SLUICE_DEMO: _demo, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'silent', ...env };
}

/** The CLI as it ships (the engine bundle), in `cwd`, with exactly `env` over a clean environment. */
function sluice(args: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
  return runSluice(args, { cwd, env: cleanEnv(env) });
}

describe('sluice token and the data directory', { timeout: 90_000 }, () => {
  let gw: TestGateway;
  let work: string;

  beforeAll(async () => {
    gw = await startTestGateway(); // the examples, in demo mode: the gateway made the demo key
    work = mkdtempSync(join(tmpdir(), 'sluice-token-'));
  });
  afterAll(async () => {
    await gw.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('without SLUICE_DATA it uses ./data as npm start does, says which key signed, and the gateway accepts the token', async () => {
    const project = join(work, 'project');
    rmSync(project, { recursive: true, force: true });
    mkdirSync(project);
    symlinkSync(gw.dataDir, join(project, 'data'));
    const args = ['token', '--sub', 'alice', '--scope', 'orders:read', '--partner', 'acme'];
    // as it ships, and as the README's `npm run -s sluice -- token …` runs it (tsx engine/cli.ts)
    for (const run of [await sluice(args, project, {}), await sluiceFromSources(args, { cwd: project, env: cleanEnv({}) })]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe(`signed with the demo key ${join(project, 'data', 'demo-key.json')}\n`);
      const token = run.stdout.trim();
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect((await gw.fetch('/api/orders', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
  });

  it('with SLUICE_DATA it names that directory', async () => {
    const run = await sluice(['token', '--sub', 'bob'], work, { SLUICE_DATA: gw.dataDir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(`signed with the demo key ${join(gw.dataDir, 'demo-key.json')} (SLUICE_DATA)\n`);
  });

  it('with no key it fails saying where it looked, and makes neither a key nor a data directory (even in demo mode)', async () => {
    const missing = join(work, 'nowhere', 'data');
    for (const env of [{ SLUICE_DATA: missing }, { SLUICE_DATA: missing, SLUICE_DEMO: 'on' }] as Array<Record<string, string>>) {
      const run = await sluice(['token', '--sub', 'carol'], work, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`no demo key found (looked for demo-key.json in ${missing})`);
      expect(run.stderr).toContain('start it with `npm start`');
      expect(existsSync(join(work, 'nowhere'))).toBe(false);
    }
    // Nothing in the working directory either.
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    const run = await sluice(['token', '--sub', 'dave'], empty, { SLUICE_DATA: 'data' });
    expect(run.code).toBe(1);
    expect(existsSync(join(empty, 'data'))).toBe(false);
  });
});
