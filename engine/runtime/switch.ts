import type { SwitchConfig } from '../../shared/nodes/index.ts';
import { isTruthy } from './expression.ts';
import type { Runtime } from './types.ts';

/** Takes the port of the first case whose predicate holds (JSONata's `$boolean`), else "default". */
export const switchNode: Runtime<SwitchConfig> = (config, context) => {
  const cases = config.cases.map((c) => ({ port: c.port, predicate: context.expression(c.when) }));
  return {
    run: async function switchNode(exchange) {
      for (const c of cases) if (isTruthy(await c.predicate.evaluate(exchange))) return c.port;
      return 'default';
    },
  };
};
