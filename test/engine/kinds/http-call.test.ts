import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { walk } from '../../../engine/compile/walk.ts';
import { createSyntheticExchange } from '../../../engine/gateway/exchange.ts';
import { calloutAllowed } from '../../../engine/kinds/http-call.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { compileRebinding } from '../../helpers/rebinding.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { adminOf, startAdminGateway } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';
import { deadUrl } from './fixtures.ts';

describeKind('http-call', {
  minimal: {
    config: { name: 'profile', url: 'https://profiles.example/v1' },
    parsed: { name: 'profile', method: 'GET', url: 'https://profiles.example/v1', timeout: '2s', maxBytes: 1048576 },
  },
  faults: ['expression_failed'],
  accepts: [
    ['a POST with a body', { name: 'quote', method: 'POST', url: '${SLUICE_UPSTREAM_PRICES}/quote', body: '{ "sku": request.params.sku }' }],
  ],
  refuses: [
    ['no name', { url: 'https://a.example' }, ['name']],
    ['a name with a dash', { name: 'my-profile', url: 'https://a.example' }, ['name']],
    ['a URL that is not http', { name: 'p', url: 'file:///etc/passwd' }, ['url']],
    ['a variable inside the host', { name: 'p', url: 'https://${HOST}.example' }, ['url']],
    ['a GET with a body', { name: 'p', url: 'https://a.example', body: '{}' }, ['body']],
    ['a timeout over 30s', { name: 'p', url: 'https://a.example', timeout: '31s' }, ['timeout']],
  ],
  readsBody: [
    [{ name: 'p', url: 'https://a.example', method: 'POST', body: 'request.body.sku' }, true],
    [{ name: 'p', url: 'https://a.example', query: '{ "id": request.params.id }' }, false],
  ],
});

const call = (config: Record<string, unknown>): NodeDoc => ({ id: 'call', kind: 'http-call', config: { name: 'profile', url: '${SIDE}/profiles', ...config } });
const answer: NodeDoc = { id: 'answer', kind: 'respond', config: { bodyExpression: '{ "tier": vars.profile.body.tier, "status": vars.profile.status }' } };

describe('http-call', () => {
  let gw: TestGateway;
  let side: TestUpstream;
  beforeAll(async () => {
    side = await startUpstream((req, res) => {
      const url = new URL(req.url ?? '/', 'http://side');
      if (url.pathname === '/profiles/slow') return void setTimeout(() => res.end('{}'), 3000);
      if (url.pathname === '/profiles/broken') {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end('{"tier":"unknown"}');
      }
      if (url.pathname === '/profiles/big') return void res.end('x'.repeat(5000));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ tier: url.searchParams.get('user') === '7' ? 'gold' : 'basic', seen: { trace: req.headers['x-trace'] ?? null, body: req.bodyText } }));
    });
    gw = await startGateway(
      [
        workflow('callout', { path: '/callout/:id' }, [call({ query: '{ "user": request.params.id }', headers: '{ "x-trace": "t-1" }' }), answer], [['call', 'ok', 'answer']]),
        workflow('callout-post', { path: '/callout-post', methods: ['POST'] }, [call({ method: 'POST', body: '{ "sku": request.body.sku }' }), { id: 'echo', kind: 'respond', config: { bodyExpression: 'vars.profile.body.seen' } }], [['call', 'ok', 'echo']]),
        workflow('callout-broken', { path: '/callout-broken' }, [call({ url: '${SIDE}/profiles/broken' }), answer], [['call', 'ok', 'answer']]),
        workflow('callout-broken-wired', { path: '/callout-broken-wired' }, [call({ url: '${SIDE}/profiles/broken' }), answer, { id: 'fallback', kind: 'respond', config: { bodyExpression: '{ "fallback": true, "status": vars.profile.status }' } }], [['call', 'ok', 'answer'], ['call', 'error', 'fallback']]),
        workflow('callout-slow', { path: '/callout-slow' }, [call({ url: '${SIDE}/profiles/slow', timeout: '200ms' }), answer], [['call', 'ok', 'answer']]),
        workflow('callout-slow-wired', { path: '/callout-slow-wired' }, [call({ url: '${SIDE}/profiles/slow', timeout: '200ms' }), answer, portNode('timeout')], [['call', 'ok', 'answer'], ['call', 'timeout', 'timeout']]),
        workflow('callout-big', { path: '/callout-big' }, [call({ url: '${SIDE}/profiles/big', maxBytes: 1000 }), answer], [['call', 'ok', 'answer']]),
      ],
      { env: { SIDE: side.url }, settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1' } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await side?.close();
  });

  it('calls the side service with the computed query and headers, and later nodes read its answer from vars', async () => {
    const res = await gw.fetch('/callout/7');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tier: 'gold', status: 200 });
    expect(side.received.at(-1)).toMatchObject({ method: 'GET', url: '/profiles?user=7', headers: expect.objectContaining({ 'x-trace': 't-1' }) });
  });

  it('sends a JSON body computed from the request', async () => {
    const res = await gw.fetch('/callout-post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'A-1', other: 'x' }) });
    expect(await res.json()).toEqual({ trace: null, body: '{"sku":"A-1"}' });
  });

  it('leaves by error on a status that is not 2xx (502 callout_failed unwired; the answer in vars when wired)', async () => {
    await expectProblem(await gw.fetch('/callout-broken'), 502, 'callout-failed', 'answered 500');
    expect(await (await gw.fetch('/callout-broken-wired')).json()).toEqual({ fallback: true, status: 500 });
  });

  it('leaves by timeout when the service is slower than the timeout (504 unwired)', async () => {
    await expectProblem(await gw.fetch('/callout-slow'), 504, 'callout-timeout');
    await expectPort(await gw.fetch('/callout-slow-wired'), 'timeout');
  });

  it('refuses an answer larger than maxBytes by the error port', async () => {
    await expectProblem(await gw.fetch('/callout-big'), 502, 'callout-failed', 'larger than 1000 bytes');
  });
});

