import { z } from 'zod';
import { exitNameSchema, MAX_EXITS } from '../schema/fragment.ts';
import { idSchema } from '../schema/workflow.ts';
import { defineKind } from './kind.ts';

const subflowConfig = z
  .object({
    fragment: idSchema.meta({ title: 'Fragment', description: 'The shared flow this node runs.', format: 'fragment' }),
    version: z.number().int().min(1).optional().meta({ title: 'Pinned version', description: 'Run this published version of the fragment; absent: its active version, so a fragment publish reaches this workflow.' }),
    exits: z
      .array(exitNameSchema)
      .min(1)
      .max(MAX_EXITS)
      .refine((exits) => new Set(exits).size === exits.length, 'each exit once')
      .meta({ title: 'Exits', description: 'The fragment\'s exits, which are this node\'s ports; a fragment whose exits differ is refused, naming this field.' }),
  })
  .strict();

export type SubflowConfig = z.infer<typeof subflowConfig>;

export const subflowKind = defineKind<SubflowConfig>({
  kind: 'subflow',
  title: 'Subflow',
  category: 'Flow',
  description: 'Runs a shared flow (a fragment), inlined when the workflow is published; leaves by the fragment\'s exits.',
  config: subflowConfig,
  ports: (c) => c.exits.map((name) => ({ name, description: `The fragment leaves by its exit "${name}".`, unwired: 'required' as const })),
  // Its nodes' errors are the fragment's: the contract reads them from the inlined nodes.
  errors: [],
  expressions: () => [],
});
