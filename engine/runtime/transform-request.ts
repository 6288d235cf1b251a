import type { TransformRequestConfig } from '../../shared/nodes/index.ts';
import { evaluateField, FieldFailed } from './expression.ts';
import { mergeHeaders } from './headers.ts';
import type { Exchange, Runtime } from './types.ts';

function fail(exchange: Exchange, reason: string) {
  exchange.problemParams = { ...exchange.problemParams, reason };
  return 'error';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reshapes the request: headers, query, body, path and vars, each from a JSONata expression,
 * in that order (each sees the changes before it). Any failure exits by "error"; changes made
 * before the failure stay.
 */
export const transformRequest: Runtime<TransformRequestConfig> = (config, context) => {
  const compile = (source: string | undefined) => (source === undefined ? undefined : context.expression(source));
  const headers = compile(config.headers);
  const query = compile(config.query);
  const body = compile(config.body);
  const path = compile(config.path);
  const vars = compile(config.vars);
  const remove = config.removeHeaders.map((h) => h.toLowerCase());

  async function apply(exchange: Exchange): Promise<string> {
    const request = exchange.request;
    for (const name of remove) delete request.headers[name];
    if (headers) {
      const problem = mergeHeaders(request.headers, await evaluateField('headers', headers, exchange));
      if (problem) return fail(exchange, problem);
    }
    if (query) {
      const changes = await evaluateField('query', query, exchange);
      if (changes !== undefined) {
        if (!isRecord(changes)) return fail(exchange, 'query must be an object of name -> value');
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) delete request.query[name];
          else request.query[name] = Array.isArray(value) ? value.map(String) : String(value);
        }
      }
    }
    if (path) {
      const next = await evaluateField('path', path, exchange);
      if (typeof next !== 'string' || !next.startsWith('/') || /[\s\0]/.test(next)) return fail(exchange, 'path must be a string starting with "/" without spaces');
      request.path = next;
    }
    if (body) request.body = await evaluateField('body', body, exchange);
    if (vars) {
      const more = await evaluateField('vars', vars, exchange);
      if (more !== undefined) {
        if (!isRecord(more)) return fail(exchange, 'vars must be an object');
        Object.assign(exchange.vars, more);
      }
    }
    return 'ok';
  }

  return {
    run: async function transformRequest(exchange) {
      try {
        return await apply(exchange);
      } catch (error) {
        if (error instanceof FieldFailed) return fail(exchange, error.reason);
        throw error;
      }
    },
  };
};
