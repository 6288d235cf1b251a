/**
 * Work over every workflow, each step short, is paced as one task, so a gateway of thousands of
 * workflows keeps its event loop: the published catalog reading every contract (the portal's
 * problem types, a product's changelog). (The registry's sync: compile/registry.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePaced } from '../../engine/compile/pace.ts';
import { createPublishedCatalog } from '../../engine/portal/published.ts';
import { catalogOfDataDir } from '../../engine/sources/error-catalog.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { turnsDuring } from '../helpers/turns.ts';
import { adminOf, ADMIN_TOKENS } from './admin/support.ts';

const COUNT = 150;
const ids = Array.from({ length: COUNT }, (_, i) => `w${i}`);
/** A workflow whose contract has a few answers: a key check, a rate limit, an answer. */
const workflowOf = (id: string) => ({
  id,
  name: `Workflow ${id}`,
  route: { methods: ['GET'], path: `/${id}` },
  nodes: [
    { id: 'key', kind: 'api-key', config: {} },
    { id: 'limit', kind: 'rate-limit', config: { limit: 10, window: '1m', key: 'partner' } },
    { id: 'answer', kind: 'respond', config: { status: 200, body: { id } } },
  ],
  edges: [
    { from: 'key', port: 'ok', to: 'limit' },
    { from: 'limit', port: 'ok', to: 'answer' },
  ],
});

describe('work over 150 workflows', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ workflows: ids.map(workflowOf), settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'warn' } });
    const put = await adminOf(gw.url)('publisher', 'PUT', '/products/everything', { name: 'Everything', workflows: ids });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });
  afterAll(() => gw?.close());

  const catalogOver = () => {
    const { store, registry, settings } = gw.sluice;
    const catalog = catalogOfDataDir(settings.dataDir)!;
    return createPublishedCatalog({
      state: () => store.state(),
      document: (hash) => store.document(hash),
      served: () => registry.active,
      catalog: () => catalog,
      validate: (document, { catalog: checkedWith, published }) => validatePaced(document, { catalog: checkedWith, allowStoredCredentials: published }, 1),
      sliceMs: 1,
    });
  };

  it('gives the event loop its turns while it reads every contract for the problem types', async () => {
    const published = catalogOver();
    let problems: Awaited<ReturnType<typeof published.problems>> = [];
    const { turns, ms, cpuMs } = await turnsDuring(async () => (problems = await published.problems()));
    const limited = problems.find((p) => p.id === 'rate_limited');
    expect(limited?.workflows.map((w) => w.id).sort()).toEqual([...ids].sort());
    // 1 ms slices; asked: a turn per 8 ms of the process's CPU (GC helpers and all; measured 16-19 turns
    // in 63-66 ms here, 10-11 in 64-79 ms with the cores shared). Before, one pace per contract: none.
    expect(turns, `${turns} turns in ${ms.toFixed(1)} ms (${cpuMs.toFixed(1)} ms of CPU)`).toBeGreaterThanOrEqual(Math.max(3, Math.floor(cpuMs / 8)));
  });

  it("gives the event loop its turns while it reads every version's contract for a changelog", async () => {
    const published = catalogOver();
    let entries = 0;
    const { turns, ms, cpuMs } = await turnsDuring(async () => (entries = (await published.changelog('everything'))!.entries.length));
    expect(entries).toBe(COUNT);
    expect(turns, `${turns} turns in ${ms.toFixed(1)} ms (${cpuMs.toFixed(1)} ms of CPU)`).toBeGreaterThanOrEqual(Math.max(3, Math.floor(cpuMs / 8)));
  });
});