describe('http-call at publish: only the hosts the deployment allows', () => {
  it.each([
    ['no callout hosts at all', '', /no host is allowed for callouts/],
    ['another host', 'profiles.internal:8443,*.example.com', /not among the callout hosts/],
    ['a URL variable the deployment does not allow', '127.0.0.1', /environment variable NOT_ALLOWED is not allowed/, '${NOT_ALLOWED}/x'],
  ])('refuses a callout with %s, naming config.url', async (_name, hosts, message, url = 'http://127.0.0.1:9/x') => {
    const gw = await startAdminGateway({ settings: { SLUICE_CALLOUT_HOSTS: hosts } });
    try {
      const admin = adminOf(gw.url);
      const document = workflow('side', { path: '/side' }, [{ id: 'call', kind: 'http-call', config: { name: 'p', url } }, answer], [['call', 'ok', 'answer']]);
      expect((await admin('editor', 'POST', '/workflows', { document })).status).toBe(201);
      const published = await admin('publisher', 'POST', '/workflows/side/publish');
      expect(published.status).toBe(422);
      expect(published.body.problems).toEqual([expect.objectContaining({ node: 'call', field: 'config.url', message: expect.stringMatching(message) })]);
    } finally {
      await gw.close();
    }
  });
});

describe('calloutAllowed: the hosts SLUICE_CALLOUT_HOSTS names (http-call and introspect)', () => {
  const allowed = (url: string, entries: string[]) => calloutAllowed(new URL(url), entries);
  it.each<[string, string[], boolean]>([
    // a host alone: any port, no other host
    ['https://api.example.com/v1', ['api.example.com'], true],
    ['http://api.example.com:8080/v1', ['api.example.com'], true],
    ['https://sub.api.example.com/v1', ['api.example.com'], false],
    ['https://api.example.com.evil.test/v1', ['api.example.com'], false],
    // host:port: that port only, the scheme's default when the URL names none
    ['https://api.example.com:8443/v1', ['api.example.com:8443'], true],
    ['https://api.example.com/v1', ['api.example.com:8443'], false],
    ['https://api.example.com:9443/v1', ['api.example.com:8443'], false],
    ['https://api.example.com/v1', ['api.example.com:443'], true],
    ['http://api.example.com/v1', ['api.example.com:443'], false],
    ['http://api.example.com/v1', ['api.example.com:80'], true],
    ['https://api.example.com/v1', ['api.example.com:80'], false],
    // *.domain: its subdomains, not the domain itself nor a look-alike
    ['https://a.example.com/v1', ['*.example.com'], true],
    ['https://a.b.example.com/v1', ['*.example.com'], true],
    ['https://example.com/v1', ['*.example.com'], false],
    ['https://evil-example.com/v1', ['*.example.com'], false],
    ['https://example.com.evil.test/v1', ['*.example.com'], false],
    ['https://.example.com/v1', ['*.example.com'], false],
    ['https://a.example.com/v1', ['*.example.com:443'], true],
    ['http://a.example.com/v1', ['*.example.com:443'], false],
    // IPv6 in brackets, with and without a port
    ['http://[::1]:8080/v1', ['[::1]:8080'], true],
    ['http://[::1]:8081/v1', ['[::1]:8080'], false],
    ['http://[::1]:8081/v1', ['[::1]'], true],
    // several entries: any one; none: nothing
    ['https://b.example.org/v1', ['api.example.com', '*.example.org'], true],
    ['https://api.example.com/v1', [], false],
  ])('%s with %j: %s', (url, entries, expected) => {
    expect(allowed(url, entries)).toBe(expected);
  });
});

