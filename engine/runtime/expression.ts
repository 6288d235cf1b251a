import jsonata from 'jsonata';
import { SluiceError } from './errors.ts';
import type { BoundExpression, Exchange } from './types.ts';

/** Bounds every JSONata evaluation obeys. */
export interface ExpressionLimits {
  /** Wall time per evaluation; keep it in tens of ms, evaluation holds the event loop. */
  timeoutMs: number;
  /** Maximum evaluation depth (recursion). */
  depth: number;
  /** Maximum items in one sequence (stops $range(1, 1e9)). */
  sequence: number;
}

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = { timeoutMs: 50, depth: 300, sequence: 100_000 };

/** What an expression reads: the request context, without the engine's internals. */
function inputOf(exchange: Exchange) {
  return {
    request: exchange.request,
    claims: exchange.claims,
    partner: exchange.partner,
    subject: exchange.subject,
    scopes: exchange.scopes,
    vars: exchange.vars,
    response: exchange.response === undefined ? undefined : { status: exchange.response.status, headers: exchange.response.headers, body: exchange.response.body },
  };
}

/**
 * Compiles a JSONata expression once (at publish time). Evaluation is bounded; any failure
 * becomes a SluiceError `expression_failed` carrying the JSONata error as its cause.
 * @example
 * const isAdmin = compileExpression('"admin" in scopes');
 * await isAdmin.evaluate(exchange); // true or false
 */
export function compileExpression(source: string, limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS): BoundExpression {
  const compiled = jsonata(source, { timeout: limits.timeoutMs, stack: limits.depth, sequence: limits.sequence });
  return {
    source,
    async evaluate(exchange) {
      try {
        return await compiled.evaluate(inputOf(exchange));
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        throw new SluiceError('expression_failed', `expression failed${code ? ` (${code})` : ''}`, { cause });
      }
    },
  };
}
