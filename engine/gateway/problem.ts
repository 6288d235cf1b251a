import type { ServerResponse } from 'node:http';
import type { CatalogEntry, ErrorCatalog } from '../../shared/schema/index.ts';
import { PROBLEM_CONTENT_TYPE } from '../../shared/schema/index.ts';
import type { FinalStateMeta } from '../../shared/compile/index.ts';
import { SluiceError } from '../kinds/support/errors.ts';

/** A problem+json answer ready to write. */
export interface ProblemAnswer {
  status: number;
  /** The catalog error id. */
  error: string;
  type: string;
  body: string;
}

interface PreparedEntry {
  entry: CatalogEntry;
  /** Template split at placeholders: even indexes literal text, odd indexes parameter names. */
  parts: string[];
}

export interface ProblemRenderer {
  /** Renders catalog error `id`; unknown ids render as internal_error so an answer always goes out. */
  render(id: string, options: { instance: string; traceId: string; params?: Record<string, string> | undefined; extensions?: Record<string, unknown>; detail?: string }): ProblemAnswer;
  has(id: string): boolean;
  readonly catalog: ErrorCatalog;
}

const FALLBACK: CatalogEntry = { status: 500, type: 'about:blank', title: 'Internal Server Error', detail: 'The gateway failed to process the request.' };

/**
 * Prepares the error catalog once: detail templates are split at `{name}` placeholders so a
 * problem renders with string concatenation. A placeholder without a value renders empty.
 */
export function createProblemRenderer(catalog: ErrorCatalog): ProblemRenderer {
  const prepared = new Map<string, PreparedEntry>();
  for (const [id, entry] of Object.entries(catalog.errors)) prepared.set(id, { entry, parts: entry.detail.split(/\{([A-Za-z_][A-Za-z0-9_]*)\}/) });
  const internal = prepared.get('internal_error') ?? { entry: FALLBACK, parts: [FALLBACK.detail] };
  return {
    catalog,
    has: (id) => prepared.has(id),
    render(id, { instance, traceId, params, extensions, detail: fixedDetail }) {
      const { entry, parts } = prepared.get(id) ?? internal;
      let detail = parts[0]!;
      // own values only: a {constructor} placeholder must not render Object's prototype
      for (let i = 1; i < parts.length; i += 2) {
        const name = parts[i]!;
        detail += (params !== undefined && Object.hasOwn(params, name) ? (params[name] ?? '') : '') + parts[i + 1]!;
      }
      const standard = { type: entry.type, title: entry.title, status: entry.status, detail: fixedDetail ?? detail, instance, traceId };
      const body = JSON.stringify(extensions === undefined ? standard : { ...extensions, ...standard });
      return { status: entry.status, error: prepared.has(id) ? id : 'internal_error', type: entry.type, body };
    },
  };
}

/** Headers of every problem answer. */
export function problemHeaders(body: string): Record<string, string> {
  return { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' };
}

/**
 * Writes a rendered problem on a Node response (the gateway's, the control plane's and the admin
 * API's Express answers alike), with `extra` headers, and its body unless the request was a HEAD.
 * Headers set on the response before (a challenge, Retry-After) go out with it.
 */
export function writeProblem(res: ServerResponse, problem: ProblemAnswer, extra?: Record<string, string>, head = false): void {
  const headers = problemHeaders(problem.body);
  if (extra) for (const name in extra) headers[name] = extra[name]!;
  res.writeHead(problem.status, headers);
  res.end(head ? undefined : problem.body);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error' };

/** A rendered problem as a whole HTTP/1.1 answer, for a socket no response wraps; the connection closes after it. */
export function rawProblem(problem: ProblemAnswer, extra?: Record<string, string>): string {
  const headers = { ...problemHeaders(problem.body), ...extra, connection: 'close' };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return `HTTP/1.1 ${problem.status} ${REASONS[problem.status] ?? 'Bad Request'}\r\n${lines}\r\n\r\n${problem.body}`;
}

/**
 * The catalog error a workflow's final state answers with: the unwired port's error, or for a
 * node that failed, the error it raised when the catalog has it (else internal_error).
 */
export function finalProblem(meta: FinalStateMeta, failure: unknown, params: Record<string, string> | undefined, problems: ProblemRenderer): { id: string; params: Record<string, string> | undefined } {
  if (meta.outcome === 'fault' && failure instanceof SluiceError && problems.has(failure.code)) return { id: failure.code, params: failure.params ?? params };
  return { id: meta.error ?? 'internal_error', params };
}
