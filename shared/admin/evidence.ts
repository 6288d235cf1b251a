/**
 * Evidence as the admin API answers it: one record per request (the request log's field names and
 * join keys: traceId, partner, product, workflow, version, outcome), counts over time, and one
 * trace with the audit entries around it.
 */
import { z } from 'zod';
import { auditListSchema } from './audit.ts';

const nullableText = z.string().nullable();

/** One request as evidence keeps it. Absent values are null; no credential, token or body. */
const evidenceRecordSchema = z.object({
  time: z.number().meta({ description: 'When the answer was done, ms since the epoch.' }),
  traceId: z.string(),
  replica: z.string().meta({ description: 'The process that served it.' }),
  method: z.string(),
  partner: nullableText,
  product: nullableText.meta({ description: 'The API product the partner reached the workflow through.' }),
  workflow: nullableText,
  version: z.number().int().nullable().meta({ description: 'The version that served it.' }),
  route: nullableText.meta({ description: 'The route pattern (not the URL).' }),
  subject: nullableText.meta({ description: 'The token subject as the request log names it (hashed by default).' }),
  credential: nullableText.meta({ description: 'The kind of the identity node that admitted the caller.' }),
  keyId: nullableText.meta({ description: 'The public id of the partner key or HMAC secret (never the key).' }),
  nodes: z.array(z.string()).meta({ description: 'The node path with the port each left by: "verify:ok".' }),
  outcome: z.string(),
  status: z.number().int(),
  problem: nullableText.meta({ description: 'The problem type of a problem answer.' }),
  ms: z.number(),
  upstreamStatus: z.number().int().nullable(),
  upstreamMs: z.number().nullable(),
  model: nullableText,
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
});
export type EvidenceRecord = z.infer<typeof evidenceRecordSchema>;

/** The fields a query filters and groups by. */
export const EVIDENCE_DIMENSIONS = ['partner', 'product', 'workflow', 'version', 'outcome', 'status', 'problem', 'replica', 'credential'] as const;
export type EvidenceDimension = (typeof EVIDENCE_DIMENSIONS)[number];

/** GET /evidence: a page of records, newest first; `next` continues it. */
export const evidencePageSchema = z.object({
  from: z.number(),
  to: z.number(),
  records: z.array(evidenceRecordSchema),
  next: z.string().nullable().meta({ description: 'Pass as `before` for the next page; null on the last.' }),
});

/** GET /evidence/aggregate: counts by bucket and dimensions. */
export const evidenceAggregateSchema = z.object({
  from: z.number(),
  to: z.number(),
  bucketMs: z.number().nullable(),
  groups: z.array(
    z.object({
      bucket: z.number().nullable(),
      keys: z.partialRecord(z.enum(EVIDENCE_DIMENSIONS), z.string().nullable()),
      count: z.number().int(),
      meanMs: z.number(),
      maxMs: z.number(),
    }),
  ),
});

/** GET /evidence/traces/:traceId: the requests of a trace, and what was true then of their workflow and partner. */
export const evidenceTraceSchema = z.object({
  records: z.array(evidenceRecordSchema),
  /** The audit entries of the workflow and the partner around the first record's time. */
  audit: auditListSchema.shape.entries,
  /** The version that served, as it was published. */
  served: z.object({ workflow: z.string(), version: z.number().int(), publishedAt: z.string(), publishedBy: z.string(), note: z.string().optional() }).nullable(),
  /** Whether the partner was suspended at that time, by the audit log. */
  partnerSuspended: z.boolean().nullable(),
});
