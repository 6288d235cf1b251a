import type { HttpMethod, Route } from '../schema/workflow.ts';

/** The shape of a route path, with parameter names erased: /api/orders/:id -> /api/orders/: */
export function routeShape(path: string): string {
  return path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, ':');
}

/** Methods two routes of the same shape both answer (HEAD is answered by GET routes too). */
export function clashingMethods(a: Route, b: Route): HttpMethod[] {
  if (routeShape(a.path) !== routeShape(b.path)) return [];
  const expand = (r: Route) => new Set<HttpMethod>(r.methods.includes('GET') ? [...r.methods, 'HEAD'] : r.methods);
  const bm = expand(b);
  return [...expand(a)].filter((m) => bm.has(m));
}

/** Path prefixes the gateway keeps for itself; no workflow route may live under them. */
export const RESERVED_PREFIXES = ['/admin', '/editor', '/healthz', '/metrics', '/.well-known/sluice'] as const;

/**
 * The reserved prefix a route path falls under, if any, whatever its case or percent-encoding:
 * `/Admin/api` and `/%61dmin` are `/admin` to a client or proxy that folds case or decodes, and
 * Express itself routes case-insensitively. (The route schema refuses `%` anyway; this holds
 * whatever the schema allows.)
 */
export function reservedPrefixOf(path: string): string | undefined {
  let decoded = path;
  try {
    for (let i = 0; i < 3 && decoded.includes('%'); i++) decoded = decodeURIComponent(decoded); // %2561 -> %61 -> a
  } catch {
    // not valid percent-encoding: compared as written
  }
  const candidates = [path.toLowerCase(), decoded.toLowerCase()];
  return RESERVED_PREFIXES.find((prefix) => candidates.some((p) => p === prefix || p.startsWith(`${prefix}/`)));
}
