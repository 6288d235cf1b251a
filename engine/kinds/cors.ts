import type { CorsConfig } from '../../shared/nodes/index.ts';
import type { Exchange, Runtime } from './types.ts';

/** Request headers a browser may send cross-origin without asking (Fetch's CORS-safelisted names). */
const SAFELISTED = new Set(['accept', 'accept-language', 'content-language', 'range']);
/** What a preflight answer varies by: caches keep one per origin and request. */
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
/** The most of a refused origin a problem repeats. */
const SHOWN_ORIGIN = 100;

/** `https://*.example.com:8443` as what an origin must start and end with, with labels between. */
interface Wildcard {
  scheme: string;
  suffix: string;
}

/** Whether `origin` is scheme://label(.label)*suffix: checked by hand, in one pass, without a regular expression. */
function matchesWildcard(wildcard: Wildcard, origin: string): boolean {
  const { scheme, suffix } = wildcard;
  if (!origin.startsWith(scheme) || !origin.endsWith(suffix)) return false;
  // a scheme ends in "//" and a suffix starts with ".": they cannot overlap, so an origin too short to hold a label between them has no character for the loop
  let label = 0;
  for (let i = scheme.length; i < origin.length - suffix.length; i++) {
    const c = origin.charCodeAt(i);
    if (c === 46 /* . */) {
      if (label === 0) return false;
      label = 0;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 /* - */) label++;
    else return false;
  }
  return label > 0;
}

const headerOf = (exchange: Exchange, name: string): string | undefined => {
  const value = exchange.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Cross-origin calls from browsers (the Fetch standard's CORS protocol). A preflight (OPTIONS with
 * Origin and Access-Control-Request-Method) from an allowed origin asking for allowed methods and
 * headers is answered 204 by the node itself; any other request from an allowed origin goes on by
 * `ok`, and its answer, whatever it is (an upstream's, a 401 from a later node), carries
 * Access-Control-Allow-Origin so the browser lets the script read it. A request with no Origin is
 * not a browser's cross-origin call and goes on untouched. Everything is prepared here, once.
 */
export const cors: Runtime<CorsConfig> = (config) => {
  const anyOrigin = config.origins.includes('*');
  const exact = new Set(config.origins.filter((o) => !o.includes('*')));
  const wildcards: Wildcard[] = config.origins.filter((o) => o.includes('://*.')).map((o) => ({ scheme: o.slice(0, o.indexOf('*')), suffix: o.slice(o.indexOf('*') + 1) }));
  const allowed = (origin: string) => anyOrigin || exact.has(origin) || wildcards.some((w) => matchesWildcard(w, origin));
  // `*` only without credentials: a browser refuses a credentialed answer that does not name its origin
  const echoOrigin = !anyOrigin || config.credentials;
  const methods = new Set<string>(config.methods);
  const allowMethods = config.methods.join(', ');
  const anyHeader = config.headers.includes('*');
  const allowedHeaders = new Set(config.headers.map((h) => h.toLowerCase()));
  const allowHeaders = anyHeader ? '*' : config.headers.join(', ');
  const maxAge = String(config.maxAge);
  const expose = config.expose.length > 0 ? config.expose.join(', ') : undefined;

  const refuse = (exchange: Exchange, reason: string) => {
    exchange.problemParams = { ...exchange.problemParams, reason };
    return 'denied';
  };
  /** The first requested header that is neither safelisted nor allowed, if any. */
  const refusedHeader = (requested: string | undefined) => {
    if (requested === undefined || anyHeader) return undefined;
    for (const part of requested.split(',')) {
      const name = part.trim().toLowerCase();
      if (name !== '' && !SAFELISTED.has(name) && !allowedHeaders.has(name)) return name;
    }
    return undefined;
  };

  return {
    run: function cors(exchange) {
      const origin = headerOf(exchange, 'origin');
      if (origin === undefined) return 'ok';
      if (!allowed(origin)) return refuse(exchange, `the origin ${origin.slice(0, SHOWN_ORIGIN)} may not call this API from a browser`);
      const allowOrigin = echoOrigin ? origin : '*';
      const requestedMethod = exchange.request.method === 'OPTIONS' ? headerOf(exchange, 'access-control-request-method') : undefined;
      if (requestedMethod !== undefined) {
        if (!methods.has(requestedMethod)) return refuse(exchange, `method ${requestedMethod.slice(0, 20)} is not allowed from a browser (allowed: ${allowMethods})`);
        const header = refusedHeader(headerOf(exchange, 'access-control-request-headers'));
        if (header !== undefined) return refuse(exchange, `request header ${header.slice(0, 100)} is not allowed from a browser`);
        const headers: Record<string, string> = {
          'access-control-allow-origin': allowOrigin,
          'access-control-allow-methods': allowMethods,
          'access-control-max-age': maxAge,
          vary: PREFLIGHT_VARY,
        };
        if (allowHeaders !== '') headers['access-control-allow-headers'] = allowHeaders;
        if (config.credentials) headers['access-control-allow-credentials'] = 'true';
        exchange.response = { status: 204, headers };
        return 'preflight';
      }
      const extra = (exchange.answerHeaders ??= {});
      extra['access-control-allow-origin'] = allowOrigin;
      if (echoOrigin) extra.vary = 'Origin';
      if (config.credentials) extra['access-control-allow-credentials'] = 'true';
      if (expose !== undefined) extra['access-control-expose-headers'] = expose;
      return 'ok';
    },
  };
};
