import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calloutAllowed } from '../../../engine/kinds/http-call.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { adminOf, startAdminGateway } from '../admin/support.ts';
import { describeKind } from './describe-kind.ts';

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
  ])('refuses a callout with %s, naming config.url', async (_name, hosts, message) => {
    const gw = await startAdminGateway({ settings: { SLUICE_CALLOUT_HOSTS: hosts } });
    try {
      const admin = adminOf(gw.url);
      const document = workflow('side', { path: '/side' }, [{ id: 'call', kind: 'http-call', config: { name: 'p', url: 'http://127.0.0.1:9/x' } }, answer], [['call', 'ok', 'answer']]);
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
