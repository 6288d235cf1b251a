import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashApiKey } from '../../../engine/kinds/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { startOwnedRedis, testPrefix, type OwnedRedis } from '../../helpers/redis.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { describeKind } from './describe-kind.ts';

describeKind('rate-limit', {
  minimal: { config: { limit: 100 }, parsed: { limit: 100, window: '1m', key: 'partner', onStoreDown: 'local' } },
  accepts: [
    ['a claim key with its name', { limit: 1, key: 'claim', name: 'tenant' }],
    ['a header key with its name', { limit: 1, key: 'header', name: 'x-tenant', window: '1ms' }],
    ['an expression key', { limit: 1, key: 'expression', expression: 'request.query.tenant' }],
    ['a token budget (a cost)', { limit: 100_000, cost: 'llm.usage.total', window: '1d' }],
    ['a plan token budget', { limit: 'plan', cost: 'llm.usage.input + llm.usage.output' }],
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
    ['an empty cost', { limit: 10, cost: '' }, ['cost']],
  ],
  readsBody: [
    [{ limit: 1, key: 'expression', expression: 'request.body.tenant' }, true],
    [{ limit: 1, key: 'partner' }, false],
    [{ limit: 1, key: 'partner', cost: 'llm.usage.total' }, true], // the prompt's tokens are estimated before the call
  ],
  // token_budget_exceeded is the default of limited on a node with a cost (rate-limit-budget.test.ts takes it)
  faults: ['token_budget_exceeded', 'expression_failed'],
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

describe('rate-limit: the sliding window across a window edge, over HTTP (memory store, on a clock the test sets)', () => {
  // limit 4 per 10 s; the gateway's clock is frozen (only Date is faked) and moved by the test
  const WINDOW = 10_000;
  let gw: TestGateway;
  /** The start of a window on the gateway's clock. */
  let start: number;
  const at = (ms: number) => vi.setSystemTime(start + ms);

  beforeAll(async () => {
    start = (Math.floor(Date.now() / WINDOW) + 1) * WINDOW;
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    gw = await startGateway([
      workflow('edge', { path: '/rl/edge' }, [{ id: 'limit', kind: 'rate-limit', config: { limit: 4, window: '10s', key: 'global' } }, portNode('ok')], [['limit', 'ok', 'ok']]),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
    vi.useRealTimers();
  });

  /** One request: its status, and the RateLimit-* and Retry-After headers as numbers (null when absent). */
  const hit = async () => {
    const res = await gw.fetch('/rl/edge');
    await res.arrayBuffer();
    const n = (name: string) => (res.headers.get(name) === null ? null : Number(res.headers.get(name)));
    return { status: res.status, remaining: n('ratelimit-remaining'), reset: n('ratelimit-reset'), retryAfter: n('retry-after') };
  };

  it('weighs the previous window: refused just after the edge with the exact Retry-After, allowed again when that has passed', async () => {
    // window 0, 1 s in: four allowed, the fifth refused until the current count has slid out far enough
    at(1_000);
    for (const remaining of [3, 2, 1, 0]) expect(await hit()).toEqual({ status: 200, remaining, reset: 9, retryAfter: null });
    // 9 s to the window's end, then 2.5 s of the next (4 x 0.75 + 1 <= 4): 11.5 s, rounded up
    expect(await hit()).toEqual({ status: 429, remaining: 0, reset: 12, retryAfter: 12 });

    // window 1, 1 s in: the previous window still weighs 4 x 0.9 = 3.6, so a fixed window would allow this
    at(WINDOW + 1_000);
    // one more fits when 3.6 has slid to 3: (3.6 + 1 - 4) x 10 s / 4 = 1.5 s, rounded up
    expect(await hit()).toEqual({ status: 429, remaining: 0, reset: 9, retryAfter: 2 });
    at(WINDOW + 1_700); // not yet: 4 x 0.83 = 3.32
    expect(await hit()).toMatchObject({ status: 429, retryAfter: 1 });
    at(WINDOW + 1_000 + 2_000); // Retry-After later: 4 x 0.7 = 2.8, one more fits
    expect(await hit()).toEqual({ status: 200, remaining: 0, reset: 7, retryAfter: null });
    // 2.8 + 1 counted: the next fits when the estimate is 3 again, (3.8 + 1 - 4) x 10 s / 4 = 2 s
    expect(await hit()).toEqual({ status: 429, remaining: 0, reset: 7, retryAfter: 2 });

    // window 1 at its middle: 4 x 0.5 + 1 = 3, one more fits and none after it
    at(WINDOW + 5_000);
    expect(await hit()).toEqual({ status: 200, remaining: 0, reset: 5, retryAfter: null });
    expect(await hit()).toMatchObject({ status: 429, retryAfter: 3 }); // (2 + 2 + 1 - 4) x 10 s / 4 = 2.5 s

    // window 2: window 1 counted 2, weighing 2 x 0.8 = 1.6 at 2 s in: two more fit, remaining counts down from it
    at(2 * WINDOW + 2_000);
    expect(await hit()).toEqual({ status: 200, remaining: 1, reset: 8, retryAfter: null });
    expect(await hit()).toEqual({ status: 200, remaining: 0, reset: 8, retryAfter: null });
    expect(await hit()).toMatchObject({ status: 429 });

    // two windows on, nothing weighs: four allowed again
    at(4 * WINDOW + 500);
    for (const remaining of [3, 2, 1, 0]) expect(await hit()).toMatchObject({ status: 200, remaining });
  });
});

describe('rate-limit: its wired unavailable port, reached over HTTP while the Redis store is down', () => {
  let redis: OwnedRedis;
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startOwnedRedis(); // a redis-server of this test's own: the shared one is never stopped
    const limited = (id: string, onStoreDown: string, wired: boolean) =>
      workflow(
        id,
        { path: `/rl/${id}` },
        [{ id: 'limit', kind: 'rate-limit', config: { limit: 100, window: '1h', key: 'global', onStoreDown } }, portNode('ok'), portNode('limited'), ...(wired ? [portNode('unavailable')] : [])],
        [['limit', 'ok', 'ok'], ['limit', 'limited', 'limited'], ...(wired ? ([['limit', 'unavailable', 'unavailable']] as Array<[string, string, string]>) : [])],
      );
    gw = await startGateway([limited('down-wired', 'deny', true), limited('down-deny', 'deny', false), limited('down-allow', 'allow', false)], {
      demo: false,
      settings: { REDIS_URL: redis.url, REDIS_PREFIX: testPrefix('rl-down'), SLUICE_RATE_LIMIT_TIMEOUT_MS: '1000' },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await redis?.close();
  });

  it('counted in Redis while it is up; once it is down, deny takes the wired unavailable port, unwired answers 503, allow lets through', async () => {
    const wired = await gw.fetch('/rl/down-wired');
    expect(wired.headers.get('ratelimit-remaining')).toBe('99'); // counted: the store answered
    await expectPort(wired, 'ok');
    await redis.stop();
    // the first call after the stop may wait for the command to fail; the breaker then decides at once
    await vi.waitFor(async () => {
      const res = await gw.fetch('/rl/down-wired');
      expect(res.headers.get('ratelimit-remaining')).toBeNull(); // nothing counted
      await expectPort(res, 'unavailable');
    }, { timeout: 15_000, interval: 100 });
    await expectProblem(await gw.fetch('/rl/down-deny'), 503, 'rate-limit-unavailable');
    const allowed = await gw.fetch('/rl/down-allow');
    expect(allowed.headers.get('ratelimit-remaining')).toBeNull();
    await expectPort(allowed, 'ok');
    // the request log says which choice decided
    await vi.waitFor(() => expect(gw.logs.filter((l) => l.msg === 'request' && l.workflow === 'down-allow' && l.rateLimitStoreDown === 'allow')).toHaveLength(1), { timeout: 15_000 });
    expect(gw.logs.some((l) => l.msg === 'request' && l.workflow === 'down-wired' && l.rateLimitStoreDown === 'deny')).toBe(true);
  }, 60_000);
});
