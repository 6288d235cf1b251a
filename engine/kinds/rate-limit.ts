import type { RateLimitConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import type { ResolvedLimit } from './support/partner-directory.ts';
import { jsonBodyOf, llmRequestOf } from './support/llm-request.ts';
import type { RateLimitDecision } from './support/rate-limit-store.ts';
import { keepPromptEstimate, tokenCounter, workersOf } from './support/token-count.ts';
import type { BoundExpression, Exchange, Runtime } from './types.ts';

/**
 * A claim's or an expression's value as a counter key: JSON for anything but a string (not
 * String(): every object would count as "[object Object]"); nothing for null, nor for undefined
 * (JSON.stringify(undefined) is undefined).
 */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return value === null ? undefined : JSON.stringify(value);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Limits requests per key with the process's rate-limit store (in memory, or Redis shared by
 * every replica; then `onStoreDown` decides while Redis cannot be reached). Counters are keyed by
 * workflow and node, so a new version of the workflow keeps counting where the last stopped.
 * A request without the key's value (no partner yet, no such header) is counted by client IP.
 * With limit "plan", the limit and window are the partner's for this workflow, looked up per request
 * in the partner directory in force (then `fallbackLimit`; without it the request is refused).
 * With a cost the node is a token budget: see `budget` below.
 */
export const rateLimit: Runtime<RateLimitConfig> = (config, context) => {
  const store = context.rateLimits;
  const windowMs = durationMs(config.window);
  // Stryker disable next-line StringLiteral: equivalent: only the partner directory's limits are read for their product (upstream-llm, evidence), never a node's own or fallback limit
  const fixed = (limit: number): ResolvedLimit => ({ limit, windowMs, window: config.window, text: String(limit), product: '' });
  const own = config.limit === 'plan' ? undefined : fixed(config.limit);
  const fallback = config.fallbackLimit === undefined ? undefined : fixed(config.fallbackLimit);
  const partners = context.partners;
  const workflowId = context.workflowId;
  const costs = config.cost === undefined ? undefined : context.expression(config.cost);
  const planned = (exchange: Exchange): ResolvedLimit | undefined => {
    const limit = exchange.partner === undefined ? undefined : partners.current.partners.get(exchange.partner)?.limits.get(workflowId);
    return costs === undefined ? limit : limit?.tokens;
  };
  const limitOf = (exchange: Exchange): ResolvedLimit | undefined => own ?? planned(exchange) ?? fallback;
  const prefix = `${context.workflowId}:${context.nodeId}:`;
  // Stryker disable next-line StringLiteral: equivalent: only the claim and header keys read the name, and the schema requires one with them
  const name = config.name ?? '';
  const headerName = name.toLowerCase();
  const keyExpression = config.key === 'expression' && config.expression ? context.expression(config.expression) : undefined;

  const keyOf: (exchange: Exchange) => string | undefined | Promise<string | undefined> = {
    partner: (ex: Exchange) => ex.partner,
    subject: (ex: Exchange) => ex.subject,
    // Stryker disable next-line ArrowFunction: equivalent: a request without a key value is counted by its client address too (counterOf), and every request of an ip node takes the same branch: one counter per address either way
    ip: (ex: Exchange) => ex.clientIp,
    claim: (ex: Exchange) => keyText(ex.claims?.[name]),
    header: (ex: Exchange) => firstHeader(ex.request.headers[headerName]),
    expression: keyExpression?.evaluateNow
      ? (ex: Exchange) => keyText(keyExpression.evaluateNow!(ex))
      : async (ex: Exchange) => keyText(await keyExpression!.evaluate(ex)),
    // Stryker disable next-line StringLiteral: equivalent: every request of a global node counts under this one constant, in the node's own namespace; which constant it is cannot be seen
    global: () => '*',
  }[config.key];

  const onStoreDown = config.onStoreDown;
  /** The port of a decision, with the RateLimit-* headers and, for a refusal, its problem's values (a token budget's `refusal` adds its own). */
  const decide = (exchange: Exchange, limit: ResolvedLimit, decision: RateLimitDecision, refusal?: Record<string, string>) => {
    // for the request log: the choice that decided (a later node's replaces an earlier one's; a counted decision keeps it)
    exchange.rateLimitStoreDown = decision.storeDown ?? exchange.rateLimitStoreDown;
    if (decision.storeDown === 'allow') return 'ok'; // nothing was counted: no RateLimit-* headers to tell
    if (decision.storeDown === 'deny') return 'unavailable';
    const headers = (exchange.answerHeaders ??= {});
    headers['ratelimit-limit'] = limit.text;
    headers['ratelimit-remaining'] = String(decision.remaining);
    headers['ratelimit-reset'] = String(decision.resetSeconds);
    if (decision.allowed) return 'ok';
    headers['retry-after'] = String(decision.retryAfterSeconds);
    exchange.problemParams = { ...exchange.problemParams, limit: limit.text, window: limit.window, retryAfter: String(decision.retryAfterSeconds), ...refusal };
    return 'limited';
  };
  /** No plan limit and no fallback: nothing is allowed, and nothing is counted. */
  const noPlan = (exchange: Exchange) => {
    const headers = (exchange.answerHeaders ??= {});
    headers['ratelimit-limit'] = '0';
    headers['ratelimit-remaining'] = '0';
    exchange.problemParams = { ...exchange.problemParams, limit: '0', window: config.window, retryAfter: String(Math.ceil(windowMs / 1000)) };
    return 'limited';
  };

  // namespaced, so a key value such as "ip:10.0.0.1" never shares the counter of a client counted by address
  const counterOf = (exchange: Exchange, key: string | undefined) => (key === undefined ? `${prefix}ip:${exchange.clientIp}` : `${prefix}k:${key}`);

  const count = (exchange: Exchange, key: string | undefined) => {
    const limit = limitOf(exchange);
    if (limit === undefined) return noPlan(exchange);
    const decision = store.hit(counterOf(exchange, key), limit.limit, limit.windowMs, onStoreDown, prefix);
    return decision instanceof Promise ? decision.then((d) => decide(exchange, limit, d)) : decide(exchange, limit, decision);
  };

  if (costs !== undefined) {
    const budget = tokenBudget(costs, workersOf(context), context.counts(['charged', 'nothing', 'failed']));
    const run = async function rateLimit(exchange: Exchange) {
      const counter = counterOf(exchange, await keyOf(exchange));
      const need = await budget.need(exchange);
      const limit = limitOf(exchange);
      if (limit === undefined) {
        exchange.problemParams = { ...exchange.problemParams, need: String(need), remaining: '0' };
        return noPlan(exchange);
      }
      const decision = await store.check(counter, need, limit.limit, limit.windowMs, onStoreDown, prefix);
      const port = decide(exchange, limit, decision, { need: String(need), remaining: String(decision.remaining) });
      // nothing was counted when the store was down and onStoreDown let the request through: nothing to charge either
      if (port === 'ok' && decision.storeDown !== 'allow') exchange.onEnd(() => void budget.charge(exchange, (amount) => store.charge(counter, amount, limit.windowMs, onStoreDown, prefix)));
      return port;
    };
    return { run };
  }

  return {
    run: function rateLimit(exchange) {
      const key = keyOf(exchange);
      return key instanceof Promise ? key.then((k) => count(exchange, k)) : count(exchange, key);
    },
  };
};

