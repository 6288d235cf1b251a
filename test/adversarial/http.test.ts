/**
 * Hostile HTTP: framing tricks, oversized and slow requests, injection, path confusion, spoofed
 * forwarding headers, and upstreams that hang, reset or answer garbage. Each case asserts the
 * exact status and problem type; a bystander partner keeps being served throughout.
 */
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { startGateway, workflow, type NodeDoc } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, SOAK, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('http');

/** Sends raw bytes (optionally in timed pieces) and reads until the server closes or `waitMs` passes. */
async function raw(url: string, pieces: Array<string | { pause: number }>, waitMs = 8_000): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const ended = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const piece of pieces) {
    if (typeof piece === 'string') socket.write(piece);
    else await new Promise((resolve) => setTimeout(resolve, piece.pause));
    if (closed) break;
  }
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  socket.destroy();
  return { text, closed };
}

/** The status and problem of a raw answer; counts the case. */
function expectRawProblem(answer: { text: string }, status: number, slug: string) {
  const [head, body] = answer.text.split('\r\n\r\n');
  expect(head, answer.text.slice(0, 300)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(head!.toLowerCase()).toContain('content-type: application/problem+json');
  expect((JSON.parse(body!) as { type: string }).type).toMatch(new RegExp(`/${slug}$`));
  group.counted();
}

describe('hostile HTTP', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  let upstream: TestUpstream;
  let hanging: Server;
  let resetting: TcpServer;
  let garbage: TcpServer;
  let streaming: Server;
  let streamClosedEarly: Promise<boolean>;
  let before: Snapshot;
  let bystander: ReturnType<typeof startBystander>;

  const listen = async (server: Server | TcpServer) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    issuer = await createIssuer();
    upstream = await startUpstream();
    hanging = createServer(() => undefined); // never answers
    resetting = createTcpServer((socket) => socket.resetAndDestroy());
    garbage = createTcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001garbage'));
    let resolveStream: (early: boolean) => void;
    streamClosedEarly = new Promise((resolve) => (resolveStream = resolve));
    streaming = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${sent++}\n`);
        if (sent === 200) {
          clearInterval(timer);
          res.end();
          resolveStream(false);
        }
      }, 20);
      res.on('close', () => {
        clearInterval(timer);
        if (sent < 200) resolveStream(true);
      });
    });
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    const proxyTo = (id: string, path: string, url: string, extra: Record<string, unknown> = {}) => workflow(id, { path, methods: ['GET', 'POST'] }, [{ id: 'call', kind: 'proxy', config: { url, timeout: '500ms', ...extra } }]);
    gw = await startGateway(
      [
        workflow('bystander', { path: '/adv/bystander' }, [verify, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'call']]),
        workflow('echo', { path: '/adv/echo/*', methods: ['GET', 'POST'] }, [{ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }]),
        workflow('reads-body', { path: '/adv/body', methods: ['POST'] }, [{ id: 'answer', kind: 'respond', config: { status: 200, bodyExpression: '{ "size": $length($string(request.body)) }' } }]),
        workflow('inject', { path: '/adv/inject' }, [{ id: 'shape', kind: 'transform-request', config: { headers: '{ "x-note": "ok" & $fromMillis(0, "[Y]") & "\\r\\nx-injected: yes" }' } }, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['shape', 'ok', 'call']]),
        workflow('inject-response', { path: '/adv/inject-response' }, [{ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }, { id: 'shape', kind: 'transform-response', config: { headers: '{ "set-cookie": "a=b\\r\\nlocation: https://evil.test" }' } }], [['call', 'ok', 'shape']]),
        proxyTo('hangs', '/adv/hangs', await listen(hanging)),
        proxyTo('resets', '/adv/resets', await listen(resetting)),
        proxyTo('garbage', '/adv/garbage', await listen(garbage)),
        proxyTo('streams', '/adv/streams', await listen(streaming), { timeout: '30s' }),
      ],
      { env: { UPSTREAM: upstream.url }, settings: { SLUICE_HEADERS_TIMEOUT: '1s', SLUICE_REQUEST_TIMEOUT: '2s', SLUICE_MAX_BODY: '64kb' } },
    );
    before = await snapshotOf(gw);
    bystander = startBystander(gw, '/adv/bystander', await bystanderToken(issuer));
  });

  afterAll(async () => {
    await bystander?.stopAndCheck();
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
    await upstream?.close();
    for (const s of [hanging, resetting, garbage, streaming]) {
      (s as Server).closeAllConnections?.();
      s?.close();
    }
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'POST /adv/body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two different Content-Lengths', 'POST /adv/body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 6\r\n\r\nabcdef'],
    ['a malformed Transfer-Encoding', 'POST /adv/body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
    ['a space before the colon', 'GET /adv/echo/x HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['a bare LF inside a header value', 'GET /adv/echo/x HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n'],
    ['a request line that is not HTTP', 'HELLO WORLD\r\n\r\n'],
  ])('%s: 400 bad-request, connection closed', async (_name, request) => {
    const answer = await raw(gw.url, [request]);
    expectRawProblem(answer, 400, 'bad-request');
    expect(answer.closed).toBe(true);
  });

  it('a head over SLUICE_MAX_HEADER: 431 headers-too-large', async () => {
    const headers = Array.from({ length: 400 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(60)}\r\n`).join('');
    expectRawProblem(await raw(gw.url, [`GET /adv/echo/x HTTP/1.1\r\nHost: x\r\n${headers}\r\n`]), 431, 'headers-too-large');
  });

  it('a body over SLUICE_MAX_BODY: 413 payload-too-large', async () => {
    await group.refused(await gw.fetch('/adv/body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(100 * 1024) }) }), 413, 'payload-too-large');
  });

  it('slowloris: heads sent a byte at a time are cut off at SLUICE_HEADERS_TIMEOUT with 408', async () => {
    const drip = 'GET /adv/echo/x HTTP/1.1\r\nHost: x\r\nX-Slow: '.split('').flatMap((c) => [c, { pause: 150 }]);
    const answers = await Promise.all(Array.from({ length: 20 * Math.min(SOAK, 10) }, () => raw(gw.url, drip, 6_000)));
    for (const answer of answers) {
      expectRawProblem(answer, 408, 'request-timeout');
      expect(answer.closed).toBe(true);
    }
  });

  it('a slow body is cut off at SLUICE_REQUEST_TIMEOUT with 408', async () => {
    const pieces: Array<string | { pause: number }> = ['POST /adv/body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"'];
    for (let i = 0; i < 40; i++) pieces.push('x', { pause: 200 });
    const answer = await raw(gw.url, pieces, 6_000);
    expectRawProblem(answer, 408, 'request-timeout');
    expect(answer.closed).toBe(true);
  });

  it('CR/LF set into a request header by a transform: 500 transform-failed, nothing injected upstream', async () => {
    await group.refused(await gw.fetch('/adv/inject'), 500, 'transform-failed');
    expect(upstream.received.filter((r) => r.url === '/adv/inject' || r.headers['x-injected'] !== undefined)).toEqual([]);
  });

  it('CR/LF set into a response header by a transform: 500 transform-failed', async () => {
    await group.refused(await gw.fetch('/adv/inject-response'), 500, 'transform-failed');
  });

  it.each(['/adv/echo/../../admin/api/whoami', '/adv/echo/%2e%2e/%2e%2e/admin', '/adv/echo/./x', '/adv/%2E%2E/admin'])('path traversal %s: 400 bad-request', async (path) => {
    const answer = await raw(gw.url, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    expectRawProblem(answer, 400, 'bad-request');
  });

  it('an encoded slash stays inside its segment: /adv/echo/a%2Fb reaches the upstream as one segment', async () => {
    const res = await gw.fetch('/adv/echo/a%2Fb');
    expect(res.status).toBe(200);
    expect(upstream.received.some((r) => r.url === '/adv/echo/a%2Fb')).toBe(true); // not /adv/echo/a/b
    group.counted();
  });

  it('a spoofed X-Forwarded-For is replaced by the real client address (no trusted proxy)', async () => {
    const res = await gw.fetch('/adv/echo/who', { headers: { 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6' } });
    expect(res.status).toBe(200);
    const headers = upstream.received.find((r) => r.url === '/adv/echo/who')!.headers;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-real-ip']).toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
    group.counted();
  });

  it('an upstream that hangs: 504 upstream-timeout', async () => {
    await group.refused(await gw.fetch('/adv/hangs'), 504, 'upstream-timeout');
  });

  it('an upstream that resets the connection: 502 upstream-unavailable', async () => {
    await group.refused(await gw.fetch('/adv/resets'), 502, 'upstream-unavailable');
  });

  it('an upstream that answers garbage: 502 upstream-unavailable', async () => {
    await group.refused(await gw.fetch('/adv/garbage'), 502, 'upstream-unavailable');
  });

  it('a client that aborts mid-stream cancels the upstream call', async () => {
    const controller = new AbortController();
    const res = await gw.fetch('/adv/streams', { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk arrived: the answer is streaming
    controller.abort();
    expect(await streamClosedEarly).toBe(true);
    group.counted();
  });
});
