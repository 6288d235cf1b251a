import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.ts';

/*
 * A clickhouse-server of the test's own: Debian's package (18.16) or the official single binary,
 * in a temp directory with a minimal config, listening on one free HTTP port on 127.0.0.1 and
 * nothing else (no native TCP, interserver, MySQL or TLS ports).
 */

/** The server command: SLUICE_CLICKHOUSE (a clickhouse-server binary; only it when set), Debian's clickhouse-server, or the official `clickhouse server`. */
function serverCommand(): { command: string; args: string[] } | undefined {
  const own = process.env.SLUICE_CLICKHOUSE;
  if (own !== undefined && own !== '') return existsSync(own) ? { command: own, args: [] } : undefined;
  if (existsSync('/usr/sbin/clickhouse-server')) return { command: '/usr/sbin/clickhouse-server', args: [] };
  if (existsSync('/usr/bin/clickhouse')) return { command: '/usr/bin/clickhouse', args: ['server'] };
  return undefined;
}

/**
 * Whether ClickHouse tests can run: without a server binary they are skipped with a loud message,
 * except in CI (CI=true), where it throws, so the file fails at collection (.ci/run installs it).
 */
export function clickhouseAvailable(): boolean {
  if (serverCommand() !== undefined) return true;
  if (process.env.CI === 'true') throw new Error('CI=true and no clickhouse-server (/usr/sbin/clickhouse-server or /usr/bin/clickhouse): ClickHouse tests must run in CI (.ci/run installs it: apt-get install -y clickhouse-server)');
  const line = '='.repeat(78);
  console.warn(`\n${line}\nCLICKHOUSE TESTS SKIPPED: no clickhouse-server.\nInstall it with: apt-get update && apt-get install -y clickhouse-server\n${line}\n`);
  return false;
}

function configXml(dir: string, httpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog></logger>
  <http_port>${httpPort}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

/** One user, `default`, without a password, from 127.0.0.1 only. */
const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage><max_threads>2</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

/** Polls GET /ping until the server answers "Ok." (or gives up). */
async function untilPing(url: string, child: ChildProcess, logOf: () => string, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}:\n${logOf()}`);
    try {
      const response = await fetch(`${url}/ping`);
      if (response.ok && (await response.text()).startsWith('Ok.')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`clickhouse-server at ${url} did not come up:\n${logOf()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A clickhouse-server of the test's own, on a free port, in a temp dir that close() removes. */
export interface OwnedClickHouse {
  url: string;
  close(): Promise<void>;
}

export async function startOwnedClickHouse(): Promise<OwnedClickHouse> {
  const server = serverCommand();
  if (server === undefined) throw new Error('no clickhouse-server binary (see clickhouseAvailable)');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-clickhouse-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'config.xml'), configXml(dir, port));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  const output = openSync(join(dir, 'stdout.log'), 'a');
  const child = spawn(server.command, [...server.args, `--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', output, output] });
  closeSync(output);
  const logOf = () => ['stdout.log', 'server.err.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-4000) : '')).join('\n');

  // SIGKILL: the data directory is thrown away, and 18.16 takes seconds to stop its HTTP server on SIGTERM
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilPing(url, child, logOf);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, close };
}