/**
 * Case by case against two side services on 127.0.0.1: what is sent (path, query, headers, body)
 * and what later nodes read of the answer (status, headers, body by its type).
 */
describe('http-call, case by case', () => {
  let gw: TestGateway;
  let side: TestUpstream;
  let other: TestUpstream;
  /** Where nothing listens. */
  let dead: string;
  /** Paths of the side's calls whose client went away before the answer. */
  const closedEarly: string[] = [];
  /** What a respond node shows of the call's answer. */
  const shown: NodeDoc = { id: 'show', kind: 'respond', config: { bodyExpression: '{ "status": vars.profile.status, "body": vars.profile.body, "type": vars.profile.headers."content-type", "cookies": vars.profile.headers."set-cookie" }' } };
  const showSent: NodeDoc = { id: 'show', kind: 'respond', config: { bodyExpression: 'vars.profile.body' } };
  const route = (id: string, config: Record<string, unknown>, show: NodeDoc = shown, methods = ['GET']) => workflow(id, { path: `/hc/${id}`, methods }, [call(config), show], [['call', 'ok', 'show']]);
  const json = async (path: string, init?: RequestInit) => {
    const res = await gw.fetch(path, init);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    side = await startUpstream((req, res) => {
      const url = new URL(req.url ?? '/', 'http://side');
      const answer = (status: number, type: string, body: string, extra: Record<string, string | string[]> = {}) => void res.writeHead(status, { 'content-type': type, ...extra }).end(body);
      switch (url.pathname) {
        case '/problem':
          return answer(200, 'application/problem+json', '{"title":"parsed"}');
        case '/text':
          return answer(200, 'text/plain', '{"kept":"as text"}');
        case '/not-json':
          return answer(200, 'application/json', 'not json after all');
        case '/cookies':
          return answer(200, 'application/json', '{}', { 'set-cookie': ['a=1', 'b=2'] });
        case '/no-content':
          return void res.writeHead(204).end();
        case '/hop':
          return answer(200, 'application/json', '{}', { connection: 'keep-alive, x-private', 'keep-alive': 'timeout=5', 'x-private': 'p', 'x-public': '1', ['__proto__']: 'own' });
        case '/two-types':
          return answer(200, 'application/json', '{"kept":"as text"}', { 'content-type': ['application/json', 'text/plain'] });
        case '/moved':
          return answer(300, 'application/json', '{"choices":2}');
        case '/exact':
          return answer(200, 'text/plain', 'x'.repeat(1000));
        case '/hold':
          req.socket.on('close', () => closedEarly.push(url.pathname));
          return; // never answered
        default:
          return answer(200, 'application/json', JSON.stringify({ side: 'side', url: req.url, headers: req.headers, raw: req.rawHeaders, body: req.bodyText }));
      }
    });
    other = await startUpstream((req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ side: 'other', url: req.url })));
    gw = await startGateway(
      [
        route('headers', { url: '${SIDE}/echo', headers: '{ "X-Trace": "t-1", "x-num": 7, "x-null": null, "Host": "evil.example", "Connection": "close", "Keep-Alive": "timeout=1", "Content-Length": "999" }' }, showSent),
        route('query', { url: '${SIDE}/echo?fixed=1', query: '{ "user": request.query.user, "none": null, "n": 2 }' }, showSent),
        route('query-empty', { url: '${SIDE}/echo', query: '{ "user": request.query.user }' }, showSent),
        route('query-nothing', { url: '${SIDE}/echo?fixed=1', query: 'request.query.nothing' }, showSent),
        route('query-text', { url: '${SIDE}/echo', query: '"user=7"' }),
        route('headers-text', { url: '${SIDE}/echo', headers: '"x-a: 1"' }),
        route('query-null', { url: '${SIDE}/echo', query: 'null' }),
        route('headers-null', { url: '${SIDE}/echo', headers: 'null' }),
        route('two-types', { url: '${SIDE}/two-types' }),
        route('unreachable', { url: '${DEAD}/profiles' }),
        route('post', { url: '${SIDE}/echo', method: 'POST', body: '{ "sku": "A-1" }' }, showSent, ['POST']),
        route('post-typed', { url: '${SIDE}/echo', method: 'POST', body: '{ "sku": "A-1" }', headers: '{ "Content-Type": "application/merge-patch+json", "Content-Length": "999" }' }, showSent, ['POST']),
        route('problem', { url: '${SIDE}/problem' }),
        route('text', { url: '${SIDE}/text' }),
        route('not-json', { url: '${SIDE}/not-json' }),
        route('cookies', { url: '${SIDE}/cookies' }),
        route('hop', { url: '${SIDE}/hop' }, { id: 'show', kind: 'respond', config: { bodyExpression: 'vars.profile.headers' } }),
        route('no-content', { url: '${SIDE}/no-content' }),
        route('moved', { url: '${SIDE}/moved' }),
        route('exact', { url: '${SIDE}/exact', maxBytes: 1000 }),
        route('hold', { url: '${SIDE}/hold', timeout: '30s' }),
        route('other', { url: '${OTHER}/echo' }, showSent),
      ],
      { env: { SIDE: side.url, OTHER: other.url, DEAD: (dead = await deadUrl()) }, settings: { SLUICE_CALLOUT_HOSTS: '127.0.0.1' } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([side?.close(), other?.close()]);
  });

  it('sends the headers the expression gives, lower-cased and as text, but never null ones nor the connection\'s own (Host, Connection, Keep-Alive, Content-Length)', async () => {
    const sent = (await json('/hc/headers')) as { headers: Record<string, string> };
    expect(sent.headers).toMatchObject({ 'x-trace': 't-1', 'x-num': '7', host: new URL(side.url).host });
    expect(sent.headers).not.toHaveProperty('x-null');
    expect(sent.headers.connection).not.toBe('close');
    expect(sent.headers).not.toHaveProperty('keep-alive');
    expect(sent.headers).not.toHaveProperty('content-length');
    expect(sent.headers).not.toHaveProperty('content-type'); // no body, no type
  });

  it('adds the query the expression gives to the URL\'s own, without null members; an empty one adds nothing, and none keeps the URL\'s', async () => {
    expect((await json('/hc/query?user=7')).url).toBe('/echo?fixed=1&user=7&n=2');
    expect((await json('/hc/query-empty')).url).toBe('/echo');
    expect((await json('/hc/query-empty?user=a%20b')).url).toBe('/echo?user=a+b');
    expect((await json('/hc/query-nothing')).url).toBe('/echo?fixed=1');
  });

  it('leaves by error, calling nothing, when the query or headers expression gives something other than an object', async () => {
    const before = side.received.length;
    await expectProblem(await gw.fetch('/hc/query-text'), 502, 'callout-failed', 'the query expression must give an object');
    await expectProblem(await gw.fetch('/hc/headers-text'), 502, 'callout-failed', 'the headers expression must give an object');
    await expectProblem(await gw.fetch('/hc/query-null'), 502, 'callout-failed', 'the query expression must give an object');
    await expectProblem(await gw.fetch('/hc/headers-null'), 502, 'callout-failed', 'the headers expression must give an object');
    expect(side.received.length).toBe(before);
  });

  it('sends a body as JSON, typed application/json unless the headers expression names a type (sent once, whatever its case), its length always the body\'s', async () => {
    const plain = (await json('/hc/post', { method: 'POST' })) as { headers: Record<string, string>; body: string };
    expect([plain.headers['content-type'], plain.body]).toEqual(['application/json', '{"sku":"A-1"}']);
    const typed = (await json('/hc/post-typed', { method: 'POST' })) as { headers: Record<string, string>; raw: string[]; body: string };
    expect([typed.headers['content-type'], typed.headers['content-length'], typed.body]).toEqual(['application/merge-patch+json', '13', '{"sku":"A-1"}']);
    expect(typed.raw.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'content-type')).toHaveLength(1);
  });

  it('reads the answer by its type: any +json parsed, text kept as text, JSON that does not parse kept as text', async () => {
    expect(await json('/hc/problem')).toEqual({ status: 200, body: { title: 'parsed' }, type: 'application/problem+json' });
    expect(await json('/hc/text')).toEqual({ status: 200, body: '{"kept":"as text"}', type: 'text/plain' });
    expect(await json('/hc/not-json')).toEqual({ status: 200, body: 'not json after all', type: 'application/json' });
    // two types given: not one to go by, kept as text
    expect((await json('/hc/two-types')).body).toBe('{"kept":"as text"}');
  });

  it('leaves by error when the service cannot be reached, naming its host', async () => {
    await expectProblem(await gw.fetch('/hc/unreachable'), 502, 'callout-failed', `${new URL(dead).host} could not be reached`);
  });

  it('gives a repeated answer header as one value, joined by commas', async () => {
    expect((await json('/hc/cookies')).cookies).toBe('a=1, b=2');
  });

  it('gives the answer\'s headers without the connection\'s own (hop-by-hop, those Connection lists, Content-Length), "__proto__" as a header', async () => {
    const headers = await json('/hc/hop');
    expect(Object.keys(headers).sort()).toEqual(['__proto__', 'content-type', 'date', 'x-public']);
    expect(headers).toMatchObject({ 'x-public': '1', 'content-type': 'application/json' });
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('own');
  });

  it('takes every 2xx as ok (a 204 too) and a 300 as an error', async () => {
    expect(await json('/hc/no-content')).toEqual({ status: 204, body: '' });
    await expectProblem(await gw.fetch('/hc/moved'), 502, 'callout-failed', 'answered 300');
  });

  it('accepts an answer of exactly maxBytes', async () => {
    expect((await json('/hc/exact')).body).toBe('x'.repeat(1000));
  });

  it('calls each service on its own connections: two nodes with other origins never mix their calls', async () => {
    expect((await json('/hc/headers')).side).toBe('side');
    expect(await json('/hc/other')).toEqual({ side: 'other', url: '/echo' });
    expect((await json('/hc/headers')).side).toBe('side');
  });

  it('cancels the call when the client goes away', async () => {
    const client = new AbortController();
    const request = gw.fetch('/hc/hold', { signal: client.signal }).catch(() => 'aborted');
    await vi.waitFor(() => expect(side.received.some((r) => r.url === '/hold')).toBe(true), { timeout: 5_000 });
    client.abort();
    expect(await request).toBe('aborted');
    await vi.waitFor(() => expect(closedEarly).toContain('/hold'), { timeout: 5_000 });
  });
});

describe('http-call over DNS that rebinds: the address is checked again when the connection is made', () => {
  it('a callout whose host passed the publish check, then resolves to an internal address, is refused at connect time and reaches nothing', async () => {
    // allowed at publish: the name resolves to 127.0.0.1
    const dns = await compileRebinding((port) => workflow('rebind', { path: '/rebind' }, [call({ url: `http://side.attacker.example:${port}/profiles` }), answer], [['call', 'ok', 'answer']]), { calloutHosts: ['side.attacker.example'] });
    try {
      dns.rebind();
      const result = await walk(dns.compiled, createSyntheticExchange({ method: 'GET', url: '/rebind' }), []);
      expect(result.final.meta).toMatchObject({ outcome: 'raise', error: 'callout_failed', node: 'call', port: 'error' });
      expect(dns.denials).toEqual([expect.objectContaining({ host: 'side.attacker.example', address: '127.0.0.2' })]);
      expect(dns.reached).toEqual([]);
    } finally {
      await dns.close();
    }
  });
});
