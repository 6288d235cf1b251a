import type { HttpCallConfig } from '../../shared/nodes/index.ts';
import { HOP_BY_HOP_HEADERS } from '../../shared/nodes/headers.ts';
import { durationMs } from '../../shared/schema/index.ts';
import { PrepareError } from './prepare-error.ts';
import { failWith } from './support/errors.ts';
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
      for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined && value !== null && !NOT_SENT.has(key.toLowerCase())) sent[key.toLowerCase()] = String(value);
      const payload = body ? await body.evaluate(exchange) : undefined;
      if (payload !== undefined) sent['content-type'] ??= 'application/json';
      const controller = new AbortController();
      exchange.onClientGone(controller);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      try {
        const answer = await pool.request({ method, path, headers: sent, body: payload === undefined ? null : JSON.stringify(payload), signal: controller.signal });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of answer.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) {
            controller.abort();
            return failWith(exchange, `the answer of ${url.host} is larger than ${maxBytes} bytes`);
          }
          chunks.push(chunk);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        const type = answer.headers['content-type'];
        let parsed: unknown = text;
        if (typeof type === 'string' && JSON_TYPE.test(type)) {
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON after all: kept as text
          }
        }
        const answerHeaders = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
        exchange.vars = { ...exchange.vars, [name]: { status: answer.statusCode, headers: answerHeaders, body: parsed } };
        if (answer.statusCode >= 200 && answer.statusCode < 300) return 'ok';
        return failWith(exchange, `${url.host} answered ${answer.statusCode}`);
      } catch {
        if (timedOut) return 'timeout';
        return failWith(exchange, `${url.host} could not be reached`);
      } finally {
        clearTimeout(timer);
      }
    },
  };
};
