/**
 * The partner view of the portal (`/portal/api/partner`): what a partner signed in with one of its
 * own credentials sends and gets back. Typed once here for the engine's router and the portal's
 * client. Nothing here ever carries a key's hash, and a key itself only in the answer that creates it.
 */
import { z } from 'zod';
import { durationSchema } from '../schema/duration.ts';

/** The header a state-changing request carries: the session's CSRF token (a cross-site form cannot set a header). */
export const PARTNER_CSRF_HEADER = 'x-sluice-csrf';

/** Sign-in: one of the partner's own credentials, an API key or a bearer token (JWT) from its identity provider. */
export const partnerSignInBodySchema = z.union([
  z.object({ apiKey: z.string().min(1).max(256).meta({ description: 'One of the partner\'s API keys (sk_…).' }) }).strict(),
  z.object({ token: z.string().min(1).max(16 * 1024).meta({ description: 'A JWT from the partner\'s identity provider, for the portal\'s audience.' }) }).strict(),
]);

/** The credential a session was opened with: the session lasts no longer than it does. */
const sessionCredentialSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('api-key'), keyId: z.string() }),
  z.object({ kind: z.literal('token'), issuer: z.string(), clientId: z.string() }),
]);

export const partnerSessionSchema = z.object({
  partner: z.object({ id: z.string(), name: z.string() }),
  credential: sessionCredentialSchema,
  expiresAt: z.string().meta({ description: 'When the session ends (no later than the token it was opened with).' }),
  csrfToken: z.string().meta({ description: `Send it back in the ${PARTNER_CSRF_HEADER} header of every request that changes something.` }),
});
export type PartnerSession = z.infer<typeof partnerSessionSchema>;

/** A key as its partner sees it: its public id and prefix, never the key or its hash. */
const partnerKeySchema = z.object({
  id: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  state: z.enum(['active', 'expired', 'revoked']),
  lastUsedAt: z.string().nullable().meta({ description: 'Its last accepted request as seen by the gateway answering (memory of that process).' }),
  /** This session was opened with this key. */
  current: z.boolean(),
});

const limitSchema = z.object({
  limit: z.number().int(),
  window: z.string(),
  source: z.enum(['plan', 'override']).meta({ description: 'The plan\'s limit, or an override set for this partner.' }),
});

/** How the active version of a workflow is served. */
const lifecycleFields = {
  version: z.number().int().nullable().meta({ description: 'The version served; null when none is (retired workflows keep theirs).' }),
  state: z.enum(['active', 'deprecated', 'retired', 'unpublished']),
  deprecatedAt: z.string().optional(),
  sunset: z.string().optional().meta({ description: 'When a deprecated version stops being served, as its Sunset header says.' }),
  retiredAt: z.string().optional(),
};

const subscribedWorkflowSchema = z.object({
  id: z.string(),
  name: z.string(),
  route: z.object({ methods: z.array(z.string()), path: z.string() }).nullable(),
  ...lifecycleFields,
  limit: limitSchema.nullable().meta({ description: 'The partner\'s rate limit on this workflow (rate-limit nodes with limit "plan"); null when neither plan nor override sets one.' }),
  usage: z.object({ requests: z.number(), limited: z.number(), windowSeconds: z.number() }).nullable().meta({ description: 'The partner\'s requests over the limit\'s window until now; null without a limit or without counts.' }),
});

export const partnerOverviewSchema = z.object({
  partner: z.object({ id: z.string(), name: z.string(), status: z.enum(['active', 'suspended']), contacts: z.array(z.string()) }),
  plan: z.object({ id: z.string(), name: z.string() }).nullable(),
  subscriptions: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), workflows: z.array(subscribedWorkflowSchema) })),
  keys: z.array(partnerKeySchema),
  /** Deprecated or retired workflows of the partner's products. */
  deprecations: z.array(z.object({ workflow: z.string(), name: z.string(), products: z.array(z.string()), ...lifecycleFields })),
  usage: z.object({
    source: z.enum(['metrics', 'evidence', 'none']).meta({ description: 'Where the counts come from: this gateway\'s counters (the last hour), evidence records (every replica with ClickHouse), or nowhere (both off).' }),
    to: z.string(),
  }),
  session: z.object({ expiresAt: z.string() }),
  rotation: z.object({ maxOverlapSeconds: z.number().meta({ description: 'The longest (and default) overlap of a rotation: SLUICE_PORTAL_MAX_OVERLAP.' }) }),
});
export type PartnerOverview = z.infer<typeof partnerOverviewSchema>;

export const rotateOwnKeyBodySchema = z
  .object({ overlap: durationSchema.optional().meta({ description: 'How long the old key keeps working beside the new one; at most SLUICE_PORTAL_MAX_OVERLAP, which is also the default.' }) })
  .strict();

/** A rotation's answer: the new key, shown this once, and when the old one stops. */
export const rotatedOwnKeySchema = z.object({
  key: z.string().meta({ description: 'The new key. Shown once: it cannot be read again.' }),
  id: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
  replaced: z.object({ id: z.string(), expiresAt: z.string() }),
});
export type RotatedOwnKey = z.infer<typeof rotatedOwnKeySchema>;
