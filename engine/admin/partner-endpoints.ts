import { z } from 'zod';
import { durationMs, idSchema } from '../../shared/schema/index.ts';
import { boundedDurationSchema } from '../../shared/schema/duration.ts';
import { partnerFieldsSchema, planFieldsSchema, productFieldsSchema } from '../../shared/schema/partners.ts';
import type { Store } from '../store/types.ts';
import { statsQuery, type Endpoint } from './api.ts';
import { AdminError } from './errors.ts';
import { partnerView, type Partners } from './partners.ts';

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

const idOf = (text: string | undefined, what: string): string => {
  if (!idSchema.safeParse(text).success) throw new AdminError('bad_request', `"${text}" is not a valid ${what} id`);
  return text!;
};

/** The admin endpoints of partners, keys, products and plans: publisher or admin change them, every role reads them. */
export function partnerEndpoints(options: {
  store: Store;
  partners: { changes: Partners; lastUsed(keyId: string): number | undefined };
  stats: ((partner: string, windowMs: number) => unknown) | undefined;
}): Endpoint[] {
  const { store } = options;
  // read when called: the docs build the endpoint table without a store behind it
  const changes = () => options.partners.changes;
  const view = (partner: Parameters<typeof partnerView>[0]) => partnerView(partner, options.partners.lastUsed);
  const actorOf = (actor: { name: string; role: string }) => ({ name: actor.name, role: actor.role });

  return [
    {
      method: 'get', path: '/partners', permission: 'read', summary: 'Every partner with its status, products, plan, client ids and keys (prefix and state, never the key)',
      handler: async () => {
        const state = await store.state();
        return { body: { revision: state.revision, partners: Object.values(state.partners ?? {}).map(view).sort((a, b) => a.id.localeCompare(b.id)) } };
      },
    },
    {
      method: 'post', path: '/partners', permission: 'publish', summary: 'Register a partner', status: 201, body: createPartnerBody,
      handler: async ({ actor, body }) => {
        const { id, ...fields } = body as z.infer<typeof createPartnerBody>;
        return { body: view(await changes().createPartner(actorOf(actor), id, fields)) };
      },
    },
    {
      method: 'get', path: '/partners/:id', permission: 'read', summary: 'One partner',
      handler: async ({ params }) => ({ body: view(changes().requirePartner(await store.state(), params.id!)) }),
    },
    {
      method: 'put', path: '/partners/:id', permission: 'publish', summary: 'Replace a partner\'s name, contacts, plan, products, client ids and limit overrides', body: partnerFieldsSchema,
      handler: async ({ actor, params, body }) => ({ body: view(await changes().updatePartner(actorOf(actor), params.id!, body as z.infer<typeof partnerFieldsSchema>)) }),
    },
    {
      method: 'post', path: '/partners/:id/suspend', permission: 'publish', summary: 'Suspend a partner: every request it makes is refused (403 partner_suspended) within the publish bound', body: reasonBody,
      handler: async ({ actor, params, body }) => ({ body: view(await changes().suspend(actorOf(actor), params.id!, (body as z.infer<typeof reasonBody>).reason)) }),
    },
    {
      method: 'post', path: '/partners/:id/reactivate', permission: 'publish', summary: 'Reactivate a suspended partner', body: reasonBody,
      handler: async ({ actor, params, body }) => ({ body: view(await changes().reactivate(actorOf(actor), params.id!, (body as z.infer<typeof reasonBody>).reason)) }),
    },
    {
      method: 'post', path: '/partners/:id/keys', permission: 'publish', summary: 'Create an API key; the answer is the only place the key ever appears', status: 201, secret: true, body: createKeyBody,
      handler: async ({ actor, params, body }) => {
        const b = body as z.infer<typeof createKeyBody>;
        return { body: await changes().createKey(actorOf(actor), params.id!, { scopes: b.scopes, expiresAt: b.expiresAt }) };
      },
    },
    {
      method: 'post', path: '/partners/:id/keys/:key/rotate', permission: 'publish', summary: 'Create a new key and let the old one expire after an overlap window', status: 201, secret: true, body: rotateKeyBody,
      handler: async ({ actor, params, body }) => {
        const b = body as z.infer<typeof rotateKeyBody>;
        return { body: await changes().rotateKey(actorOf(actor), params.id!, params.key!, b.overlap, b.scopes) };
      },
    },
    {
      method: 'post', path: '/partners/:id/keys/:key/revoke', permission: 'publish', summary: 'Revoke a key: refused (401) from the next request on', body: reasonBody,
      handler: async ({ actor, params }) => ({ body: await changes().revokeKey(actorOf(actor), params.id!, params.key!) }),
    },
    {
      method: 'get', path: '/partners/:id/stats', permission: 'read', summary: 'A partner\'s requests, outcomes and limit hits per workflow over a recent window, as this process counted them', query: statsQuery,
      handler: async ({ params, query }) => {
        changes().requirePartner(await store.state(), params.id!);
        if (!options.stats) throw new AdminError('not_found', 'metrics are off (SLUICE_METRICS=off)');
        return { body: options.stats(params.id!, durationMs((query as z.infer<typeof statsQuery>).window)) };
      },
    },
    {
      method: 'get', path: '/products', permission: 'read', summary: 'Every API product with its workflows',
      handler: async () => ({ body: { products: Object.values((await store.state()).products ?? {}).sort((a, b) => a.id.localeCompare(b.id)) } }),
    },
    {
      method: 'put', path: '/products/:id', permission: 'publish', summary: 'Create or replace an API product (a named set of workflows)', body: productFieldsSchema,
      handler: async ({ actor, params, body }) => ({ body: await changes().putProduct(actorOf(actor), idOf(params.id, 'product'), body as z.infer<typeof productFieldsSchema>) }),
    },
    {
      method: 'get', path: '/plans', permission: 'read', summary: 'Every plan with its rate limits per product',
      handler: async () => ({ body: { plans: Object.values((await store.state()).plans ?? {}).sort((a, b) => a.id.localeCompare(b.id)) } }),
    },
    {
      method: 'put', path: '/plans/:id', permission: 'publish', summary: 'Create or replace a plan (default rate limits per product)', body: planFieldsSchema,
      handler: async ({ actor, params, body }) => ({ body: await changes().putPlan(actorOf(actor), idOf(params.id, 'plan'), body as z.infer<typeof planFieldsSchema>) }),
    },
  ];
}
