import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../engine/kinds/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('rate-limit', {
  minimal: { config: { limit: 100 }, parsed: { limit: 100, window: '1m', key: 'partner', onStoreDown: 'local' } },
  accepts: [
    ['a claim key with its name', { limit: 1, key: 'claim', name: 'tenant' }],
    ['a header key with its name', { limit: 1, key: 'header', name: 'x-tenant', window: '1ms' }],
    ['an expression key', { limit: 1, key: 'expression', expression: 'request.query.tenant' }],
  ],
  refuses: [
    ['key "claim" without name', { limit: 10, key: 'claim' }, ['name']],
    ['key "header" without name', { limit: 10, key: 'header' }, ['name']],
    ['key "expression" without expression', { limit: 10, key: 'expression' }, ['expression']],
    ['an unknown key', { limit: 10, key: 'cookie' }, ['key']],
    ['an unknown onStoreDown choice', { limit: 10, onStoreDown: 'retry' }, ['onStoreDown']],
    ['no limit', {}, ['limit']],
    ['a limit of 0', { limit: 0 }, ['limit']],
    ['a fractional limit', { limit: 1.5 }, ['limit']],
    ['a zero window', { limit: 10, window: '0s' }, ['window']],
    ['a window that rounds to 0ms', { limit: 10, window: '0.4ms' }, ['window']],
  ],
  readsBody: [
    [{ limit: 1, key: 'expression', expression: 'request.body.tenant' }, true],
    [{ limit: 1, key: 'partner' }, false],
  ],
  faults: ['expression_failed'],
});

const LIMIT = 3;
const ACME_KEY = 'acme-rate-key';
const GLOBEX_KEY = 'globex-rate-key';

/** A request: path and init, sent from 127.0.0.1 unless `from` names another loopback address. */
interface Call {
  path: string;
  headers?: Record<string, string>;
  from?: string;
}

