import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../../shared/compile/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('cors', {
  minimal: {
    config: { origins: ['https://app.example.com'] },
    parsed: { origins: ['https://app.example.com'], methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], headers: ['authorization', 'content-type'], expose: [], credentials: false, maxAge: 600 },
  },
  accepts: [
    ['any origin', { origins: ['*'] }],
    ['a subdomain wildcard with a port', { origins: ['https://*.example.com:8443'] }],
    ['loopback origins', { origins: ['http://127.0.0.1:5173', 'http://localhost:3000'] }],
    ['credentials with named origins', { origins: ['https://app.example.com'], credentials: true, headers: ['authorization'] }],
    ['any header without credentials', { origins: ['*'], headers: ['*'] }],
  ],
  refuses: [
    ['no origins', { origins: [] }, ['origins']],
    ['an origin with a path', { origins: ['https://app.example.com/app'] }, ['origins.0']],
    ['an origin in upper case', { origins: ['https://App.example.com'] }, ['origins.0']],
    ['a wildcard inside a label', { origins: ['https://app*.example.com'] }, ['origins.0']],
    ['any origin with credentials', { origins: ['*'], credentials: true }, ['origins']],
    ['any header with credentials', { origins: ['https://a.example.com'], headers: ['*'], credentials: true }, ['headers']],
    ['a header name with a space', { origins: ['*'], headers: ['x bad'] }, ['headers.0']],
    ['an unknown method', { origins: ['*'], methods: ['TRACE'] }, ['methods.0']],
    ['max age over a day', { origins: ['*'], maxAge: 86_401 }, ['maxAge']],
  ],
});

const APP = 'https://app.example.com';
const preflight = (origin: string, method = 'GET', headers?: string) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) },
});
const cors = (config: Record<string, unknown>): NodeDoc => ({ id: 'cors', kind: 'cors', config });
const METHODS = ['GET', 'POST', 'OPTIONS'];

