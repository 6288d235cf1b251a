import { createHash } from 'node:crypto';
import type { ApiKeyConfig } from '../../shared/nodes/index.ts';
import type { Runtime } from './types.ts';

/** The stored form of an API key: never the key itself. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** Identifies the partner by API key: the presented key is hashed and looked up in a map built at publish. */
export const apiKey: Runtime<ApiKeyConfig> = (config) => {
  const byHash = new Map(config.keys.map((k) => [k.hash, { partner: k.partner, scopes: k.scopes }]));
  const header = config.header.toLowerCase();
  const queryName = config.query;
  return {
    run: function apiKey(exchange) {
      let presented = exchange.request.headers[header];
      if (Array.isArray(presented)) presented = presented[0];
      if ((presented === undefined || presented === '') && queryName !== undefined) {
        const fromQuery = exchange.request.query[queryName];
        presented = Array.isArray(fromQuery) ? fromQuery[0] : fromQuery;
      }
      if (presented === undefined || presented === '') return 'missing';
      const entry = byHash.get(hashApiKey(presented));
      if (entry === undefined) return 'invalid';
      exchange.partner = entry.partner;
      exchange.scopes = entry.scopes;
      return 'ok';
    },
  };
};
