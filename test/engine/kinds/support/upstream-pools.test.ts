import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDLE_POOLS, POOL_GRACE_MS } from '../../../../engine/kinds/support/upstream-pools.ts';
import type { TestGateway } from '../../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.ts';
import { portNode, startGateway, workflow, type NodeDoc } from '../../../helpers/workflow.ts';
import { adminCall, ADMIN_TOKENS } from '../../admin/support.ts';

/*
 * The connection pools of proxy and http-call nodes, through the gateway and the admin API, seen
 * from real upstreams: each counts the connections made to it and keeps the ones open. An
 * upstream here never closes an idle connection itself (its keep-alive hint is ten minutes), so a
 * connection that closes was closed by the gateway closing its pool.
 */

/** An upstream on its own origin that counts the connections made to it and holds the open ones. */
interface Origin {
  up: TestUpstream;
  url: string;
  /** Connections made to it, ever. */
  connections: number;
  open: Set<Socket>;
}

async function startOrigin(handler?: Parameters<typeof startUpstream>[0]): Promise<Origin> {
  const up = await startUpstream(handler);
  up.server.keepAliveTimeout = 600_000;
  const origin: Origin = { up, url: up.url, connections: 0, open: new Set() };
  up.server.on('connection', (socket: Socket) => {
    origin.connections += 1;
    origin.open.add(socket);
    socket.once('close', () => origin.open.delete(socket));
  });
  return origin;
}

const proxyTo = (url: string): NodeDoc => ({ id: 'call', kind: 'proxy', config: { url } });
const calloutTo = (url: string, config: Record<string, unknown> = {}): NodeDoc => ({ id: 'side', kind: 'http-call', config: { name: 'side', url: `${url}/side`, ...config } });

/** A draft calling `origin`: through a proxy, or an http-call whose answer a respond node gives. */
const draftCalling = (origin: Origin, kind: 'proxy' | 'http-call') =>
  kind === 'proxy' ? workflow('draft', { path: '/draft' }, [proxyTo(origin.url)]) : workflow('draft', { path: '/draft' }, [calloutTo(origin.url), portNode('done', 'ok')], [['side', 'ok', 'done']]);

