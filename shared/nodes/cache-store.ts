import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { cacheName } from './cache-lookup.ts';
import { defineKind } from './kind.ts';

const cacheStoreConfig = z
  .object({
    name: cacheName.meta({ title: 'Cache name', description: 'The cache to fill: the same name as the cache-lookup node before the proxy.' }),
    ttl: boundedDurationSchema(1, 86_400_000).default('60s').meta({ title: 'Time to live', description: 'How long an answer stays (at most 1d); the upstream\'s Cache-Control max-age / s-maxage shortens it.' }),
    stale: boundedDurationSchema(0, 86_400_000).default('0s').meta({ title: 'Serve stale for', description: 'How long past its ttl an answer is kept to be served stale while one request refreshes it (the others do not wait); 0s: not kept.' }),
    maxBytes: z.number().int().min(1).max(10 * 1024 * 1024).default(1024 * 1024).meta({ title: 'Largest entry (bytes)', description: 'Bodies larger than this are not stored.' }),
    entries: z.number().int().min(1).max(1_000_000).default(10_000).meta({ title: 'Entries per cache', description: 'The most entries the in-memory cache keeps (least recently used evicted first).' }),
  })
  .strict();

export type CacheStoreConfig = z.infer<typeof cacheStoreConfig>;

export const cacheStoreKind = defineKind<CacheStoreConfig>({
  kind: 'cache-store',
  title: 'Cache store',
  category: 'Traffic',
  description: 'Stores the answer for the key its cache-lookup computed: only 200, 203, 204, 301 and 404, never with Set-Cookie, Cache-Control no-store or private, nor a streamed body; max-age caps the ttl.',
  config: cacheStoreConfig,
  ports: () => [{ name: 'ok', description: 'Stored or not, the answer goes on (answered when unwired).', unwired: 'finish' }],
  errors: [],
  expressions: () => [],
  requiresResponse: true,
});
