import type { SwitchConfig } from '../../shared/nodes/index.ts';
import { isTruthy } from './support/expression.ts';
import type { Runtime } from './types.ts';

/** Takes the port of the first case whose predicate holds (JSONata's `$boolean`), else "default"; synchronous when every predicate compiles to plain code. */
export const switchNode: Runtime<SwitchConfig> = (config, context) => {
  const cases = config.cases.map((c) => ({ port: c.port, predicate: context.expression(c.when) }));
  // Stryker disable next-line all: equivalent: a plain-code predicate's evaluate is its evaluateNow awaited; this only spares a promise hop
  if (cases.every((c) => c.predicate.evaluateNow !== undefined))
    return {
      run: function switchNode(exchange) {
        for (const c of cases) if (isTruthy(c.predicate.evaluateNow!(exchange))) return c.port;
        return 'default';
      },
    };
  return {
    run: async function switchNode(exchange) {
      for (const c of cases) if (isTruthy(await c.predicate.evaluate(exchange))) return c.port;
      return 'default';
    },
  };
};
