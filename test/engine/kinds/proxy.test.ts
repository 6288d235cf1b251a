import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSyntheticExchange, type SyntheticRequest } from '../../../engine/gateway/exchange.ts';
import { walk } from '../../../engine/compile/walk.ts';
import { runServedNode, type TestGateway } from '../../helpers/gateway.ts';
import { compileRebinding } from '../../helpers/rebinding.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../../helpers/upstream.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';
import { deadUrl } from './fixtures.ts';

describeKind('proxy', {
  minimal: { config: { url: 'http://orders.internal' }, parsed: { url: 'http://orders.internal', timeout: '10s', preserveHost: false, forwardAuthorization: true } },
  // model_not_allowed is the default of model_denied, a port only a node with llm has (test/engine/kinds/support/upstream-llm.test.ts takes it)
  faults: ['model_not_allowed'],
  readsBody: [
    [{ url: 'http://x' }, false],
    [{ url: 'http://x', llm: { api: 'openai' } }, true],
  ],
  accepts: [
    ['an OpenAI-compatible LLM upstream with an allow-list of names and prefixes', { url: 'https://api.openai.example/v1', llm: { api: 'openai', models: ['gpt-4o', 'gpt-4o-mini*'], estimate: false } }],
    ['an Anthropic upstream, any model', { targets: [{ url: 'https://a.example' }], retries: 1, llm: { api: 'anthropic' } }],
    ['weighted targets, sticky by partner, retries', { targets: [{ url: '${A}' }, { url: 'https://b.example/v1', weight: 3 }], sticky: 'partner', retries: 2, retryOn: [503] }],
    ['one url with retries, a breaker and health checks', { url: 'http://x', retries: 5, retryUnsafe: true, breaker: { failures: 1, failureRatio: 0.5, cooldown: '100ms' }, healthCheck: { path: '/health', interval: '1s' } }],
    ['an env-var URL, a path rewrite and a prefix', { url: '${UPSTREAM}/v2', path: '/orders/:id', stripPrefix: '/api', timeout: '1ms' }],
    ['the longest timeout a timer honours', { url: 'https://x.example', timeout: '2147483647ms' }],
  ],
  refuses: [
    ['no URL', {}, ['url']],
    ['both url and targets', { url: 'http://x', targets: [{ url: 'http://y' }] }, ['url']],
    ['no target', { targets: [] }, ['targets']],
    ['a target URL with ${NAME} inside', { targets: [{ url: 'http://x/${A}' }] }, ['targets.0.url']],
    ['a zero weight', { targets: [{ url: 'http://x', weight: 0 }] }, ['targets.0.weight']],
    ['17 targets', { targets: Array.from({ length: 17 }, () => ({ url: 'http://x' })) }, ['targets']],
    ['sticky without targets', { url: 'http://x', sticky: 'partner' }, ['sticky']],
    ['six retries', { url: 'http://x', retries: 6 }, ['retries']],
    ['retryUnsafe without retries', { url: 'http://x', retryUnsafe: true }, ['retryUnsafe']],
    ['retrying a 4xx', { url: 'http://x', retries: 1, retryOn: [429] }, ['retryOn.0']],
    ['a health check more often than every second', { url: 'http://x', healthCheck: { path: '/h', interval: '500ms' } }, ['healthCheck.interval']],
    ['a cool-down under 100ms', { url: 'http://x', breaker: { cooldown: '10ms' } }, ['breaker.cooldown']],
    ['a failure ratio over 1', { url: 'http://x', breaker: { failureRatio: 1.5 } }, ['breaker.failureRatio']],
    ['a URL without scheme', { url: 'orders.internal' }, ['url']],
    ['a path rewrite without leading slash', { url: 'http://x', path: 'orders/:id' }, ['path']],
    ['a prefix without leading slash', { url: 'http://x', stripPrefix: 'api' }, ['stripPrefix']],
    ['a zero timeout (undici reads 0 as none)', { url: 'http://x', timeout: '0ms' }, ['timeout']],
    ['a timeout longer than a timer honours', { url: 'http://x', timeout: '25d' }, ['timeout']],
    ['llm without its api', { url: 'http://x', llm: {} }, ['llm.api']],
    ['llm of an unknown api', { url: 'http://x', llm: { api: 'gemini' } }, ['llm.api']],
    ['an empty model allow-list', { url: 'http://x', llm: { api: 'openai', models: [] } }, ['llm.models']],
    ['a model with a * inside', { url: 'http://x', llm: { api: 'openai', models: ['gpt-*-mini'] } }, ['llm.models.0']],
    ['an unknown llm field', { url: 'http://x', llm: { api: 'openai', budget: 5 } }, ['llm.budget']],
  ],
});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request through node:http, which (unlike fetch) sends hop-by-hop headers and Expect as given. */
function rawRequest(url: string, options: { method?: string; headers: OutgoingHttpHeaders; body?: string; waitForContinue?: boolean }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.waitForContinue) req.on('continue', () => req.end(options.body));
    else req.end(options.body);
  });
}


/** An upstream of the resilience tests: answers {"target": name}, or `fail` while it is set; /health answers `health`. */
interface NamedUpstream {
  up: TestUpstream;
  fail: number | undefined;
  health: number;
  /** The requests it got, health checks aside. */
  calls(): number;
}
async function namedUpstream(name: string): Promise<NamedUpstream> {
  const named = { fail: undefined as number | undefined, health: 200 } as NamedUpstream;
  named.up = await startUpstream((req, res) => {
    if (req.url === '/health') return void res.writeHead(named.health).end();
    if (named.fail !== undefined) return void res.writeHead(named.fail, { 'content-type': 'text/plain' }).end(`${name} failing`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ target: name }));
  });
  named.calls = () => named.up.received.filter((r) => r.url !== '/health').length;
  return named;
}

