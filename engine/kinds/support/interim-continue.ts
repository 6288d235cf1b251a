import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';

/**
 * undici 7 drops the connection ("bad response", a 502 here) when an upstream sends a
 * `100 Continue` before its answer unasked, though RFC 9110 15.2 says a client must accept any
 * 1xx before the final answer (it passes the others, 103 Early Hints say, to the call, which
 * skips them). Its HTTP/1 parser is not exported: the first connection an undici client makes
 * hands it over through undici's own diagnostics channel, and its onHeadersComplete then reads
 * a 100 as a 102, an interim answer of the same shape, so the answer after it is the answer.
 * Once per process, at the first connection; nothing per request.
 */
export function acceptInterimContinue(): void {
  let kParser: symbol | undefined;
  try {
    kParser = (createRequire(import.meta.url)('undici/lib/core/symbols.js') as { kParser?: symbol }).kParser;
  } catch {
    return; // undici moved its internals: test/adversarial/http-edges.test.ts says so
  }
  if (kParser === undefined) return;
  const key = kParser;
  const onConnected = (message: unknown) => {
    const parser = (message as { socket?: Record<symbol, unknown> }).socket?.[key] as object | null | undefined;
    if (!parser) return; // HTTP/2, or a connection of Node's own copy of undici (global fetch)
    unsubscribe('undici:client:connected', onConnected);
    type HeadersComplete = (statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) => number;
    const prototype = Object.getPrototypeOf(parser) as { onHeadersComplete?: HeadersComplete };
    const original = prototype.onHeadersComplete;
    if (typeof original !== 'function') return;
    prototype.onHeadersComplete = function onHeadersComplete(statusCode, upgrade, shouldKeepAlive) {
      return original.call(this, statusCode === 100 ? 102 : statusCode, upgrade, shouldKeepAlive);
    };
  };
  subscribe('undici:client:connected', onConnected);
}
