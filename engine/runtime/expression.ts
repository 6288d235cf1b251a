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
  /**
   * Largest result, in characters of its JSON (estimated). JSONata has no bound on what one
   * native call builds (`$pad("", 1e8)`), so a result is measured before anyone answers with it.
   */
  outputChars?: number;
}

/** Results up to the largest upstream answer a proxy buffers for a transform. */
const DEFAULT_OUTPUT_CHARS = 10 * 1024 * 1024;

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = { timeoutMs: 50, depth: 300, sequence: 100_000, outputChars: DEFAULT_OUTPUT_CHARS };

/**
 * Whether a value's JSON would be longer than `budget` characters, estimated without building
 * it: iterative (a deeply nested body cannot overflow the stack) and stopping as soon as the
 * budget is spent (a cyclic value spends it too).
 */
function exceeds(value: unknown, budget: number): boolean {
  if (typeof value === 'string') return value.length > budget;
  if (typeof value !== 'object' || value === null) return false;
  let left = budget;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') left -= v.length + 2;
    else if (typeof v !== 'object' || v === null) left -= 8;
    else if (ArrayBuffer.isView(v)) left -= v.byteLength;
    else if (Array.isArray(v)) {
      left -= v.length + 2;
      for (const item of v) stack.push(item);
    } else {
      left -= 2;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        left -= key.length + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
    if (left < 0) return true;
  }
  return false;
}

/** What an expression reads: the request context, without the engine's internals. */
function inputOf(exchange: Exchange) {
  const r = exchange.request;
  return {
    // JSONata reads own properties only; the query stays lazy as an own getter.
    request: {
      method: r.method,
      path: r.path,
      params: r.params,
      get query() {
        return r.query;
      },
      headers: r.headers,
      body: r.body,
    },
    claims: exchange.claims,
    partner: exchange.partner,
    subject: exchange.subject,
    scopes: exchange.scopes,
    vars: exchange.vars,
    response: exchange.response === undefined ? undefined : { status: exchange.response.status, headers: exchange.response.headers, body: exchange.response.body },
  };
}

/**
 * A predicate's result as JSONata's `$boolean` casts it, so `when` means what it would mean in a
 * JSONata filter: empty strings, arrays and objects, 0, null and functions are false, and an
 * array is true when any member is.
 * @example
 * isTruthy({}); // false, where JavaScript would say true
 */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0;
    case 'function':
      return false;
    case 'object':
      if (Array.isArray(value)) return value.some(isTruthy);
      for (const key in value) if (Object.hasOwn(value, key)) return true;
      return false;
    default:
      return true;
  }
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
  const outputChars = limits.outputChars ?? DEFAULT_OUTPUT_CHARS;
  return {
    source,
    async evaluate(exchange) {
      let result: unknown;
      try {
        result = await compiled.evaluate(inputOf(exchange));
      } catch (cause) {
        const code = (cause as { code?: string }).code;
        throw new SluiceError('expression_failed', `expression failed${code ? ` (${code})` : ''}`, { cause });
      }
      if (exceeds(result, outputChars)) {
        const cause = Object.assign(new Error(`the result is larger than ${outputChars} characters`), { code: 'result too large' });
        throw new SluiceError('expression_failed', 'expression failed (result too large)', { cause });
      }
      return result;
    },
  };
}

/** A config field's expression that failed at run time, for nodes that exit by a port instead of faulting (transforms). */
export class FieldFailed extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'FieldFailed';
  }
}

/**
 * Evaluates one field's expression; a failure (error, time, depth or size bound) becomes a
 * FieldFailed naming the field and the JSONata code, so the node can exit by its error port.
 */
export async function evaluateField(field: string, expression: BoundExpression, exchange: Exchange): Promise<unknown> {
  try {
    return await expression.evaluate(exchange);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    throw new FieldFailed(`the ${field} expression failed${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}
