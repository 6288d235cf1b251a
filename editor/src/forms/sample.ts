/**
 * The preview's current sample request, shared with the JSONata fields: their "Evaluate" runs an
 * expression against it, and their autocomplete offers its header names and body fields. The
 * preview panel (kept mounted) publishes what is typed in it; any field reads the latest.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { parseHeaders } from './headers-text.ts';

/** What an expression is evaluated against (POST /admin/api/expressions/evaluate's body, less the expression). */
export interface EvaluationSample {
  request: { method: string; path: string; params?: Record<string, string>; headers?: Record<string, string>; body?: unknown };
  partner?: string;
  scopes?: string[];
  response?: { status: number; body?: unknown };
}

/** The preview panel's fields, as typed. */
export interface PreviewFields {
  method: string;
  path: string;
  /** "name: value" lines */
  headers: string;
  /** JSON text (kept as text when it does not parse) */
  body: string;
  /** The route's path pattern, for the request's :params. */
  route: string;
  scopes?: string;
  partner?: string;
  mock?: boolean;
  mockStatus?: number;
  mockBody?: string;
}

let current: EvaluationSample | undefined;
const listeners = new Set<() => void>();

const jsonOrText = (text: string): unknown => {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * The :params of a route matched by a path (`/orders/:id` and `/orders/ord-1` give `{ id: 'ord-1' }`).
 * @example paramsOf('/orders/:id', '/orders/ord-1?x=1') // { id: 'ord-1' }
 */
function paramsOf(route: string, path: string): Record<string, string> {
  const wanted = route.split('/');
  const got = path.split('?')[0]!.split('/');
  const params: Record<string, string> = {};
  wanted.forEach((segment, i) => {
    if (segment.startsWith(':') && got[i] !== undefined) params[segment.slice(1)] = decodeURIComponent(got[i]!);
  });
  return params;
}

/** The sample an expression is evaluated against, from the preview's fields. */
function sampleOf(fields: PreviewFields): EvaluationSample {
  const body = jsonOrText(fields.body);
  const scopes = (fields.scopes ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    request: { method: fields.method, path: fields.path || '/', params: paramsOf(fields.route, fields.path), headers: parseHeaders(fields.headers), ...(body === undefined ? {} : { body }) },
    ...(fields.partner ? { partner: fields.partner } : {}),
    ...(scopes.length > 0 ? { scopes } : {}),
    ...(fields.mock ? { response: { status: fields.mockStatus ?? 200, body: jsonOrText(fields.mockBody ?? '') } } : {}),
  };
}

/** Publishes the preview's fields as the current sample (the preview panel calls it once). */
export function useShareSample(fields: PreviewFields): void {
  const key = JSON.stringify(fields);
  useEffect(() => {
    current = sampleOf(JSON.parse(key) as PreviewFields);
    for (const listener of listeners) listener();
  }, [key]);
}

/** The latest sample, or undefined before the preview panel was drawn. */
export function useSample(): EvaluationSample | undefined {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}
