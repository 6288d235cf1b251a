import type { Exchange, GatewayResponse } from '../types.ts';

/** The keys a request's cache-lookup nodes computed, by cache name, for the cache-store after the proxy. */
const pending = new WeakMap<Exchange, Map<string, string>>();
export function rememberKey(exchange: Exchange, cache: string, key: string): void {
  let keys = pending.get(exchange);
  if (!keys) pending.set(exchange, (keys = new Map()));
  keys.set(cache, key);
}
export const keyOf = (exchange: Exchange, cache: string): string | undefined => pending.get(exchange)?.get(cache);

/** A buffered response body as bytes: as received, text, or JSON (what the answer writer sends). */
export function bodyBytes(response: GatewayResponse): Buffer {
  const body = response.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}
