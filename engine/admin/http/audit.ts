/** The audit log: its entries, and a walk of its hash chain. */
import { z } from 'zod';
import { auditListSchema, auditVerificationSchema } from '../../../shared/admin/index.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const auditQuery = z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() }).strict();

export function auditEndpoints({ store }: AdminContext): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get', path: '/audit', permission: 'audit', summary: 'Audit log entries, oldest first', query: auditQuery, response: auditListSchema,
      handler: async ({ query }) => ({ entries: await store.audit({ ...(query.after === undefined ? {} : { after: query.after }), ...(query.limit === undefined ? {} : { limit: query.limit }) }) }),
    }),
    defineEndpoint({
      method: 'get', path: '/audit/verify', permission: 'audit', summary: 'Walk the audit chain; report the first edited, missing or reordered entry', response: auditVerificationSchema,
      handler: () => store.verifyAudit(),
    }),
  ];
}
