import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestGateway } from '../../helpers/gateway.ts';
import { scrapeBy } from '../../helpers/metrics.ts';
import { deletePrefix, SHARED_REDIS_URL, sharedRedisAvailable, testPrefix } from '../../helpers/redis.ts';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.ts';
import { expectProblem, startGateway, workflow } from '../../helpers/workflow.ts';
import { ADMIN_TOKENS, adminOf, PEOPLE, untilApplied } from '../admin/support.ts';

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
