import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashApiKey } from '../../../engine/kinds/index.ts';
import type { TestGateway } from '../../helpers/gateway.ts';
import { createIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestIssuer } from '../../helpers/issuer.ts';
import { scrapeBy } from '../../helpers/metrics.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, startOwnedRedis, testPrefix, type OwnedRedis } from '../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { bearer, expectPort, expectProblem, portNode, startGateway, workflow, type NodeDoc } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, PEOPLE, untilApplied } from '../admin/support.ts';
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
  // token_budget_exceeded is the default of limited on a node with a cost (the token budget tests below take it)
  faults: ['token_budget_exceeded', 'expression_failed'],
});

const LIMIT = 3;
const ACME_KEY = 'acme-rate-key';
const GLOBEX_KEY = 'globex-rate-key';
/** The key of a partner the api-key node names but the partner directory does not know. */
const GHOST_KEY = 'ghost-rate-key';

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
      config: { keys: [{ hash: hashApiKey(ACME_KEY), partner: 'acme' }, { hash: hashApiKey(GLOBEX_KEY), partner: 'globex' }, { hash: hashApiKey(GHOST_KEY), partner: 'ghost' }] },
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
      // outside the plain-code subset: evaluated in a worker, so the key arrives as a promise
      limited('expression-worker', { key: 'expression', expression: '$lowercase(request.query.k)' }),
      // no identity node before it: no claims at all
      limited('claim-bare', { key: 'claim', name: 'tenant' }),
      // an expression left from key "expression" (the editor keeps the field): one RE2 refuses (a backreference) were it compiled
      limited('leftover', { key: 'global', expression: '$match(request.path, /(a)\\1/)' }),
      limited('plan', { limit: 'plan' }, apiKey),
      limited('plan-fallback', { limit: 'plan', fallbackLimit: LIMIT }, apiKey),
      limited('plan-anonymous', { limit: 'plan', fallbackLimit: LIMIT, key: 'ip' }),
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

  it('counts a claim key\'s request without the claim, or with a null one, by client address', async () => {
    const [nullTenant, noTenant] = [await token({ sub: 'a', tenant: null }), await token({ sub: 'a' })];
    // four requests from one address, with and without the claim: one counter
    const calls: Call[] = [nullTenant, noTenant, nullTenant].map((headers) => ({ path: '/rl/claim', headers, from: '127.0.0.6' }));
    for (const [i, call] of calls.entries()) {
      const res = await send(call);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1 - i));
    }
    await expectLimited(await send({ path: '/rl/claim', headers: noTenant, from: '127.0.0.6' }));
    // another address has a counter of its own
    await exhaust({ path: '/rl/claim', headers: nullTenant, from: '127.0.0.7' });
  });

  it('counts a claim that is an object as its JSON text: the counter of a string claim holding that text', async () => {
    const [text, object] = [await token({ sub: 'a', tenant: '{"id":3}' }), await token({ sub: 'a', tenant: { id: 3 } })];
    for (const headers of [text, text, object]) expect((await send({ path: '/rl/claim', headers })).status).toBe(200);
    await expectLimited(await send({ path: '/rl/claim', headers: object }));
    await expectLimited(await send({ path: '/rl/claim', headers: text }));
  });

  it('counts a claim key by client address when no identity node ran before it (no claims at all)', async () => {
    await exhaust({ path: '/rl/claim-bare', headers: await token({ sub: 'a', tenant: 't1' }), from: '127.0.0.8' });
    await exhaust({ path: '/rl/claim-bare', from: '127.0.0.9' });
  });

  it('counts by the value of an expression key evaluated in a worker: "A" and "a" together when it lowercases them', async () => {
    for (const [k, remaining] of [['A', 2], ['a', 1], ['A', 0]] as const) {
      const res = await send({ path: `/rl/expression-worker?k=${k}` });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(remaining));
    }
    await expectLimited(await send({ path: '/rl/expression-worker?k=a' }));
    await exhaust({ path: '/rl/expression-worker?k=b' });
  });

  it('never compiles an expression left in the config of another key: the workflow serves, counting by its own key', async () => {
    await exhaust({ path: '/rl/leftover' });
    await expectLimited(await send({ path: '/rl/leftover', from: '127.0.0.10' }));
  });

  it('limit "plan" for a partner with no plan limit and no fallbackLimit: refused with RateLimit-Limit 0, the problem saying the node\'s window', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await send({ path: '/rl/plan', headers: { 'x-api-key': GHOST_KEY } });
      expect(res.headers.get('ratelimit-limit')).toBe('0');
      expect(res.headers.get('ratelimit-remaining')).toBe('0');
      await expectProblem(res, 429, 'rate-limited', 'The limit of 0 requests per 1h is reached. Retry after 3600 seconds.');
    }
  });

  it('limit "plan" without a plan limit takes the fallbackLimit: a partner the directory does not know, a request with no partner', async () => {
    await exhaust({ path: '/rl/plan-fallback', headers: { 'x-api-key': GHOST_KEY } });
    await exhaust({ path: '/rl/plan-fallback', headers: { 'x-api-key': ACME_KEY } });
    await exhaust({ path: '/rl/plan-anonymous', from: '127.0.0.11' });
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

describe('rate-limit and token budgets while the Redis store is down: onStoreDown local, allow and deny', () => {
  let redis: OwnedRedis;
  let gw: TestGateway;
  let upstream: TestUpstream;
  /** Answers of the held upstream, waiting for the test to release them. */
  const held: Array<() => void> = [];

  beforeAll(async () => {
    redis = await startOwnedRedis(); // a redis-server of this test's own: the shared one is never stopped
    upstream = await startUpstream((_req, res) => held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"held":true}')));
    const node = (config: Record<string, unknown>): NodeDoc => ({ id: 'budget', kind: 'rate-limit', config: { window: '1h', key: 'global', ...config } });
    gw = await startGateway(
      [
        workflow('down-local', { path: '/rl/down-local' }, [node({ limit: 3, onStoreDown: 'local' }), portNode('ok')], [['budget', 'ok', 'ok']]),
        workflow('down-charge', { path: '/rl/down-charge' }, [node({ limit: 100, cost: '5', onStoreDown: 'deny' }), { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_HELD}' } }], [['budget', 'ok', 'call']]),
        workflow('down-budget-allow', { path: '/rl/down-budget-allow' }, [node({ limit: 100, cost: '5', onStoreDown: 'allow' }), portNode('ok')], [['budget', 'ok', 'ok']]),
        workflow('down-budget-local', { path: '/rl/down-budget-local' }, [node({ limit: 100, cost: '5', onStoreDown: 'local' }), portNode('ok')], [['budget', 'ok', 'ok']]),
      ],
      {
        demo: false,
        env: { SLUICE_UPSTREAM_HELD: upstream.url },
        settings: { REDIS_URL: redis.url, REDIS_PREFIX: testPrefix('rl-down-budget'), SLUICE_RATE_LIMIT_TIMEOUT_MS: '1000', SLUICE_ADMIN_TOKENS: ADMIN_TOKENS },
      },
    );
  }, 60_000);
  afterAll(async () => {
    for (const release of held.splice(0)) release();
    await gw?.close();
    await upstream?.close();
    await redis?.close();
  });

  it('a charge Redis cannot take once the answer is done is counted as failed; the answer is served all the same', async () => {
    const answer = gw.fetch('/rl/down-charge');
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 15_000 }); // checked in Redis, now at the upstream
    await redis.stop();
    held.shift()!();
    const res = await answer;
    expect(res.headers.get('ratelimit-remaining')).toBe('100');
    expect(await res.json()).toEqual({ held: true });
    await vi.waitFor(async () => expect(await charges(gw, 'down-charge')).toEqual({ charged: 0, nothing: 0, failed: 1 }), { timeout: 15_000 });
  }, 60_000);

  it('local counts in this replica with the node\'s RateLimit headers; a budget with allow counts and charges nothing, with local it charges here', async () => {
    await redis.stop(); // stopped by the test before already, when run in order
    // the first call after the stop may wait for the command to fail; the breaker then decides at once
    await vi.waitFor(async () => {
      const res = await gw.fetch('/rl/down-local');
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      await expectPort(res, 'ok');
    }, { timeout: 15_000, interval: 100 });
    const allowed = await gw.fetch('/rl/down-budget-allow');
    expect(allowed.headers.get('ratelimit-remaining')).toBeNull();
    await expectPort(allowed, 'ok');
    const local = await gw.fetch('/rl/down-budget-local');
    expect(local.headers.get('ratelimit-limit')).toBe('100');
    await expectPort(local, 'ok');
    // the local charge, made after the allow node's answer, has landed: the allow node tried none
    await vi.waitFor(async () => expect(await charges(gw, 'down-budget-local')).toEqual({ charged: 1, nothing: 0, failed: 0 }), { timeout: 15_000 });
    expect(await charges(gw, 'down-budget-allow')).toEqual({ charged: 0, nothing: 0, failed: 0 });
    await vi.waitFor(() => expect(gw.logs.some((l) => l.msg === 'request' && l.workflow === 'down-local' && l.rateLimitStoreDown === 'local')).toBe(true), { timeout: 15_000 });
  }, 60_000);
});

/**
 * Token budgets (rate-limit with a cost) in front of an OpenAI-compatible upstream written here,
 * driven by the real `openai` client: RateLimit-* headers in tokens, the cost charged once the
 * answer is complete (a streamed one finished first), a prompt refused before the call when its
 * estimate alone exceeds what is left, plan token budgets, and two replicas sharing one budget
 * in Redis.
 */

const METRICS_TOKEN = PEOPLE.viewer.token;
const BUDGET = 100;

const sse = (res: ServerResponse, data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

/**
 * An OpenAI-compatible chat upstream whose usage the test chooses: 10 prompt tokens, and as many
 * completion tokens as `max_tokens` asks (20 without). Streamed answers end with a usage chunk
 * when the client asks for one (stream_options.include_usage).
 */
function chatUpstream(): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    const body = JSON.parse(req.bodyText || '{}') as { model?: string; stream?: boolean; max_tokens?: number; stream_options?: { include_usage?: boolean } };
    const usage = { prompt_tokens: 10, completion_tokens: body.max_tokens ?? 20, total_tokens: 10 + (body.max_tokens ?? 20) };
    const model = body.model ?? 'gpt-4o-mini';
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['One', ' two', ' three']) sse(res, { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] });
      if (body.stream_options?.include_usage) sse(res, { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage });
      sse(res, '[DONE]');
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'c2', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'Sure.' }, finish_reason: 'stop' }], usage }));
  });
}

