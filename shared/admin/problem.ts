import { z } from 'zod';
import type { ValidationProblem } from '../compile/validate.ts';
import { PROBLEM_CODES } from '../compile/validate.ts';

/** A problem in a workflow or a request body, pinned to a node or field where it has one. */
export const validationProblemSchema = z.object({
  code: z.enum([...PROBLEM_CODES, 'test_failed', 'rule_broken']),
  message: z.string(),
  node: z.string().optional(),
  field: z.string().optional(),
}) satisfies z.ZodType<ValidationProblem>;

/** An RFC 9457 problem as the admin API answers it, with the extensions the editor reads. */
export const adminProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string(),
  traceId: z.string().optional(),
  problems: z.array(validationProblemSchema).optional().meta({ description: 'What to fix, pinned to nodes and fields.' }),
  currentRevision: z.number().int().optional().meta({ description: 'A stale draft save (409): the revision saved in between.' }),
  updatedBy: z.string().optional().meta({ description: 'A stale draft save (409): who saved in between.' }),
  updatedAt: z.string().optional().meta({ description: 'A stale draft save (409): when.' }),
});
export type AdminProblem = z.infer<typeof adminProblemSchema>;
