import type { ValidateRequestConfig } from '../../shared/nodes/index.ts';
import { REQUEST_PARTS } from '../../shared/nodes/validate-request.ts';
import { PrepareError } from './prepare-error.ts';
import { compileFieldValidator, type FieldError, type FieldValidator } from './support/json-schema.ts';
import type { Exchange, Runtime } from './types.ts';

type Part = (typeof REQUEST_PARTS)[number];

/** What a part of the request is, as its schema checks it. */
const VALUE_OF: Record<Part, (exchange: Exchange) => unknown> = {
  body: (exchange) => exchange.request.body,
  query: (exchange) => exchange.request.query,
  params: (exchange) => exchange.request.params,
  headers: (exchange) => exchange.request.headers,
};

/**
 * Checks the request against JSON Schemas compiled here, once: every part is checked (all
 * failures at once, not the first), and a failing request leaves by `invalid` with the failing
 * fields in the problem's `errors` member (at most `maxErrors`) and the first in its detail.
 */
export const validateRequest: Runtime<ValidateRequestConfig> = async (config) => {
  const checks: Array<{ part: Part; validate: FieldValidator }> = [];
  for (const part of REQUEST_PARTS) {
    const schema = config[part];
    if (schema === undefined) continue;
    try {
      checks.push({ part, validate: await compileFieldValidator(schema, { coerce: part !== 'body' }) });
    } catch (error) {
      throw new PrepareError(`config.${part}`, `the ${part} schema cannot be used: ${(error as Error).message}`);
    }
  }
  const maxErrors = config.maxErrors;
  return {
    run: function validateRequest(exchange) {
      let errors: FieldError[] | undefined;
      for (const { part, validate } of checks) {
        const found = validate(VALUE_OF[part](exchange), `/${part}`);
        if (found.length > 0) (errors ??= []).push(...found);
      }
      if (errors === undefined) return 'ok';
      const listed = errors.slice(0, maxErrors);
      const first = listed[0]!;
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      exchange.problemParams = { ...exchange.problemParams, reason: `${first.pointer} ${first.detail}${more}` };
      exchange.problemMembers = { ...exchange.problemMembers, errors: listed };
      return 'invalid';
    },
  };
};
