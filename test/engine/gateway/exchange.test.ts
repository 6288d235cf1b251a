import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestExchange } from '../../../engine/gateway/exchange.ts';
import { traceContextOf } from '../../../engine/gateway/trace.ts';

/** A real server: each request is handed to the test, which answers it (or not) itself. */
let server: ReturnType<typeof createServer>;
let port = 0;
let next: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
beforeAll(async () => {
  server = createServer((req, res) => next?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends a request and hands the server side of it over; `leave()` cuts the client's connection. */
async function exchangeOfARequest(): Promise<{ exchange: RequestExchange; res: ServerResponse; leave(): void }> {
  const arrived = new Promise<{ req: IncomingMessage; res: ServerResponse }>((resolve) => (next = (req, res) => resolve({ req, res })));
  const client = request({ host: '127.0.0.1', port, path: '/x', agent: false });
  client.on('error', () => undefined);
  client.end();
  const { req, res } = await arrived;
  const exchange = new RequestExchange(req, res, '/x', '', {}, traceContextOf(undefined, undefined), '127.0.0.1');
  return { exchange, res, leave: () => client.destroy() };
}

describe('a request exchange, when its client goes away', () => {
  it('keeps one close listener however many steps ask, and aborts what asked last', async () => {
    const { exchange, res, leave } = await exchangeOfARequest();
    const before = res.listenerCount('close');
    // fifteen off-fast-path evaluations of one request: more than an emitter's default of ten listeners
    const targets = Array.from({ length: 15 }, () => new AbortController());
    for (const target of targets) exchange.onClientGone(target);
    exchange.releaseClientGone(); // a built answer lets go of what it held...
    const last = new AbortController();
    exchange.onClientGone(last); // ...and a later step asks again
    expect(res.listenerCount('close')).toBe(before + 1);
    const closed = new Promise((resolve) => res.once('close', resolve));
    leave();
    await closed;
    expect(last.signal.aborted).toBe(true);
    expect(targets.every((target) => !target.signal.aborted)).toBe(true); // replaced: each step asks for its own, in turn
  });

  it('aborts at once what asks after the client left', async () => {
    const { exchange, res, leave } = await exchangeOfARequest();
    const closed = new Promise((resolve) => res.once('close', resolve));
    leave();
    await closed;
    const late = new AbortController();
    exchange.onClientGone(late);
    expect(late.signal.aborted).toBe(true);
  });
});