/** A token budget per team (the x-team header) in front of the upstream. */
const budgeted = (id: string, path: string, config: Record<string, unknown>, first: Array<{ id: string; kind: string; config: Record<string, unknown> }> = [], llm: Record<string, unknown> = { api: 'openai' }) =>
  workflow(
    id,
    { path: `${path}/*`, methods: ['POST'] },
    [...first, { id: 'budget', kind: 'rate-limit', config: { window: '1h', key: 'header', name: 'x-team', cost: 'llm.usage.total', ...config } }, { id: 'call', kind: 'proxy', config: { url: '${SLUICE_UPSTREAM_LLM}', stripPrefix: path, llm } }],
    [...first.map((n, i) => [n.id, 'ok', first[i + 1]?.id ?? 'budget'] as [string, string, string]), ['budget', 'ok', 'call']],
    first[0]?.id,
  );

/** The charges a budget node made, by result (charged, nothing, failed). */
const charges = (gw: TestGateway, workflowId: string) => scrapeBy(gw, METRICS_TOKEN, 'sluice_token_budget_charges_total', { workflow: workflowId, node: 'budget' }, 'result');

/** Waits until the node has made `count` charges of `result`: a charge lands just after its answer. */
async function untilCharged(gw: TestGateway, workflowId: string, count: number, result = 'charged'): Promise<void> {
  await vi.waitFor(async () => expect((await charges(gw, workflowId))[result]).toBe(count));
}

