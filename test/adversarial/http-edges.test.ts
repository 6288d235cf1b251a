/**
 * The gateway's HTTP edges: clients that ask for big answers and never read them (slow
 * readers), answers a workflow tries to frame itself (hop-by-hop and framing headers), paths an
 * upstream reads differently (backslashes), requests Node answers before any handler (no Host,
 * CONNECT), and upstreams that send an interim 1xx before their answer.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../shared/compile/index.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/issuer.ts';
import { startProcessGateway, type ProcessGateway } from '../helpers/process-gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { startGateway, workflow, type NodeDoc } from '../helpers/workflow.ts';
import { adversarialGroup, bystanderToken, snapshotOf, startBystander, type Snapshot } from './support.ts';

const group = adversarialGroup('http-edges');

const listen = async (server: Server | TcpServer) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** Sends raw bytes and reads until the server closes, an answer with a Content-Length is complete, or `waitMs` passes. */
async function raw(url: string, request: string, waitMs = 5_000): Promise<{ text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  let closed = false;
  let complete: () => void;
  const completed = new Promise<void>((resolve) => (complete = resolve));
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    const at = text.indexOf('\r\n\r\n');
    const head = text.slice(0, at);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    // an answer that says it closes the connection is read until it does
    if (at >= 0 && length !== undefined && text.length - at - 4 >= Number(length) && !/\r\nconnection: *close/i.test(head)) setTimeout(complete, 50);
  });
  const ended = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(request);
  await Promise.race([ended, completed, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  socket.destroy();
  return { text, closed };
}

/** The status line and lower-cased header lines of a raw answer's head. */
function headOf(text: string): { status: number; headers: Array<[string, string]>; body: string } {
  const at = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, at).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!)?.[1]);
  const headers = lines.slice(1).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as [string, string];
  });
  return { status, headers, body: text.slice(at + 4) };
}

/** A raw answer is this problem, as problem+json; counts the case. */
function expectRawProblem(answer: { text: string }, status: number, slug: string) {
  const { status: got, headers, body } = headOf(answer.text);
  expect(got, answer.text.slice(0, 300)).toBe(status);
  expect(headers).toContainEqual(['content-type', 'application/problem+json']);
  expect((JSON.parse(body) as { type: string }).type).toMatch(new RegExp(`/${slug}$`));
  group.counted();
}

/**
 * A large answer with characters of 2, 3 and 4 UTF-8 bytes, a surrogate pair's first half at the
 * last place of the first 64 KB piece the gateway writes (after `{"items":"`).
 */
const UNICODE_TEXT = 'é'.repeat(65_525) + '😀'.repeat(50_000) + '中'.repeat(10_000);

