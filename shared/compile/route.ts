import type { HttpMethod, Route } from '../schema/workflow.ts';

/** The shape of a route path, with parameter names erased: /api/orders/:id -> /api/orders/: */
export function routeShape(path: string): string {
  return path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, ':');
}

/** Whether host pattern `a` and `b` can match one host with the same precedence (exact with exact, wildcard with wildcard). */
function hostsTie(a: string, b: string): boolean {
  if (a.startsWith('*.') !== b.startsWith('*.')) return false; // an exact host wins over a wildcard: no tie
  if (!a.startsWith('*.')) return a === b;
  return a.endsWith(b.slice(1)) || b.endsWith(a.slice(1)); // *.eu.example.com and *.example.com both match x.eu.example.com
}

/**
 * Whether one request can match both routes' conditions with neither winning: the same number
 * of header conditions that agree wherever they name the same header, and hosts that tie (or
 * neither route names hosts). Routes that differ there are told apart per request.
 */
function conditionsTie(a: Route, b: Route): boolean {
  const ah = a.headers ?? {};
  const bh = b.headers ?? {};
  if (Object.keys(ah).length !== Object.keys(bh).length) return false;
  for (const [name, value] of Object.entries(ah)) if (Object.hasOwn(bh, name) && bh[name] !== value) return false;
  if ((a.hosts === undefined) !== (b.hosts === undefined)) return false;
  return a.hosts === undefined || a.hosts.some((x) => b.hosts!.some((y) => hostsTie(x, y)));
}

/** Methods two routes of the same shape both answer (HEAD is answered by GET routes too) for one request, neither more specific. */
export function clashingMethods(a: Route, b: Route): HttpMethod[] {
  if (routeShape(a.path) !== routeShape(b.path) || !conditionsTie(a, b)) return [];
  const expand = (r: Route) => new Set<HttpMethod>(r.methods.includes('GET') ? [...r.methods, 'HEAD'] : r.methods);
  const bm = expand(b);
  return [...expand(a)].filter((m) => bm.has(m));
}

/** Path prefixes the gateway keeps for itself; no workflow route may live under them. */
export const RESERVED_PREFIXES = ['/admin', '/editor', '/healthz', '/readyz', '/metrics', '/.well-known/sluice', '/mcp', '/portal'] as const;

/**
 * The reserved prefix a route path falls under, if any, whatever its case or percent-encoding:
 * `/Admin/api` and `/%61dmin` are `/admin` to a client or proxy that folds case or decodes, and
 * Express itself routes case-insensitively. (The route schema refuses `%` anyway; this holds
 * whatever the schema allows.)
 */
export function reservedPrefixOf(path: string): string | undefined {
  let decoded = path;
  try {
    // Stryker disable next-line StringLiteral: decoding a path without "%" gives it back unchanged (the check only ends the loop early)
    for (let i = 0; i < 3 && decoded.includes('%'); i++) decoded = decodeURIComponent(decoded); // %2561 -> %61 -> a
  } catch {
    // not valid percent-encoding: compared as written
  }
  const candidates = [path.toLowerCase(), decoded.toLowerCase()];
  return RESERVED_PREFIXES.find((prefix) => candidates.some((p) => p === prefix || p.startsWith(`${prefix}/`)));
}