const client = (gw: TestGateway, path: string, team: string, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: `${gw.url}${path}/v1`, apiKey: 'sk-test-not-a-secret', maxRetries: 0, defaultHeaders: { 'x-team': team, ...headers } });

/** A prompt of `words` distinct words: about that many tokens. */
const longPrompt = (words: number) => Array.from({ length: words }, (_, i) => `word${i}`).join(' ');

/** Flat budgets of 10 per team in front of a respond node (no LLM call): their costs by workflow. */
const FLAT_COSTS = {
  'flat-five': '5',
  'flat-other': '5',
  'flat-zero': '0',
  'flat-negative': '-50',
  'flat-number-text': '"5"',
  'flat-true': 'true',
};

/** A budget of 10 per team (the x-team header) charging `cost`, answering by a respond node: no LLM call. */
const flat = (id: string, cost: string) =>
  workflow(id, { path: `/${id}` }, [{ id: 'budget', kind: 'rate-limit', config: { limit: 10, window: '1h', key: 'header', name: 'x-team', cost } }, portNode('ok')], [['budget', 'ok', 'ok']]);

/** The chat completion JSON a raw request sends. */
const chatBody = (content: string) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

describe('token budgets: rate-limit with a cost, in front of an LLM upstream', () => {
  let gw: TestGateway;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await chatUpstream();
    gw = await startGateway(
      [
        budgeted('budget-fixed', '/fixed', { limit: BUDGET }),
        budgeted('budget-string', '/string', { limit: BUDGET, cost: '"many"' }),
        budgeted('budget-failing', '/failing', { limit: BUDGET, cost: '$error("no cost")' }),
        budgeted('budget-models', '/models', { limit: BUDGET }, [], { api: 'openai', models: ['gpt-4o*'] }),
        budgeted('budget-plan', '/plan', { limit: 'plan', key: 'partner' }, [{ id: 'key', kind: 'api-key', config: { source: 'partners' } }]),
        budgeted('budget-small', '/small', { limit: 5 }),
        // a wide budget first: it counts the prompt, the small one after it takes that count
        budgeted('budget-twice', '/twice', { limit: 5 }, [{ id: 'wide', kind: 'rate-limit', config: { limit: 1_000_000, window: '1h', key: 'header', name: 'x-team', cost: 'llm.usage.total' } }]),
        // prompt-guard counts the prompt as received, then redacts it for the nodes after it
        budgeted('budget-guarded', '/guarded', { limit: 5 }, [{ id: 'guard', kind: 'prompt-guard', config: { maxInputTokens: 1_000_000, detectors: { email: 'redact' } } }]),
        ...Object.entries(FLAT_COSTS).map(([id, cost]) => flat(id, cost)),
      ],
      { demo: false, env: { SLUICE_UPSTREAM_LLM: upstream.url }, settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('says the budget in tokens, charges each answer\'s usage once it is complete, and refuses once it is spent (429 token-budget-exceeded)', async () => {
    const team = client(gw, '/fixed', 'alpha');
    const first = await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(first.data.usage?.total_tokens).toBe(60);
    expect(first.response.headers.get('ratelimit-limit')).toBe(String(BUDGET));
    expect(first.response.headers.get('ratelimit-remaining')).toBe('100'); // what was left before this call
    await untilCharged(gw, 'budget-fixed', 1);

    const second = await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 30, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(second.response.headers.get('ratelimit-remaining')).toBe('40');
    await untilCharged(gw, 'budget-fixed', 2); // 100 of 100 spent

    const calls = upstream.received.length;
    const refused = await team.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (refused as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers.get('ratelimit-limit')).toBe(String(BUDGET));
    expect(headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(Number(headers.get('retry-after')));
    expect(upstream.received.length).toBe(calls); // refused before the call

    // the problem says it in tokens; another team's budget is its own
    const raw = await gw.fetch('/fixed/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-team': 'alpha' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }) });
    await expectProblem(raw, 429, 'token-budget-exceeded', /^This request needs about \d+ tokens and 0 of the budget of 100 tokens per 1h are left\. Retry after \d+ seconds\.$/);
    const other = await client(gw, '/fixed', 'beta').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(other.response.headers.get('ratelimit-remaining')).toBe('100');
  });

  it('refuses before the call a prompt whose estimated tokens alone exceed what is left, and lets a smaller one through', async () => {
    const team = client(gw, '/fixed', 'gamma');
    await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] });
    await untilCharged(gw, 'budget-fixed', 4); // the earlier test charged twice, beta once
    const calls = upstream.received.length;
    const raw = await gw.fetch('/fixed/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-team': 'gamma' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: longPrompt(120) }] }) });
    const problem = await expectProblem(raw, 429, 'token-budget-exceeded');
    const need = Number(/needs about (\d+) tokens/.exec(problem.detail)?.[1]);
    expect(need).toBeGreaterThan(40);
    expect(problem.detail).toContain('and 40 of the budget of 100 tokens per 1h are left');
    expect(raw.headers.get('ratelimit-remaining')).toBe('40');
    expect(upstream.received.length).toBe(calls);

    const small = await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(small.response.status).toBe(200);
    expect(upstream.received.length).toBe(calls + 1);
  });

  it('finishes a streamed answer that crosses the budget, charges all of it, and refuses the next request', async () => {
    const team = client(gw, '/fixed', 'delta');
    const stream = await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 150, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Count' }] });
    const words: string[] = [];
    let usage: number | undefined;
    for await (const chunk of stream) {
      words.push(chunk.choices[0]?.delta.content ?? '');
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(words.join('')).toBe('One two three'); // never cut, though 160 tokens is past the budget of 100
    expect(usage).toBe(160);
    await untilCharged(gw, 'budget-fixed', 6);
    const next = await team.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Again' }] }).catch((error: unknown) => error);
    expect(next).toBeInstanceOf(OpenAI.RateLimitError);
    expect((next as InstanceType<typeof OpenAI.RateLimitError>).headers.get('ratelimit-remaining')).toBe('0');
  });

  it('a cost that is no number charges nothing, one that fails is counted as failed: neither breaks the answer', async () => {
    for (const [path, id, result] of [['/string', 'budget-string', 'nothing'], ['/failing', 'budget-failing', 'failed']] as const) {
      for (let i = 0; i < 3; i++) {
        const answer = await client(gw, path, 'epsilon').chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 90, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
        expect(answer.response.status).toBe(200);
        expect(answer.response.headers.get('ratelimit-remaining')).toBe('100'); // nothing was ever charged
      }
      await untilCharged(gw, id, 3, result);
      expect((await charges(gw, id)).charged).toBe(0);
    }
  });

  it('a request the model allow-list refuses after the check never reached the model: it costs nothing', async () => {
    const team = client(gw, '/models', 'theta');
    const calls = upstream.received.length;
    for (let i = 0; i < 2; i++) expect(await team.chat.completions.create({ model: 'o1-preview', messages: [{ role: 'user', content: longPrompt(30) }] }).catch((error: unknown) => error)).toBeInstanceOf(OpenAI.PermissionDeniedError);
    await untilCharged(gw, 'budget-models', 2, 'nothing');
    expect(upstream.received.length).toBe(calls);
    const allowed = await team.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(allowed.response.headers.get('ratelimit-remaining')).toBe('100');
    await untilCharged(gw, 'budget-models', 1);
  });

  it('limit "plan": the partner\'s plan token budget (and model allow-list) for the product, the partner\'s override first', async () => {
    const admin = adminOf(gw.url);
    const ok = async (answer: Promise<{ status: number; body: unknown }>, status = 200) => expect((await answer).status, JSON.stringify((await answer).body)).toBe(status);
    await ok(admin('publisher', 'PUT', '/products/ai-api', { name: 'AI', workflows: ['budget-plan'] }));
    await ok(admin('publisher', 'PUT', '/plans/ai-small', { name: 'AI small', limits: { 'ai-api': { limit: 1000, window: '1m', tokens: { limit: 70, window: '1h' }, models: ['gpt-4o-mini'] } } }));
    await ok(admin('publisher', 'POST', '/partners', { id: 'tokenco', name: 'TokenCo', plan: 'ai-small', products: ['ai-api'] }), 201);
    await ok(admin('publisher', 'POST', '/partners', { id: 'bigco', name: 'BigCo', plan: 'ai-small', products: ['ai-api'], limits: { 'ai-api': { limit: 1000, tokens: { limit: 5000, window: '1d' } } } }), 201);
    const keyOf = async (partner: string) => ((await admin('publisher', 'POST', `/partners/${partner}/keys`, {})).body as { key: string }).key;
    const [small, big] = [await keyOf('tokenco'), await keyOf('bigco')];
    await untilApplied(admin);

    const tokenco = client(gw, '/plan', 'ignored', { 'x-api-key': small });
    // the plan narrows the models too: the proxy allows any, the plan only gpt-4o-mini (refused before the call, charged nothing)
    const calls = upstream.received.length;
    const narrowed = await gw.fetch('/plan/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': small }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }) });
    await expectProblem(narrowed, 403, 'model-not-allowed', 'This API does not serve the model "gpt-4o".');
    expect(upstream.received.length).toBe(calls);
    await untilCharged(gw, 'budget-plan', 1, 'nothing');
    const first = await tokenco.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 60, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(first.response.headers.get('ratelimit-limit')).toBe('70');
    await untilCharged(gw, 'budget-plan', 1);
    const refused = await gw.fetch('/plan/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': small }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }) });
    await expectProblem(refused, 429, 'token-budget-exceeded', /and 0 of the budget of 70 tokens per 1h are left/);

    // the override names no models: any the proxy allows
    const bigco = await client(gw, '/plan', 'ignored', { 'x-api-key': big }).chat.completions.create({ model: 'gpt-4o', max_tokens: 60, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(bigco.response.headers.get('ratelimit-limit')).toBe('5000');
    expect(bigco.response.headers.get('ratelimit-remaining')).toBe('5000');
  });

  it('limit "plan" for a partner with no plan token budget: refused before the call, budget 0, the problem saying the node\'s window', async () => {
    const admin = adminOf(gw.url);
    expect((await admin('publisher', 'PUT', '/products/ai-api', { name: 'AI', workflows: ['budget-plan'] })).status).toBe(200);
    expect((await admin('publisher', 'POST', '/partners', { id: 'planless', name: 'Planless', products: ['ai-api'] })).status).toBe(201);
    const key = ((await admin('publisher', 'POST', '/partners/planless/keys', {})).body as { key: string }).key;
    await untilApplied(admin);
    const calls = upstream.received.length;
    // a body that is no LLM request needs 1
    const refused = await gw.fetch('/plan/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"hello":"there"}' });
    expect(refused.headers.get('ratelimit-limit')).toBe('0');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    await expectProblem(refused, 429, 'token-budget-exceeded', 'This request needs about 1 tokens and 0 of the budget of 0 tokens per 1h are left. Retry after 3600 seconds.');
    const prompt = await gw.fetch('/plan/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: chatBody('Hi') });
    await expectProblem(prompt, 429, 'token-budget-exceeded', /^This request needs about [1-9]\d* tokens and 0 of the budget of 0 tokens per 1h are left\. Retry after 3600 seconds\.$/);
    expect(upstream.received.length).toBe(calls);
  });

  it('a budget node after another takes the prompt\'s tokens the first counted: a prompt over its budget is refused before the call', async () => {
    const send = (path: string) => gw.fetch(`${path}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-team': 'iota' }, body: chatBody(longPrompt(30)) });
    const need = async (res: Response) => Number(/needs about (\d+) tokens and 5 of the budget of 5 tokens/.exec((await expectProblem(res, 429, 'token-budget-exceeded')).detail)?.[1]);
    const calls = upstream.received.length;
    const counted = await need(await send('/small'));
    expect(counted).toBeGreaterThan(5);
    expect(await need(await send('/twice'))).toBe(counted);
    expect(upstream.received.length).toBe(calls);
  });

  it('a budget node after prompt-guard takes the guard\'s count of the prompt as received, not a new count of the redacted one', async () => {
    const send = (path: string, content: string) => gw.fetch(`${path}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-team': 'mu' }, body: chatBody(content) });
    const need = async (res: Response) => Number(/needs about (\d+) tokens and 5 of the budget of 5 tokens/.exec((await expectProblem(res, 429, 'token-budget-exceeded')).detail)?.[1]);
    const mails = Array.from({ length: 20 }, (_, i) => `user${i}.name@example-mail.com`);
    const counted = await need(await send('/small', mails.join(' ')));
    // what the guard hands on counts fewer: a new count would be this
    expect(await need(await send('/small', mails.map(() => '[email]').join(' ')))).toBeLessThan(counted);
    expect(await need(await send('/guarded', mails.join(' ')))).toBe(counted);
  });

  it('a request that is no LLM call needs 1 and is charged its cost once answered; a refused one is charged nothing', async () => {
    const hit = (id: string, team: string) => gw.fetch(`/${id}`, { headers: { 'x-team': team } });
    for (const remaining of ['10', '5']) {
      const res = await hit('flat-five', 'kappa');
      expect(res.headers.get('ratelimit-limit')).toBe('10');
      expect(res.headers.get('ratelimit-remaining')).toBe(remaining);
      await expectPort(res, 'ok');
      await untilCharged(gw, 'flat-five', remaining === '10' ? 1 : 2);
    }
    const refused = await hit('flat-five', 'kappa');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    await expectProblem(refused, 429, 'token-budget-exceeded', /^This request needs about 1 tokens and 0 of the budget of 10 tokens per 1h are left\. Retry after [1-9]\d* seconds\.$/);
    // a later request's charge on another node has landed: the refused one, answered before it, charged nothing
    await expectPort(await hit('flat-other', 'kappa'), 'ok');
    await untilCharged(gw, 'flat-other', 1);
    expect(await charges(gw, 'flat-five')).toEqual({ charged: 2, nothing: 0, failed: 0 });
  });

  it.each([
    ['zero', 'flat-zero'],
    ['a negative number', 'flat-negative'],
    ['a number as text', 'flat-number-text'],
    ['true', 'flat-true'],
  ])('a cost that is %s charges nothing: the budget stays whole', async (_what, id) => {
    for (let i = 1; i <= 2; i++) {
      const res = await gw.fetch(`/${id}`, { headers: { 'x-team': 'lambda' } });
      expect(res.headers.get('ratelimit-remaining')).toBe('10');
      await expectPort(res, 'ok');
      await untilCharged(gw, id, i, 'nothing');
    }
    expect(await charges(gw, id)).toEqual({ charged: 0, nothing: 2, failed: 0 });
  });
});

