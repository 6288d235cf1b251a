/** The admin API's answers of the audit log. */
import { z } from 'zod';

const auditEntrySchema = z.object({
  seq: z.number().int(),
  time: z.string(),
  actor: z.string(),
  role: z.string(),
  via: z.literal('mcp').optional(),
  action: z.string(),
  workflow: z.string().optional(),
  fragment: z.string().optional(),
  version: z.number().int().optional(),
  partner: z.string().optional(),
  product: z.string().optional(),
  plan: z.string().optional(),
  documentHash: z.string().optional(),
  detail: z.string().optional(),
  count: z.number().int().optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export const auditListSchema = z.object({ entries: z.array(auditEntrySchema) });

/** GET /audit/verify: the chain holds, or where it first breaks. */
export const auditVerificationSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), entries: z.number().int(), head: z.string() }),
  z.object({ ok: z.literal(false), entries: z.number().int(), at: z.number().int(), position: z.number().int(), problem: z.enum(['hash_mismatch', 'broken_link', 'sequence_gap', 'malformed', 'truncated', 'head_mismatch']), message: z.string() }),
]);
