import type { ValidationProblem } from '../../shared/compile/index.ts';
import { compileExpression } from '../kinds/support/expression.ts';
import { PrepareError } from '../kinds/prepare-error.ts';
import type { Exchange } from '../kinds/types.ts';
import type { CompileDependencies, CompiledWorkflow } from './types.ts';

/** The log fields compiled; one that cannot be (a regex RE2 cannot run) is a problem naming its field. */
export function loggedFieldsOf(fields: Record<string, string> | undefined, deps: CompileDependencies, problems: ValidationProblem[]): CompiledWorkflow['loggedFields'] {
  const entries = Object.entries(fields ?? {});
  if (entries.length === 0) return undefined;
  const compiled: NonNullable<CompiledWorkflow['loggedFields']>[number][] = [];
  for (const [name, source] of entries) {
    try {
      compiled.push({ name, expression: compileExpression(source, deps.expressionLimits, deps.expressionPool) });
    } catch (error) {
      if (!(error instanceof PrepareError)) throw error;
      problems.push({ code: 'invalid_config', message: error.message, field: `log.fields.${name}` });
    }
  }
  return compiled;
}

/**
 * The opted-in log fields of a finished request as JSON members; a field whose expression
 * fails is logged as null with the failure, never failing the request.
 */
export async function evaluateLoggedFields(fields: NonNullable<CompiledWorkflow['loggedFields']>, exchange: Exchange): Promise<string> {
  const values: Record<string, unknown> = {};
  for (const { name, expression } of fields) {
    try {
      values[name] = (await expression.evaluate(exchange)) ?? null;
    } catch (error) {
      values[name] = null;
      values[`${name}Error`] = (error as Error).message;
    }
  }
  return JSON.stringify(values);
}
