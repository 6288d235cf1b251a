import type { ErrorConfig } from '../../shared/nodes/index.ts';
import type { Runtime } from './types.ts';

/**
 * Answers with a catalog error: the engine renders it when the node exits by "raise". The
 * detail's placeholders are filled from the route's params and the node's own values.
 */
export const errorNode: Runtime<ErrorConfig> = (config) => {
  const params = config.params;
  return {
    run: function errorNode(exchange) {
      exchange.problemParams = { ...exchange.request.params, ...exchange.problemParams, ...params };
      return 'raise';
    },
  };
};
