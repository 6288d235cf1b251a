import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadSettings } from '../../engine/config.ts';
import { startSluice, type Sluice } from '../../engine/server.ts';
import { createSyntheticExchange, type SyntheticRequest } from '../../engine/gateway/exchange.ts';
import { DEFAULT_WORKFLOW_ENV } from '../../engine/kinds/support/workflow-env.ts';
import { gatewayCoverage } from '../coverage/collector.ts';

export const REPO = join(import.meta.dirname, '..', '..');

/** A gateway listening on 127.0.0.1 at a free port, with its own data directory. */
export interface TestGateway {
  url: string;
  sluice: Sluice;
  dataDir: string;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Writes a workflow file and waits until the gateway has read it. */
  putWorkflow(document: unknown, file?: string): Promise<void>;
  /** Writes raw text as a workflow file and reloads. */
  putWorkflowText(file: string, text: string): Promise<void>;
  removeWorkflow(file: string): Promise<void>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Workflow documents to serve; the examples when omitted. */
  workflows?: unknown[];
  /** Extra environment variables nodes may read (proxy URLs, secrets). */
  env?: Record<string, string>;
  /** Start the demo upstream and demo keys (the examples need them). */
  demo?: boolean;
  settings?: Record<string, string>;
}

/** Starts a real Sluice for a test; close it in afterAll. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const workflowsDir = join(dataDir, 'workflows');
  mkdirSync(workflowsDir, { recursive: true });
  if (options.workflows) {
    options.workflows.forEach((doc, i) => writeFileSync(join(workflowsDir, `${(doc as { id?: string }).id ?? `wf-${i}`}.json`), JSON.stringify(doc, null, 2)));
  } else {
    cpSync(join(REPO, 'examples', 'workflows'), workflowsDir, { recursive: true });
    cpSync(join(REPO, 'examples', 'fragments'), join(dataDir, 'fragments'), { recursive: true });
  }
  writeFileSync(join(dataDir, 'errors.json'), readFileSync(join(REPO, 'examples', 'errors.json')));
  const logs: Array<Record<string, unknown>> = [];
  // what the run reached (ports, errors), read from the request log and the metrics: test/coverage
  const coverage = gatewayCoverage();
  // A write may carry several lines: request lines are batched.
  const logger = pino(
    { level: 'info' },
    {
      write: (text: string) => {
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          coverage?.line(entry);
        }
      },
    },
  );
  const settings = loadSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    SLUICE_DATA: dataDir,
    SLUICE_DEMO: options.demo === false ? 'off' : options.demo || !options.workflows ? 'on' : 'off',
    LOG_LEVEL: 'info',
    // Test upstreams listen on loopback, which the egress policy refuses by default: tests allow it explicitly.
    SLUICE_EGRESS_ALLOW: '127.0.0.1',
    // The variables a test hands its workflows (proxy URLs) are the ones they may read.
    SLUICE_WORKFLOW_ENV: [DEFAULT_WORKFLOW_ENV, ...Object.keys(options.env ?? {})].join(','),
    ...options.settings,
  });
  const sluice = await startSluice(settings, { logger, env: { ...process.env, ...options.env } });
  coverage?.attach(sluice);
  return {
    url: sluice.url,
    sluice,
    dataDir,
    logs,
    async putWorkflow(document, file) {
      writeFileSync(join(workflowsDir, file ?? `${(document as { id: string }).id}.json`), JSON.stringify(document, null, 2));
      await sluice.reload();
    },
    async putWorkflowText(file, text) {
      writeFileSync(join(workflowsDir, file), text);
      await sluice.reload();
    },
    async removeWorkflow(file) {
      unlinkSync(join(workflowsDir, file));
      await sluice.reload();
    },
    fetch: (path, init) => fetch(`${sluice.url}${path}`, init),
    async close() {
      coverage?.close();
      await sluice.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a served workflow's prepared node on a request made up in this process: an exchange that
 * cannot write to a client, as previews and MCP tools make (a node hands its answer on instead).
 */
export async function runServedNode(gw: TestGateway, workflowId: string, nodeId: string, request: SyntheticRequest) {
  const exchange = createSyntheticExchange(request);
  const result = await gw.sluice.registry.active.get(workflowId)!.prepared.get(nodeId)!.run(exchange);
  return { result, exchange };
}
