import { z } from 'zod';
import { defineKind, PARTNER_ERRORS, PARTNER_PORTS } from './kind.ts';

const clientCertConfig = z
  .object({
    match: z
      .array(z.enum(['fingerprint', 'san', 'subject']))
      .min(1)
      .max(3)
      .default(['fingerprint', 'san', 'subject'])
      .refine((m) => new Set(m).size === m.length, 'each way once')
      .meta({ title: 'Match by', description: 'How a verified certificate is matched to a registered partner\'s certificates, tried in this order: its SHA-256 fingerprint, its subjectAltName entries, its subject CN (a subject with several CNs matches by none of them).' }),
  })
  .strict();

export type ClientCertConfig = z.infer<typeof clientCertConfig>;

export const clientCertKind = defineKind<ClientCertConfig>({
  kind: 'client-cert',
  title: 'Client certificate',
  category: 'Identity',
  description:
    'Identifies the partner by its TLS client certificate (mTLS): verified against SLUICE_TLS_CLIENT_CA on the gateway\'s TLS listener, or read from a trusted proxy\'s header, then matched to a registered partner\'s certificates by fingerprint, subjectAltName or subject; a suspended partner, or one not subscribed to a product that includes the workflow, is refused.',
  config: clientCertConfig,
  ports: () => [
    { name: 'ok', description: 'The certificate is verified and identifies a registered partner.', unwired: 'required' },
    { name: 'missing', description: 'No client certificate came with the request.', unwired: { error: 'missing_client_certificate' } },
    { name: 'invalid', description: 'The certificate is not verified (another CA, expired, not yet valid) or identifies no registered partner.', unwired: { error: 'invalid_client_certificate' } },
    ...PARTNER_PORTS,
  ],
  errors: ['missing_client_certificate', 'invalid_client_certificate', ...PARTNER_ERRORS],
  expressions: () => [],
  readsCredentials: true,
});
