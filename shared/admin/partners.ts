/** The admin API's answers about partners, their keys, products and plans (never a key's hash). */
import { z } from 'zod';
import { partnerFieldsSchema, partnerStatusSchema, planFieldsSchema, productFieldsSchema, type PartnerView, type PlanRecord, type ProductRecord } from '../schema/partners.ts';

/** A partner's client certificate as the admin API shows it. */
export const clientCertificateRecordSchema = z.object({ id: z.string(), match: z.enum(['fingerprint', 'subject', 'san']), value: z.string(), createdAt: z.string(), createdBy: z.string() });

const keyFields = {
  id: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
};

const hmacSecretFields = {
  id: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
};

// answers are read with the fields' shapes, not their strictness: a newer gateway may add a field
export const partnerViewSchema = z.object({
  ...partnerFieldsSchema.shape,
  id: z.string(),
  status: partnerStatusSchema,
  createdAt: z.string(),
  createdBy: z.string(),
  statusChangedAt: z.string().optional(),
  statusChangedBy: z.string().optional(),
  keys: z.array(z.object({ ...keyFields, lastUsedAt: z.string().nullable(), state: z.enum(['active', 'expired', 'revoked']) })),
  certificates: z.array(clientCertificateRecordSchema).optional(),
  hmacSecrets: z.array(z.object({ ...hmacSecretFields, state: z.enum(['active', 'expired', 'revoked']) })).optional(),
}) satisfies z.ZodType<PartnerView>;
export const partnerListSchema = z.object({ revision: z.number().int(), partners: z.array(partnerViewSchema) });

/** A new key: the only answer that ever carries the key itself; `replaced` names the key a rotation replaced. */
export const createdKeySchema = z.object({ ...keyFields, key: z.string(), partner: z.string(), replaced: z.string().optional() });
/** A removed client certificate. */
export const removedCertificateSchema = z.object({ id: z.string(), partner: z.string() });
export const revokedKeySchema = z.object({ id: z.string(), revokedAt: z.string() });

export const productSchema = z.object({ ...productFieldsSchema.shape, id: z.string() }) satisfies z.ZodType<ProductRecord>;
export const productListSchema = z.object({ products: z.array(productSchema) });
export const planSchema = z.object({ ...planFieldsSchema.shape, id: z.string() }) satisfies z.ZodType<PlanRecord>;
export const planListSchema = z.object({ plans: z.array(planSchema) });

/** A new HMAC secret: the only answer that ever carries the secret; `replaced` names the secret a rotation replaced. */
export const createdHmacSecretSchema = z.object({ ...hmacSecretFields, secret: z.string(), partner: z.string(), replaced: z.string().optional() });
