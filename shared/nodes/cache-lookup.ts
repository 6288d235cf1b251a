import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { defineKind, mentionsBody } from './kind.ts';

/** A cache's name: shared by a cache-lookup and the cache-store that fills it. */
export const cacheName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" (at most 64)');

const cacheLookupConfig = z
  .object({
    name: cacheName.meta({ title: 'Cache name', description: 'The cache to read: the same name as the cache-store node that fills it.' }),
    key: z.string().min(1).max(10_000).optional().meta({ title: 'Key expression', description: 'JSONata giving the cache key (a request for which it gives nothing, or fails, is not cached). Default: method, path and sorted query, for GET and HEAD only (other methods always miss unless a key is given). The partner is always part of the key unless acrossPartners is set.', format: 'jsonata' }),
    acrossPartners: z.boolean().default(false).meta({ title: 'Share across partners', description: 'Let one partner get an answer cached for another (only for answers that do not depend on who asks). Off: each partner has its own entries, and without a key expression a request with Authorization or Cookie but no partner identified is never cached.' }),
    wait: boundedDurationSchema(0, 30_000).default('5s').meta({ title: 'Stampede wait', description: 'While one request for a key is fetching it, other lookups of the key in this process wait up to this long for the answer it stores (then hit), else miss.' }),
  })
  .strict();

export type CacheLookupConfig = z.infer<typeof cacheLookupConfig>;

export const cacheLookupKind = defineKind<CacheLookupConfig>({
  kind: 'cache-lookup',
  title: 'Cache lookup',
  category: 'Traffic',
  description: 'Looks the request up in a response cache (memory, or Redis when REDIS_URL is set): a hit answers from the cache, a miss goes on (to the proxy and a cache-store).',
  config: cacheLookupConfig,
  ports: () => [
    { name: 'hit', description: 'A fresh cached answer was found: it is the response (answered when unwired).', unwired: 'finish' },
    { name: 'miss', description: 'Nothing cached for the key (or the cache cannot be reached).', unwired: 'required' },
  ],
  errors: [],
  expressions: (c) => (c.key ? [{ field: 'key', source: c.key }] : []),
  answersOn: ['hit'],
  readsRequestBody: (c) => c.key !== undefined && mentionsBody([{ field: 'key', source: c.key }]),
});
