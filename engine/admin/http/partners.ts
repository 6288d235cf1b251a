/** Partners, their API keys, products and plans: publisher or admin change them, every role reads them. */
import { z } from 'zod';
import { clientCertificateRecordSchema, createdKeySchema, removedCertificateSchema, partnerListSchema, partnerStatsSchema, partnerViewSchema, planListSchema, planSchema, productListSchema, productSchema, revokedKeySchema, createdHmacSecretSchema } from '../../../shared/admin/index.ts';
import { durationMs, idSchema } from '../../../shared/schema/index.ts';
import { boundedDurationSchema } from '../../../shared/schema/duration.ts';
import { clientCertificateMatchSchema, partnerFieldsSchema, planFieldsSchema, productFieldsSchema } from '../../../shared/schema/partners.ts';
import { partnerView } from '../commands/partners.ts';
import { AdminError } from '../errors.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';
import { metricsOff, statsQuery } from './status.ts';

const createPartnerBody = partnerFieldsSchema.extend({ id: idSchema });
const reasonBody = z.object({ reason: z.string().max(500).optional().meta({ description: 'Why, for the audit log.' }) }).strict();
const createKeyBody = z
  .object({
    scopes: z.array(z.string().min(1).max(200)).max(100).default([]).meta({ description: 'Scopes the key grants (scope-check nodes read them).' }),
    expiresAt: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the key stops being accepted.' }),
  })
  .strict();
const rotateKeyBody = z
  .object({
    overlap: boundedDurationSchema(0, 90 * 86_400_000).default('24h').meta({ description: 'How long the old key keeps working beside the new one (0s to 90d).' }),
    scopes: z.array(z.string().min(1).max(200)).max(100).default([]).meta({ description: 'Scopes of the new key; the old key\'s when empty.' }),
  })
  .strict();

const rotateHmacSecretBody = z
  .object({ overlap: boundedDurationSchema(0, 90 * 86_400_000).default('24h').meta({ description: 'How long the old secret keeps working beside the new one (0s to 90d).' }) })
  .strict();
const hmacSecretParams = z.object({ id: z.string(), secret: z.string() });

const idOf = (text: string, what: string): string => {
  if (!idSchema.safeParse(text).success) throw new AdminError('bad_request', `"${text}" is not a valid ${what} id`);
  return text;
};

/** The path of an endpoint about one partner, product or plan. */
const partnerParams = z.object({ id: z.string() });
const keyParams = partnerParams.extend({ key: z.string() });
const certificateParams = partnerParams.extend({ certificate: z.string() });

