/** Canaries: a candidate version serving a share of a workflow's requests beside the active one. */
import { z } from 'zod';
import { MAX_PUBLISH_NOTE, type CanaryRecord } from '../schema/lifecycle.ts';

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'an HTTP header name');

const canaryStickinessSchema = z.union([
  z.object({ by: z.enum(['partner', 'subject', 'random']) }).strict(),
  z.object({ by: z.literal('header'), header: headerName.transform((name) => name.toLowerCase()) }).strict(),
]);

const canaryAbortSchema = z
  .object({
    margin: z.number().min(0.1).max(100).default(5).meta({ description: 'Percentage points by which the candidate\'s error/problem rate may exceed the active\'s before the gateway aborts the canary.' }),
    minSample: z.int().min(10).max(1_000_000).default(100).meta({ description: 'Requests each side must have served before the rates are compared.' }),
  })
  .strict();

/** POST /workflows/:id/canary: start a canary, or change the share of the running one. */
export const canaryStartSchema = z
  .object({
    version: z.int().min(1).optional().meta({ description: 'A published version to serve as the candidate; absent: the draft is published as a new version (checked and tested as a publish is) that serves as the candidate, not as the active version.' }),
    share: z.int().min(1).max(100).meta({ description: 'Percent of requests the candidate serves.' }),
    sticky: canaryStickinessSchema.default({ by: 'partner' }).meta({ description: 'What keeps a caller on one version: its partner, its token subject, a header, or nothing (random).' }),
    abort: canaryAbortSchema.default({ margin: 5, minSample: 100 }),
    note: z.string().max(MAX_PUBLISH_NOTE).optional().meta({ description: 'With a draft: the new version\'s note.' }),
  })
  .strict();

export const canaryRecordSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  share: z.number().int(),
  sticky: z.union([z.object({ by: z.enum(['partner', 'subject', 'random']) }), z.object({ by: z.literal('header'), header: z.string() })]),
  abort: z.object({ margin: z.number(), minSample: z.number().int() }),
  startedAt: z.string(),
  startedBy: z.string(),
}) satisfies z.ZodType<CanaryRecord>;

/** Requests a side served during the canary, and how many answered an error or a problem. */
const canarySideSchema = z.object({ version: z.number().int(), requests: z.number().int(), bad: z.number().int(), badRate: z.number().nullable() });

/** GET /workflows/:id/canary. */
export const canaryViewSchema = z.object({
  canary: canaryRecordSchema.nullable(),
  active: z.number().int().nullable(),
  /** Both sides' counts, summed over every replica when the store is Redis (this process's otherwise). */
  sides: z.object({ active: canarySideSchema, candidate: canarySideSchema }).nullable(),
  counted: z.enum(['replicas', 'process']),
});

export const canaryEndSchema = z.object({ active: z.number().int().nullable(), candidate: z.number().int(), outcome: z.enum(['promoted', 'aborted']) });
export const canaryAbortBodySchema = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

