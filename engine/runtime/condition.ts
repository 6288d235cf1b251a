import type { ConditionConfig } from '../../shared/nodes/index.ts';
import type { Runtime } from './types.ts';

/** Branches on a JSONata predicate. */
export const condition: Runtime<ConditionConfig> = (config, context) => {
  const predicate = context.expression(config.when);
  return {
    run: async function condition(exchange) {
      return (await predicate.evaluate(exchange)) ? 'true' : 'false';
    },
  };
};