describe('upstream connection pools: held while a node uses them, closed once none does', () => {
  let gw: TestGateway;
  /** More origins than the idle pools kept, each named by drafts only. */
  const drafts: Origin[] = [];
  const EXTRA = 4;
  /** Upstreams of drafts whose nodes fail to prepare: a proxy's first target, an http-call's service. */
  let targeted: Origin;
  let called: Origin;
  /** A served workflow's upstream. */
  let kept: Origin;
  /** Upstreams of a version replaced (from), its successor (to), and a version retired. */
  let from: Origin;
  let to: Origin;
  let retired: Origin;
  /** The side service a request of the replaced version waits on, until `letThrough`. */
  let gate: Origin;
  let gateReached: Promise<void>;
  let letThrough: () => void;

  const served = {
    kept: (name = 'kept') => ({ ...workflow('kept', { path: '/kept' }, [proxyTo(kept.url)]), name }),
    moving: () => workflow('moving', { path: '/moving' }, [calloutTo(gate.url, { timeout: '30s' }), proxyTo(from.url)], [['side', 'ok', 'call']]),
    moved: () => workflow('moving', { path: '/moving' }, [proxyTo(to.url)]),
    retiring: () => workflow('retiring', { path: '/retiring' }, [proxyTo(retired.url)]),
  };

  /** Simulates `document` as an editor, against its real upstream. */
  async function preview(document: unknown): Promise<void> {
    const answer = await adminCall(gw.url, 'editor', 'POST', '/simulate', { document, request: { method: 'GET', path: '/draft' } });
    expect(answer.body.response?.status, JSON.stringify(answer.body)).toBe(200);
  }
  /** Runs, as an editor, a workflow test of `document` against its real upstream. */
  async function runTest(document: object): Promise<void> {
    const answer = await adminCall(gw.url, 'editor', 'POST', '/workflows/draft/test', { document: { ...document, tests: [{ name: 'reaches it', request: { method: 'GET', path: '/draft' }, expect: { status: 200 } }] } });
    expect(answer.body.passed, JSON.stringify(answer.body)).toBe(true);
  }
  /** Calls each origin of `origins` in turn from a draft: a proxy previewed, an http-call previewed, a proxy's workflow test. */
  async function previewEach(origins: Origin[]): Promise<void> {
    for (const [i, origin] of origins.entries()) {
      if (i % 3 === 2) await runTest(draftCalling(origin, 'proxy'));
      else await preview(draftCalling(origin, i % 3 === 0 ? 'proxy' : 'http-call'));
    }
  }

  beforeAll(async () => {
    for (let i = 0; i < IDLE_POOLS + EXTRA; i++) drafts.push(await startOrigin());
    [targeted, called] = [await startOrigin(), await startOrigin()];
    [kept, from, to, retired] = [await startOrigin(), await startOrigin(), await startOrigin(), await startOrigin()];
    let reached!: () => void;
    gateReached = new Promise((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (letThrough = resolve));
    gate = await startOrigin((_req, res) => {
      reached();
      void opened.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    gw = await startGateway([served.kept(), served.moving(), served.retiring()], { settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, SLUICE_CALLOUT_HOSTS: '127.0.0.1', SLUICE_CONTRACT_GATE: 'off' } });
  });
  afterAll(async () => {
    letThrough?.();
    await gw?.close();
    for (const origin of [...drafts, targeted, called, kept, from, to, retired, gate]) await origin?.up.close();
  });

  it(`previews naming ever new origins leave at most ${IDLE_POOLS} pools open, the least recently let go of closed first; a draft previewed again finds its connection`, async () => {
    await previewEach(drafts);
    for (const origin of drafts) expect(origin.connections).toBe(1);
    // the first ones' pools were closed as later ones were let go of: their connections with them
    await expect.poll(() => drafts.map((origin) => origin.open.size)).toEqual(drafts.map((_, i) => (i < EXTRA ? 0 : 1)));
    // the most recent one's pool is still open: its preview again goes over the same connection
    const last = drafts.at(-1)!;
    await preview(draftCalling(last, 'proxy'));
    await preview(draftCalling(last, 'http-call'));
    expect(last.connections).toBe(1);
  });

  it('a served workflow keeps its pool and its connection through previews of its origin and others, and through a republish', async () => {
    const call = async () => expect((await gw.fetch('/kept')).status).toBe(200);
    await call();
    await call();
    // previews of the same origin share the pool the served version holds, and let go of it only
    await preview(draftCalling(kept, 'proxy'));
    await preview(draftCalling(kept, 'http-call'));
    await previewEach(drafts);
    await call();
    expect([kept.connections, kept.open.size]).toEqual([1, 1]);
    // a new version is prepared before the old one is closed: it takes the pool over, connection and all
    const version = () => gw.sluice.registry.active.get('kept')!.version;
    expect(version()).toBe(1);
    await gw.putWorkflow(served.kept('kept again'));
    expect(version()).toBe(2);
    await call();
    await call();
    expect([kept.connections, kept.open.size]).toEqual([1, 1]);
  });

  it('a draft whose node fails to prepare after it took a pool lets the pool go', async () => {
    const refused = async (document: unknown, field: string) => {
      const answer = await adminCall(gw.url, 'editor', 'POST', '/simulate', { document, request: { method: 'GET', path: '/draft' } });
      expect(answer.body.problems, JSON.stringify(answer.body)).toEqual([expect.objectContaining({ node: expect.any(String), field })]);
    };
    // a proxy whose first target is taken, then its second refused by the egress policy
    await refused(workflow('draft', { path: '/draft' }, [{ id: 'call', kind: 'proxy', config: { targets: [{ url: targeted.url }, { url: 'http://10.1.2.3:8080' }] } }]), 'config.targets.1.url');
    // an http-call whose pool is taken before its query expression is refused (a backreference cannot run in linear time)
    const callout = calloutTo(called.url, { query: '$match("aa", /(a)\\1/) ? {} : {}' });
    await refused(workflow('draft', { path: '/draft' }, [callout, portNode('done', 'ok')], [['side', 'ok', 'done']]), 'config.query');
    // the same origins previewed, then more drafts than the idle pools kept: their pools are the least recently let go of, so closed
    await preview(draftCalling(targeted, 'proxy'));
    await preview(draftCalling(called, 'http-call'));
    expect([targeted.open.size, called.open.size]).toEqual([1, 1]);
    await previewEach(drafts);
    await expect.poll(() => [targeted.open.size, called.open.size]).toEqual([0, 0]);
  });

  it(`a version replaced or retired lets its pool go: requests it took still reach it whatever drafts do, and it is closed ${POOL_GRACE_MS / 1000} s after`, { timeout: POOL_GRACE_MS + 60_000 }, async () => {
    expect((await gw.fetch('/retiring')).status).toBe(200);
    expect(retired.open.size).toBe(1);
    // a request of version 1 of "moving" waits at the side service, before its proxy
    const waiting = gw.fetch('/moving');
    await gateReached;
    expect(from.connections).toBe(0);

    // version 2 goes to another upstream, and "retiring" is retired: neither pool is held any more
    await gw.putWorkflow(served.moved());
    expect(gw.sluice.registry.active.get('moving')!.version).toBe(2);
    const answer = await adminCall(gw.url, 'publisher', 'POST', '/workflows/retiring/retire', { version: 1 });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    await gw.sluice.registry.whenApplied((await gw.sluice.store.state()).revision);
    expect((await gw.fetch('/retiring')).status).toBe(410);

    // more drafts than the idle pools kept are previewed and let go of: the served versions' pools are not theirs to close
    await previewEach(drafts);
    letThrough();
    const reached = await waiting;
    expect(reached.status).toBe(200);
    expect(((await reached.json()) as { headers: { host: string } }).headers.host).toBe(new URL(from.url).host);
    expect((await gw.fetch('/moving')).status).toBe(200);
    expect([from.open.size, retired.open.size, to.open.size]).toEqual([1, 1, 1]);

    // once the grace is over, the pools nothing holds are closed, connections and all; the one in use stays
    await expect.poll(() => [from.open.size, retired.open.size], { timeout: POOL_GRACE_MS + 15_000, interval: 500 }).toEqual([0, 0]);
    expect(to.open.size).toBe(1);
    expect((await gw.fetch('/moving')).status).toBe(200);
    expect(to.connections).toBe(1);
  });
});
