import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { get, proxyWorkflow, startHeldUpstream, type HeldUpstream } from '../../helpers/drain.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { startGateway } from '../../helpers/workflow.ts';
import { until } from '../replicas/support.ts';

/*
 * Sluice.close() as SIGTERM runs it (engine/gateway/drain.ts), in process: the steps, their order
 * and what a client sees at each. The same through `sluice serve` and a signal, under load and
 * behind a balancer: test/deploy/shutdown.test.ts.
 */

const SHUTDOWN_LINES = /^shutting down/;
const shutdownLines = (gw: TestGateway) => gw.logs.filter((l) => typeof l.msg === 'string' && SHUTDOWN_LINES.test(l.msg)).map((l) => l.msg);

describe('a gateway shutting down', () => {
  let upstream: HeldUpstream | undefined;
  afterEach(async () => {
    upstream?.release();
    await upstream?.close();
  });

  async function start(settings: Record<string, string>) {
    upstream = await startHeldUpstream();
    const gw = await startGateway([proxyWorkflow('slow', '/slow', 'SLUICE_UPSTREAM_T'), proxyWorkflow('fast', '/fast', 'SLUICE_UPSTREAM_T')], { env: { SLUICE_UPSTREAM_T: upstream.url }, settings });
    return gw;
  }

  it('turns not ready first, takes new connections for the delay, then closes the listener and idle connections, and finishes the request in flight with Connection: close', async () => {
    const gw = await start({ SLUICE_SHUTDOWN_DELAY: '500ms', SLUICE_SHUTDOWN_GRACE: '5m' });
    expect(gw.sluice.readiness).toBe('ready');
    // an idle keep-alive connection, and a request held by the upstream on a connection of its own
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    let idleClosed = false;
    const before = await get(`${gw.url}/readyz`, keepAlive, (socket) => socket.once('close', () => void (idleClosed = true)));
    expect(before).toMatchObject({ status: 200, headers: { connection: 'keep-alive' } });
    expect(JSON.parse(before.body)).toEqual({ status: 'ready' });
    const inFlight = get(`${gw.url}/slow`);
    await until('the slow request reached the upstream', () => (upstream!.held === 1 ? true : undefined));

    const closed = gw.close();
    expect(gw.sluice.readiness).toBe('draining');
    // during the delay: new connections are taken, every answer says Connection: close
    const notReady = await get(`${gw.url}/readyz`);
    expect(notReady).toMatchObject({ status: 503, headers: { connection: 'close', 'cache-control': 'no-store' } });
    expect(JSON.parse(notReady.body)).toEqual({ status: 'draining' });
    const served = await get(`${gw.url}/fast`);
    expect(served).toMatchObject({ status: 200, headers: { connection: 'close' } });
    expect(idleClosed).toBe(false);

    // then the listener closes, and the idle connection with it; the held request is still in flight
    await until('the listener closed', () => (shutdownLines(gw).length >= 2 ? true : undefined), 15_000);
    await expect(get(`${gw.url}/readyz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await until('the idle keep-alive connection closed', () => (idleClosed ? true : undefined));
    upstream!.release();
    const finished = await inFlight;
    expect(finished).toMatchObject({ status: 200, headers: { connection: 'close' } });
    expect(JSON.parse(finished.body)).toEqual({ slow: true });
    await closed;
    expect(shutdownLines(gw)).toEqual(['shutting down: not ready, draining', 'shutting down: listener closed, finishing requests in flight', 'shutting down: every request in flight finished']);
    keepAlive.destroy();
  });

  it('cuts a connection still open when the grace runs out, and says how many', async () => {
    const gw = await start({ SLUICE_SHUTDOWN_DELAY: '0s', SLUICE_SHUTDOWN_GRACE: '300ms' });
    const inFlight = get(`${gw.url}/slow`).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await until('the slow request reached the upstream', () => (upstream!.held === 1 ? true : undefined));
    await gw.close();
    expect(await inFlight).toBe('ECONNRESET');
    const cut = gw.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('cut'));
    expect(cut).toMatchObject({ level: 40, cut: 1, setting: 'SLUICE_SHUTDOWN_GRACE' });
    expect(shutdownLines(gw).at(-1)).toMatch(/1 connection\(s\) still open after the grace, cut/);
  });
});
