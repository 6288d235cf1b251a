import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { defineKind, PARTNER_ERRORS, PARTNER_PORTS } from './kind.ts';

const hmacVerifyConfig = z
  .object({
    header: z.string().min(1).max(100).default('signature').meta({ title: 'Header', description: 'Header carrying `keyId=<id>,ts=<unix seconds>,sig=<hex HMAC>`.' }),
    algorithms: z
      .array(z.enum(['sha256', 'sha512']))
      .min(1)
      .default(['sha256'])
      .meta({ title: 'Algorithms', description: 'HMAC digests accepted, told apart by the signature\'s length (64 or 128 hex characters); never chosen by the request.' }),
    skew: boundedDurationSchema(1_000, 3_600_000).default('5m').meta({ title: 'Clock skew', description: 'How far the signed timestamp may be from the gateway\'s clock, either way (1s to 1h). A signature is refused as a replay inside this window.' }),
  })
  .strict();

export type HmacVerifyConfig = z.infer<typeof hmacVerifyConfig>;

export const hmacVerifyKind = defineKind<HmacVerifyConfig>({
  kind: 'hmac-verify',
  title: 'HMAC signature',
  category: 'Identity',
  description:
    'Identifies the partner by an HMAC signature over the method, path with query, timestamp and SHA-256 of the body, made with one of the partner\'s HMAC secrets; refuses a stale timestamp and a signature already seen (in Redis when REDIS_URL is set, so across replicas).',
  config: hmacVerifyConfig,
  ports: () => [
    { name: 'ok', description: 'The signature is valid.', unwired: 'required' },
    { name: 'missing', description: 'No signature header was sent.', unwired: { error: 'missing_signature' } },
    { name: 'invalid', description: 'The header is malformed, the key id unknown, expired or revoked, the timestamp outside the window, or the signature wrong.', unwired: { error: 'invalid_signature' } },
    { name: 'replayed', description: 'The same signature was accepted already inside the window.', unwired: { error: 'replayed_signature' } },
    ...PARTNER_PORTS,
  ],
  errors: ['missing_signature', 'invalid_signature', 'replayed_signature', ...PARTNER_ERRORS],
  expressions: () => [],
  readsCredentials: true,
  readsRequestBody: () => true,
});
