import { z } from 'zod';
import { defineKind, PARTNER_ERRORS, PARTNER_PORTS } from './kind.ts';

const apiKeyEntry = z
  .object({
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex>').meta({ description: 'sha256 of the key, as `sluice hash-key` prints it. The key itself is never stored.' }),
    partner: z.string().min(1).max(128),
    scopes: z.array(z.string().min(1)).default([]),
  })
  .strict();

const apiKeyConfig = z
  .object({
    header: z.string().min(1).default('x-api-key').meta({ title: 'Header', description: 'Header carrying the key.' }),
    query: z.string().min(1).optional().meta({ title: 'Query parameter', description: 'Also accept the key from this query parameter (not recommended).' }),
    source: z.enum(['inline', 'partners']).default('inline').meta({ title: 'Key source', description: '"inline": only the keys listed here. "partners": also the API keys of registered partners (sk_… keys created with the admin API), read per request from the store\'s current state, so a revoked key or a suspended partner is refused at once.' }),
    keys: z.array(apiKeyEntry).default([]).meta({ title: 'Keys', description: 'Accepted keys by hash, each mapped to a partner and scopes.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // one key, one partner: a repeated hash would silently map the key to whichever entry came last
    const seen = new Set<string>();
    c.keys.forEach((k, i) => {
      if (seen.has(k.hash)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'hash'], message: 'this key is listed twice' });
      seen.add(k.hash);
    });
  });

export type ApiKeyConfig = z.infer<typeof apiKeyConfig>;

export const apiKeyKind = defineKind<ApiKeyConfig>({
  kind: 'api-key',
  title: 'API key',
  category: 'Identity',
  description: 'Identifies the partner by an API key, compared by hash, and grants the key\'s scopes; a suspended partner, or one not subscribed to a product that includes the workflow, is refused.',
  config: apiKeyConfig,
  ports: () => [
    { name: 'ok', description: 'The key is known.', unwired: 'required' },
    { name: 'missing', description: 'No key was sent.', unwired: { error: 'missing_api_key' } },
    { name: 'invalid', description: 'The key is not known, expired or revoked.', unwired: { error: 'invalid_api_key' } },
    ...PARTNER_PORTS,
  ],
  errors: ['missing_api_key', 'invalid_api_key', ...PARTNER_ERRORS],
  expressions: () => [],
  readsCredentials: true,
});
