import type { SharedResources } from '../types.ts';

/**
 * Values nodes share by a URL or issuer a document names (remote key sets, OIDC discoveries), at
 * most this many in all. Previews, simulations and workflow tests prepare drafts too, so an
 * editor naming a new URL each time would otherwise add one for the life of the process. 64 is
 * more than the identity providers a gateway's workflows name together (a discovered issuer takes
 * two: its metadata and its keys), and bounds the memory: a fetched key set may be 512 KB, about
 * 1.4 MB once parsed, so about 90 MB for 64 at worst.
 */
export const RECENTLY_SHARED = 64;

/**
 * The value of `key` among those shared by what documents name: made on first use, and past
 * RECENTLY_SHARED the one least recently asked for is forgotten. A forgotten value stays with the
 * nodes holding it (a served version keeps its key set, cache and all, and fetches nothing anew
 * for this); only a node prepared later makes its own, so at worst a republish fetches again.
 * Only for values that need no closing: a forgotten one is left to the garbage collector.
 */
export function recentlyShared<T>(shared: SharedResources, key: string, create: () => T): T {
  const values = shared.get('recently-shared', () => new Map<string, unknown>());
  let value = values.get(key) as T | undefined;
  if (value === undefined) {
    value = create();
    if (values.size >= RECENTLY_SHARED) values.delete(values.keys().next().value!);
  } else values.delete(key); // set again below: the most recently asked for
  values.set(key, value);
  return value;
}
