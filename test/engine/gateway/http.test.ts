import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';

/*
 * The gateway as an HTTP server: routing answers, size limits, trace context, client aborts,
 * the request log, and what escapes a node. Against a real listening gateway and upstreams.
 */

const PROBLEM = 'application/problem+json';
const TRACE_ID = /^[0-9a-f]{32}$/;

const workflows = (keysUrl: string) => [
  {
    id: 'late',
    name: 'Late',
    route: { methods: ['GET'], path: '/api/late' },
    nodes: [
      { id: 'verify', kind: 'jwt-verify', config: { jwksUri: keysUrl, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } },
      { id: 'call', kind: 'proxy', config: { url: '${ECHO_UPSTREAM}' } },
    ],
    edges: [{ from: 'verify', port: 'ok', to: 'call' }],
  },
  {
    id: 'status',
    name: 'Status',
    route: { methods: ['GET'], path: '/api/status' },
    nodes: [{ id: 'answer', kind: 'respond', config: { headers: { 'x-mock': 'yes' }, bodyExpression: '{ "status": "ok", "path": request.path }' } }],
    edges: [],
  },
  {
    id: 'echo-body',
    name: 'Echo body',
    route: { methods: ['POST'], path: '/api/echo' },
    nodes: [{ id: 'answer', kind: 'respond', config: { bodyExpression: '{ "got": request.body }' } }],
    edges: [],
  },
  {
    id: 'traced',
    name: 'Traced',
    route: { methods: ['GET'], path: '/api/traced' },
    nodes: [
      { id: 'fail', kind: 'condition', config: { when: 'request.query.fail = "1"' } },
      { id: 'refuse', kind: 'error', config: { error: 'bad_request', params: { reason: 'asked to fail' } } },
      { id: 'call', kind: 'proxy', config: { url: '${ECHO_UPSTREAM}' } },
    ],
    edges: [
      { from: 'fail', port: 'true', to: 'refuse' },
      { from: 'fail', port: 'false', to: 'call' },
    ],
  },
  {
    id: 'slow',
    name: 'Slow',
    route: { methods: ['GET'], path: '/api/slow' },
    nodes: [{ id: 'call', kind: 'proxy', config: { url: '${HOLDING_UPSTREAM}', timeout: '20s' } }],
    edges: [],
  },
  {
    id: 'faulty',
    name: 'Faulty',
    route: { methods: ['GET'], path: '/api/faulty' },
    nodes: [
      { id: 'check', kind: 'condition', config: { when: '$error("boom: secret internals")' } },
      { id: 'yes', kind: 'respond', config: { body: { never: true } } },
      { id: 'no', kind: 'respond', config: { body: { never: true } } },
    ],
    edges: [
      { from: 'check', port: 'true', to: 'yes' },
      { from: 'check', port: 'false', to: 'no' },
    ],
  },
];

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function until<T>(what: string, probe: () => T | undefined, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('gateway HTTP behaviour', () => {
  let gw: TestGateway;
  let echo: TestUpstream;
  let holding: TestUpstream;
  const held: Array<{ res: ServerResponse; closedEarly: boolean }> = [];
  let issuer: TestIssuer;
  /** A key server that holds its first answer until the test releases it. */
  let keys: Server;
  const heldKeys: ServerResponse[] = [];

  /** A request sent as written: no URL normalisation (fetch would resolve "/api/../admin"). */
  function raw(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer[] } = {}): Promise<RawAnswer> {
    const { port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (Array.isArray(options.body)) for (const chunk of options.body) req.write(chunk);
      else if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  function expectProblem(answer: RawAnswer, status: number, type: RegExp): Record<string, unknown> {
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe(PROBLEM);
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(body).toMatchObject({ status, type: expect.stringMatching(type), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
    expect(body.traceId).toMatch(TRACE_ID);
    expect(answer.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/); // never a stack trace
    return body;
  }

  const requestLines = () => gw.logs.filter((l) => l.msg === 'request');

  /** Watches the gateway's side of the next request: when it arrives, and when its response closes. */
  function nextGatewayResponse(): { started: boolean; closed: boolean } {
    const state = { started: false, closed: false };
    gw.sluice.server.once('request', (_req, res: ServerResponse) => {
      state.started = true;
      res.once('close', () => (state.closed = true));
    });
    return state;
  }

  beforeAll(async () => {
    echo = await startUpstream();
    holding = await startUpstream((_req, res) => {
      const entry = { res, closedEarly: false };
      res.on('close', () => (entry.closedEarly = !res.writableEnded));
      held.push(entry);
    });
    issuer = await createIssuer();
    keys = createServer((_req, res) => void heldKeys.push(res));
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
    const documents = workflows(`http://127.0.0.1:${(keys.address() as { port: number }).port}/jwks.json`);
    gw = await startTestGateway({ workflows: documents, env: { ECHO_UPSTREAM: echo.url, HOLDING_UPSTREAM: holding.url }, settings: { SLUICE_MAX_BODY: '1kb' } });
    expect([...gw.sluice.registry.active.keys()].sort()).toEqual(documents.map((w) => w.id).sort());
  });
  afterAll(async () => {
    for (const { res } of held) res.destroy();
    await gw.close();
    await echo.close();
    await holding.close();
    for (const res of heldKeys) res.destroy();
    keys.closeAllConnections();
    await new Promise((resolve) => keys.close(resolve));
  });

  describe('routing', () => {
    it('an unknown route answers 404 problem+json', async () => {
      const body = expectProblem(await raw('GET', '/api/nothing-here?x=1'), 404, /not-found$/);
      expect(body.instance).toBe('/api/nothing-here');
    });

    it('a known path with another method answers 405 with Allow', async () => {
      const answer = await raw('DELETE', '/api/status');
      expectProblem(answer, 405, /method-not-allowed$/);
      expect(answer.headers.allow).toBe('GET, HEAD');
    });

    it('HEAD on a GET route answers the GET headers without a body', async () => {
      const get = await raw('GET', '/api/status');
      const head = await raw('HEAD', '/api/status');
      expect(get.status).toBe(200);
      expect(JSON.parse(get.body)).toEqual({ status: 'ok', path: '/api/status' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      expect(head.headers['x-mock']).toBe('yes');
    });

    it.each(['/api/../admin', '/api/%2e%2e/admin', '/api/%2E%2E/admin', '/api/.%2e/admin', '/api/status/..', '/api/./status', '/api/status/%2e'])(
      'a dot segment (%s) answers 400 problem+json, never resolved',
      async (path) => {
        const body = expectProblem(await raw('GET', path), 400, /bad-request$/);
        expect(body.detail).toContain('malformed');
      },
    );
  });

  describe('request bodies and heads', () => {
    it('a body within SLUICE_MAX_BODY reaches the workflow', async () => {
      const answer = await raw('POST', '/api/echo', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(500) }) });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ got: { a: 'x'.repeat(500) } });
    });

    it('a body over SLUICE_MAX_BODY (declared length) answers 413 problem+json', async () => {
      const body = JSON.stringify({ a: 'x'.repeat(2048) });
      const answer = await raw('POST', '/api/echo', { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body });
      expectProblem(answer, 413, /payload-too-large$/);
      // The unread rest of the body makes the connection unusable: the answer says it closes, so no client reuses it.
      expect(answer.headers.connection).toBe('close');
      expect(requestLines().at(-1)).toMatchObject({ workflow: 'echo-body', status: 413, outcome: 'rejected' });
    });

    it('a chunked body growing over SLUICE_MAX_BODY answers 413 problem+json', async () => {
      const chunk = Buffer.from('x'.repeat(400));
      const answer = await raw('POST', '/api/echo', { headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }, body: [chunk, chunk, chunk, chunk] });
      expectProblem(answer, 413, /payload-too-large$/);
      expect(answer.headers.connection).toBe('close');
    });

    it('the next request after a 413 succeeds (the client did not reuse the closed connection)', async () => {
      expect((await raw('GET', '/api/status')).status).toBe(200);
    });

    it('a request with neither Content-Length nor Transfer-Encoding has no body, and the next one on the connection is read whole', async () => {
      // two requests written at once on one connection (raw socket): the first without a body, the second with one
      const { port } = new URL(gw.url);
      const socket = connect(Number(port), '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      const json = '{"a":"b"}';
      socket.write(`POST /api/echo HTTP/1.1\r\nHost: sluice.test\r\n\r\nPOST /api/echo HTTP/1.1\r\nHost: sluice.test\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n${json}`);
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const text = Buffer.concat(received).toString('utf8');
      const answers = text.split(/(?=HTTP\/1\.1 )/);
      expect(answers).toHaveLength(2);
      expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
      expect(answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4)).toBe('{}');
      expect(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4)).toBe('{"got":{"a":"b"}}');
    });

    it('a malformed JSON body answers 400 problem+json', async () => {
      const body = expectProblem(await raw('POST', '/api/echo', { headers: { 'content-type': 'application/json' }, body: '{"a":' }), 400, /bad-request$/);
      expect(body.detail).toContain('not valid JSON');
    });

    it('headers over SLUICE_MAX_HEADER answer 431 problem+json (raw socket)', async () => {
      const { port } = new URL(gw.url);
      const socket = connect(Number(port), '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined); // the gateway may reset after answering
      socket.write(`GET /api/status HTTP/1.1\r\nHost: sluice.test\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
      await closed;
      const text = Buffer.concat(received).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head!.split('\r\n');
      expect(statusLine).toMatch(/^HTTP\/1\.1 431 /);
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      expectProblem({ status: 431, headers, body: rest.join('\r\n\r\n') }, 431, /headers-too-large$/);
      expect(Buffer.byteLength(rest.join('\r\n\r\n'))).toBe(Number(headers['content-length']));
    });
  });

  describe('trace context', () => {
    const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
    const PARENT_SPAN = '00f067aa0ba902b7';
    const traceparent = `00-${PARENT_TRACE}-${PARENT_SPAN}-01`;
    const upstreamTrace = () => {
      const value = echo.received.at(-1)!.headers.traceparent as string;
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(value);
      expect(m, `upstream traceparent ${value}`).not.toBeNull();
      return { traceId: m![1]!, spanId: m![2]!, flags: m![3]!, state: echo.received.at(-1)!.headers.tracestate };
    };

    it('an incoming traceparent is continued: same trace id upstream and in problems, a new span id', async () => {
      const ok = await raw('GET', '/api/traced', { headers: { traceparent, tracestate: 'vendor=abc' } });
      expect(ok.status).toBe(200);
      const sent = upstreamTrace();
      expect(sent.traceId).toBe(PARENT_TRACE);
      expect(sent.spanId).not.toBe(PARENT_SPAN);
      expect(sent.spanId).not.toBe('0000000000000000');
      expect(sent.flags).toBe('01');
      expect(sent.state).toBe('vendor=abc');
      expect(requestLines().at(-1)).toMatchObject({ traceId: PARENT_TRACE, spanId: sent.spanId });

      const refused = expectProblem(await raw('GET', '/api/traced?fail=1', { headers: { traceparent } }), 400, /bad-request$/);
      expect(refused.traceId).toBe(PARENT_TRACE);
      expect(expectProblem(await raw('GET', '/nowhere', { headers: { traceparent } }), 404, /not-found$/).traceId).toBe(PARENT_TRACE);
    });

    it('a missing traceparent is created', async () => {
      const before = echo.received.length;
      expect((await raw('GET', '/api/traced')).status).toBe(200);
      expect(echo.received.length).toBe(before + 1);
      const sent = upstreamTrace();
      expect(sent.traceId).not.toBe('00000000000000000000000000000000');
      expect(sent.state).toBeUndefined();
      expect(requestLines().at(-1)!.traceId).toBe(sent.traceId);
      const refused = expectProblem(await raw('GET', '/api/traced?fail=1'), 400, /bad-request$/);
      expect(refused.traceId).not.toBe(sent.traceId); // a new trace per request
    });

    it('a traceparent of a later version is continued from its first fields', async () => {
      expect((await raw('GET', '/api/traced', { headers: { traceparent: `01-${PARENT_TRACE}-${PARENT_SPAN}-01-what-comes-later` } })).status).toBe(200);
      expect(upstreamTrace().traceId).toBe(PARENT_TRACE);
    });

    it.each([
      ['version 00 with more fields', `${traceparent}-more`],
      ['a later version without a dash after its flags', `01-${PARENT_TRACE}-${PARENT_SPAN}-01x`],
      ['an all-zero trace id', `00-00000000000000000000000000000000-${PARENT_SPAN}-01`],
      ['an all-zero span id', `00-${PARENT_TRACE}-0000000000000000-01`],
      ['upper-case hex', `00-${PARENT_TRACE.toUpperCase()}-${PARENT_SPAN}-01`],
      ['version ff', `ff-${PARENT_TRACE}-${PARENT_SPAN}-01`],
      ['a short trace id', `00-${PARENT_TRACE.slice(1)}-${PARENT_SPAN}-01`],
      ['garbage', 'not a traceparent'],
    ])('an invalid traceparent (%s) is replaced by a new trace, and tracestate dropped', async (_name, invalid) => {
      expect((await raw('GET', '/api/traced', { headers: { traceparent: invalid, tracestate: 'vendor=abc' } })).status).toBe(200);
      const sent = upstreamTrace();
      expect(sent.traceId).not.toBe(PARENT_TRACE);
      expect(sent.traceId).not.toBe('00000000000000000000000000000000');
      expect(sent.state).toBeUndefined();
      expect(echo.received.at(-1)!.headers.traceparent).not.toBe(invalid);
    });
  });

  describe('client aborts', () => {
    it('a client that goes away mid-request cancels the upstream call', async () => {
      const controller = new AbortController();
      const pending = gw.fetch('/api/slow', { signal: controller.signal }).catch((error: unknown) => error);
      const entry = await until('the upstream to hold the request', () => held[0]);
      expect(entry.closedEarly).toBe(false);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await until('the upstream request to be closed before it answered', () => (entry.closedEarly ? true : undefined));
      const line = await until('the request log line', () => requestLines().find((l) => l.workflow === 'slow'));
      // the client's leaving, not an upstream failure
      expect(line).toMatchObject({ workflow: 'slow', path: ['call'], status: 499, outcome: 'rejected' });
    });

    it('a client that left while an earlier node waited: the upstream is never called', async () => {
      const token = await issuer.sign({ sub: 'early-leaver' });
      const controller = new AbortController();
      const pending = gw.fetch('/api/late', { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }).catch((error: unknown) => error);
      const gatewaySide = nextGatewayResponse();
      const keyRequest = await until('jwt-verify to fetch the key set', () => heldKeys[0]);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await until('the gateway to see the client leave', () => (gatewaySide.closed ? true : undefined));
      // The client is gone; now the keys arrive, the token verifies, and the walk reaches the proxy.
      const body = JSON.stringify(issuer.jwks);
      keyRequest.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      const line = await until('the request log line', () => requestLines().find((l) => l.workflow === 'late'));
      expect(line.path).toEqual(['verify', 'call']);
      expect(echo.received.filter((r) => r.url.startsWith('/api/late'))).toEqual([]);
    });

    it('a client that leaves mid-body: the request ends and is logged', async () => {
      const { port } = new URL(gw.url);
      const before = requestLines().filter((l) => l.workflow === 'echo-body').length;
      const gatewaySide = nextGatewayResponse();
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/echo', headers: { 'content-type': 'application/json', 'content-length': '900' } });
      req.on('error', () => undefined);
      req.write(`{"a": "${'x'.repeat(100)}`);
      await until('the gateway to receive the request', () => (gatewaySide.started ? true : undefined));
      req.destroy();
      const lines = await until('the request log line', () => {
        const found = requestLines().filter((l) => l.workflow === 'echo-body');
        return found.length > before ? found : undefined;
      });
      expect(lines.at(-1)).toMatchObject({ workflow: 'echo-body', outcome: 'rejected', status: 400 });
    });
  });

  describe('the request log and faults', () => {
    it('logs one line per request: workflow, version, route, outcome, status, path of node ids', async () => {
      const before = requestLines().length;
      await raw('GET', '/api/status');
      await raw('GET', '/api/traced?fail=1');
      await raw('GET', '/nowhere');
      const lines = await until('three request lines', () => (requestLines().length >= before + 3 ? requestLines().slice(before) : undefined));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ method: 'GET', workflow: 'status', version: 1, route: '/api/status', outcome: 'ok', status: 200, path: ['answer'], traceId: expect.stringMatching(TRACE_ID) });
      expect(lines[1]).toMatchObject({ workflow: 'traced', version: 1, outcome: 'rejected', status: 400, path: ['fail', 'refuse'], problem: expect.stringMatching(/bad-request$/) });
      expect(lines[2]).toMatchObject({ outcome: 'rejected', status: 404, path: [] });
      expect(lines[2]!.workflow).toBeUndefined();
      for (const line of lines) expect(typeof line.ms).toBe('number');
    });

    it('a node that throws answers 500 problem+json, never a stack trace or the error text', async () => {
      const answer = await raw('GET', '/api/faulty');
      const body = expectProblem(answer, 500, /expression-failed$/);
      expect(answer.body).not.toContain('boom');
      expect(answer.body).not.toContain('secret internals');
      expect(Object.keys(body).sort()).toEqual(['detail', 'instance', 'status', 'title', 'traceId', 'type']);
      const line = requestLines().at(-1)!;
      expect(line).toMatchObject({ workflow: 'faulty', outcome: 'error', status: 500, path: ['check'] });
      const failure = gw.logs.find((l) => l.msg === 'node failed' && l.traceId === body.traceId);
      expect(failure).toMatchObject({ workflow: 'faulty', node: 'check' });
    });
  });

  describe('the control plane', () => {
    it('/healthz answers 200', async () => {
      const answer = await raw('GET', '/healthz');
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
    });

    it('/editor/ serves HTML', async () => {
      const answer = await raw('GET', '/editor/');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.body).toMatch(/<html/i);
    });

    it.each(['/admin', '/admin/nope', '/admin/api/unknown?x=1', '/.well-known/sluice/nothing'])('an unknown control path (%s) answers 404 problem+json', async (path) => {
      expectProblem(await raw('GET', path), 404, /not-found$/);
    });
  });
});
