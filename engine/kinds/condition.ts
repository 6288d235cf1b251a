import type { ConditionConfig } from '../../shared/nodes/index.ts';
import { isTruthy } from './support/expression.ts';
import type { Runtime } from './types.ts';

/** Branches on a JSONata predicate, cast as JSONata's `$boolean` does; synchronous when the predicate compiles to plain code. */
export const condition: Runtime<ConditionConfig> = (config, context) => {
  const predicate = context.expression(config.when);
  const now = predicate.evaluateNow;
  if (now !== undefined)
    return {
      run: function condition(exchange) {
        return isTruthy(now(exchange)) ? 'true' : 'false';
      },
    };
  return {
    run: async function condition(exchange) {
      return isTruthy(await predicate.evaluate(exchange)) ? 'true' : 'false';
    },
  };
};
