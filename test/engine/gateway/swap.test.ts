import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';

/*
 * The route table is swapped in one assignment: a request that started on version N finishes on
 * version N, new requests get N+1, and none fails. The upstream holds every request until the
 * test releases it, so the old requests are provably still in flight during the swap.
 */

/** A workflow whose answer names the version that served it. */
const stamped = (stamp: string) => ({
  id: 'swap',
  name: 'Swap',
  route: { methods: ['GET'], path: '/swap' },
  nodes: [
    { id: 'call', kind: 'proxy', config: { url: '${SWAP_UPSTREAM}', timeout: '20s' } },
    { id: 'stamp', kind: 'transform-response', config: { body: `{ "served": "${stamp}", "ticket": response.body.ticket }` } },
  ],
  edges: [{ from: 'call', port: 'ok', to: 'stamp' }],
});

async function until(what: string, condition: () => boolean, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('route-table swap with requests in flight', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  const held: ServerResponse[] = [];

  let tickets = 0;
  /** Answers every held request. */
  const release = () => {
    for (const res of held.splice(0)) {
      const body = JSON.stringify({ ticket: ++tickets });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
  };

  /** Starts n requests; resolves once the upstream holds all of them. */
  async function startRequests(n: number): Promise<Array<Promise<{ status: number; served: string }>>> {
    const before = upstream.received.length;
    const requests = Array.from({ length: n }, () =>
      gw.fetch('/swap').then(async (res) => ({ status: res.status, served: ((await res.json()) as { served?: string }).served ?? JSON.stringify(res.status) })),
    );
    await until(`${n} requests at the upstream`, () => upstream.received.length === before + n);
    return requests;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.handle((_req, res) => void held.push(res));
    gw = await startTestGateway({ workflows: [stamped('v1')], env: { SWAP_UPSTREAM: upstream.url } });
  });
  afterAll(async () => {
    release();
    await gw.close();
    await upstream.close();
  });

  it('old requests finish on version 1, new ones get version 2, none fails', async () => {
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(1);
    const old = await startRequests(8);
    await gw.putWorkflow(stamped('v2'));
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(2);
    const fresh = await startRequests(8);
    release();
    const oldAnswers = await Promise.all(old);
    const freshAnswers = await Promise.all(fresh);
    expect(oldAnswers).toEqual(Array(8).fill({ status: 200, served: 'v1' }));
    expect(freshAnswers).toEqual(Array(8).fill({ status: 200, served: 'v2' }));
    // The request log names the version that served each request.
    const lines = gw.logs.filter((l) => l.msg === 'request' && l.workflow === 'swap');
    expect(lines.filter((l) => l.version === 1 && l.status === 200)).toHaveLength(8);
    expect(lines.filter((l) => l.version === 2 && l.status === 200)).toHaveLength(8);
  });

  it('several publishes in a row: every request finishes on the version it started on', async () => {
    const batches: Array<{ stamp: string; requests: Array<Promise<{ status: number; served: string }>> }> = [];
    for (const stamp of ['v3', 'v4', 'v5', 'v6']) {
      await gw.putWorkflow(stamped(stamp));
      batches.push({ stamp, requests: await startRequests(4) });
    }
    release();
    for (const { stamp, requests } of batches) expect(await Promise.all(requests)).toEqual(Array(4).fill({ status: 200, served: stamp }));
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(6);
  });

  it('an unchanged file does not make a new version', async () => {
    await gw.putWorkflow(stamped('v6'));
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(6);
  });

  it.each([
    ['a file that is not JSON', '{ "id": "swap", '],
    ['a document the schema refuses', JSON.stringify({ ...stamped('bad'), route: { methods: ['GET'], path: 'no-slash' } })],
    ['a graph with a problem', JSON.stringify({ ...stamped('bad'), edges: [] })],
    ['a node that cannot be prepared (unset env var)', JSON.stringify({ ...stamped('bad'), nodes: [{ id: 'call', kind: 'proxy', config: { url: '${NOT_SET_ANYWHERE}' } }, stamped('bad').nodes[1]] })],
  ])('a refused publish (%s) keeps the serving version, in flight and after', async (_name, text) => {
    const inFlight = await startRequests(3);
    const from = gw.logs.length;
    await gw.putWorkflowText('swap.json', text);
    expect(gw.logs.slice(from).filter((l) => String(l.msg).startsWith('workflow refused') && l.origin === 'swap.json')).toHaveLength(1);
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(6);
    const after = await startRequests(3);
    release();
    expect(await Promise.all([...inFlight, ...after])).toEqual(Array(6).fill({ status: 200, served: 'v6' }));
  });

  it('publishing again after a refusal serves the new version', async () => {
    await gw.putWorkflow(stamped('v7'));
    expect(gw.sluice.registry.active.get('swap')?.version).toBe(7);
    const requests = await startRequests(2);
    release();
    expect(await Promise.all(requests)).toEqual(Array(2).fill({ status: 200, served: 'v7' }));
  });
});
