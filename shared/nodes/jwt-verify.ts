import { z } from 'zod';
import { durationSchema } from '../schema/duration.ts';
import { defineKind, PARTNER_ERRORS, PARTNER_PORTS } from './kind.ts';

/** Signature algorithms a jwt-verify node may allow. `none` is not among them. */
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const;

const jwkSchema = z.object({ kty: z.string() }).catchall(z.unknown());

/** An issuer found by OIDC discovery: an http(s) URL, which its metadata must name exactly. */
const issuerUrl = z.url({ protocol: /^https?$/ }).max(2048);

const issuerEntry = z
  .object({
    issuer: issuerUrl.meta({ title: 'Issuer', description: 'The issuer (iss) accepted; its keys are found by OIDC discovery (<issuer>/.well-known/openid-configuration) unless a JWKS URL is given.' }),
    jwksUri: z.url({ protocol: /^https?$/ }).max(2048).optional().meta({ title: 'JWKS URL', description: 'This issuer\'s key set, when it publishes no discovery document.' }),
    audience: z.string().min(1).max(512).optional().meta({ title: 'Audience', description: 'Required aud claim for this issuer\'s tokens.' }),
    partnerClaim: z.string().min(1).max(128).default('azp').meta({ title: 'Partner claim', description: 'Claim naming the calling partner (client) in this issuer\'s tokens.' }),
  })
  .strict();

const jwtVerifyConfig = z
  .object({
    jwksUri: z.url({ protocol: /^https?$/ }).optional().meta({ title: 'JWKS URL', description: 'Key set to fetch and cache; refetched on an unknown kid, used stale while the key server is down. Its host must pass the egress policy (SLUICE_EGRESS_ALLOW).' }),
    jwks: z.object({ keys: z.array(jwkSchema).min(1) }).optional().meta({ title: 'Inline JWKS', description: 'Public keys given inline.' }),
    jwksFile: z
      .string()
      .min(1)
      .max(255)
      .regex(/^(?![/\\])(?!.*\\)(?!(?:.*\/)?\.\.(?:\/|$))/, 'must be a relative path inside the keys folder, without ".."')
      .optional()
      .meta({ title: 'JWKS file', description: 'Key set read from a file of the keys folder of the data directory ($SLUICE_DATA/keys/), by a relative path (the demo issuer uses demo-jwks.json).' }),
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional()
      .meta({ title: 'HMAC secret env var', description: 'Name of the environment variable holding the shared secret for HS* algorithms; only names the operator allows as secrets (SLUICE_SECRET_ENV; default SLUICE_SECRET_*).', format: 'secret-env' }),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256']).meta({ title: 'Allowed algorithms', description: 'Only these algorithms are accepted; the token header never chooses.' }),
    issuer: z.string().min(1).max(2048).optional().meta({ title: 'Issuer', description: 'Required iss claim. Alone (no key source), an http(s) issuer whose keys are found by OIDC discovery (<issuer>/.well-known/openid-configuration), cached and refreshed like a JWKS URL.' }),
    issuers: z
      .array(issuerEntry)
      .min(1)
      .max(20)
      .optional()
      .meta({ title: 'Issuers', description: 'Several issuers (tenants), each with its own keys (by discovery or a JWKS URL), audience and partner claim; a token is verified by the issuer its iss names. Instead of issuer, audience, partnerClaim and a key source.' }),
    audience: z.string().min(1).optional().meta({ title: 'Audience', description: 'Required aud claim.' }),
    clockTolerance: durationSchema.default('30s').meta({ title: 'Clock tolerance', description: 'Allowed clock skew for exp and nbf.' }),
    maxTokenAge: durationSchema.optional().meta({ title: 'Maximum token age', description: 'Refuse tokens whose iat is older than this.' }),
    maxLifetime: durationSchema.optional().meta({ title: 'Maximum token lifetime', description: 'Refuse tokens valid for longer than this (exp minus iat, or minus now without iat): a leaked long-lived token is refused outright.' }),
    header: z.string().min(1).default('authorization').meta({ title: 'Header', description: 'Header carrying "Bearer <token>".' }),
    partnerClaim: z.string().min(1).default('azp').meta({ title: 'Partner claim', description: 'Claim naming the calling partner (client): a registered partner\'s client id maps to that partner.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [c.jwksUri, c.jwks, c.jwksFile, c.secretEnv].filter((s) => s !== undefined).length;
    if (c.issuers !== undefined) {
      if (sources > 0 || c.issuer !== undefined || c.audience !== undefined)
        ctx.addIssue({ code: 'custom', path: ['issuers'], message: 'with issuers, each issuer has its own keys and audience: remove the key source, issuer and audience here' });
      const seen = new Set<string>();
      c.issuers.forEach((entry, i) => {
        if (seen.has(entry.issuer)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'issuer'], message: 'this issuer is listed twice' });
        seen.add(entry.issuer);
      });
    } else if (sources === 0 && c.issuer !== undefined) {
      if (!issuerUrl.safeParse(c.issuer).success) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'an issuer found by discovery must be an http(s) URL' });
    } else if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: 'set exactly one key source: jwksUri, jwks, jwksFile or secretEnv, or an issuer alone (OIDC discovery)' });
    const hmac = c.algorithms.filter((a) => a.startsWith('HS'));
    if (c.secretEnv !== undefined && hmac.length !== c.algorithms.length)
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'a shared secret allows only HS256, HS384 or HS512' });
    if (c.secretEnv === undefined && hmac.length > 0)
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'HS* algorithms need secretEnv; a public key set must never verify HMAC tokens' });
  });

export type JwtVerifyConfig = z.infer<typeof jwtVerifyConfig>;

export const jwtVerifyKind = defineKind<JwtVerifyConfig>({
  kind: 'jwt-verify',
  title: 'Verify JWT',
  category: 'Identity',
  description: 'Verifies a bearer JWT (signature, exp, nbf, iss, aud) and puts its claims, scopes and partner in the context; keys by OIDC discovery from the issuer, a JWKS URL, file or inline set, or a shared secret; several issuers per node. A suspended partner, or one not subscribed to a product that includes the workflow, is refused.',
  config: jwtVerifyConfig,
  ports: () => [
    { name: 'ok', description: 'The token is valid.', unwired: 'required' },
    { name: 'missing', description: 'No bearer token was sent.', unwired: { error: 'missing_token' } },
    { name: 'invalid', description: 'The token is malformed, expired, badly signed or for someone else.', unwired: { error: 'invalid_token' } },
    { name: 'unavailable', description: 'The signing keys could not be fetched and none were ever known.', unwired: { error: 'keys_unavailable' } },
    ...PARTNER_PORTS,
  ],
  errors: ['missing_token', 'invalid_token', 'keys_unavailable', ...PARTNER_ERRORS],
  expressions: () => [],
  readsCredentials: true,
});
