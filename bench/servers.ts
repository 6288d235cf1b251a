// The servers every mode starts: the upstream, the bare proxy and Sluice gateways (as `npm start`
// runs them), each pinned to its core. Gateway data dirs are kept after a failure (their log
// usually says what went wrong) and removed otherwise.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { REPO, spawnCompiled, spawnPinned, waitForListening } from './children.ts';
import { writeWorkflows } from './fixture.ts';

/** Servers under test share core 0 (only one is under load at a time); upstream and load generator get core 1. */
export const SERVER_CORE = 0;
export const UPSTREAM_CORE = 1;

export type Server = ChildProcess & { port: number };

/** Temp dirs of gateways and peers: kept (with their logs) after a failure, removed otherwise. */
const tempDirs: string[] = [];

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Work to do once every server has stopped (removing a run's Redis keys, say). */
const afterStop: Array<() => void> = [];

export function whenStopped(task: () => void): void {
  afterStop.push(task);
}

/** Runs after every child is stopped: the whenStopped tasks, then the temp dirs go (or stay, after a failure). */
export function cleanUp(failed: boolean): void {
  for (const task of afterStop) task();
  for (const dir of tempDirs) {
    // A gateway log grows by megabytes a second under load: keep it only when it may explain a failure.
    if (failed) console.error(`data and logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export async function startUpstream(): Promise<{ server: ChildProcess; origin: string }> {
  const server = spawnCompiled(UPSTREAM_CORE, 'bench/upstream.ts', []);
  const port = await waitForListening(server, 'upstream');
  return { server, origin: `http://127.0.0.1:${port}` };
}

export async function startBareProxy(upstream: string): Promise<Server> {
  const server = spawnCompiled(SERVER_CORE, 'bench/bare-proxy.ts', [upstream]);
  const port = await waitForListening(server, 'bare proxy');
  return Object.assign(server, { port });
}

/** For servers that bind PORT themselves: find a free port by binding one and letting go. */
export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Environment variables that would change where a server sends its requests or logs. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['LOG_FILE', 'LOG_LEVEL', 'http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete env[name];
  return env;
}

export interface Gateway extends Server {
  url: string;
  dataDir: string;
  logPath: string;
  adminToken: string;
  /** A call to its admin API; throws on anything but 2xx. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
}

let built = false;

/**
 * An engine bundle named on the command line (ab.ts, callgrind.ts): a copy of dist/cli.mjs,
 * optionally with environment variables for its gateway after an `@`:
 * dist/x.mjs@REDIS_URL=redis://…,SLUICE_EVIDENCE=off.
 */
export function bundleArgument(arg: string): { file: string; name: string; env: Record<string, string> } {
  const [file, env = ''] = arg.split('@');
  return { file: resolve(file!), name: arg.split('/').pop()!, env: Object.fromEntries(env.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
}

export interface GatewayOptions {
  /** Workflow documents its data dir starts with (none written when `dataDir` is given). */
  workflows: Array<{ id: string }>;
  /** Start on this data dir as it is (a restart of a gateway stopped before), not on a new one. */
  dataDir?: string;
  /** Request logging (LOG_LEVEL=info) and metrics, as by default. False: LOG_LEVEL=warn, SLUICE_METRICS=off. */
  observe?: boolean;
  env?: Record<string, string>;
  /** How long it may take to answer /healthz (it publishes every workflow file first). */
  startupMs?: number;
  /** Another engine bundle than the dist/cli.mjs scripts/build.mjs builds (bench/ab.ts compares copies). */
  bundle?: string;
  /** The gateway serves HTTPS (SLUICE_TLS_* in env): the CA its certificate is checked against, for /healthz and admin calls. */
  tlsCa?: string;
  /** A command the gateway runs under, e.g. valgrind and its options (bench/callgrind.ts). */
  wrap?: string[];
}

/** fetch, over TLS trusting `ca` when given (Node's own fetch takes no CA). */
const fetchVia = (ca: string | undefined): typeof fetch => (ca === undefined ? fetch : (((url: string, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: new Agent({ connect: { ca } }) })) as unknown as typeof fetch));

/** A gateway as `npm start` runs it: the engine bundle built by scripts/build.mjs, npm start's Node flags. */
export async function startGateway({ workflows, dataDir: reused, observe = true, env = {}, startupMs = 15_000, bundle, tlsCa, wrap = [] }: GatewayOptions): Promise<Gateway> {
  const scheme = tlsCa === undefined ? 'http' : 'https';
  const get = fetchVia(tlsCa);
  if (!built && bundle === undefined) {
    execFileSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, stdio: 'inherit' });
    built = true;
  }
  const dataDir = reused ?? makeTempDir('sluice-bench-');
  if (reused === undefined) writeWorkflows(dataDir, workflows);
  const port = await freePort();
  // Request logging goes to a file, as in production: a log sink on a terminal (slow) or
  // /dev/null (free) would both misstate its cost.
  const logPath = join(dataDir, 'gateway.log');
  const log = openSync(logPath, 'a');
  const adminToken = randomBytes(24).toString('hex');
  const serveFlags = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { serveFlags: string } }).config.serveFlags.split(' ');
  const command = [...wrap, process.execPath, ...serveFlags, bundle ?? join(REPO, 'dist', 'cli.mjs'), 'serve'];
  const server = spawnPinned(SERVER_CORE, command[0]!, command.slice(1), {
    env: {
      ...cleanEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      SLUICE_DATA: dataDir,
      SLUICE_DEMO: 'off',
      SLUICE_ADMIN_TOKENS: `bench:admin:${adminToken}`,
      LOG_LEVEL: observe ? 'info' : 'warn',
      SLUICE_METRICS: observe ? 'on' : 'off',
      // the bench upstreams listen on loopback, which the egress policy refuses by default
      SLUICE_EGRESS_ALLOW: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log); // the child has its own copy
  await waitForHealthz(server, `${scheme}://127.0.0.1:${port}`, get, logPath, startupMs);
  const url = `${scheme}://127.0.0.1:${port}`;
  async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await get(`${url}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /admin/api${path} answered ${res.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as unknown;
  }
  return Object.assign(server, { port, url, dataDir, logPath, adminToken, admin });
}

async function waitForHealthz(server: ChildProcess, origin: string, get: typeof fetch, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`the Sluice gateway exited (${server.signalCode ?? `code ${server.exitCode}`}) during startup. Last lines of ${logPath}:\n${logTail(logPath)}`);
    }
    try {
      const res = await get(`${origin}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    // every 10 ms: the start's time is read from here (scale mode's first start and restart), to within a poll
    await sleep(10);
  }
  throw new Error(`the Sluice gateway did not answer 200 on /healthz within ${timeoutMs / 1000} s (last: ${last}). Last lines of ${logPath}:\n${logTail(logPath)}`);
}

/** Polls `url` (with the token) until it answers 200; resolves with the milliseconds that took. */
export async function waitFor200(url: string, token: string | undefined, timeoutMs: number, alive: () => boolean): Promise<number> {
  const started = performance.now();
  let last = 'no answer';
  while (performance.now() - started < timeoutMs) {
    if (!alive()) throw new Error(`exited before ${url} answered 200`);
    try {
      const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const body = await res.text();
      if (res.status === 200) return performance.now() - started;
      last = `status ${res.status}: ${body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(5);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}