const ADMIN_TOKEN = 'proxy-admin-token-0123456789abcdef';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

describe('proxy', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let issuer: TestIssuer;
  const slow = { started: 0, closed: 0 };
  const named: Record<string, NamedUpstream> = {};
  const NAMES = ['W1', 'W2', 'K1', 'K2', 'FAIL', 'BR', 'ST1', 'ST2', 'S1', 'S2', 'H1', 'H2', 'HO', 'CL0'] as const;

  /** The upstream: echoes by default; /slow never answers in time, /status/:code answers that status, /hop sends hop-by-hop headers. */
  const handler: UpstreamHandler = (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/slow')) {
      slow.started += 1;
      const timer = setTimeout(() => res.end('late'), 5_000);
      res.on('close', () => {
        clearTimeout(timer);
        slow.closed += 1;
      });
      return;
    }
    const status = /^\/status\/(\d{3})/.exec(url);
    if (status) {
      const body = status[1] === '503' ? JSON.stringify({ upstream: 'down for maintenance' }) : `teapot ${status[1]}`;
      res.writeHead(Number(status[1]), { 'content-type': status[1] === '503' ? 'application/json' : 'text/plain', 'x-upstream-header': 'kept', 'retry-after': '7' });
      res.end(body);
      return;
    }
    if (url.startsWith('/dribble')) {
      // the head at once, then a byte every 50ms for 2s: never idle for long, never done in time
      res.writeHead(200, { 'content-type': 'text/plain' });
      let left = 40;
      const timer = setInterval(() => {
        res.write('.');
        if (--left === 0) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (url.startsWith('/huge')) {
      // 11 MiB: over what a proxy buffers for a later node; with a length or chunked
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      res.writeHead(200, { 'content-type': 'text/plain', ...(url === '/huge' ? { 'content-length': String(11 * chunk.length) } : {}) });
      let sent = 0;
      const more = () => {
        while (sent < 11) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
      return;
    }
    if (url.startsWith('/hop')) {
      res.writeHead(200, { connection: 'x-up-secret', 'x-up-secret': '1', 'keep-alive': 'timeout=77', 'x-up-public': '1', 'content-type': 'text/plain' });
      res.end('hop');
      return;
    }
    const body = JSON.stringify({ url, method: req.method, headers: req.headers, bodyLength: req.bodyText.length, bodySha: createHash('sha256').update(req.bodyText).digest('hex') });
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'test' });
    res.end(body);
  };

  beforeAll(async () => {
    upstream = await startUpstream(handler);
    for (const name of NAMES) named[name] = await namedUpstream(name);
    issuer = await createIssuer();
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    const proxy = (config: Record<string, unknown>): NodeDoc => ({ id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}', ...config } });
    const targets = (config: Record<string, unknown>): NodeDoc => ({ id: 'call', kind: 'proxy', config });
    const okNode: NodeDoc = { id: 'ok', kind: 'respond', config: { bodyExpression: '{ "port": "ok", "status": response.status, "url": response.body.url }' } };
    gw = await startGateway(
      [
        workflow('px-rewrite', { path: '/px/orders/:id/lines/:line' }, [proxy({ path: '/v2/orders/:id/items/:line' })]),
        workflow('px-strip', { path: '/px/strip/*' }, [proxy({ url: '${UPSTREAM}/base', stripPrefix: '/px/strip' })]),
        workflow('px-strip-boundary', { path: '/pxs/*' }, [proxy({ stripPrefix: '/pxs/api/' })]),
        workflow('px-auth', { path: '/px/auth/*', methods: ['GET', 'POST'] }, [verify, proxy({})], [['verify', 'ok', 'call']]),
        workflow('px-open', { path: '/px/open/*', methods: ['GET', 'POST', 'PUT'] }, [proxy({})]),
        workflow('px-options', { path: '/px/options' }, [proxy({ forwardAuthorization: false, preserveHost: true })]),
        workflow('px-status', { path: '/px/status/:code' }, [proxy({ path: '/status/:code' })]),
        workflow('px-hop', { path: '/px/hop' }, [proxy({ path: '/hop' })]),
        workflow('px-down', { path: '/px/down' }, [proxy({ url: '${DOWN}' })]),
        workflow('px-slow', { path: '/px/slow' }, [proxy({ path: '/slow', timeout: '200ms' })]),
        workflow('px-slow-long', { path: '/px/slow-long' }, [proxy({ path: '/slow', timeout: '30s' })]),
        workflow('px-ok-port', { path: '/px/ok-port' }, [proxy({}), okNode], [['call', 'ok', 'ok']]),
        workflow('px-error-port', { path: '/px/error-port' }, [proxy({ url: '${DOWN}' }), okNode, portNode('error')], [['call', 'ok', 'ok'], ['call', 'error', 'error']]),
        workflow(
          'px-query-read',
          { path: '/px/query-read' },
          [{ id: 'peek', kind: 'condition', config: { when: 'request.query.q = "a b"' } }, proxy({}), { id: 'other', kind: 'respond', config: { body: { port: 'false' } } }],
          [['peek', 'true', 'call'], ['peek', 'false', 'other']],
        ),
        workflow('px-dribble', { path: '/px/dribble' }, [proxy({ path: '/dribble', timeout: '300ms' }), okNode], [['call', 'ok', 'ok']]),
        workflow(
          'px-body-read',
          { path: '/px/body-read', methods: ['POST'] },
          [{ id: 'peek', kind: 'condition', config: { when: 'request.body.a = 1' } }, proxy({}), { id: 'other', kind: 'respond', config: { body: { port: 'false' } } }],
          [['peek', 'true', 'call'], ['peek', 'false', 'other']],
        ),
        workflow('px-dribble-streamed', { path: '/px/dribble-streamed' }, [proxy({ path: '/dribble', timeout: '300ms' })]),
        workflow('px-huge', { path: '/px/huge/:how' }, [proxy({ path: '/:how' }), okNode], [['call', 'ok', 'ok']]),
        workflow('px-huge-streamed', { path: '/px/huge-streamed' }, [proxy({ path: '/huge-chunked' })]),
        workflow('px-timeout-port', { path: '/px/timeout-port' }, [proxy({ path: '/slow', timeout: '200ms' }), okNode, portNode('timeout')], [['call', 'ok', 'ok'], ['call', 'timeout', 'timeout']]),
        workflow('px-slash-base', { path: '/px/slash-base/*' }, [proxy({ url: '${UPSTREAM}/base/' })]),
        workflow('px-target-base', { path: '/px/target-base/*', methods: ['POST'] }, [
          { id: 'shape', kind: 'transform-request', config: { body: '{ "replaced": request.body }' } },
          targets({ targets: [{ url: '${UPSTREAM}/tbase/' }] }),
        ], [['shape', 'ok', 'call']]),
        ...(
          [
            ['object', '{ "replaced": request.body }'],
            ['string', '"plain " & request.body'],
            ['nothing', 'request.query.absent'],
          ] as const
        ).map(([name, body]) =>
          workflow(`px-body-${name}`, { path: `/px/body/${name}`, methods: ['POST'] }, [{ id: 'shape', kind: 'transform-request', config: { body } }, proxy({})], [['shape', 'ok', 'call']]),
        ),
        workflow('px-retries-only', { path: '/px/retries-only' }, [targets({ url: '${UPSTREAM}', retries: 1 })]),
        workflow('px-health-only', { path: '/px/health-only' }, [targets({ url: '${HO}', healthCheck: { path: '/health', interval: '1s' } })]),
        workflow('px-weights', { path: '/px/weights' }, [targets({ targets: [{ url: '${W1}' }, { url: '${W2}', weight: 3 }] })]),
        workflow('px-kill', { path: '/px/kill' }, [targets({ targets: [{ url: '${K1}' }, { url: '${K2}' }], retries: 2 })]),
        workflow('px-unsafe', { path: '/px/unsafe', methods: ['GET', 'POST', 'PUT'] }, [targets({ url: '${FAIL}', retries: 3, breaker: { failures: 100 } })]),
        workflow('px-empty-retried', { path: '/px/empty-retried', methods: ['DELETE'] }, [targets({ url: '${CL0}', retries: 1 })]),
        workflow('px-breaker', { path: '/px/breaker' }, [targets({ url: '${BR}', breaker: { failures: 2, cooldown: '1s' } })]),
        workflow('px-open-port', { path: '/px/open-port' }, [targets({ url: '${DOWN}', breaker: { failures: 1, cooldown: '10m' } }), portNode('open'), portNode('error')], [['call', 'open', 'open'], ['call', 'error', 'error']]),
        workflow('px-storm', { path: '/px/storm' }, [targets({ targets: [{ url: '${ST1}' }, { url: '${ST2}' }], retries: 5, breaker: { failures: 1000 } })]),
        workflow('px-sticky', { path: '/px/sticky' }, [verify, targets({ targets: [{ url: '${S1}' }, { url: '${S2}' }], sticky: 'partner' })], [['verify', 'ok', 'call']]),
        workflow('px-health', { path: '/px/health' }, [targets({ targets: [{ url: '${H1}' }, { url: '${H2}' }], healthCheck: { path: '/health', interval: '1s' } })]),
      ],
      {
        env: { UPSTREAM: upstream.url, DOWN: await deadUrl(), ...Object.fromEntries(NAMES.map((name) => [name, named[name]!.up.url])) },
        settings: { SLUICE_ADMIN_TOKENS: `ops:admin:${ADMIN_TOKEN}` },
      },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    for (const n of Object.values(named)) await n.up.close();
  });

  const lastReceived = () => upstream.received[upstream.received.length - 1]!;

  it.each([
    { path: '/px/orders/42/lines/7', upstream: '/v2/orders/42/items/7' },
    { path: '/px/orders/42/lines/7?x=1&y=two&x=3', upstream: '/v2/orders/42/items/7?x=1&y=two&x=3' },
    { path: '/px/orders/a%20b/lines/c%2Fd', upstream: '/v2/orders/a%20b/items/c%2Fd' },
    { path: '/px/strip/foo/bar?q=1', upstream: '/base/foo/bar?q=1' },
    { path: '/pxs/api/v1/items', upstream: '/v1/items' },
    { path: '/pxs/apix/v1', upstream: '/pxs/apix/v1' }, // a prefix is stripped at a segment boundary only
    { path: '/px/open/a/b?c=d&c=e', upstream: '/px/open/a/b?c=d&c=e' },
  ])('sends $path upstream as $upstream', async ({ path, upstream: expected }) => {
    const res = await gw.fetch(path);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(lastReceived().url).toBe(expected);
    expect(((await res.json()) as { url: string }).url).toBe(expected);
  });

  it('forwards the query string as received when a node only read it', async () => {
    const res = await gw.fetch('/px/query-read?q=a%20b&flag&slash=%2F&tilde=~&plus=1%2B1');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(lastReceived().url).toBe('/px/query-read?q=a%20b&flag&slash=%2F&tilde=~&plus=1%2B1');
  });

  it('strips hop-by-hop headers and client identity headers, and sets the partner from the token', async () => {
    const token = await issuer.sign({ sub: 'alice', azp: 'acme' });
    const res = await rawRequest(`${gw.url}/px/auth/items`, {
      headers: {
        ...bearer(token),
        connection: 'x-foo, keep-alive',
        'x-foo': '1',
        'keep-alive': 'timeout=99',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic bWFsbG9yeTpzZWNyZXQ=',
        'proxy-connection': 'keep-alive',
        'x-partner': 'evil',
        'x-user': 'evil',
        'x-subject': 'evil',
        'x-scopes': 'admin',
        'x-forwarded-for': '203.0.113.66',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=203.0.113.66',
        'x-real-ip': '203.0.113.66',
        'x-kept': 'kept',
      },
    });
    expect(res.status, res.body).toBe(200);
    const got = lastReceived().headers;
    for (const name of ['x-foo', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection', 'x-user', 'x-scopes', 'forwarded', 'x-real-ip']) expect(got, name).not.toHaveProperty(name);
    expect(got['keep-alive']).not.toBe('timeout=99');
    expect(got.connection ?? 'keep-alive').toMatch(/^(keep-alive|close)$/i);
    expect(got['x-partner']).toBe('acme');
    expect(got['x-subject']).toBe('alice');
    expect(got['x-forwarded-for']).toBe('127.0.0.1');
    expect(got['x-forwarded-host']).toBe(new URL(gw.url).host);
    expect(got['x-forwarded-proto']).toBe('http');
    expect(got.host).toBe(new URL(upstream.url).host);
    expect(got.authorization).toBe(`Bearer ${token}`);
    expect(got['x-kept']).toBe('kept');
  });

  it('strips hop-by-hop headers from the upstream answer', async () => {
    const res = await gw.fetch('/px/hop');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-up-secret')).toBeNull();
    expect(res.headers.get('keep-alive')).not.toBe('timeout=77');
    expect(res.headers.get('x-up-public')).toBe('1');
    expect(await res.text()).toBe('hop');
  });

  it('drops Authorization and keeps the client Host when configured', async () => {
    await gw.fetch('/px/options', { headers: { authorization: 'Bearer secret' } });
    expect(lastReceived().headers).not.toHaveProperty('authorization');
    expect(lastReceived().headers.host).toBe(new URL(gw.url).host);
  });

  it('forwards traceparent with the trace id of the request log and of problems', async () => {
    const res = await gw.fetch('/px/open/traced', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`, tracestate: 'vendor=1' } });
    expect(res.status).toBe(200);
    const sent = lastReceived().headers;
    const [, trace, span, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(sent.traceparent))!;
    expect(trace).toBe(TRACE_ID);
    expect(span).not.toBe(PARENT_SPAN); // the gateway's own span is the upstream's parent
    expect(flags).toBe('01');
    expect(sent.tracestate).toBe('vendor=1');
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.traceId === TRACE_ID && l.workflow === 'px-open' && l.spanId === span)).toBe(true), { timeout: 15_000 });

    // without a traceparent the gateway starts a trace, and the log names the same one
    await gw.fetch('/px/open/untraced');
    const started = /^00-([0-9a-f]{32})-/.exec(String(lastReceived().headers.traceparent))![1];
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.traceId === started && l.workflow === 'px-open')).toBe(true), { timeout: 15_000 });

    // a problem carries the request's trace id
    const problem = await expectProblem(await gw.fetch('/px/down', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` } }), 502, 'upstream-unavailable');
    expect(problem.traceId).toBe(TRACE_ID);
  });

  it('streams a large POST body to the upstream intact, with or without a length', async () => {
    const text = randomBytes(3 * 1024 * 1024).toString('base64'); // 4 MiB, over the 1 MiB buffering limit
    const sha = createHash('sha256').update(text).digest('hex');

    const sized = await gw.fetch('/px/open/upload', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: text });
    expect(sized.status).toBe(200);
    expect(await sized.json()).toMatchObject({ bodyLength: text.length, bodySha: sha });
    expect(lastReceived().headers['content-length']).toBe(String(text.length));

    const chunks = [text.slice(0, 1_000_000), text.slice(1_000_000, 3_000_000), text.slice(3_000_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const chunked = await gw.fetch('/px/open/upload', { method: 'PUT', body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(200);
    expect(await chunked.json()).toMatchObject({ method: 'PUT', bodyLength: text.length, bodySha: sha });
  });

  it('forwards a body sent with Expect: 100-continue', async () => {
    const body = JSON.stringify({ big: 'x'.repeat(2048) });
    const res = await rawRequest(`${gw.url}/px/open/continue`, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
      waitForContinue: true,
    });
    expect(res.status, res.body).toBe(200);
    expect(lastReceived().body).toBe(body);
    expect(lastReceived().headers).not.toHaveProperty('expect');
  });

  it.each([
    { code: 418, type: 'text/plain', body: 'teapot 418' },
    { code: 404, type: 'text/plain', body: 'teapot 404' },
    { code: 503, type: 'application/json', body: '{"upstream":"down for maintenance"}' },
  ])('passes the upstream $code through as is', async ({ code, type, body }) => {
    const res = await gw.fetch(`/px/status/${code}`);
    expect(res.status).toBe(code);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('x-upstream-header')).toBe('kept');
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.text()).toBe(body);
  });

  it('answers 502 upstream-unavailable when the upstream is down', async () => {
    await expectProblem(await gw.fetch('/px/down'), 502, 'upstream-unavailable');
  });

  it('answers 504 upstream-timeout when the upstream is too slow, and stops waiting for it', async () => {
    const before = slow.closed;
    await expectProblem(await gw.fetch('/px/slow'), 504, 'upstream-timeout');
    await vi.waitFor(() => expect(slow.closed).toBe(before + 1), { timeout: 15_000 });
  });

  it('answers 504 upstream-timeout when a body a later node reads does not arrive in time, however steadily it trickles', async () => {
    await expectProblem(await gw.fetch('/px/dribble'), 504, 'upstream-timeout');
  });

  it('cancels the upstream call when the client goes away', async () => {
    const started = slow.started;
    const closed = slow.closed;
    const abort = new AbortController();
    const pending = gw.fetch('/px/slow-long', { signal: abort.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(slow.started).toBe(started + 1), { timeout: 15_000 });
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(slow.closed).toBe(closed + 1), { timeout: 15_000 });
  });

  it.each(['huge', 'huge-chunked'])('refuses to buffer an oversized upstream answer (%s) for a later node: 502', async (how) => {
    await expectProblem(await gw.fetch(`/px/huge/${how}`), 502, 'upstream-unavailable');
    // the reason a catalog's detail may name ({reason})
    const { result, exchange } = await runServedNode(gw, 'px-huge', 'call', { method: 'GET', url: `/px/huge/${how}`, params: { how } });
    expect(result).toBe('error');
    expect(exchange.problemParams?.reason).toBe('the upstream answer is too large to transform');
  });

  it('streams an upstream answer of any size when no later node reads it', async () => {
    const res = await gw.fetch('/px/huge-streamed');
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(11 * 1024 * 1024);
  });

  it('takes the ok, error and timeout ports when wired', async () => {
    const ok = await gw.fetch('/px/ok-port?a=1');
    expect(await ok.json()).toEqual({ port: 'ok', status: 200, url: '/px/ok-port?a=1' });
    await expectPort(await gw.fetch('/px/error-port'), 'error');
    await expectPort(await gw.fetch('/px/timeout-port'), 'timeout');
  });

  it('strips a prefix the whole path equals down to /, and a trailing slash of the upstream base path', async () => {
    expect((await gw.fetch('/pxs/api?x=1')).status).toBe(200);
    expect(lastReceived().url).toBe('/?x=1');
    expect((await gw.fetch('/px/slash-base/a')).status).toBe(200);
    expect(lastReceived().url).toBe('/base/px/slash-base/a');
  });

  it('sends a body a transform replaced: an object as JSON with its type, a string as it is, nothing as empty and without a type', async () => {
    const send = (name: string) => gw.fetch(`/px/body/${name}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect((await send('object')).status).toBe(200);
    expect(lastReceived().body).toBe('{"replaced":"hello"}');
    expect(lastReceived().headers['content-type']).toBe('application/json');
    expect(lastReceived().headers['content-length']).toBe('20');
    expect((await send('string')).status).toBe(200);
    expect(lastReceived().body).toBe('plain hello');
    expect(lastReceived().headers['content-type']).toBe('text/plain');
    expect(lastReceived().headers['content-length']).toBe('11');
    expect((await send('nothing')).status).toBe(200);
    expect(lastReceived().body).toBe('');
    expect(lastReceived().headers['content-length']).toBe('0');
    expect(lastReceived().headers).not.toHaveProperty('content-type'); // no body, no type
  });

  it('sends a JSON body a node read but left as the client wrote it, byte for byte', async () => {
    const written = '{ "a" : 1,\n  "b": [ 2 ], "a": 1 }';
    const res = await gw.fetch('/px/body-read', { method: 'POST', headers: { 'content-type': 'application/json' }, body: written });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(lastReceived().body).toBe(written);
    expect(lastReceived().headers).toMatchObject({ 'content-type': 'application/json', 'content-length': String(written.length) });
  });

  it('sends a replaced body to a target, under the target\'s base path without its trailing slash', async () => {
    const res = await gw.fetch('/px/target-base/x?q=1', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(lastReceived().url).toBe('/tbase/px/target-base/x?q=1');
    expect(lastReceived().body).toBe('{"replaced":"hi"}');
    expect(lastReceived().headers['content-type']).toBe('application/json');
  });

  it('forwards Accept-Encoding when the answer streams to the client, and drops it when a later node reads the answer', async () => {
    expect((await gw.fetch('/px/open/enc', { headers: { 'accept-encoding': 'br' } })).status).toBe(200);
    expect(lastReceived().headers['accept-encoding']).toBe('br');
    expect(await (await gw.fetch('/px/ok-port', { headers: { 'accept-encoding': 'br' } })).json()).toMatchObject({ port: 'ok', status: 200 });
    expect(lastReceived().headers).not.toHaveProperty('accept-encoding');
  });

  it('streams an answer that trickles for longer than the timeout to the client: once the head is in, only a pause that long ends it', async () => {
    const res = await gw.fetch('/px/dribble-streamed');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('.'.repeat(40));
  });

  describe('on an exchange that cannot write to a client (previews, MCP tools): the answer is handed on as a stream', () => {
    const runCall = (workflowId: string, request: SyntheticRequest) => runServedNode(gw, workflowId, 'call', request);
    const textOf = async (stream: AsyncIterable<Buffer> | undefined) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream!) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8');
    };

    it('hands on the status, the headers less hop-by-hop ones and the body, and times the call', async () => {
      const before = performance.now();
      const { result, exchange } = await runCall('px-hop', { method: 'GET', url: '/px/hop' });
      const elapsed = performance.now() - before;
      expect(result).toBe('ok');
      expect(exchange.upstreamStatus).toBe(200);
      expect(exchange.response!.status).toBe(200);
      expect(exchange.response!.headers).toMatchObject({ 'x-up-public': '1', 'content-type': 'text/plain' });
      for (const name of ['connection', 'keep-alive', 'x-up-secret']) expect(exchange.response!.headers).not.toHaveProperty(name);
      expect(exchange.upstreamMs).toBeGreaterThan(0);
      expect(exchange.upstreamMs).toBeLessThanOrEqual(elapsed);
      expect(await textOf(exchange.response!.stream as AsyncIterable<Buffer>)).toBe('hop');
    });

    it('sends the request body and hands on an error status as it came', async () => {
      const { result, exchange } = await runCall('px-open', { method: 'POST', url: '/px/open/sent?n=1', body: { sent: true } });
      expect(result).toBe('ok');
      expect(lastReceived()).toMatchObject({ method: 'POST', url: '/px/open/sent?n=1', body: '{"sent":true}' });
      expect(JSON.parse(await textOf(exchange.response!.stream as AsyncIterable<Buffer>))).toMatchObject({ url: '/px/open/sent?n=1', bodyLength: 13 });
      const teapot = await runCall('px-status', { method: 'GET', url: '/px/status/418', params: { code: '418' } });
      expect(teapot.result).toBe('ok');
      expect(teapot.exchange.upstreamStatus).toBe(418);
      expect(await textOf(teapot.exchange.response!.stream as AsyncIterable<Buffer>)).toBe('teapot 418');
    });

    it('keeps streaming a body that trickles past the timeout once the head is in', async () => {
      const { result, exchange } = await runCall('px-dribble-streamed', { method: 'GET', url: '/px/dribble-streamed' });
      expect(result).toBe('ok');
      expect(await textOf(exchange.response!.stream as AsyncIterable<Buffer>)).toBe('.'.repeat(40));
    });

    it('takes the timeout port when the head does not come in time, and stops waiting for the upstream', async () => {
      const closed = slow.closed;
      const { result, exchange } = await runCall('px-slow', { method: 'GET', url: '/px/slow' });
      expect(result).toBe('timeout');
      expect(exchange.response).toBeUndefined();
      expect(exchange.upstreamMs).toBeGreaterThanOrEqual(150);
      await vi.waitFor(() => expect(slow.closed).toBe(closed + 1), { timeout: 15_000 });
    });

    it('takes the error port, naming the reason, when the upstream is down', async () => {
      const { result, exchange } = await runCall('px-down', { method: 'GET', url: '/px/down' });
      expect(result).toBe('error');
      expect(exchange.problemParams?.reason).toBe('ECONNREFUSED');
      expect(exchange.upstreamStatus).toBeUndefined();
    });

    it('cancels the upstream call when the request goes away, and takes the error port, not the timeout one', async () => {
      const started = slow.started;
      const closed = slow.closed;
      const gone = new AbortController();
      const pending = runCall('px-slow-long', { method: 'GET', url: '/px/slow-long', signal: gone.signal });
      await vi.waitFor(() => expect(slow.started).toBe(started + 1), { timeout: 15_000 });
      gone.abort();
      expect((await pending).result).toBe('error');
      await vi.waitFor(() => expect(slow.closed).toBe(closed + 1), { timeout: 15_000 });
    });
  });

  describe('resilient upstreams', () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    type Upstreams = Array<{ workflow: string; node: string; retries: number; retriesRefused: number; targets: Array<{ target: string; state: string; ejectedUntil: string | null; healthy: boolean | null; failures: number }> }>;
    async function upstreamsOf(workflowId: string) {
      const res = await gw.fetch('/admin/api/status', { headers: admin });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { upstreams?: Upstreams };
      return body.upstreams?.find((u) => u.workflow === workflowId);
    }
    async function metric(name: string, labels: string): Promise<number | undefined> {
      const text = await (await gw.fetch('/metrics', { headers: admin })).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    }
    const targetOf = async (res: Response) => {
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await res.json()) as { target: string }).target;
    };

    it('makes one url resilient with retries alone or a health check alone, and leaves a plain url alone', async () => {
      expect((await gw.fetch('/px/retries-only')).status).toBe(200);
      expect((await upstreamsOf('px-retries-only'))?.targets.map((t) => t.target)).toEqual([upstream.url]);
      expect((await upstreamsOf('px-health-only'))?.targets.map((t) => t.target)).toEqual([named.HO!.up.url]);
      await vi.waitFor(() => expect(named.HO!.up.received.some((r) => r.url === '/health')).toBe(true), { timeout: 15_000 });
      expect((await gw.fetch('/px/open/plain')).status).toBe(200);
      expect(await upstreamsOf('px-open')).toBeUndefined();
    });

    it('spreads requests over two targets by weight', async () => {
      const counts: Record<string, number> = { W1: 0, W2: 0 };
      for (let i = 0; i < 200; i++) counts[await targetOf(await gw.fetch('/px/weights'))]! += 1;
      // 1:3, so about 50 and 150: bounds five standard deviations wide
      expect(counts.W1).toBeGreaterThan(20);
      expect(counts.W1).toBeLessThan(80);
      expect(counts.W1! + counts.W2!).toBe(200);
      // each target is sent its own Host (undici's, from the target's pool), never the client's
      for (const name of ['W1', 'W2']) {
        const hosts = new Set(named[name]!.up.received.filter((r) => r.url !== '/health').map((r) => r.headers.host));
        expect([...hosts]).toEqual([new URL(named[name]!.up.url).host]);
      }
    });

    it('answers every GET with 200 when one of two targets is killed mid-load: retried on the other', async () => {
      const statuses: number[] = [];
      for (let batch = 0; batch < 16; batch++) {
        if (batch === 6) await named.K1!.up.close();
        const answers = await Promise.all(Array.from({ length: 5 }, () => gw.fetch('/px/kill')));
        for (const res of answers) {
          statuses.push(res.status);
          await res.arrayBuffer();
        }
      }
      expect(statuses).toEqual(Array.from({ length: 80 }, () => 200));
      expect(named.K1!.calls()).toBeGreaterThan(0);
      const state = await upstreamsOf('px-kill');
      expect(state?.targets.map((t) => t.state)).toEqual(['open', 'closed']);
      expect(state?.retries).toBeGreaterThan(0);
    });

    it('retries a GET, never a POST nor a request whose body was streamed', async () => {
      named.FAIL!.fail = 503;
      const post = await gw.fetch('/px/unsafe', { method: 'POST' });
      expect(post.status).toBe(503);
      await post.text();
      expect(named.FAIL!.calls()).toBe(1);
      const put = await gw.fetch('/px/unsafe', { method: 'PUT', body: 'streamed', headers: { 'content-type': 'text/plain' } });
      expect(put.status).toBe(503);
      await put.text();
      expect(named.FAIL!.calls()).toBe(2);
      const get = await gw.fetch('/px/unsafe');
      expect(get.status).toBe(503); // the last attempt's answer, passed through
      expect(await get.text()).toBe('FAIL failing');
      expect(named.FAIL!.calls()).toBe(2 + 4);
    });

    it('retries a request with Content-Length: 0 like one without a body (nothing to stream), not one with a body', async () => {
      named.CL0!.fail = 503;
      expect((await rawRequest(`${gw.url}/px/empty-retried`, { method: 'DELETE', headers: { 'content-length': '0' } })).status).toBe(503);
      expect(named.CL0!.calls()).toBe(2);
      expect((await rawRequest(`${gw.url}/px/empty-retried`, { method: 'DELETE', headers: { 'content-length': '1' }, body: 'x' })).status).toBe(503);
      expect(named.CL0!.calls()).toBe(3);
    });

    it('opens the breaker after the failures, answers 503 upstream-circuit-open with Retry-After, and closes it after the cool-down', async () => {
      const label = `workflow="px-breaker",node="call",target="${named.BR!.up.url}"`;
      named.BR!.fail = 502;
      for (let i = 0; i < 2; i++) expect((await gw.fetch('/px/breaker')).status).toBe(502);
      const open = await gw.fetch('/px/breaker');
      expect(open.headers.get('retry-after')).toBe('1');
      await expectProblem(open, 503, 'upstream-circuit-open', 'Retry after 1 seconds');
      expect(named.BR!.calls()).toBe(2); // no call while open
      const state = await upstreamsOf('px-breaker');
      expect(state?.targets[0]).toMatchObject({ target: named.BR!.up.url, state: 'open', failures: 2 });
      expect(Date.parse(state!.targets[0]!.ejectedUntil!)).toBeGreaterThan(Date.now() - 1_000);
      expect(await metric('sluice_upstream_breaker_state', label)).toBe(2);

      named.BR!.fail = undefined;
      await vi.waitFor(async () => expect((await gw.fetch('/px/breaker')).status).toBe(200), { timeout: 10_000, interval: 200 });
      expect((await upstreamsOf('px-breaker'))?.targets[0]).toMatchObject({ state: 'closed', ejectedUntil: null });
      expect(await metric('sluice_upstream_breaker_state', label)).toBe(0);
    });

    it('takes the open port when wired, after the error that opened the breaker', async () => {
      await expectPort(await gw.fetch('/px/open-port'), 'error');
      await expectPort(await gw.fetch('/px/open-port'), 'open');
    });

    it('keeps retries within the budget when every target fails: no retry storm', async () => {
      named.ST1!.fail = 503;
      named.ST2!.fail = 503;
      const clients = 50;
      for (let i = 0; i < clients; i++) expect((await gw.fetch('/px/storm')).status).toBe(503);
      const upstreamCalls = named.ST1!.calls() + named.ST2!.calls();
      // retries: 5 would make 300 calls; the budget allows 20% of the requests plus 3
      expect(upstreamCalls).toBeLessThanOrEqual((1 + 0.2) * clients + 3);
      expect(upstreamCalls).toBeGreaterThan(clients + 3);
      const state = await upstreamsOf('px-storm');
      expect(state?.retries).toBe(upstreamCalls - clients);
      expect(state?.retriesRefused).toBeGreaterThan(0);
      expect(await metric('sluice_upstream_retries_total', 'workflow="px-storm",node="call",result="retried"')).toBe(upstreamCalls - clients);
    });

    it('keeps a partner on one target when sticky by partner', async () => {
      const seen = new Map<string, Set<string>>();
      for (let p = 0; p < 12; p++) {
        const token = await issuer.sign({ sub: `user-${p}`, azp: `partner-${p}` });
        const targets = new Set<string>();
        for (let i = 0; i < 5; i++) targets.add(await targetOf(await gw.fetch('/px/sticky', { headers: bearer(token) })));
        seen.set(`partner-${p}`, targets);
      }
      for (const targets of seen.values()) expect(targets.size).toBe(1);
      expect(new Set([...seen.values()].map((t) => [...t][0])).size).toBe(2); // 12 partners on one of two targets each: both used
    });

    it('ejects a target whose health check fails and readmits it when it passes', async () => {
      named.H1!.health = 500;
      await vi.waitFor(async () => expect((await upstreamsOf('px-health'))?.targets[0]).toMatchObject({ healthy: false, state: 'open' }), { timeout: 10_000, interval: 250 });
      const before = named.H1!.calls();
      for (let i = 0; i < 20; i++) expect(await targetOf(await gw.fetch('/px/health'))).toBe('H2');
      expect(named.H1!.calls()).toBe(before);
      expect(named.H1!.up.received.some((r) => r.url === '/health' && r.method === 'GET')).toBe(true);
      named.H1!.health = 200;
      await vi.waitFor(async () => expect((await upstreamsOf('px-health'))?.targets[0]).toMatchObject({ healthy: true, state: 'closed' }), { timeout: 10_000, interval: 250 });
    });

    it('checks a url against the egress policy at publish, naming config.url, with or without retries', async () => {
      for (const [id, config] of [['px-egress-url', {}], ['px-egress-retried', { retries: 1 }]] as const) {
        await gw.putWorkflow(workflow(id, { path: `/px/${id}` }, [{ id: 'call', kind: 'proxy', config: { url: 'http://10.1.2.3:8080/', ...config } }]));
        expect(gw.sluice.registry.active.has(id)).toBe(false);
        const refusal = gw.logs.find((l) => l.workflow === id && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
        expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'call', field: 'config.url', message: expect.stringMatching(/refused by the egress policy/) })]);
      }
    });

    it('checks every target against the egress policy at publish, naming the target', async () => {
      await gw.putWorkflow(workflow('px-egress', { path: '/px/egress' }, [{ id: 'call', kind: 'proxy', config: { targets: [{ url: '${W1}' }, { url: 'http://10.1.2.3:8080/' }] } }]));
      expect(gw.sluice.registry.active.has('px-egress')).toBe(false);
      const refusal = gw.logs.find((l) => l.workflow === 'px-egress' && typeof l.msg === 'string' && l.msg.startsWith('workflow refused'));
      expect(refusal?.problems).toEqual([expect.objectContaining({ node: 'call', field: 'config.targets.1.url', message: expect.stringMatching(/refused by the egress policy: .*private/) })]);
    });

    it('stops the health checks of a version no longer served', async () => {
      const checks = () => named.H1!.up.received.length - named.H1!.calls() + named.H2!.up.received.length - named.H2!.calls();
      // a version still served checks H1 on /ctl every second: its checks are the clock, not a fixed sleep
      await gw.putWorkflow(workflow('px-health-control', { path: '/px/health-control' }, [{ id: 'call', kind: 'proxy', config: { targets: [{ url: '${H1}' }], healthCheck: { path: '/ctl', interval: '1s' } } }]));
      const controlChecks = () => named.H1!.up.received.filter((r) => r.url === '/ctl').length;
      await gw.removeWorkflow('px-health.json');
      expect(await upstreamsOf('px-health')).toBeUndefined();
      let seen = controlChecks();
      await vi.waitFor(() => expect(controlChecks()).toBeGreaterThan(seen), { timeout: 15_000 }); // a check under way when it closed has ended
      const after = checks();
      seen = controlChecks();
      await vi.waitFor(() => expect(controlChecks()).toBeGreaterThanOrEqual(seen + 2), { timeout: 15_000, interval: 100 }); // two intervals more
      expect(checks()).toBe(after);
      await gw.removeWorkflow('px-health-control.json');
    });
  });
});

describe('proxy over DNS that rebinds: the address is checked again when the connection is made', () => {
  it('an upstream whose host passed the publish check, then resolves to an internal address, is refused at connect time and reaches nothing', async () => {
    // allowed at publish: the name resolves to 127.0.0.1
    const dns = await compileRebinding((port) => workflow('rebind', { path: '/rebind' }, [{ id: 'call', kind: 'proxy', config: { url: `http://orders.attacker.example:${port}` } }]));
    try {
      dns.rebind();
      const result = await walk(dns.compiled, createSyntheticExchange({ method: 'GET', url: '/rebind' }), []);
      expect(result.final.meta).toMatchObject({ outcome: 'raise', error: 'upstream_unavailable', node: 'call', port: 'error' });
      expect(dns.denials).toEqual([expect.objectContaining({ host: 'orders.attacker.example', address: '127.0.0.2' })]);
      expect(dns.reached).toEqual([]);
    } finally {
      await dns.close();
    }
  });
});
