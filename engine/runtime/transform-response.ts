import type { TransformResponseConfig } from '../../shared/nodes/index.ts';
import { mergeHeaders } from './headers.ts';
import type { Exchange, Runtime } from './types.ts';

function fail(exchange: Exchange, reason: string) {
  exchange.problemParams = { ...exchange.problemParams, reason };
  return 'error';
}

/** Reshapes the response: status, headers and body, each from a JSONata expression. */
export const transformResponse: Runtime<TransformResponseConfig> = (config, context) => {
  const compile = (source: string | undefined) => (source === undefined ? undefined : context.expression(source));
  const status = compile(config.status);
  const headers = compile(config.headers);
  const body = compile(config.body);
  const remove = config.removeHeaders.map((h) => h.toLowerCase());

  return {
    run: async function transformResponse(exchange) {
      const response = exchange.response!; // the validator guarantees a response on every path here
      for (const name of remove) delete response.headers[name];
      if (status) {
        const next = await status.evaluate(exchange);
        if (typeof next !== 'number' || !Number.isInteger(next) || next < 100 || next > 599) return fail(exchange, 'status must be an integer from 100 to 599');
        response.status = next;
      }
      if (headers) {
        const problem = mergeHeaders(response.headers as Record<string, string | string[] | undefined>, await headers.evaluate(exchange));
        if (problem) return fail(exchange, problem);
      }
      if (body) {
        response.body = await body.evaluate(exchange);
        delete response.headers['content-length'];
        delete response.headers['content-encoding'];
        response.headers['content-type'] = 'application/json; charset=utf-8';
      }
      return 'ok';
    },
  };
};
