import { z } from 'zod';
import { defineKind, mentionsBody } from './kind.ts';

const conditionConfig = z
  .object({
    when: z.string().min(1).max(10_000).meta({ title: 'Condition', description: 'JSONata predicate over request, claims, partner, vars, response.', format: 'jsonata' }),
  })
  .strict();

export type ConditionConfig = z.infer<typeof conditionConfig>;

export const conditionKind = defineKind<ConditionConfig>({
  kind: 'condition',
  title: 'Condition',
  category: 'Flow',
  description: 'Branches on a JSONata predicate: true or false.',
  config: conditionConfig,
  ports: () => [
    { name: 'true', description: 'The predicate is truthy.', unwired: 'required' },
    { name: 'false', description: 'The predicate is falsy.', unwired: 'required' },
  ],
  errors: ['expression_failed'],
  expressions: (c) => [{ field: 'when', source: c.when }],
  readsRequestBody: (c) => mentionsBody([{ field: 'when', source: c.when }]),
});
