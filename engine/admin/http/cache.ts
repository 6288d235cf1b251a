/**
 * Purging cached answers (cache-lookup / cache-store). Only publishers and admins: a purge sends
 * the next requests upstream, so an editor could otherwise turn a cache into load on the upstream
 * at will. Every purge is audited with what it removed.
 */
import { z } from 'zod';
import { cacheName } from '../../../shared/nodes/cache-lookup.ts';
import { createMemoryCacheStore, type CacheStore } from '../../kinds/support/cache-store.ts';
import { auditActor } from '../../store/audit.ts';
import { AdminError } from '../errors.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const purgeBody = z
  .object({
    name: cacheName.meta({ description: 'The cache (the `name` of its cache-lookup and cache-store nodes).' }),
    key: z.string().min(1).max(10_000).optional().meta({ description: 'One entry\'s key, as the lookup made it: the JSON of [base, partner] (base: [method, path, [[query name, value]…]] or the key expression\'s value), e.g. [["GET","/orders",[]],"acme"].' }),
    prefix: z.string().max(10_000).optional().meta({ description: 'Every entry whose key starts with this, e.g. [["GET","/orders for every partner\'s GET /orders…; "" or absent (with no key): the whole cache.' }),
  })
  .strict()
  .refine((b) => b.key === undefined || b.prefix === undefined, { path: ['prefix'], message: 'give a key or a prefix, not both' });
const purgedSchema = z.object({
  removed: z.number().int().meta({ description: 'How many entries were removed (in memory: this replica\'s only; in Redis: the shared ones).' }),
  store: z.enum(['memory', 'redis']),
});

export function cacheEndpoints(context: AdminContext): Endpoint[] {
  const { options } = context;
  const storeOf = (): CacheStore => {
    const deps = options.preview?.context().deps;
    if (!deps) throw new AdminError('not_found', 'this process has no response caches');
    return deps.cache ?? deps.shared.get('cache:memory', createMemoryCacheStore);
  };
  return [
    defineEndpoint({
      method: 'post', path: '/cache/purge', permission: 'publish', summary: 'Purge cached answers of a cache: one key, the keys with a prefix, or all (audited)', body: purgeBody, response: purgedSchema,
      handler: async ({ actor, body }) => {
        const store = storeOf();
        let removed: number;
        try {
          removed = await store.purge(body.name, { key: body.key, prefix: body.prefix });
        } catch (error) {
          throw new AdminError('store_unavailable', `the cache store cannot be reached: ${(error as Error).message}`, { cause: error });
        }
        const what = body.key !== undefined ? `key ${body.key.slice(0, 200)}` : body.prefix ? `prefix ${body.prefix.slice(0, 200)}` : 'every entry';
        await options.store.transact(() => ({ entry: { time: new Date().toISOString(), ...auditActor(actor), action: 'cache.purge', detail: `cache ${body.name}: ${what} (${removed} removed, ${store.name})` }, result: undefined }));
        return { removed, store: store.name as 'memory' | 'redis' };
      },
    }),
  ];
}