/** Largest cost charged for one request: a cost expression's runaway value cannot poison a counter. */
const MAX_COST = 1_000_000_000_000;

/**
 * A rate-limit node with a cost limits the sum of costs per window (a token budget), in two steps:
 * before the call, whether the prompt's estimated tokens fit in what is left (at least one unit
 * must be left), counting nothing; once the request is done (a streamed answer finished: it is
 * never cut), its cost, evaluated on the whole exchange (`llm.usage`), is charged whether it fits
 * or not, so that the next request is refused; an LLM request that never reached the model (the
 * allow-list or a later node refused it) costs nothing. Concurrent requests may each pass the
 * check: what they cost is charged all the same.
 */
function tokenBudget(costs: BoundExpression, workers: ReturnType<typeof workersOf>, charges: Record<'charged' | 'nothing' | 'failed', number>) {
  const tokens = tokenCounter(workers);
  return {
    /** The prompt's tokens, as an earlier node counted them or counted now; 1 for a request that is no LLM call. */
    async need(exchange: Exchange): Promise<number> {
      const known = exchange.llm?.usage;
      if (known !== undefined) return Math.max(1, known.input);
      const prompt = llmRequestOf(jsonBodyOf(exchange.request.body));
      if (prompt.api === undefined) return 1;
      const counted = await tokens.count(prompt.texts);
      keepPromptEstimate(exchange, prompt, counted.tokens);
      return Math.max(1, counted.tokens);
    },
    /** Charges the request's cost once its answer is complete; a cost that is not a positive number charges nothing. */
    async charge(exchange: Exchange, add: (amount: number) => void | Promise<void>): Promise<void> {
      let cost: unknown;
      try {
        await exchange.llm?.settled;
        // an LLM request that never reached the model (refused after this node) costs nothing
        if (exchange.llm !== undefined && exchange.llm.called !== true) {
          charges.nothing++;
          return;
        }
        cost = await costs.evaluate(exchange);
      } catch {
        charges.failed++; // charges nothing: the request was answered already
        return;
      }
      if (typeof cost !== 'number' || !(cost > 0)) {
        charges.nothing++;
        return;
      }
      try {
        await add(Math.min(MAX_COST, Math.ceil(cost)));
        charges.charged++;
      } catch {
        charges.failed++;
      }
    },
  };
}
