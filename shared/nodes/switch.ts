import { z } from 'zod';
import { defineKind, mentionsBody } from './kind.ts';

const switchConfig = z
  .object({
    cases: z
      .array(
        z
          .object({
            port: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'port names are lower-case words').meta({ title: 'Port' }),
            when: z.string().min(1).max(10_000).meta({ title: 'Condition', format: 'jsonata' }),
          })
          .strict(),
      )
      .min(1)
      .max(64)
      .meta({ title: 'Cases', description: 'Tried in order; the first truthy one wins.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.cases.forEach((k, i) => {
      if (k.port === 'default') ctx.addIssue({ code: 'custom', path: ['cases', i, 'port'], message: '"default" is the port taken when no case matches' });
      if (seen.has(k.port)) ctx.addIssue({ code: 'custom', path: ['cases', i, 'port'], message: `duplicate port "${k.port}"` });
      seen.add(k.port);
    });
  });

export type SwitchConfig = z.infer<typeof switchConfig>;

const expressionsOf = (c: SwitchConfig) => c.cases.map((k, i) => ({ field: `cases.${i}.when`, source: k.when }));

export const switchKind = defineKind<SwitchConfig>({
  kind: 'switch',
  title: 'Switch',
  category: 'Flow',
  description: 'Takes the port of the first case whose JSONata predicate holds, else "default".',
  config: switchConfig,
  ports: (c) => [
    ...c.cases.map((k) => ({ name: k.port, description: `When ${k.when}`, unwired: 'required' as const })),
    { name: 'default', description: 'No case matched.', unwired: 'required' },
  ],
  errors: ['expression_failed'],
  expressions: expressionsOf,
  readsRequestBody: (c) => mentionsBody(expressionsOf(c)),
});
