import { GATEWAY_MANAGED_HEADERS } from '../../shared/nodes/headers.ts';
import type { RespondConfig } from '../../shared/nodes/index.ts';
import { copyOwn } from './support/own-members.ts';
import type { Runtime } from './types.ts';

/**
 * Answers with a static or templated response. Hop-by-hop and framing headers are left out:
 * validation refuses them, and whatever reaches a runtime, the answer's framing is the gateway's.
 */
export const respond: Runtime<RespondConfig> = (config, context) => {
  const status = config.status;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    const lower = name.toLowerCase();
    if (!GATEWAY_MANAGED_HEADERS.has(lower)) headers[lower] = value;
  }
  // a string body goes out as is: say it is text, unless the node says what it is
  const textHeaders = headers['content-type'] === undefined ? { ...headers, 'content-type': 'text/plain; charset=utf-8' } : headers;
  // a copy per answer (later nodes and the writer add to it), member by member (copyOwn says why)
  const headersFor = (body: unknown) => copyOwn(typeof body === 'string' ? textHeaders : headers);
  const bodyExpression = config.bodyExpression ? context.expression(config.bodyExpression) : undefined;
  const staticBody = config.body;
  if (bodyExpression === undefined) {
    return {
      run: function respond(exchange) {
        exchange.response = { status, headers: headersFor(staticBody), body: staticBody };
        return 'done';
      },
    };
  }
  const now = bodyExpression.evaluateNow;
  // Stryker disable next-line ConditionalExpression: equivalent: a plain-code expression's evaluate is its evaluateNow awaited; this only spares a promise hop
  if (now !== undefined)
    return {
      run: function respond(exchange) {
        const body = now(exchange);
        exchange.response = { status, headers: headersFor(body), body };
        return 'done';
      },
    };
  return {
    run: async function respond(exchange) {
      const body = await bodyExpression.evaluate(exchange);
      exchange.response = { status, headers: headersFor(body), body };
      return 'done';
    },
  };
};
