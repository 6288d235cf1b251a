import type { HttpCallConfig } from '../../shared/nodes/index.ts';
import { HOP_BY_HOP_HEADERS } from '../../shared/nodes/headers.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { PrepareError } from './prepare-error.ts';
import { failWith } from './support/errors.ts';
import { copyOwn, setOwn } from './support/own-members.ts';
import { UpstreamCall } from './support/upstream-call.ts';
import { resolveUrl } from './support/upstream-url.ts';
import type { BoundExpression, Exchange, Runtime } from './types.ts';

/** Headers a workflow may not set on a callout: the connection's, and the ones undici sets from the body. */
const NOT_SENT = new Set<string>([...HOP_BY_HOP_HEADERS, 'host', 'content-length']);

/** Whether `url`'s host is one SLUICE_CALLOUT_HOSTS names: `host` (any port), `host:port`, or `*.domain` (its subdomains). */
export function calloutAllowed(url: URL, allowed: readonly string[]): boolean {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const colon = entry.lastIndexOf(':');
    const [name, entryPort] = colon > 0 && /^\d+$/.test(entry.slice(colon + 1)) ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entry, undefined];
    if (entryPort !== undefined && entryPort !== port) return false;
    return name.startsWith('*.') ? url.hostname.endsWith(name.slice(1)) && url.hostname.length > name.length - 1 : url.hostname === name;
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const JSON_TYPE = /[/+]json\b/i;

/**
 * Calls a side service and puts its answer in `vars.<name>`. The URL is fixed at publish (only
 * its query is computed), so the host checked against SLUICE_CALLOUT_HOSTS and the egress policy
 * there is the host called; every connection goes through the egress connector as well.
 */
export const httpCall: Runtime<HttpCallConfig> = async (config, context) => {
  const url = await resolveUrl(config.url, context, 'config.url');
  if (!calloutAllowed(url, context.calloutHosts))
    throw new PrepareError('config.url', context.calloutHosts.length === 0 ? 'no host is allowed for callouts on this gateway (SLUICE_CALLOUT_HOSTS is empty)' : `host ${url.host} is not among the callout hosts this gateway allows (SLUICE_CALLOUT_HOSTS)`);
  const pool = context.upstreamPool(url.origin, { connections: 64, keepAliveTimeout: 30_000 });
  const expression = (source: string | undefined): BoundExpression | undefined => (source === undefined ? undefined : context.expression(source));
  const query = expression(config.query);
  const headers = expression(config.headers);
  const body = expression(config.body);
  const timeoutMs = durationMs(config.timeout);
  const { name, method, maxBytes } = config;

  async function pathOf(exchange: Exchange): Promise<string | undefined> {
    if (!query) return url.pathname + url.search;
    const value = await query.evaluate(exchange);
    if (value === undefined) return url.pathname + url.search;
    if (!isRecord(value)) return undefined;
    const search = new URLSearchParams(url.search);
    for (const [key, v] of Object.entries(value)) if (v !== undefined && v !== null) search.append(key, String(v));
    return `${url.pathname}${search.size > 0 ? `?${search}` : ''}`;
  }

  return {
    run: async function httpCall(exchange) {
      const path = await pathOf(exchange);
      if (path === undefined) return failWith(exchange, 'the query expression must give an object');
      const sent: Record<string, string> = {};
      const extra = headers ? await headers.evaluate(exchange) : undefined;
      if (extra !== undefined && !isRecord(extra)) return failWith(exchange, 'the headers expression must give an object');
      for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined && value !== null && !NOT_SENT.has(key.toLowerCase())) setOwn(sent, key.toLowerCase(), String(value));
      const payload = body ? await body.evaluate(exchange) : undefined;
      if (payload !== undefined) sent['content-type'] ??= 'application/json';
      // undici's dispatcher with the proxy's handler, buffering up to maxBytes: no AbortController,
      // request promise, body stream or header object of undici's own per call (as its request API makes)
      const call = new UpstreamCall(exchange, false, maxBytes, undefined, timeoutMs);
      exchange.onClientGone(call);
      try {
        try {
          pool.dispatch({ method, path, headers: sent, body: payload === undefined ? null : JSON.stringify(payload) }, call);
        } catch (error) {
          call.onError(error as Error); // refused before it started (a closed pool)
        }
        if ((await call.done) === 'too_large') return failWith(exchange, `the answer of ${url.host} is larger than ${maxBytes} bytes`);
      } catch {
        if (call.timedOut) return 'timeout';
        return failWith(exchange, `${url.host} could not be reached`);
      }
      const text = call.body!.toString('utf8');
      const type = call.headers['content-type'];
      let parsed: unknown = text;
      if (typeof type === 'string' && JSON_TYPE.test(type)) {
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON after all: kept as text
        }
      }
      const answerHeaders: Record<string, string> = {};
      for (const header in call.headers) {
        const value = call.headers[header]!;
        setOwn(answerHeaders, header, Array.isArray(value) ? value.join(', ') : value);
      }
      // a new vars object made by assignment: a spread with a member added makes a map per request (copyOwn says why)
      const vars = copyOwn(exchange.vars);
      setOwn(vars, name, { status: call.status, headers: answerHeaders, body: parsed });
      exchange.vars = vars;
      if (call.status >= 200 && call.status < 300) return 'ok';
      return failWith(exchange, `${url.host} answered ${call.status}`);
    },
  };
};
