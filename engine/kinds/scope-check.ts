import type { ScopeCheckConfig } from '../../shared/nodes/index.ts';
import type { Runtime } from './types.ts';

/** Requires all of / any of the scopes; a denial names what is missing. */
export const scopeCheck: Runtime<ScopeCheckConfig> = (config) => {
  const all = config.all;
  const any = config.any;
  return {
    run: function scopeCheck(exchange) {
      const granted = exchange.scopes;
      let missing: string[] | undefined;
      for (const scope of all) if (!granted.includes(scope)) (missing ??= []).push(scope);
      if (missing === undefined && any.length > 0 && !any.some((scope) => granted.includes(scope))) missing = [`one of ${any.join(', ')}`];
      if (missing === undefined) return 'ok';
      exchange.problemParams = { missing: missing.join(' ') };
      return 'denied';
    },
  };
};
