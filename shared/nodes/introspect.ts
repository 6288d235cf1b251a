import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { defineKind, PARTNER_ERRORS, PARTNER_PORTS } from './kind.ts';

const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);

const introspectConfig = z
  .object({
    endpoint: httpUrl.optional().meta({
      title: 'Introspection endpoint',
      description: 'The authorization server\'s RFC 7662 endpoint. The client secret is sent there: its host must be one of SLUICE_CALLOUT_HOSTS, be bound to the secret in SLUICE_SECRET_HOSTS, and pass the egress policy.',
    }),
    issuer: httpUrl.optional().meta({
      title: 'Issuer',
      description: 'Instead of the endpoint: the issuer whose OIDC discovery document (<issuer>/.well-known/openid-configuration) names introspection_endpoint. Also required as the answer\'s iss when it names one.',
    }),
    clientId: z.string().min(1).max(255).meta({ title: 'Client id', description: 'The gateway\'s own client at the authorization server, for the introspection call.' }),
    clientSecretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .max(128)
      .meta({ title: 'Client secret env var', description: 'Name of the environment variable holding the gateway client\'s secret; only names the operator allows as secrets (SLUICE_SECRET_ENV; default SLUICE_SECRET_*), bound to the authorization server\'s host by SLUICE_SECRET_HOSTS. Never stored in the workflow nor logged.', format: 'secret-env' }),
    authMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').meta({ title: 'Client authentication', description: 'How the gateway authenticates the introspection call (RFC 6749 §2.3.1).' }),
    audience: z.string().min(1).max(512).optional().meta({ title: 'Audience', description: 'Required among the answer\'s aud.' }),
    header: z.string().min(1).max(128).default('authorization').meta({ title: 'Header', description: 'Header carrying "Bearer <token>".' }),
    partnerClaim: z.string().min(1).max(128).default('client_id').meta({ title: 'Partner claim', description: 'Member of the answer naming the calling partner (client): a registered partner\'s client id maps to that partner.' }),
    cacheTtl: boundedDurationSchema(1_000, 3_600_000).default('60s').meta({ title: 'Cache time', description: 'An active answer is reused until the token expires or this time passes, whichever is first: a token revoked at the server is refused after at most this long.' }),
    negativeCacheTtl: boundedDurationSchema(0, 60_000).default('5s').meta({ title: 'Negative cache time', description: 'An inactive answer is reused this long (0s: not at all), so a repeated bad token does not call the server each time.' }),
    cacheSize: z.number().int().min(1).max(100_000).default(10_000).meta({ title: 'Cache entries', description: 'Answers kept (by a hash of the token, never the token); the oldest goes first.' }),
    timeout: boundedDurationSchema(1, 30_000).default('2s').meta({ title: 'Timeout', description: 'The whole introspection call, at most 30s.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.endpoint === undefined) === (c.issuer === undefined)) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'set exactly one of endpoint and issuer (found by OIDC discovery)' });
  });

export type IntrospectConfig = z.infer<typeof introspectConfig>;

export const introspectKind = defineKind<IntrospectConfig>({
  kind: 'introspect',
  title: 'Introspect token',
  category: 'Identity',
  description:
    'Asks the authorization server whether an opaque bearer token is active (RFC 7662) and puts its scopes, subject, members and partner (client_id) in the context; answers are cached by a hash of the token. A suspended partner, or one not subscribed to a product that includes the workflow, is refused.',
  config: introspectConfig,
  ports: () => [
    { name: 'ok', description: 'The token is active.', unwired: 'required' },
    { name: 'missing', description: 'No bearer token was sent.', unwired: { error: 'missing_token' } },
    { name: 'invalid', description: 'The authorization server says the token is not active (unknown, expired, revoked), or it is for another audience.', unwired: { error: 'invalid_token' } },
    { name: 'unavailable', description: 'The authorization server could not be asked, or refused the gateway\'s client.', unwired: { error: 'introspection_unavailable' } },
    ...PARTNER_PORTS,
  ],
  errors: ['missing_token', 'invalid_token', 'introspection_unavailable', ...PARTNER_ERRORS],
  expressions: () => [],
  readsCredentials: true,
});
