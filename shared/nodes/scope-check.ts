import { z } from 'zod';
import { defineKind } from './kind.ts';

const scope = z.string().min(1).max(200).regex(/^\S+$/, 'a scope has no spaces');

const scopeCheckConfig = z
  .object({
    all: z.array(scope).default([]).meta({ title: 'All of', description: 'Every one of these scopes is required.' }),
    any: z.array(scope).default([]).meta({ title: 'Any of', description: 'At least one of these scopes is required.' }),
  })
  .strict()
  .refine((c) => c.all.length + c.any.length > 0, { path: ['all'], message: 'name at least one scope in all or any' });

export type ScopeCheckConfig = z.infer<typeof scopeCheckConfig>;

export const scopeCheckKind = defineKind<ScopeCheckConfig>({
  kind: 'scope-check',
  title: 'Check scopes',
  category: 'Access',
  description: 'Requires scopes granted by the token or key (all of, any of).',
  config: scopeCheckConfig,
  ports: () => [
    { name: 'ok', description: 'The scopes are granted.', unwired: 'required' },
    { name: 'denied', description: 'A required scope is missing.', unwired: { error: 'insufficient_scope' } },
  ],
  errors: ['insufficient_scope'],
  expressions: () => [],
});