export function partnerEndpoints({ store, options }: AdminContext): Endpoint[] {
  // read when called: the docs build the endpoint table without a store behind it
  const changes = () => options.partners.changes;
  const view = (partner: Parameters<typeof partnerView>[0]) => partnerView(partner, options.partners.lastUsed);

  return [
    defineEndpoint({
      method: 'get', path: '/partners', permission: 'read', summary: 'Every partner with its status, products, plan, client ids and keys (prefix and state, never the key)', response: partnerListSchema,
      handler: async () => {
        const state = await store.state();
        return { revision: state.revision, partners: Object.values(state.partners ?? {}).map(view).sort((a, b) => a.id.localeCompare(b.id)) };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/partners', permission: 'publish', summary: 'Register a partner', status: 201, body: createPartnerBody, response: partnerViewSchema,
      handler: async ({ actor, body }) => {
        const { id, ...fields } = body;
        return view(await changes().createPartner(actor, id, fields));
      },
    }),
    defineEndpoint({
      method: 'get', path: '/partners/:id', permission: 'read', summary: 'One partner', params: partnerParams, response: partnerViewSchema,
      handler: async ({ params }) => view(changes().requirePartner(await store.state(), params.id)),
    }),
    defineEndpoint({
      method: 'put', path: '/partners/:id', permission: 'publish', summary: 'Replace a partner\'s name, contacts, plan, products, client ids and limit overrides', params: partnerParams, body: partnerFieldsSchema, response: partnerViewSchema,
      handler: async ({ actor, params, body }) => view(await changes().updatePartner(actor, params.id, body)),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/suspend', permission: 'publish', summary: 'Suspend a partner: every request it makes is refused (403 partner_suspended) within the publish bound', params: partnerParams, body: reasonBody, response: partnerViewSchema,
      handler: async ({ actor, params, body }) => view(await changes().suspend(actor, params.id, body.reason)),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/reactivate', permission: 'publish', summary: 'Reactivate a suspended partner', params: partnerParams, body: reasonBody, response: partnerViewSchema,
      handler: async ({ actor, params, body }) => view(await changes().reactivate(actor, params.id, body.reason)),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/keys', permission: 'publish', summary: 'Create an API key; the answer is the only place the key ever appears', status: 201, secret: true, params: partnerParams, body: createKeyBody, response: createdKeySchema,
      handler: ({ actor, params, body }) => changes().createKey(actor, params.id, { scopes: body.scopes, expiresAt: body.expiresAt }),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/keys/:key/rotate', permission: 'publish', summary: 'Create a new key and let the old one expire after an overlap window', status: 201, secret: true, params: keyParams, body: rotateKeyBody, response: createdKeySchema,
      handler: ({ actor, params, body }) => changes().rotateKey(actor, params.id, params.key, body.overlap, body.scopes),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/keys/:key/revoke', permission: 'publish', summary: 'Revoke a key: refused (401) from the next request on', params: keyParams, body: reasonBody, response: revokedKeySchema,
      handler: ({ actor, params, body }) => changes().revokeKey(actor, params.id, params.key, body.reason),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/certificates', permission: 'publish', summary: 'Let a client certificate identify the partner (client-cert nodes): its SHA-256 fingerprint, subject CN or a subjectAltName entry', status: 201, params: partnerParams, body: clientCertificateMatchSchema, response: clientCertificateRecordSchema,
      handler: ({ actor, params, body }) => changes().addCertificate(actor, params.id, body),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/certificates/:certificate/remove', permission: 'publish', summary: 'Stop a client certificate identifying the partner: refused (401) from the next request on', params: certificateParams, body: reasonBody, response: removedCertificateSchema,
      handler: ({ actor, params, body }) => changes().removeCertificate(actor, params.id, params.certificate, body.reason),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/hmac-secrets', permission: 'publish', summary: 'Create an HMAC signing secret (hmac-verify); the answer is the only place the secret ever appears', status: 201, secret: true, params: partnerParams, body: z.object({}).strict(), response: createdHmacSecretSchema,
      handler: ({ actor, params }) => changes().createHmacSecret(actor, params.id),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/hmac-secrets/:secret/rotate', permission: 'publish', summary: 'Create a new HMAC secret and let the old one expire after an overlap window', status: 201, secret: true, params: hmacSecretParams, body: rotateHmacSecretBody, response: createdHmacSecretSchema,
      handler: ({ actor, params, body }) => changes().rotateHmacSecret(actor, params.id, params.secret, body.overlap),
    }),
    defineEndpoint({
      method: 'post', path: '/partners/:id/hmac-secrets/:secret/revoke', permission: 'publish', summary: 'Revoke an HMAC secret: refused (401) from the next request on', params: hmacSecretParams, body: reasonBody, response: revokedKeySchema,
      handler: ({ actor, params, body }) => changes().revokeHmacSecret(actor, params.id, params.secret, body.reason),
    }),
    defineEndpoint({
      method: 'get', path: '/partners/:id/stats', permission: 'read', summary: 'A partner\'s requests, outcomes and limit hits per workflow over a recent window, as this process counted them', params: partnerParams, query: statsQuery, response: partnerStatsSchema,
      handler: async ({ params, query }) => {
        changes().requirePartner(await store.state(), params.id);
        if (!options.observe) throw metricsOff();
        return options.observe.partner(params.id, durationMs(query.window));
      },
    }),
    defineEndpoint({
      method: 'get', path: '/products', permission: 'read', summary: 'Every API product with its workflows', response: productListSchema,
      handler: async () => ({ products: Object.values((await store.state()).products ?? {}).sort((a, b) => a.id.localeCompare(b.id)) }),
    }),
    defineEndpoint({
      method: 'put', path: '/products/:id', permission: 'publish', summary: 'Create or replace an API product (a named set of workflows)', params: partnerParams, body: productFieldsSchema, response: productSchema,
      handler: ({ actor, params, body }) => changes().putProduct(actor, idOf(params.id, 'product'), body),
    }),
    defineEndpoint({
      method: 'get', path: '/plans', permission: 'read', summary: 'Every plan with its rate limits per product', response: planListSchema,
      handler: async () => ({ plans: Object.values((await store.state()).plans ?? {}).sort((a, b) => a.id.localeCompare(b.id)) }),
    }),
    defineEndpoint({
      method: 'put', path: '/plans/:id', permission: 'publish', summary: 'Create or replace a plan (default rate limits per product)', params: partnerParams, body: planFieldsSchema, response: planSchema,
      handler: ({ actor, params, body }) => changes().putPlan(actor, idOf(params.id, 'plan'), body),
    }),
  ];
}
