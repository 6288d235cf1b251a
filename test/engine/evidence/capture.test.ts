import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../../engine/compile/compile.ts';
import type { CompiledWorkflow, NodeStep } from '../../../engine/compile/types.ts';
import { evidenceOf, type EvidenceCapture } from '../../../engine/evidence/capture.ts';
import { csvLineOf } from '../../../engine/evidence/sql.ts';
import { createEgressPolicy } from '../../../engine/kinds/support/egress.ts';
import { buildPartnerDirectory } from '../../../engine/kinds/support/partner-directory.ts';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import type { RequestRecord } from '../../../engine/observe/request-log.ts';
import { validateWorkflow } from '../../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../../shared/schema/index.ts';
import { REPO } from '../../helpers/gateway.ts';

/*
 * A record's node path is made from the version's table once per path its requests take: every
 * record of that path holds one frozen array (written into the spool as one text), and a request
 * that took another path gets its own.
 */
describe('evidence records: the node path of each request', () => {
  let workflow: CompiledWorkflow;
  /** The final state each branch ends in. */
  let finals: { yes: string; no: string };
  const directory = buildPartnerDirectory({ partners: [], products: [], keys: [] } as never);

  beforeAll(async () => {
    const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
    const validated = validateWorkflow(
      {
        id: 'branches',
        name: 'Branches',
        route: { methods: ['GET'], path: '/branches' },
        nodes: [
          { id: 'gate', kind: 'condition', config: { when: 'request.method = "GET"' } },
          { id: 'yes', kind: 'respond', config: { status: 200 } },
          { id: 'no', kind: 'respond', config: { status: 204 } },
        ],
        edges: [
          { from: 'gate', port: 'true', to: 'yes' },
          { from: 'gate', port: 'false', to: 'no' },
        ],
      },
      { catalog },
    );
    if (!validated.ok) throw new Error(JSON.stringify(validated.problems));
    workflow = await compileWorkflow(validated.graph, 3, {
      env: {},
      dataDir: REPO,
      rateLimits: createMemoryRateLimitStore(),
      shared: { get: <T,>(_key: string, create: () => T) => create() },
      calloutHosts: [],
      egress: createEgressPolicy({ allow: '' }),
    });
    const gate = workflow.start as NodeStep;
    const endOf = (port: string) => Object.values((gate.next[port] as NodeStep).next)[0]!.state;
    finals = { yes: endOf('true'), no: endOf('false') };
  });
  afterAll(() => workflow.close());

  /** A capture as the gateway hands it: a path array of its own, as each request has. */
  const capture = (path: string[], final: string): EvidenceCapture => ({
    time: 1_700_000_000_000,
    record: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), method: 'GET', client: '127.0.0.1', workflowFields: '', outcome: 'ok', status: 200, ms: 1.5, path } as unknown as RequestRecord,
    workflow,
    final,
    keyId: undefined,
    upstreamStatus: undefined,
    llm: undefined,
  });

  it('names the port each node left by; requests of one path share one frozen array', () => {
    const first = evidenceOf(capture(['gate', 'yes'], finals.yes), 'r1', directory);
    const second = evidenceOf(capture(['gate', 'yes'], finals.yes), 'r1', directory);
    expect(first.nodes).toEqual(['gate:true', 'yes:done']);
    expect(second.nodes).toBe(first.nodes);
    expect(Object.isFrozen(first.nodes)).toBe(true);
    expect(first).toMatchObject({ workflow: 'branches', version: 3, route: '/branches', credential: null });
  });

  it('gives a request that took another branch its own path, and the path a request stopped on', () => {
    const yes = evidenceOf(capture(['gate', 'yes'], finals.yes), 'r1', directory);
    const no = evidenceOf(capture(['gate', 'no'], finals.no), 'r1', directory);
    expect(no.nodes).toEqual(['gate:false', 'no:done']);
    expect(no.nodes).not.toBe(yes.nodes);
    // the same nodes ending elsewhere (a fault) is a path of its own
    const gate = workflow.start as NodeStep;
    const failed = evidenceOf(capture(['gate'], gate.fault.state), 'r1', directory);
    expect(failed.nodes).toEqual(['gate:fault']);
    expect(evidenceOf(capture(['gate', 'yes'], finals.yes), 'r1', directory).nodes).toBe(yes.nodes);
  });

  it('is not changed by the request path it was made from', () => {
    const path = ['gate', 'no'];
    const record = evidenceOf(capture(path, finals.no), 'r1', directory);
    path.push('yes');
    expect(evidenceOf(capture(['gate', 'no'], finals.no), 'r1', directory).nodes).toEqual(['gate:false', 'no:done']);
    expect(record.nodes).toEqual(['gate:false', 'no:done']);
  });

  it('writes a shared path into the spool line as a path made for one record', () => {
    const record = evidenceOf(capture(['gate', 'yes'], finals.yes), 'r1', directory);
    expect(csvLineOf(record)).toContain(',"gate:true yes:done",');
    expect(csvLineOf(record)).toBe(csvLineOf({ ...record, nodes: [...record.nodes] }));
  });
});
