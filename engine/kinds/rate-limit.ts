import type { RateLimitConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import type { ResolvedLimit } from './support/partner-directory.ts';
import type { RateLimitDecision } from './support/rate-limit-store.ts';
import type { Exchange, Runtime } from './types.ts';

/**
 * A claim's or an expression's value as a counter key: JSON for anything but a string (not
 * String(): every object would count as "[object Object]"); nothing for null.
 */
function keyText(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
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
 */
export const rateLimit: Runtime<RateLimitConfig> = (config, context) => {
  const store = context.rateLimits;
  const windowMs = durationMs(config.window);
  const fixed = (limit: number): ResolvedLimit => ({ limit, windowMs, window: config.window, text: String(limit), product: '' });
  const own = config.limit === 'plan' ? undefined : fixed(config.limit);
  const fallback = config.fallbackLimit === undefined ? undefined : fixed(config.fallbackLimit);
  const partners = context.partners;
  const workflowId = context.workflowId;
  const limitOf = (exchange: Exchange): ResolvedLimit | undefined =>
    own ?? (exchange.partner === undefined ? undefined : partners.current.partners.get(exchange.partner)?.limits.get(workflowId)) ?? fallback;
  const prefix = `${context.workflowId}:${context.nodeId}:`;
  const name = config.name ?? '';
  const headerName = name.toLowerCase();
  const keyExpression = config.key === 'expression' && config.expression ? context.expression(config.expression) : undefined;

  const keyOf: (exchange: Exchange) => string | undefined | Promise<string | undefined> = {
    partner: (ex: Exchange) => ex.partner,
    subject: (ex: Exchange) => ex.subject,
    ip: (ex: Exchange) => ex.clientIp,
    claim: (ex: Exchange) => keyText(ex.claims?.[name]),
    header: (ex: Exchange) => firstHeader(ex.request.headers[headerName]),
    expression: keyExpression?.evaluateNow
      ? (ex: Exchange) => keyText(keyExpression.evaluateNow!(ex))
      : async (ex: Exchange) => keyText(await keyExpression!.evaluate(ex)),
    global: () => '*',
  }[config.key];

  const onStoreDown = config.onStoreDown;
  const decide = (exchange: Exchange, limit: ResolvedLimit, decision: RateLimitDecision) => {
    if (decision.storeDown !== undefined) {
      exchange.rateLimitStoreDown = decision.storeDown;
      if (decision.storeDown === 'allow') return 'ok'; // nothing was counted: no RateLimit-* headers to tell
      if (decision.storeDown === 'deny') return 'unavailable';
    }
    const headers = (exchange.answerHeaders ??= {});
    headers['ratelimit-limit'] = limit.text;
    headers['ratelimit-remaining'] = String(decision.remaining);
    headers['ratelimit-reset'] = String(decision.resetSeconds);
    if (decision.allowed) return 'ok';
    headers['retry-after'] = String(decision.retryAfterSeconds);
    exchange.problemParams = { ...exchange.problemParams, limit: limit.text, window: limit.window, retryAfter: String(decision.retryAfterSeconds) };
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

  const count = (exchange: Exchange, key: string | undefined) => {
    const limit = limitOf(exchange);
    if (limit === undefined) return noPlan(exchange);
    // namespaced, so a key value such as "ip:10.0.0.1" never shares the counter of a client counted by address
    const decision = store.hit(key === undefined ? `${prefix}ip:${exchange.clientIp}` : `${prefix}k:${key}`, limit.limit, limit.windowMs, onStoreDown, prefix);
    return decision instanceof Promise ? decision.then((d) => decide(exchange, limit, d)) : decide(exchange, limit, decision);
  };

  return {
    run: function rateLimit(exchange) {
      const key = keyOf(exchange);
      return key instanceof Promise ? key.then((k) => count(exchange, k)) : count(exchange, key);
    },
  };
};