const redisUp = await sharedRedisAvailable();

describe.runIf(redisUp)('token budgets shared by two replicas (Redis)', () => {
  const prefix = testPrefix('budget');
  let upstream: TestUpstream;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    upstream = await chatUpstream();
    const settings = { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix };
    const workflows = [budgeted('budget-shared', '/shared', { limit: BUDGET })];
    first = await startGateway(workflows, { demo: false, env: { SLUICE_UPSTREAM_LLM: upstream.url }, settings });
    second = await startGateway(workflows, { demo: false, env: { SLUICE_UPSTREAM_LLM: upstream.url }, settings });
  }, 60_000);
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await upstream?.close();
    await deletePrefix(SHARED_REDIS_URL, prefix);
  });

  it('tokens spent through the first replica are refused on the second, with 429 and the RateLimit headers in tokens', async () => {
    const spent = await client(first, '/shared', 'zeta').chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 90, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
    for await (const chunk of spent) void chunk;
    await untilCharged(first, 'budget-shared', 1);

    const refused = await client(second, '/shared', 'zeta').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (refused as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers.get('ratelimit-limit')).toBe(String(BUDGET));
    expect(headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
    // another team still has its whole budget on either replica
    const other = await client(second, '/shared', 'eta').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(other.response.headers.get('ratelimit-remaining')).toBe('100');
  });
});
