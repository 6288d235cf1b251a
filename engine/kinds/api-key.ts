import { createHash } from 'node:crypto';
import type { ApiKeyConfig } from '../../shared/nodes/index.ts';
import { admit } from './support/partner-admission.ts';
import { keyRecordOf } from './support/partner-directory.ts';
import type { Runtime } from './types.ts';

/** The stored form of an API key: never the key itself. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * Identifies the partner by API key: the presented key is hashed and looked up in a map built at
 * publish (inline keys) or, with source "partners", found by its prefix in the partner directory
 * of the current store revision. Then the partner's access to this workflow is checked.
 */
export const apiKey: Runtime<ApiKeyConfig> = (config, context) => {
  const byHash = new Map(config.keys.map((k) => [k.hash, { partner: k.partner, scopes: k.scopes }]));
  const header = config.header.toLowerCase();
  const queryName = config.query;
  const partners = config.source === 'partners' ? context.partners : undefined;
  const access = context.partners;
  const workflowId = context.workflowId;
  return {
    run: function apiKey(exchange) {
      let presented = exchange.request.headers[header];
      if (Array.isArray(presented)) presented = presented[0];
      if ((presented === undefined || presented === '') && queryName !== undefined) {
        const fromQuery = exchange.request.query[queryName];
        presented = Array.isArray(fromQuery) ? fromQuery[0] : fromQuery;
      }
      if (presented === undefined || presented === '') return 'missing';
      const hash = hashApiKey(presented);
      const entry = byHash.get(hash);
      if (entry !== undefined) {
        exchange.partner = entry.partner;
        exchange.scopes = entry.scopes;
      } else {
        const key = partners === undefined ? undefined : keyRecordOf(partners.current, presented);
        // Both sides are SHA-256 digests: comparing them leaks nothing an attacker can steer.
        const now = Date.now();
        if (key === undefined || key.hash !== hash || key.expiresAt <= now) return 'invalid';
        partners!.lastUsed.set(key.id, now);
        exchange.partner = key.partner;
        exchange.keyId = key.id;
        exchange.scopes = key.scopes;
      }
      return admit(access.current, exchange, workflowId);
    },
  };
};
