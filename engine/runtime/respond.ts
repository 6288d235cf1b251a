import type { RespondConfig } from '../../shared/nodes/index.ts';
import type { Runtime } from './types.ts';

/** Answers with a static or templated response. */
export const respond: Runtime<RespondConfig> = (config, context) => {
  const status = config.status;
  const headers = Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v]));
  // a string body goes out as is: say it is text, unless the node says what it is
  const textHeaders = headers['content-type'] === undefined ? { ...headers, 'content-type': 'text/plain; charset=utf-8' } : headers;
  const headersFor = (body: unknown) => ({ ...(typeof body === 'string' ? textHeaders : headers) });
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
