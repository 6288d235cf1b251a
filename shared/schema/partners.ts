import { z } from 'zod';
import { boundedDurationSchema } from './duration.ts';
import { MAX_MODELS, modelPatternSchema } from './models.ts';
import { idSchema } from './workflow.ts';

/**
 * Partners, API products and plans: who may call which workflows, and at what rate. The store
 * keeps these records; the admin API returns them (without key hashes) and the editor shows them.
 */

/** A token budget a plan or an override grants: `limit` tokens per `window` (rate-limit nodes with a cost). */
const tokenLimitSchema = z
  .object({
    limit: z.number().int().min(1).max(1_000_000_000_000).meta({ description: 'Tokens allowed per window.' }),
    window: boundedDurationSchema(1_000, 31 * 86_400_000).default('1m').meta({ description: 'Sliding window, 1s to 31d.' }),
  })
  .strict();

/** A rate limit a plan or an override grants: `limit` requests per `window`, and optionally a token budget. */
const planLimitSchema = z
  .object({
    limit: z.number().int().min(1).max(1_000_000_000).meta({ description: 'Requests allowed per window.' }),
    window: boundedDurationSchema(1_000, 86_400_000).default('1m').meta({ description: 'Sliding window, 1s to 24h.' }),
    tokens: tokenLimitSchema.optional().meta({ description: 'LLM tokens allowed per window: the budget of rate-limit nodes with a cost and limit "plan".' }),
    models: z
      .array(modelPatternSchema)
      .min(1)
      .max(MAX_MODELS)
      .optional()
      .meta({ description: 'The LLM models the partner may ask this product\'s llm proxies for (names, or prefixes ending in *), within what each proxy allows; absent: whatever the proxy allows.' }),
  })
  .strict();
export type PlanLimit = z.infer<typeof planLimitSchema>;

/** Limits by product id. */
const productLimitsSchema = z.record(idSchema, planLimitSchema);

export const partnerStatusSchema = z.enum(['active', 'suspended']);
type PartnerStatus = z.infer<typeof partnerStatusSchema>;

/** An OAuth client id (the JWT `azp` or `client_id`) that identifies a partner in tokens. */
const clientIdSchema = z.string().min(1).max(200);

/** The editable fields of a partner (create and update). */
export const partnerFieldsSchema = z
  .object({
    name: z.string().min(1).max(200),
    contacts: z.array(z.string().min(1).max(320)).max(20).default([]).meta({ description: 'Who to call about this partner (e-mail addresses).' }),
    plan: idSchema.optional().meta({ description: 'The plan whose per-product limits apply (rate-limit nodes with limit "plan").' }),
    products: z.array(idSchema).max(200).default([]).meta({ description: 'The API products the partner subscribes to.' }),
    clientIds: z.array(clientIdSchema).max(50).default([]).meta({ description: 'OAuth client ids (JWT azp / client_id) that identify the partner.' }),
    limits: productLimitsSchema.default({}).meta({ description: 'Overrides of the plan\'s limits, by product.' }),
  })
  .strict();
export type PartnerFields = z.infer<typeof partnerFieldsSchema>;

/** An API key as stored: its hash and lookup prefix, never the key. */
export interface ApiKeyRecord {
  id: string;
  /** The 8 characters after `sk_`: where the gateway looks the key up. Not secret. */
  prefix: string;
  /** `sha256:<hex>` of the whole key. */
  hash: string;
  scopes: string[];
  createdAt: string;
  createdBy: string;
  /** After this the key is refused (set by rotation: the overlap window). */
  expiresAt?: string;
  revokedAt?: string;
  revokedBy?: string;
}

/**
 * A client certificate that identifies a partner (client-cert nodes), by one of: the SHA-256
 * fingerprint of the certificate (64 hex digits, colons allowed), the subject's CN, or one
 * subjectAltName entry as `DNS:…`, `URI:…`, `email:…` or `IP Address:…`. Only certificates the
 * gateway verified against SLUICE_TLS_CLIENT_CA are matched.
 */
