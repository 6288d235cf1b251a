import { z } from 'zod';
import { errorIdSchema } from '../schema/catalog.ts';
import { defineKind } from './kind.ts';

const errorConfig = z
  .object({
    error: errorIdSchema.meta({ title: 'Catalog error', description: 'Id of the catalog error to answer with.', format: 'catalog-error' }),
    params: z.record(z.string(), z.string()).default({}).meta({ title: 'Detail values', description: 'Values for the {placeholders} of the error\'s detail.' }),
  })
  .strict();

export type ErrorConfig = z.infer<typeof errorConfig>;

export const errorKind = defineKind<ErrorConfig>({
  kind: 'error',
  title: 'Error',
  category: 'Answer',
  description: 'Answers with a catalog error as application/problem+json.',
  config: errorConfig,
  ports: (c) => [{ name: 'raise', description: 'The error is answered.', unwired: { error: c.error } }],
  errors: [],
  expressions: () => [],
  terminal: true,
});
