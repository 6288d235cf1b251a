import type { RateLimitConfig } from '../../shared/nodes/index.ts';
import { durationMs } from '../../shared/schema/index.ts';
import type { RateLimitDecision } from './rate-limit-store.ts';
import type { Exchange, Runtime } from './types.ts';

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Limits requests per key with the process's rate-limit store (in memory, or Redis shared by
 * every replica; then `onStoreDown` decides while Redis cannot be reached). Counters are keyed by
 * workflow and node, so a new version of the workflow keeps counting where the last stopped.
 * A request without the key's value (no partner yet, no such header) is counted by client IP.
 */
export const rateLimit: Runtime<RateLimitConfig> = (config, context) => {
  const store = context.rateLimits;
  const windowMs = durationMs(config.window);
  const limit = config.limit;
  const prefix = `${context.workflowId}:${context.nodeId}:`;
  const name = config.name ?? '';
  const headerName = name.toLowerCase();
  const keyExpression = config.key === 'expression' && config.expression ? context.expression(config.expression) : undefined;

  const keyOf: (exchange: Exchange) => string | undefined | Promise<string | undefined> = {
    partner: (ex: Exchange) => ex.partner,
    subject: (ex: Exchange) => ex.subject,
    ip: (ex: Exchange) => ex.clientIp,
    claim: (ex: Exchange) => {
      const value = ex.claims?.[name];
      // JSON, not String(): every object claim would otherwise count as "[object Object]"
      return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
    },
    header: (ex: Exchange) => firstHeader(ex.request.headers[headerName]),
    expression: async (ex: Exchange) => {
      const value = await keyExpression!.evaluate(ex);
      return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
    },
    global: () => '*',
  }[config.key];

  const limitText = String(limit);
  const onStoreDown = config.onStoreDown;
  const decide = (exchange: Exchange, decision: RateLimitDecision) => {
    if (decision.storeDown !== undefined) {
      exchange.rateLimitStoreDown = decision.storeDown;
      if (decision.storeDown === 'allow') return 'ok'; // nothing was counted: no RateLimit-* headers to tell
      if (decision.storeDown === 'deny') return 'unavailable';
    }
    const headers = (exchange.answerHeaders ??= {});
    headers['ratelimit-limit'] = limitText;
    headers['ratelimit-remaining'] = String(decision.remaining);
    headers['ratelimit-reset'] = String(decision.resetSeconds);
    if (decision.allowed) return 'ok';
    headers['retry-after'] = String(decision.retryAfterSeconds);
    exchange.problemParams = { ...exchange.problemParams, limit: String(limit), window: config.window, retryAfter: String(decision.retryAfterSeconds) };
    return 'limited';
  };

  const count = (exchange: Exchange, key: string | undefined) => {
    // namespaced, so a key value such as "ip:10.0.0.1" never shares the counter of a client counted by address
    const decision = store.hit(key === undefined ? `${prefix}ip:${exchange.clientIp}` : `${prefix}k:${key}`, limit, windowMs, onStoreDown);
    return decision instanceof Promise ? decision.then((d) => decide(exchange, d)) : decide(exchange, decision);
  };

  return {
    run: function rateLimit(exchange) {
      const key = keyOf(exchange);
      return key instanceof Promise ? key.then((k) => count(exchange, k)) : count(exchange, key);
    },
  };
};
