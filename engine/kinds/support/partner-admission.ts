import type { Exchange } from '../types.ts';
import type { PartnerDirectory } from './partner-directory.ts';

/**
 * Whether the identified partner may call this workflow, right now: not when it is suspended, nor
 * when the workflow belongs to products and the partner subscribes to none of them (a partner the
 * directory does not know subscribes to nothing). Runs per request in the identifying node
 * (api-key, jwt-verify) right after it sets the partner: two map lookups, nothing cached.
 * @returns the port to exit by: `ok`, `suspended` or `unsubscribed`
 */
export function admit(directory: PartnerDirectory, exchange: Exchange, workflowId: string): 'ok' | 'suspended' | 'unsubscribed' {
  const id = exchange.partner;
  const partner = id === undefined ? undefined : directory.partners.get(id);
  if (partner !== undefined && partner.suspended) {
    exchange.problemParams = { ...exchange.problemParams, partner: partner.id };
    return 'suspended';
  }
  const products = directory.guarded.get(workflowId);
  if (products === undefined || (partner !== undefined && partner.workflows.has(workflowId))) return 'ok';
  exchange.problemParams = { ...exchange.problemParams, partner: id ?? 'unknown', product: products };
  return 'unsubscribed';
}
