// The mTLS run of `npm run bench` (target sluice-m): a gateway of its own serving HTTPS with a
// client CA, a client-cert → proxy workflow, and a partner registered by its certificate's
// fingerprint; loaded with a new TLS connection per request (a full handshake each time, the
// handshake-heavy case) and with kept-alive connections, taking turns round after round.
import { Agent, fetch as undiciFetch } from 'undici';
import { createTestPki } from '../test/helpers/certificates.ts';
import { cpuMicros } from './children.ts';
import { mtlsWorkflow } from './fixture.ts';
import { CONNECTIONS } from './loadgen.ts';
import { WARMUP_SECONDS } from './measure.ts';
import { fmt, median, printTable } from './report.ts';
import { startGateway, UPSTREAM_CORE } from './servers.ts';
import { spawnCompiled } from './children.ts';

const MODES = ['new', 'keepalive'] as const;
type Mode = (typeof MODES)[number];

export interface MtlsRow {
  mode: Mode;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number | undefined;
  rounds: number[];
}

interface LoadLine {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

async function runTlsLoad(args: string[]): Promise<LoadLine> {
  const child = spawnCompiled(UPSTREAM_CORE, 'bench/tls-load.ts', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`tls-load exited with code ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadLine;
}

/** Starts the mTLS gateway, registers the partner's certificate, and measures both modes. */
export async function measureMtls(upstream: string, { seconds, rounds }: { seconds: number; rounds: number }): Promise<MtlsRow[]> {
  const pki = createTestPki();
  try {
    const server = pki.issue('server', { cn: 'localhost', sans: ['IP:127.0.0.1'] });
    const partner = pki.issue('partner', { cn: 'acme-client' });
    const gateway = await startGateway({
      workflows: [mtlsWorkflow(upstream)],
      env: { SLUICE_TLS_CERT: server.certFile, SLUICE_TLS_KEY: server.keyFile, SLUICE_TLS_CLIENT_CA: pki.ca.certFile },
      tlsCa: pki.ca.cert,
    });
    await gateway.admin('POST', '/partners', { id: 'acme', name: 'Acme' });
    await gateway.admin('POST', '/partners/acme/certificates', { match: 'fingerprint', value: partner.fingerprint });
    const url = `${gateway.url}/m`;
    // the partner directory follows the store within the publish bound: wait for the first 200
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, cert: partner.cert, key: partner.key } });
    for (let tries = 0; ; tries++) {
      const res = await undiciFetch(url, { dispatcher });
      await res.arrayBuffer();
      if (res.status === 200) break;
      if (tries > 100) throw new Error(`sluice-m: ${url} answered ${res.status}, not 200`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await dispatcher.close();
    const runs = new Map<Mode, Array<LoadLine & { cpu: number | undefined }>>(MODES.map((m) => [m, []]));
    const args = (mode: Mode, s: number) => [url, String(s), String(CONNECTIONS), mode, pki.ca.certFile, partner.certFile, partner.keyFile];
    for (let round = 1; round <= rounds; round++) {
      for (const mode of MODES) {
        if (round === 1) await runTlsLoad(args(mode, WARMUP_SECONDS));
        const before = cpuMicros(gateway.pid);
        const line = await runTlsLoad(args(mode, seconds));
        const after = cpuMicros(gateway.pid);
        if (line.failures > 0) throw new Error(`sluice-m (${mode}): ${line.failures} requests failed`);
        const cpu = before !== undefined && after !== undefined && line.requests > 0 ? (after - before) / line.requests : undefined;
        runs.get(mode)!.push({ ...line, cpu });
        console.log(`round ${round}/${rounds}  sluice-m ${mode.padEnd(9)} ${fmt(line.requests / line.seconds, 0).padStart(8)} req/s  p50 ${fmt(line.p50Ms, 2)} ms  p99 ${fmt(line.p99Ms, 2)} ms  CPU ${fmt(cpu, 1)} µs/req`);
      }
    }
    return MODES.map((mode) => {
      const rs = runs.get(mode)!;
      const cpus = rs.map((r) => r.cpu);
      return {
        mode,
        rps: median(rs.map((r) => r.requests / r.seconds)),
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        cpuUsPerRequest: cpus.every((c) => c !== undefined) ? median(cpus as number[]) : undefined,
        rounds: rs.map((r) => r.requests / r.seconds),
      };
    });
  } finally {
    pki.close();
  }
}

export function printMtls(rows: MtlsRow[]): void {
  console.log('\nsluice-m: client-cert → proxy over mTLS (node:https client, certificate per connection)');
  printTable(
    ['connection', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req'],
    rows.map((r) => [r.mode === 'new' ? 'new TLS per request' : 'keep-alive', fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpuUsPerRequest, 1)]),
  );
  const fresh = rows.find((r) => r.mode === 'new');
  const kept = rows.find((r) => r.mode === 'keepalive');
  if (fresh && kept) console.log(`handshake cost: new / keep-alive = ${fmt(fresh.rps / kept.rps, 2)} of the throughput`);
}