const MATCH_FORMS = {
  fingerprint: [/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, 'a SHA-256 fingerprint: 64 hex digits, colons allowed'],
  subject: [/^[^\n]{1,256}$/, 'the subject\'s CN, one line of at most 256 characters'],
  san: [/^(DNS|URI|email|IP Address):[^\n]{1,500}$/, 'a subjectAltName entry: DNS:…, URI:…, email:… or IP Address:…'],
} as const;
export const clientCertificateMatchSchema = z
  .object({
    match: z.enum(['fingerprint', 'subject', 'san']).meta({ description: 'What identifies the certificate: its SHA-256 fingerprint, its subject\'s CN, or one of its subjectAltName entries.' }),
    value: z.string().min(1).max(600).meta({ description: 'The fingerprint (64 hex digits, colons allowed), the CN, or the entry as `DNS:…`, `URI:…`, `email:…` or `IP Address:…`.' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const [form, message] = MATCH_FORMS[c.match];
    if (!form.test(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message });
  });

/** A fingerprint as the gateway compares it: lower-case hex without colons. */
export const normalCertificateMatch = (c: ClientCertificateMatch): ClientCertificateMatch => (c.match === 'fingerprint' ? { match: c.match, value: c.value.replaceAll(':', '').toLowerCase() } : c);
export type ClientCertificateMatch = z.output<typeof clientCertificateMatchSchema>;

/** A partner's client certificate as stored. */
export type ClientCertificateRecord = ClientCertificateMatch & { id: string; createdAt: string; createdBy: string };

/**
 * An HMAC signing secret (hmac-verify). An HMAC is verified with the secret itself, so the store
 * keeps it; the admin API returns it once, in the answer that creates it, and never again.
 */
export interface HmacSecretRecord {
  /** The key id a signature names (`hk_` + 8 hex characters). Not secret. */
  id: string;
  /** 32 random bytes, base64url: the HMAC key is this text's UTF-8 bytes, as partners copy it. */
  secret: string;
  createdAt: string;
  createdBy: string;
  /** After this the secret is refused (set by rotation: the overlap window). */
  expiresAt?: string;
  revokedAt?: string;
  revokedBy?: string;
}

/** An HMAC secret as the admin API shows it: never the secret. */
export type HmacSecretView = Omit<HmacSecretRecord, 'secret'> & { state: 'active' | 'expired' | 'revoked' };

export interface PartnerRecord extends PartnerFields {
  id: string;
  status: PartnerStatus;
  createdAt: string;
  createdBy: string;
  /** When the status last changed, and by whom. */
  statusChangedAt?: string;
  statusChangedBy?: string;
  keys: ApiKeyRecord[];
  /** Client certificates that identify the partner (absent on records made before them). */
  certificates?: ClientCertificateRecord[];
  /** HMAC signing secrets (hmac-verify); absent in stores written before them. */
  hmacSecrets?: HmacSecretRecord[];
}

export const productFieldsSchema = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    workflows: z.array(idSchema).max(1000).default([]).meta({ description: 'The workflows (routes) the product includes.' }),
  })
  .strict();
export type ProductFields = z.infer<typeof productFieldsSchema>;
export interface ProductRecord extends ProductFields {
  id: string;
}

export const planFieldsSchema = z
  .object({
    name: z.string().min(1).max(200),
    limits: productLimitsSchema.default({}).meta({ description: 'Default rate limit per product.' }),
  })
  .strict();
export type PlanFields = z.infer<typeof planFieldsSchema>;
export interface PlanRecord extends PlanFields {
  id: string;
}

/** A key as the admin API shows it: no hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'hash'> & { lastUsedAt: string | null; state: 'active' | 'expired' | 'revoked' };
export type PartnerView = Omit<PartnerRecord, 'keys' | 'hmacSecrets'> & { keys: ApiKeyView[]; hmacSecrets?: HmacSecretView[] };
