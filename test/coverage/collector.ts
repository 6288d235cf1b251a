import { appendFileSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'vitest';
import type { WorkflowMetrics } from '../../engine/observe/workflow-metrics.ts';
import type { Sluice } from '../../engine/server.ts';

/**
 * What the tests reached over HTTP, per node kind, read from what the gateway already emits for
 * operators (no hook in the product):
 * - ports: the per-node port counts behind `sluice_edge_transitions_total` (the live canvas's
 *   edge counts), labelled with the node's kind; and the steps of a simulate trace;
 * - errors: the request log line's `problem` (a catalog type) and the last node of its `path`
 *   (the node the request ended at: the one whose unwired port or fault answered), or a simulate
 *   answer's problem and the last step of its trace;
 * - the ports each served node declares (its kind's ports for its config), so the check knows the
 *   configs used.
 * The vitest global setup (setup.ts) names the directory; each test process appends what it
 * newly saw to `<pid>.jsonl` there. Unset (a tool, not vitest): nothing is collected.
 */
export const COVERAGE_DIR_ENV = 'SLUICE_PORT_COVERAGE_DIR';

const REPO = join(import.meta.dirname, '..', '..');

/** One line of a record file. `file` is the test file (repository-relative) that was running. */
export type CoverageRecord =
  | { t: 'port'; kind: string; port: string; file: string; via: Via }
  | { t: 'error'; kind: string; error: string; file: string; via: Via }
  /** A node served: its kind's ports for its config, and those of them named by the config (switch cases, subflow exits). */
  | { t: 'node'; kind: string; ports: string[]; named: string[]; file: string };

/** How the record was seen: a gateway in the test process, one in a process of its own, a simulation. */
type Via = 'gateway' | 'process' | 'simulate';

/** Marks a subflow exit taken (a subflow is inlined when compiled: which exit is not known from the flat path). */
const SUBFLOW_EXIT = '(an exit)';

/** Catalog type URI -> id, from the examples' catalog every test gateway starts with. */
let typeIds: Map<string, string> | undefined;
function errorIdOf(type: string): string {
  typeIds ??= new Map(Object.entries((JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')) as { errors: Record<string, { type: string }> }).errors).map(([id, e]) => [e.type, id]));
  // a catalog a test replaced keeps the slug convention: the type's last segment, hyphens for underscores
  return typeIds.get(type) ?? type.slice(type.lastIndexOf('/') + 1).replace(/-/g, '_');
}

/** The records written by this process, by a key cheap to build: the request path looks each up per node. */
const seen = new Set<string>();

let testPath: string | undefined;
let testFile = '(unknown)';
function currentFile(): string {
  const path = expect.getState().testPath;
  if (path !== testPath) {
    testPath = path;
    testFile = path === undefined ? '(unknown)' : relative(REPO, path);
  }
  return testFile;
}

/** Writes a record once per process; `key` names it, `entry` is built only when it is new. */
function record(key: string, entry: () => CoverageRecord): void {
  if (seen.has(key)) return;
  seen.add(key);
  const dir = process.env[COVERAGE_DIR_ENV];
  if (dir !== undefined) appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(entry())}\n`);
}
const portRecord = (kind: string, port: string, file: string, via: Via) => record(`p\0${via}\0${kind}\0${port}\0${file}`, () => ({ t: 'port', kind, port, file, via }));
const errorRecord = (kind: string, error: string, file: string, via: Via) => record(`e\0${via}\0${kind}\0${error}\0${file}`, () => ({ t: 'error', kind, error, file, via }));

const enabled = () => process.env[COVERAGE_DIR_ENV] !== undefined;

/** Every string inside a config: a port whose name is one of them is named by the config. */
function stringsOf(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

/** A request line's path, workflow and problem, as the request log writes them. */
interface RequestLine {
  workflow?: unknown;
  path?: unknown;
  problem?: unknown;
}

/**
 * The collector of an in-process test gateway: `line` hears every log line it writes, `close`
 * reads its counters once more before it stops.
 */
export interface GatewayCoverage {
  line(entry: Record<string, unknown>): void;
  attach(sluice: Sluice): void;
  close(): void;
}

export function gatewayCoverage(): GatewayCoverage | undefined {
  if (!enabled()) return undefined;
  let sluice: Sluice | undefined;
  const versions = new Set<unknown>();
  /** Workflows requests went through since the counters were last read, with the test file that sent them. */
  const pending = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;

  /** The nodes a served version declares, once per compiled version. */
  function declared(file: string): void {
    for (const compiled of sluice!.registry.active.values()) {
      if (versions.has(compiled)) continue;
      versions.add(compiled);
      for (const node of compiled.graph.nodes.values()) {
        let names = '';
        for (const p of node.ports) names += `${p.name}\0`;
        record(`n\0${node.kind}\0${names}\0${file}`, () => {
          const strings = stringsOf(node.config);
          const ports = node.ports.map((p) => p.name);
          return { t: 'node', kind: node.kind, ports, named: ports.filter((p) => strings.has(p)), file };
        });
      }
      if (compiled.graph.fragments.length > 0) record(`n\0subflow\0${file}`, () => ({ t: 'node', kind: 'subflow', ports: [SUBFLOW_EXIT], named: [SUBFLOW_EXIT], file }));
    }
  }

  /** The ports of every node of one workflow that requests have left by, as its counters say. */
  function portsOf(workflow: WorkflowMetrics, file: string): void {
    for (const node of workflow.nodes.values()) for (const port in node.ports()) portRecord(node.kind, port, file, 'gateway');
  }

  /**
   * Reads the counters of the workflows requests went through: batched (once per 50 ms at most,
   * not per request), so a flood or a long chain costs the gateway's event loop next to nothing.
   */
  function readPending(): void {
    timer = undefined;
    for (const [id, file] of pending) {
      declared(file);
      const workflow = sluice!.metrics?.workflows.get(id);
      if (workflow !== undefined) portsOf(workflow, file);
    }
    pending.clear();
  }

  /** The catalog error a request ended with, by the kind of the node it ended at; a subflow exit it took. */
  function answered(workflow: string, path: string[], problem: string | undefined, file: string): void {
    const compiled = sluice!.registry.active.get(workflow);
    const last = path[path.length - 1];
    if (problem !== undefined && last !== undefined) {
      const kind = sluice!.metrics?.workflows.get(workflow)?.nodes.get(last)?.kind ?? compiled?.graph.nodes.get(last)?.kind;
      if (kind !== undefined) errorRecord(kind, errorIdOf(problem), file, 'gateway');
    }
    // a subflow's nodes are inlined as `<subflow node>/<fragment node>`: passing through one and on beyond it took an exit
    for (const use of compiled?.graph.fragments ?? []) {
      const prefix = `${use.node}/`;
      const lastInside = path.findLastIndex((id) => id.startsWith(prefix));
      if (lastInside >= 0 && lastInside < path.length - 1) portRecord('subflow', SUBFLOW_EXIT, file, 'gateway');
    }
  }

  return {
    attach(started) {
      sluice = started;
      sluice.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => simulateAnswer(req, res));
    },
    line(entry) {
      if (sluice === undefined || entry.msg !== 'request') return;
      const { workflow, path, problem } = entry as RequestLine;
      if (typeof workflow !== 'string' || !Array.isArray(path)) return;
      const file = currentFile();
      answered(workflow, path as string[], typeof problem === 'string' ? problem : undefined, file);
      pending.set(workflow, file);
      timer ??= setTimeout(readPending, 50).unref();
    },
    close() {
      if (sluice === undefined) return;
      clearTimeout(timer);
      readPending();
      const file = currentFile();
      declared(file);
      for (const workflow of sluice.metrics?.workflows.values() ?? []) portsOf(workflow, file);
    },
  };
}

/** What the admin API answers to POST /admin/api/simulate: the answer and the trace of every node. */
interface Simulation {
  ok?: boolean;
  response?: { status?: number; body?: { type?: unknown } };
  trace?: Array<{ kind?: unknown; port?: unknown }>;
}

/** Reads a simulate answer as it leaves the test gateway: the ports of its trace and the problem it ended with. */
function simulateAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || !/^\/admin\/api\/simulate(\?|$)/.test(req.url ?? '')) return;
  const chunks: Buffer[] = [];
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const file = currentFile();
  res.write = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return write(...args);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') keep(args[0], args[1]);
    if (res.statusCode === 200) {
      try {
        const simulation = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Simulation;
        const trace = simulation.ok === true && Array.isArray(simulation.trace) ? simulation.trace : [];
        for (const step of trace) if (typeof step.kind === 'string' && typeof step.port === 'string') portRecord(step.kind, step.port, file, 'simulate');
        const last = trace[trace.length - 1];
        const type = simulation.response?.body?.type;
        if (typeof type === 'string' && (simulation.response?.status ?? 0) >= 400 && typeof last?.kind === 'string') errorRecord(last.kind, errorIdOf(type), file, 'simulate');
      } catch {
        // not a simulation (an error answer): nothing reached
      }
    }
    return end(...args);
  }) as ServerResponse['end'];
}

/** A gateway process's request lines and its `/metrics` (the `metricsUrl` it logs on SLUICE_METRICS_PORT, which the helper opens when collecting). */
export async function processCoverage(logs: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (!enabled()) return;
  const file = currentFile();
  const urls = new Set(logs.filter((l) => l.msg === 'sluice listening' && typeof l.metricsUrl === 'string').map((l) => l.metricsUrl as string));
  /** `workflow\0node` -> kind, from the node duration series */
  const kindOf = new Map<string, string>();
  const ports: Array<{ workflow: string; node: string; port: string }> = [];
  for (const url of urls) {
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) continue;
      text = await res.text();
    } catch {
      continue; // stopped already (a test that kills it): what it took is lost, never invented
    }
    for (const line of text.split('\n')) {
      const sample = /^(sluice_node_duration_seconds_count|sluice_edge_transitions_total)\{([^}]*)\} (\S+)$/.exec(line);
      if (sample === null || Number(sample[3]) <= 0) continue;
      const labels = Object.fromEntries([...sample[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      if (sample[1] === 'sluice_node_duration_seconds_count') kindOf.set(`${labels.workflow}\0${labels.node}`, labels.kind!);
      else ports.push({ workflow: labels.workflow!, node: labels.node!, port: labels.port! });
    }
  }
  for (const p of ports) {
    const kind = kindOf.get(`${p.workflow}\0${p.node}`);
    if (kind !== undefined) portRecord(kind, p.port, file, 'process');
  }
  for (const line of logs) {
    if (line.msg !== 'request' || typeof line.problem !== 'string' || !Array.isArray(line.path) || line.path.length === 0) continue;
    const kind = kindOf.get(`${String(line.workflow)}\0${String(line.path[line.path.length - 1])}`);
    if (kind !== undefined) errorRecord(kind, errorIdOf(line.problem), file, 'process');
  }
}

/** Extra environment for a gateway process: a token-free /metrics port to read its counters from before it stops. */
export function processCoverageEnv(env: Record<string, string> | undefined): Record<string, string> {
  return enabled() && env?.SLUICE_METRICS_PORT === undefined ? { SLUICE_METRICS_PORT: '0' } : {};
}
