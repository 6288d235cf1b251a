import type { ConditionConfig } from '../../shared/nodes/index.ts';
import { isTruthy } from './expression.ts';
import type { Runtime } from './types.ts';

/** Branches on a JSONata predicate, cast as JSONata's `$boolean` does. */
export const condition: Runtime<ConditionConfig> = (config, context) => {
  const predicate = context.expression(config.when);
  return {
    run: async function condition(exchange) {
      return isTruthy(await predicate.evaluate(exchange)) ? 'true' : 'false';
    },
  };
};
