import type { TransformResponseConfig } from '../../shared/nodes/index.ts';
import { evaluateField, FieldFailed } from './expression.ts';
import { mergeHeaders } from './headers.ts';
import type { Exchange, Runtime } from './types.ts';

function fail(exchange: Exchange, reason: string) {
  exchange.problemParams = { ...exchange.problemParams, reason };
  return 'error';
}

/**
 * Reshapes the response: status, headers and body, each from a JSONata expression. Any
 * failure exits by "error". The status is a final one (200-599): a 1xx status would leave the
 * client waiting for the real answer.
 */
export const transformResponse: Runtime<TransformResponseConfig> = (config, context) => {
  const compile = (source: string | undefined) => (source === undefined ? undefined : context.expression(source));
  const status = compile(config.status);
  const headers = compile(config.headers);
  const body = compile(config.body);
  const remove = config.removeHeaders.map((h) => h.toLowerCase());

  async function apply(exchange: Exchange): Promise<string> {
    const response = exchange.response!; // the validator guarantees a response on every path here
    for (const name of remove) delete response.headers[name];
    if (status) {
      const next = await evaluateField('status', status, exchange);
      if (typeof next !== 'number' || !Number.isInteger(next) || next < 200 || next > 599) return fail(exchange, 'status must be an integer from 200 to 599');
      response.status = next;
    }
    if (headers) {
      const problem = mergeHeaders(response.headers as Record<string, string | string[] | undefined>, await evaluateField('headers', headers, exchange));
      if (problem) return fail(exchange, problem);
    }
    if (body) {
      response.body = await evaluateField('body', body, exchange);
      delete response.headers['content-length'];
      delete response.headers['content-encoding'];
      response.headers['content-type'] = 'application/json; charset=utf-8';
    }
    return 'ok';
  }

  return {
    run: async function transformResponse(exchange) {
      try {
        return await apply(exchange);
      } catch (error) {
        if (error instanceof FieldFailed) return fail(exchange, error.reason);
        throw error;
      }
    },
  };
};