describe('cors', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createIssuer();
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept-Encoding', 'access-control-allow-origin': 'https://upstream-says.example' });
      res.end('{"from":"upstream"}');
    });
    const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    gw = await startGateway(
      [
        // cors -> jwt-verify -> proxy: the browser shape
        workflow('cors-api', { path: '/cors/api', methods: METHODS }, [cors({ origins: [APP, 'https://*.partner.example'], expose: ['x-request-id', 'x-ratelimit-remaining'] }), verify, { id: 'call', kind: 'proxy', config: { url: '${UPSTREAM}' } }], [
          ['cors', 'ok', 'verify'],
          ['verify', 'ok', 'call'],
        ]),
        workflow('cors-ports', { path: '/cors/ports', methods: METHODS }, [cors({ origins: [APP], methods: ['GET'] }), portNode('ok'), portNode('preflight'), portNode('denied')], [
          ['cors', 'ok', 'ok'],
          ['cors', 'preflight', 'preflight'],
          ['cors', 'denied', 'denied'],
        ]),
        workflow('cors-any', { path: '/cors/any', methods: METHODS }, [cors({ origins: ['*'], headers: ['*'] }), portNode('ok')], [['cors', 'ok', 'ok']]),
        workflow('cors-no-headers', { path: '/cors/no-headers', methods: METHODS }, [cors({ origins: [APP], headers: [] }), portNode('ok')], [['cors', 'ok', 'ok']]),
        workflow('cors-credentials', { path: '/cors/credentials', methods: METHODS }, [cors({ origins: [APP], credentials: true, maxAge: 60 }), portNode('ok')], [['cors', 'ok', 'ok']]),
      ],
      { env: { UPSTREAM: upstream.url } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('answers an allowed preflight 204 by itself, before the identity node, naming what the browser may do', async () => {
    const res = await gw.fetch('/cors/api', preflight(APP, 'GET', 'Authorization, Content-Type'));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'))).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
    expect(upstream.received).toHaveLength(0);
  });

  it('matches subdomain wildcards label by label and refuses look-alikes', async () => {
    for (const origin of ['https://a.partner.example', 'https://eu.app.partner.example']) expect((await gw.fetch('/cors/api', preflight(origin))).status).toBe(204);
    for (const origin of ['https://partner.example', 'https://evilpartner.example', 'https://a.partner.example.evil.test', 'https://.partner.example', 'http://a.partner.example', 'https://a_b.partner.example'])
      await expectProblem(await gw.fetch('/cors/api', preflight(origin)), 403, 'cors-rejected', `the origin ${origin} may not call this API`);
  });

  it('matches a wildcard label by label: lower-case letters, digits and hyphens only, never an empty label or another scheme', async () => {
    const allowed = ['https://z9.partner.example', 'https://0a-b.partner.example', 'https://a.b-c.9.partner.example'];
    const refused = [
      'http://ab.partner.example', // another scheme, long enough to hold a label
      'https://a..partner.example', // ends in an empty label
      'https://a..b.partner.example', // an empty label inside
      'https://Ab.partner.example',
      'https://a`.partner.example',
      'https://a{.partner.example',
      'https://a/.partner.example',
      'https://a:.partner.example',
      'https://*.partner.example', // the pattern itself is no origin
    ];
    for (const origin of allowed) expect((await gw.fetch('/cors/api', preflight(origin))).status, origin).toBe(204);
    for (const origin of refused) await expectProblem(await gw.fetch('/cors/api', preflight(origin)), 403, 'cors-rejected');
    // an exact origin is no pattern: what would match it as one is refused
    await expectPort(await gw.fetch('/cors/ports', preflight(`https://app.example.co${'m'}${APP}`)), 'denied');
  });

  it('says what it refused, shortened: an origin to 100 characters, a method to 20, a header to 100', async () => {
    const origin = `https://${'o'.repeat(200)}.example`;
    const refused = await expectProblem(await gw.fetch('/cors/api', preflight(origin)), 403, 'cors-rejected', `the origin ${origin.slice(0, 100)} may not call this API from a browser`);
    expect(refused.detail).not.toContain(origin.slice(0, 101));
    const method = `M${'E'.repeat(40)}`;
    const byMethod = await gw.fetch('/cors/api', preflight(APP, method));
    const methodDetail = ((await byMethod.json()) as { detail: string }).detail;
    expect(methodDetail).toContain(`method ${method.slice(0, 20)} is not allowed from a browser (allowed: GET, HEAD, POST, PUT, PATCH, DELETE)`);
    expect(methodDetail).not.toContain(method.slice(0, 21));
    const header = `x-${'h'.repeat(150)}`;
    const byHeader = await gw.fetch('/cors/api', preflight(APP, 'GET', header));
    const headerDetail = ((await byHeader.json()) as { detail: string }).detail;
    expect(headerDetail).toContain(`request header ${header.slice(0, 100)} is not allowed from a browser`);
    expect(headerDetail).not.toContain(header.slice(0, 101));
  });

  it('refuses a preflight asking for a method or a header that is not allowed, by the denied port', async () => {
    await expectProblem(await gw.fetch('/cors/api', preflight(APP, 'PATCH', 'authorization, x-debug')), 403, 'cors-rejected', 'request header x-debug is not allowed');
    await expectPort(await gw.fetch('/cors/ports', preflight(APP, 'POST')), 'denied');
    await expectPort(await gw.fetch('/cors/ports', preflight('https://other.example')), 'denied');
    // safelisted headers need no allowing; an empty item in the list is no header
    expect((await gw.fetch('/cors/api', preflight(APP, 'GET', 'accept, accept-language'))).status).toBe(204);
    expect((await gw.fetch('/cors/api', preflight(APP, 'GET', 'content-language,,range'))).status).toBe(204);
  });

  it('takes the preflight port when it is wired, and ok for a request that is not a preflight', async () => {
    await expectPort(await gw.fetch('/cors/ports', preflight(APP)), 'preflight');
    await expectPort(await gw.fetch('/cors/ports', { method: 'OPTIONS', headers: { origin: APP } }), 'ok');
    await expectPort(await gw.fetch('/cors/ports', { headers: { origin: APP } }), 'ok');
    await expectPort(await gw.fetch('/cors/ports'), 'ok');
    // only an OPTIONS request is a preflight, whatever headers another method carries
    await expectPort(await gw.fetch('/cors/ports', { headers: { origin: APP, 'access-control-request-method': 'POST' } }), 'ok');
  });

  it('adds the CORS headers to the answer, whatever answers: the upstream (Vary kept) and a later node\'s 401', async () => {
    const token = await issuer.sign({ sub: 'alice' });
    const ok = await gw.fetch('/cors/api', { headers: { origin: APP, ...bearer(token) } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ from: 'upstream' });
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP); // the node's, not the upstream's
    expect(ok.headers.get('access-control-expose-headers')).toBe('x-request-id, x-ratelimit-remaining');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull(); // not a credentialed node
    expect(ok.headers.get('vary')).toBe('Accept-Encoding, Origin');
    const refused = await gw.fetch('/cors/api', { headers: { origin: APP } });
    await expectProblem(refused, 401, 'missing-token');
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('adds nothing for a caller that is not a browser on another origin, and refuses a disallowed origin outright', async () => {
    const plain = await gw.fetch('/cors/api', { headers: bearer(await issuer.sign({ sub: 'alice' })) });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBe('https://upstream-says.example'); // untouched: the node adds nothing
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    const other = await gw.fetch('/cors/api', { headers: { origin: 'https://evil.example', ...bearer(await issuer.sign({ sub: 'alice' })) } });
    await expectProblem(other, 403, 'cors-rejected');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers * for any origin without credentials, and names the origin with credentials', async () => {
    const any = await gw.fetch('/cors/any', { headers: { origin: 'https://anyone.example' } });
    expect(any.headers.get('access-control-allow-origin')).toBe('*');
    expect(any.headers.get('vary')).toBeNull();
    const anyPreflight = await gw.fetch('/cors/any', preflight('https://anyone.example', 'GET', 'x-anything'));
    expect(anyPreflight.headers.get('access-control-allow-headers')).toBe('*');
    // a node allowing no request headers names none in its preflight answer
    const noHeaders = await gw.fetch('/cors/no-headers', preflight(APP));
    expect(noHeaders.status).toBe(204);
    expect(noHeaders.headers.has('access-control-allow-headers')).toBe(false);
    expect(noHeaders.headers.has('access-control-allow-credentials')).toBe(false);
    const credentialed = await gw.fetch('/cors/credentials', preflight(APP));
    expect(credentialed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(credentialed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(credentialed.headers.get('access-control-max-age')).toBe('60');
    const actual = await gw.fetch('/cors/credentials', { headers: { origin: APP } });
    expect(actual.headers.get('access-control-allow-credentials')).toBe('true');
    expect(actual.headers.has('access-control-expose-headers')).toBe(false); // none named
  });
});

describe('cors in a workflow', () => {
  const verify: NodeDoc = { id: 'verify', kind: 'jwt-verify', config: { jwksUri: 'https://issuer.example/jwks.json' } };
  it('is refused after a node that checks credentials, naming the cors node', () => {
    const result = validateWorkflow(workflow('late', { path: '/late', methods: METHODS }, [verify, cors({ origins: [APP] }), portNode('ok')], [['verify', 'ok', 'cors'], ['cors', 'ok', 'ok']]));
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ code: 'invalid_config', node: 'cors', message: expect.stringContaining('preflights without credentials') })]);
  });

  it('is refused on a route without OPTIONS, naming route.methods', () => {
    const result = validateWorkflow(workflow('no-options', { path: '/no-options', methods: ['GET'] }, [cors({ origins: [APP] }), portNode('ok')], [['cors', 'ok', 'ok']]));
    expect(result.problems).toEqual([expect.objectContaining({ field: 'route.methods', message: expect.stringContaining('add OPTIONS') })]);
  });

  it('is accepted first, with the preflight port unwired (the node answers it)', () => {
    const result = validateWorkflow(workflow('first', { path: '/first', methods: METHODS }, [cors({ origins: [APP] }), verify, portNode('ok')], [['cors', 'ok', 'verify'], ['verify', 'ok', 'ok']]));
    expect(result.problems).toEqual([]);
  });
});
