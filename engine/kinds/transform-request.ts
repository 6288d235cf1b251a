import type { TransformRequestConfig } from '../../shared/nodes/index.ts';
import { failWith } from './support/errors.ts';
import { runFieldSteps, type FieldSteps } from './support/expression.ts';
import { mergeHeaders } from './support/headers.ts';
import { isAmbiguousPath } from './support/paths.ts';
import type { Exchange, Runtime } from './types.ts';

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

  function* steps(exchange: Exchange): FieldSteps {
    const request = exchange.request;
    for (const name of remove) delete request.headers[name];
    if (headers) {
      const problem = mergeHeaders(request.headers, yield { field: 'headers', expression: headers });
      if (problem) return failWith(exchange, problem);
    }
    if (query) {
      const changes = yield { field: 'query', expression: query };
      if (changes !== undefined) {
        if (!isRecord(changes)) return failWith(exchange, 'query must be an object of name -> value');
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) delete request.query[name];
          else request.query[name] = Array.isArray(value) ? value.map(String) : String(value);
        }
      }
    }
    if (path) {
      const next = yield { field: 'path', expression: path };
      if (typeof next !== 'string' || !next.startsWith('/') || /[\s\0]/.test(next)) return failWith(exchange, 'path must be a string starting with "/" without spaces');
      // a path built from the request (a query value, a param) must not climb out of where the route sends it
      if (isAmbiguousPath(next)) return failWith(exchange, 'path must not have "." or ".." segments or backslashes');
      request.path = next;
    }
    if (body) request.body = yield { field: 'body', expression: body };
    if (vars) {
      const more = yield { field: 'vars', expression: vars };
      if (more !== undefined) {
        if (!isRecord(more)) return failWith(exchange, 'vars must be an object');
        Object.assign(exchange.vars, more);
      }
    }
    return 'ok';
  }

  return { run: runFieldSteps(steps) };
};
