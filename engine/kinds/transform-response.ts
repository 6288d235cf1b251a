import type { TransformResponseConfig } from '../../shared/nodes/index.ts';
import { failWith } from './support/errors.ts';
import { runFieldSteps, type FieldSteps } from './support/expression.ts';
import { mergeHeaders } from './support/headers.ts';
import type { Exchange, Runtime } from './types.ts';

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

  function* steps(exchange: Exchange): FieldSteps {
    const response = exchange.response!; // the validator guarantees a response on every path here
    for (const name of remove) delete response.headers[name];
    if (status) {
      const next = yield { field: 'status', expression: status };
      if (typeof next !== 'number' || !Number.isInteger(next) || next < 200 || next > 599) return failWith(exchange, 'status must be an integer from 200 to 599');
      response.status = next;
    }
    if (headers) {
      const problem = mergeHeaders(response.headers as Record<string, string | string[] | undefined>, yield { field: 'headers', expression: headers });
      if (problem) return failWith(exchange, problem);
    }
    if (body) {
      response.body = yield { field: 'body', expression: body };
      delete response.headers['content-length'];
      delete response.headers['content-encoding'];
      response.headers['content-type'] = 'application/json; charset=utf-8';
    }
    return 'ok';
  }

  return { run: runFieldSteps(steps) };
};
