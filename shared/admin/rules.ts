/** The admin API's answers about organisation rules. */
import { z } from 'zod';
import { ruleSchema } from '../schema/rules.ts';
import { validationProblemSchema } from './problem.ts';

/** An active workflow that breaks the rules, with each problem (it keeps serving: rules are listed, never enforced on what serves). */
const ruleViolatorSchema = z.object({
  workflow: z.string(),
  name: z.string().optional(),
  version: z.number().int().meta({ description: 'The active version that breaks the rules.' }),
  problems: z.array(validationProblemSchema),
});

/** GET /rules. */
export const rulesViewSchema = z.object({ revision: z.number().int(), rules: z.array(ruleSchema) });

/** GET /rules/violations: every active workflow that breaks the current rules. */
export const ruleViolationsSchema = z.object({ revision: z.number().int(), violators: z.array(ruleViolatorSchema) });

/** PUT /rules: the set stored, and the active workflows it leaves breaking it. */
export const rulesChangedSchema = rulesViewSchema.extend({ violators: z.array(ruleViolatorSchema) });