describe('rate-limit', () => {
  let gw: TestGateway;
  let issuer: TestIssuer;
  const agents = new Map<string, Agent>();

  const send = async ({ path, headers = {}, from }: Call): Promise<Response> => {
    if (from === undefined) return gw.fetch(path, { headers });
    let agent = agents.get(from);
    if (!agent) agents.set(from, (agent = new Agent({ localAddress: from })));
    return (await undiciFetch(`${gw.url}${path}`, { headers, dispatcher: agent })) as unknown as Response;
  };

  /** Sends LIMIT allowed calls (checking their RateLimit-* headers) and one refused call (checking the 429). */
  const exhaust = async (call: Call) => {
    for (let i = 1; i <= LIMIT; i++) {
      const res = await send(call);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - i));
      expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      expect(res.headers.get('retry-after')).toBeNull();
    }
    await expectLimited(await send(call));
  };

  const expectLimited = async (res: Response) => {
    const retryAfter = res.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(Number(retryAfter));
    await expectProblem(res, 429, 'rate-limited', `The limit of ${LIMIT} requests per 1h is reached. Retry after ${retryAfter} seconds.`);
  };

  beforeAll(async () => {
    issuer = await createIssuer();
    const verify: NodeDoc = { id: 'id', kind: 'jwt-verify', config: { jwks: issuer.jwks, issuer: TEST_ISSUER, audience: TEST_AUDIENCE } };
    const apiKey: NodeDoc = {
      id: 'id',
      kind: 'api-key',
      config: { keys: [{ hash: hashApiKey(ACME_KEY), partner: 'acme' }, { hash: hashApiKey(GLOBEX_KEY), partner: 'globex' }] },
    };
    const limited = (id: string, limit: Record<string, unknown>, identify?: NodeDoc) =>
      workflow(
        id,
        { path: `/rl/${id}` },
        [...(identify ? [identify] : []), { id: 'limit', kind: 'rate-limit', config: { limit: LIMIT, window: '1h', ...limit } }, portNode('ok')],
        [...(identify ? ([['id', 'ok', 'limit']] as Array<[string, string, string]>) : []), ['limit', 'ok', 'ok']],
      );
    gw = await startGateway([
      limited('partner', { key: 'partner' }, apiKey),
      limited('subject', { key: 'subject' }, verify),
      limited('claim', { key: 'claim', name: 'tenant' }, verify),
      limited('ip', { key: 'ip' }),
      limited('header', { key: 'header', name: 'X-Client' }),
      limited('expression', { key: 'expression', expression: 'request.query.k' }),
      limited('global', { key: 'global' }),
      limited('global-twin', { key: 'global' }),
      limited('fallback', { key: 'header', name: 'x-client' }),
      limited('expression-fails', { key: 'expression', expression: '$error("no key")' }),
      workflow(
        'limited-port',
        { path: '/rl/limited-port' },
        [{ id: 'limit', kind: 'rate-limit', config: { limit: 1, window: '1h', key: 'global' } }, portNode('ok'), portNode('limited')],
        [['limit', 'ok', 'ok'], ['limit', 'limited', 'limited']],
      ),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...agents.values()].map((a) => a.close()));
  });

  const token = (claims: Record<string, unknown>) => issuer.sign(claims).then(bearer);

  it.each([
    { key: 'partner', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/partner', headers: { 'x-api-key': ACME_KEY } }, { path: '/rl/partner', headers: { 'x-api-key': GLOBEX_KEY } }] },
    // a new token of the same subject counts as the same subject
    { key: 'subject', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/subject', headers: await token({ sub: 'alice' }) }, { path: '/rl/subject', headers: await token({ sub: 'bob' }) }] },
    { key: 'claim', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/claim', headers: await token({ sub: 'a', tenant: 't1' }) }, { path: '/rl/claim', headers: await token({ sub: 'a', tenant: 't2' }) }] },
    { key: 'object claim', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/claim', headers: await token({ sub: 'a', tenant: { id: 1 } }) }, { path: '/rl/claim', headers: await token({ sub: 'a', tenant: { id: 2 } }) }] },
    { key: 'ip', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/ip' }, { path: '/rl/ip', from: '127.0.0.2' }] },
    { key: 'header', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/header', headers: { 'x-client': 'a' } }, { path: '/rl/header', headers: { 'x-client': 'b' } }] },
    { key: 'expression', calls: async (): Promise<[Call, Call]> => [{ path: '/rl/expression?k=1' }, { path: '/rl/expression?k=2' }] },
  ])(`counts each $key separately: ${LIMIT} allowed, then 429 with Retry-After and RateLimit-*`, async ({ calls }) => {
    const [first, second] = await calls();
    await exhaust(first);
    await exhaust(second);
    await expectLimited(await send(first));
  });

  it('does not take the client address from X-Forwarded-For', async () => {
    await expectLimited(await send({ path: '/rl/ip', headers: { 'x-forwarded-for': '203.0.113.9' } }));
  });

  it('counts everyone together with the global key, per node', async () => {
    await send({ path: '/rl/global', headers: { 'x-client': 'a' } });
    await send({ path: '/rl/global', from: '127.0.0.3' });
    await send({ path: '/rl/global?k=3' });
    await expectLimited(await send({ path: '/rl/global', from: '127.0.0.4' }));
    // another node with the same key has its own counter
    await exhaust({ path: '/rl/global-twin' });
  });

  it('counts a request without the key value by client address, apart from any key value', async () => {
    // a header value that looks like the fallback's own key must not share its counter
    await exhaust({ path: '/rl/fallback', headers: { 'x-client': 'ip:127.0.0.1' } });
    await exhaust({ path: '/rl/fallback' });
    await exhaust({ path: '/rl/fallback', from: '127.0.0.5' });
  });

  it('answers 500 expression-failed when the key expression fails', async () => {
    await expectProblem(await send({ path: '/rl/expression-fails' }), 500, 'expression-failed');
  });

  it('takes the limited port when wired, with the RateLimit headers still on the answer', async () => {
    await expectPort(await send({ path: '/rl/limited-port' }), 'ok');
    const res = await send({ path: '/rl/limited-port' });
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    await expectPort(res, 'limited');
  });
});