describe('HTTP edges: framing headers, backslashes, no Host, CONNECT, interim answers', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let interim: TcpServer;
  let unicode: Server;
  let before: Snapshot;
  let bystander: ReturnType<typeof startBystander>;

  beforeAll(async () => {
    const issuer = await createIssuer();
    upstream = await startUpstream();
    // An upstream that sends interim answers (as its path names them) before its 200.
    interim = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (request) => {
        const path = request.toString('latin1').split(' ')[1]!;
        const interims = path.split('/').filter((s) => /^1\d\d$/.test(s));
        for (const code of interims) socket.write(code === '103' ? 'HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n' : `HTTP/1.1 ${code} Continue\r\n\r\n`);
        setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{"hello":"world"}'), 20);
      });
    });
    const interimUrl = await listen(interim);
    unicode = createServer((_req, res) => {
      const text = JSON.stringify({ t: UNICODE_TEXT });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const unicodeUrl = await listen(unicode);
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    gw = await startGateway(
      [
        workflow('bystander', { path: '/edges/bystander' }, [verify, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [['verify', 'ok', 'call']]),
        workflow('framing', { path: '/edges/framing' }, [
          { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
          { id: 'shape', kind: 'transform-response', config: { headers: '{ request.query.name: request.query.value, "x-shaped": "yes" }' } },
        ], [['call', 'ok', 'shape']]),
        workflow('files', { path: '/p/*' }, [{ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}/base', stripPrefix: '/p' } }]),
        workflow('computed-path', { path: '/edges/file' }, [
          { id: 'where', kind: 'transform-request', config: { path: '"/files/" & request.query.name' } },
          { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } },
        ], [['where', 'ok', 'call']]),
        workflow('unicode', { path: '/edges/unicode' }, [
          { id: 'call', kind: 'proxy', config: { url: unicodeUrl } },
          { id: 'shape', kind: 'transform-response', config: { body: '{ "items": response.body.t }' } },
        ], [['call', 'ok', 'shape']]),
        workflow('interim', { path: '/edges/interim/*' }, [{ id: 'call', kind: 'proxy', config: { url: interimUrl, timeout: '2s' } }]),
        workflow('interim-buffered', { path: '/edges/interim-buffered/*' }, [
          { id: 'call', kind: 'proxy', config: { url: interimUrl, timeout: '2s' } },
          { id: 'shape', kind: 'transform-response', config: { body: '{ "said": response.body.hello }' } },
        ], [['call', 'ok', 'shape']]),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
    before = await snapshotOf(gw);
    bystander = startBystander(gw, '/edges/bystander', await bystanderToken(issuer));
  });

  afterAll(async () => {
    await bystander?.stopAndCheck();
    expect(await snapshotOf(gw)).toEqual(before);
    await gw?.close();
    await upstream?.close();
    interim?.close();
    unicode?.close();
  });

  describe('hop-by-hop and framing headers', () => {
    const respondWith = (headers: Record<string, string>) => workflow('answers', { path: '/answers' }, [{ id: 'answer', kind: 'respond', config: { status: 200, headers, body: { a: 1 } } }]);
    const transform = (kind: 'transform-request' | 'transform-response', headers: string) =>
      kind === 'transform-request'
        ? workflow('shapes', { path: '/shapes' }, [{ id: 'shape', kind, config: { headers } }, { id: 'call', kind: 'proxy', config: { url: 'http://127.0.0.1:9' } }], [['shape', 'ok', 'call']])
        : workflow('shapes', { path: '/shapes' }, [{ id: 'call', kind: 'proxy', config: { url: 'http://127.0.0.1:9' } }, { id: 'shape', kind, config: { headers } }], [['call', 'ok', 'shape']]);

    it.each([
      ['respond', 'Transfer-Encoding', respondWith({ 'Transfer-Encoding': 'chunked' }), 'answer', 'config.headers.Transfer-Encoding'],
      ['respond', 'connection', respondWith({ connection: 'close' }), 'answer', 'config.headers.connection'],
      ['respond', 'upgrade', respondWith({ upgrade: 'h2c' }), 'answer', 'config.headers.upgrade'],
      ['respond', 'keep-alive', respondWith({ 'keep-alive': 'timeout=600' }), 'answer', 'config.headers.keep-alive'],
      ['respond', 'content-length', respondWith({ 'content-length': '1' }), 'answer', 'config.headers.content-length'],
      ['respond', 'trailer', respondWith({ trailer: 'x-a' }), 'answer', 'config.headers.trailer'],
      ['transform-response', 'transfer-encoding', transform('transform-response', '{ "transfer-encoding": "chunked" }'), 'shape', 'config.headers'],
      ['transform-response', 'connection', transform('transform-response', 'request.query.a ? { "connection": "close" } : {}'), 'shape', 'config.headers'],
      ['transform-request', 'upgrade', transform('transform-request', '$merge([request.headers, { "upgrade": "websocket" }])'), 'shape', 'config.headers'],
      ['transform-request', 'te', transform('transform-request', '{ "TE": "trailers" }'), 'shape', 'config.headers'],
    ])('%s setting %s is refused at validate, naming the node and field', (_kind, header, document, node, field) => {
      const result = validateWorkflow(document);
      expect(result.ok).toBe(false);
      expect(result.problems).toContainEqual({ code: 'invalid_config', node, field, message: expect.stringContaining(`"${header.toLowerCase()}"`) });
      group.counted();
    });

    it.each(['transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'content-length', 'trailer', 'proxy-connection'])(
      'a %s header named at run time by an expression is dropped: one framing header, the answer is the gateway\'s',
      async (name) => {
        const value = name === 'transfer-encoding' ? 'chunked' : name === 'content-length' ? '3' : name === 'connection' ? 'close' : 'x';
        const answer = await raw(gw.url, `GET /edges/framing?name=${name}&value=${value} HTTP/1.1\r\nHost: x\r\n\r\n`, 1_500);
        const { status, headers, body } = headOf(answer.text);
        expect(status, answer.text.slice(0, 300)).toBe(200);
        expect(headers).toContainEqual(['x-shaped', 'yes']);
        const framing = headers.filter(([n]) => n === 'content-length' || n === 'transfer-encoding');
        expect(framing).toHaveLength(1);
        expect(framing[0]![0]).toBe('content-length');
        expect(Buffer.byteLength(body, 'latin1')).toBe(Number(framing[0]![1]));
        expect(headers.filter(([n]) => n === 'upgrade' || n === 'trailer' || n === 'proxy-connection')).toEqual([]);
        // Node's own keep-alive headers only: the connection stays the gateway's to manage
        expect(headers.filter(([n]) => n === 'connection')).toEqual([['connection', 'keep-alive']]);
        expect(answer.closed).toBe(false);
        group.counted();
      },
    );
  });

  it('a large answer goes out in pieces, byte for byte, whatever its characters', async () => {
    const res = await gw.fetch('/edges/unicode');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.equals(Buffer.from(JSON.stringify({ items: UNICODE_TEXT })))).toBe(true);
    group.counted();
  });

  describe('backslashes in paths', () => {
    it.each(['/p/..\\secret', '/p/..%5Csecret', '/p/..%5csecret', '/p/.%2e\\x', '/p/%2E%2E%5Csecret', '/p/a\\..\\..\\secret', '/p/x%5C..%5Csecret', '/p/a\\b', '/p/..\\'])(
      '%s: 400 bad-request, nothing sent upstream',
      async (path) => {
        const seen = upstream.received.length;
        expectRawProblem(await raw(gw.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), 400, 'bad-request');
        expect(upstream.received.slice(seen).filter((r) => r.url.startsWith('/base'))).toEqual([]);
      },
    );

    it('an encoded backslash that hides no dot segment goes upstream as received', async () => {
      const res = await gw.fetch('/p/a%5Cb');
      expect(res.status).toBe(200);
      expect(upstream.received.some((r) => r.url === '/base/a%5Cb')).toBe(true);
      group.counted();
    });

    it.each(['..\\secret', '../secret', 'a/../../secret', '.%2e/secret'])('a path computed from the query (name=%s) may not climb: 500 transform-failed, nothing sent upstream', async (name) => {
      await group.refused(await gw.fetch(`/edges/file?name=${encodeURIComponent(name)}`), 500, 'transform-failed', 'path must not');
      expect(upstream.received.filter((r) => r.url.startsWith('/files') || r.url.includes('secret'))).toEqual([]);
    });
  });

  describe('requests Node answers before any handler', () => {
    it('an HTTP/1.1 request without Host: 400 bad-request as problem+json, connection closed', async () => {
      const answer = await raw(gw.url, 'GET /p/x HTTP/1.1\r\n\r\n');
      expectRawProblem(answer, 400, 'bad-request');
      expect(headOf(answer.text).body).toContain('Host');
      expect(answer.closed).toBe(true);
    });

    it('an HTTP/1.0 request without Host is served (Host is HTTP/1.1\'s)', async () => {
      const answer = await raw(gw.url, 'GET /p/ten HTTP/1.0\r\n\r\n');
      expect(headOf(answer.text).status, answer.text.slice(0, 200)).toBe(200);
      group.counted();
    });

    it('CONNECT: 405 method-not-allowed as problem+json, connection closed', async () => {
      const answer = await raw(gw.url, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
      expectRawProblem(answer, 405, 'method-not-allowed');
      expect(headOf(answer.text).headers.map(([n]) => n)).toContain('allow');
      expect(answer.closed).toBe(true);
    });
  });

  describe('interim answers from the upstream', () => {
    it.each([
      ['100 Continue', '/edges/interim/100'],
      ['103 Early Hints', '/edges/interim/103'],
      ['100 then 103', '/edges/interim/100/103'],
      ['100 Continue, answer read by a transform', '/edges/interim-buffered/100'],
    ])('%s before the 200: the 200 is the answer', async (_name, path) => {
      const res = await gw.fetch(path);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text)).toEqual(path.includes('buffered') ? { said: 'world' } : { hello: 'world' });
      group.counted();
    });
  });
});

/** The resident memory of a process, in MB. */
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** A client that sends requests and reads nothing: only the first bytes, to know its answer started. */
interface NonReader {
  socket: Socket;
  startedAt: number | undefined;
  bytes: number;
  closed: boolean;
}

function nonReader(url: string, request: string): NonReader {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const reader: NonReader = { socket, startedAt: undefined, bytes: 0, closed: false };
  socket.on('data', (chunk: Buffer) => {
    reader.bytes += chunk.length;
    reader.startedAt ??= performance.now();
    socket.pause(); // and never read again: the kernel's buffers fill, then the gateway's would
  });
  socket.on('close', () => (reader.closed = true));
  socket.on('error', () => undefined);
  socket.write(request);
  return reader;
}

/** Reads what a non-reader has waiting: a connection the gateway closed ends short of its answer. */
async function drain(readers: NonReader[], ms: number): Promise<void> {
  for (const reader of readers) {
    reader.socket.removeAllListeners('data');
    reader.socket.on('data', (chunk: Buffer) => (reader.bytes += chunk.length));
    reader.socket.resume();
  }
  const deadline = performance.now() + ms;
  while (performance.now() < deadline && !readers.every((r) => r.closed)) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const reader of readers) reader.socket.destroy();
}

const until = async (condition: () => boolean, ms: number) => {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
};

/**
 * Slow readers against a gateway process of its own (its memory measured alone), with small
 * bounds: 8 MB of unsent answers per connection, a 3 s send timeout. The answers are larger
 * than the kernel's socket buffers take (about 4 MB here), so a client that does not read leaves
 * the rest to the gateway.
 */
describe('slow readers', () => {
  const MAX_BUFFERED_MB = 8;
  const SEND_TIMEOUT_MS = 3_000;
  /** Sockets asking for a big answer at once. */
  const READERS = 10;
  /**
   * Beyond what the answers held: the requests' own work, all at once (each buffers the upstream's
   * body, parses it and builds its answer: a few copies that wait for the garbage collector).
   */
  const SLACK_MB = 64;
  /** The transformed answer: about 6 MB, under the bound, over what the kernel takes. */
  const ANSWER_CHARS = 6_000_000;
  let gw: ProcessGateway;
  let bigUpstream: Server;
  let streamClosed: Promise<number>;
  let noteStreamClosed: (sent: number) => void;
  const answerHead = (path: string, times = 1) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(times);

  beforeAll(async () => {
    // a quarter of the answer: the transform writes it four times, so what the requests' own work
    // costs (buffering, parsing) stays small beside what their answers hold
    const body = JSON.stringify({ data: 'x'.repeat(ANSWER_CHARS / 4) });
    const oversized = JSON.stringify({ data: 'x'.repeat(MAX_BUFFERED_MB * 1024 * 1024 + 1) });
    streamClosed = new Promise((resolve) => (noteStreamClosed = resolve));
    bigUpstream = createServer((req, res) => {
      if (req.url!.startsWith('/stream')) {
        // 64 MB, as fast as the gateway takes it: what it sent shows whether the gateway paused it
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const piece = Buffer.alloc(64 * 1024, 120);
        let sent = 0;
        const pump = () => {
          while (sent < 1024) {
            sent++;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => noteStreamClosed(sent * piece.length));
        pump();
        return;
      }
      const text = req.url!.startsWith('/oversized') ? oversized : body;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const url = await listen(bigUpstream);
    const shaped = (id: string, path: string, upstreamPath: string) =>
      workflow(id, { path }, [
        { id: 'call', kind: 'proxy', config: { url: `${url}${upstreamPath}`, stripPrefix: path, timeout: '60s' } },
        { id: 'shape', kind: 'transform-response', config: { body: '{ "a": response.body.data, "b": response.body.data, "c": response.body.data, "d": response.body.data }' } },
      ], [['call', 'ok', 'shape']]);
    gw = await startProcessGateway({
      workflows: [
        shaped('big', '/big', '/big'),
        shaped('oversized', '/oversized', '/oversized'),
        workflow('stream', { path: '/stream' }, [{ id: 'call', kind: 'proxy', config: { url, timeout: '60s' } }]),
        // six copies of the upstream's 1.5 MB of data, built on the compiled fast path: 9 MB, over the 8 MB bound (under an expression result's own 10M-character bound)
        workflow('built', { path: '/built' }, [
          { id: 'call', kind: 'proxy', config: { url: `${url}/big`, stripPrefix: '/built', timeout: '60s' } },
          { id: 'shape', kind: 'transform-response', config: { body: '{ "a": response.body.data, "b": response.body.data, "c": response.body.data, "d": response.body.data, "e": response.body.data, "f": response.body.data }' } },
        ], [['call', 'ok', 'shape']]),
      ],
      env: { SLUICE_MAX_BUFFERED_ANSWER: `${MAX_BUFFERED_MB}mb`, SLUICE_SEND_TIMEOUT: `${SEND_TIMEOUT_MS}ms` },
    });
    // one answer read in full first: the baseline includes what serving it once costs
    const res = await gw.fetch('/big');
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(ANSWER_CHARS);
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    bigUpstream?.closeAllConnections();
    bigUpstream?.close();
  });

  const closedBySendTimeout = () => gw.logs.filter((l) => l.msg === 'closed connections that did not read their answers' && l.reason === 'send_timeout').reduce((n, l) => n + Number(l.connections), 0);

  it(`${READERS} clients that never read a ~6 MB transformed answer: memory bounded by the buffer bound per connection, every connection closed within the send timeout`, async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = rssOf(gw.pid);
    const closedBefore = closedBySendTimeout();
    const readers = Array.from({ length: READERS }, () => nonReader(gw.url, answerHead('/big')));
    let peak = baseline;
    const sample = setInterval(() => (peak = Math.max(peak, rssOf(gw.pid))), 100);
    try {
      // every answer started (a loaded machine transforms a few a second)
      await until(() => readers.every((r) => r.startedAt !== undefined), 25_000);
      expect(readers.filter((r) => r.startedAt === undefined)).toHaveLength(0);
      // the last one stalls once the kernel's buffers are full; then the send timeout, then a sweep
      await until(() => closedBySendTimeout() - closedBefore >= READERS, SEND_TIMEOUT_MS + 15_000);
    } finally {
      clearInterval(sample);
    }
    const growth = peak - baseline;
    console.log(`slow readers: ${READERS} x ${(ANSWER_CHARS / 1e6).toFixed(0)} MB answers unread; gateway RSS ${baseline.toFixed(0)} MB -> peak +${growth.toFixed(0)} MB (bound ${READERS} x ${MAX_BUFFERED_MB} MB + ${SLACK_MB} MB)`);
    expect(growth).toBeLessThan(READERS * MAX_BUFFERED_MB + SLACK_MB);
    // seen from the clients: each connection ends short of its answer
    await drain(readers, 15_000);
    expect(readers.filter((r) => !r.closed || r.bytes >= ANSWER_CHARS)).toEqual([]);
    expect(closedBySendTimeout() - closedBefore).toBe(READERS);
    group.counted();
  }, 45_000);

  it('a client that never reads a streamed 64 MB answer: the upstream is paused, then the connection closed at the send timeout and the upstream call cancelled', async () => {
    const baseline = rssOf(gw.pid);
    const closedBefore = closedBySendTimeout();
    const reader = nonReader(gw.url, answerHead('/stream'));
    const sent = await Promise.race([streamClosed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000))]);
    // the upstream call ended with the client's connection, long before its 64 MB were sent
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    expect(rssOf(gw.pid) - baseline).toBeLessThan(MAX_BUFFERED_MB + 32);
    expect(closedBySendTimeout() - closedBefore).toBe(1);
    await drain([reader], 15_000);
    expect(reader.closed).toBe(true);
    group.counted();
  }, 30_000);

  it('one connection pipelining requests for big answers it never reads: closed once its unread answers pass the bound', async () => {
    const reader = nonReader(gw.url, answerHead('/big', 6));
    await until(() => gw.logs.some((l) => l.reason === 'buffer_limit'), 20_000);
    expect(gw.logs.find((l) => l.reason === 'buffer_limit')).toMatchObject({ maxBufferedBytes: MAX_BUFFERED_MB * 1024 * 1024 });
    await drain([reader], 15_000);
    expect(reader.closed).toBe(true);
    expect(reader.bytes).toBeLessThan(2 * ANSWER_CHARS); // never more than the first answer and a part of the second
    group.counted();
  }, 30_000);

  it('a client that pauses for less than the send timeout between reads gets its whole answer', async () => {
    const { hostname, port } = new URL(gw.url);
    const socket = connect(Number(port), hostname);
    let bytes = 0;
    let ended = false;
    let nextPause = 2 * 1024 * 1024;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes < nextPause) return;
      // a pause after every 2 MB read, shorter than the send timeout (timers run late on a loaded machine)
      nextPause += 2 * 1024 * 1024;
      socket.pause();
      setTimeout(() => socket.resume(), SEND_TIMEOUT_MS * 0.4);
    });
    socket.on('close', () => (ended = true));
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await until(() => ended, 25_000);
    expect(bytes).toBeGreaterThan(ANSWER_CHARS);
    group.counted();
  }, 30_000);

  it('an upstream body over SLUICE_MAX_BUFFERED_ANSWER that a transform would read: 502 upstream-unavailable', async () => {
    await group.refused(await gw.fetch('/oversized'), 502, 'upstream-unavailable');
  });

  it('an answer a workflow builds over SLUICE_MAX_BUFFERED_ANSWER: 500 internal-error, logged', async () => {
    await group.refused(await gw.fetch('/built'), 500, 'internal-error');
    await until(() => gw.logs.some((l) => l.msg === 'answer larger than SLUICE_MAX_BUFFERED_ANSWER'), 15_000);
    expect(gw.logs.find((l) => l.msg === 'answer larger than SLUICE_MAX_BUFFERED_ANSWER')).toMatchObject({ workflow: 'built', maxBufferedBytes: MAX_BUFFERED_MB * 1024 * 1024 });
  });
});
