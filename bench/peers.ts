// The peers: express-gateway and Node-RED, installed at run time from the npm registry into
// bench/.peers/<name> (git-ignored, never committed), configured by peer-config.ts from the same
// key, token and upstream as Sluice, and started pinned to the servers' core.
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, spawnPinned, stopChild } from './children.ts';
import { UPSTREAM_PATH } from './fixture.ts';
import { expressGatewayConfig, nodeRedFlow, nodeRedSettings } from './peer-config.ts';
import { SERVER_CORE, cleanEnv, freePort, logTail, makeTempDir, waitFor200, type Server } from './servers.ts';

/** Exact versions: the peers' numbers only compare across runs if their code is the same. */
export const PEERS = {
  'express-gateway': { package: 'express-gateway', version: '1.16.11' },
  // 4.x: Node-RED 5 needs Node >= 22.9, Sluice runs on Node 20.
  'node-red': { package: 'node-red', version: '4.1.8' },
} as const;
export type PeerName = keyof typeof PEERS;

const PEERS_DIR = join(REPO, 'bench', '.peers');
/** A peer that installs but never answers is reported after this long. */
const STARTUP_MS = 60_000;

const packageDir = (name: PeerName) => join(PEERS_DIR, name, 'node_modules', PEERS[name].package);

function installedVersion(name: PeerName): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * `npm install --prefix bench/.peers/<name> <package>@<version>` unless that version is already
 * there. Install scripts are not run: neither peer needs one, and nothing gets downloaded besides
 * the registry's packages. Throws with npm's output when it fails.
 */
function installPeer(name: PeerName): string {
  const { package: pkg, version } = PEERS[name];
  if (installedVersion(name) === version) return version;
  const prefix = join(PEERS_DIR, name);
  mkdirSync(prefix, { recursive: true });
  // Its own package.json, so npm does not walk up to Sluice's and install into the repo.
  if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ name: `bench-peer-${name}`, private: true }, null, 2)}\n`);
  console.log(`installing ${pkg}@${version} into ${prefix} from the npm registry…`);
  const npm = spawnSync('npm', ['install', '--prefix', prefix, '--save-exact', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `${pkg}@${version}`], {
    cwd: prefix,
    encoding: 'utf8',
    env: process.env,
  });
  if (npm.status !== 0) throw new Error(`npm install ${pkg}@${version} failed (${npm.error?.message ?? `exit ${npm.status}`}):\n${(npm.stderr ?? '').trim().split('\n').slice(-15).join('\n')}`);
  const installed = installedVersion(name);
  if (installed !== version) throw new Error(`npm install ${pkg}@${version} left version ${installed ?? 'none'} in ${packageDir(name)}`);
  return version;
}

export interface Peer extends Server {
  url: string;
  version: string;
  logPath: string;
}

/**
 * Installs and starts a peer, and waits until it answers the token with 200 on its route. On
 * failure the peer is stopped and the error says why (with the end of its log).
 */
export async function startPeer(name: PeerName, fixture: { publicPem: string; upstream: string; token: string; rateLimit?: boolean }): Promise<Peer> {
  const version = installPeer(name);
  const dir = makeTempDir(`${name}-bench-`);
  const port = await freePort();
  let args: string[];
  if (name === 'express-gateway') {
    const configDir = join(dir, 'config');
    const { gateway, system } = expressGatewayConfig({ ...fixture, port });
    mkdirSync(configDir);
    // express-gateway reads <name>.yml, else <name>.json; its models are its own defaults.
    writeFileSync(join(configDir, 'gateway.config.json'), JSON.stringify(gateway, null, 2));
    writeFileSync(join(configDir, 'system.config.json'), JSON.stringify(system, null, 2));
    cpSync(join(packageDir(name), 'lib', 'config', 'models'), join(configDir, 'models'), { recursive: true });
    // The way its generated server.js starts it.
    args = ['-e', `require(${JSON.stringify(packageDir(name))})().load(${JSON.stringify(configDir)}).run()`];
  } else {
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(nodeRedFlow(fixture), null, 2));
    writeFileSync(join(dir, 'settings.js'), nodeRedSettings(port, dir));
    args = [join(packageDir(name), 'red.js'), '--settings', join(dir, 'settings.js'), '--userDir', dir];
  }
  const logPath = join(dir, `${name}.log`);
  const log = openSync(logPath, 'a');
  const server = spawnPinned(SERVER_CORE, process.execPath, args, { env: cleanEnv(), stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}${UPSTREAM_PATH}`;
  try {
    await waitFor200(url, fixture.token, STARTUP_MS, () => server.exitCode === null && server.signalCode === null);
  } catch (err) {
    await stopChild(server);
    throw new Error(`${(err as Error).message}. Last lines of ${logPath}:\n${logTail(logPath, 15)}`);
  }
  return Object.assign(server, { port, url, version, logPath });
}
