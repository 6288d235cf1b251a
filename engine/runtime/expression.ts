import jsonata from 'jsonata';
import { failWith, SluiceError } from './errors.ts';
import { compileSubset } from './jsonata-subset.ts';
import type { BoundExpression, Exchange, NodeRun } from './types.ts';

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

/** A JSONata failure as a SluiceError `expression_failed`, the JSONata error as its cause. */
function expressionFailed(cause: unknown): SluiceError {
  const code = (cause as { code?: string }).code;
  return new SluiceError('expression_failed', `expression failed${code ? ` (${code})` : ''}`, { cause });
}

/**
 * Compiles a JSONata expression once (at publish time). Evaluation is bounded; any failure
 * becomes a SluiceError `expression_failed` carrying the JSONata error as its cause. An
 * expression of the subset jsonata-subset.ts compiles (paths, object and array constructors,
 * literals, comparisons, and/or) is also compiled to a plain function, offered as `evaluateNow`;
 * `evaluate` then uses it too.
 * @example
 * const isAdmin = compileExpression('"admin" in scopes');
 * await isAdmin.evaluate(exchange); // true or false
 */
export function compileExpression(source: string, limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS): BoundExpression {
  const compiled = jsonata(source, { timeout: limits.timeoutMs, stack: limits.depth, sequence: limits.sequence });
  const outputChars = limits.outputChars ?? DEFAULT_OUTPUT_CHARS;
  const checked = (result: unknown) => {
    if (exceeds(result, outputChars)) {
      const cause = Object.assign(new Error(`the result is larger than ${outputChars} characters`), { code: 'result too large' });
      throw new SluiceError('expression_failed', 'expression failed (result too large)', { cause });
    }
    return result;
  };
  const subset = compileSubset(compiled.ast(), limits);
  if (subset !== undefined) {
    const evaluateNow = (exchange: Exchange) => {
      let result: unknown;
      try {
        result = subset(inputOf(exchange));
      } catch (cause) {
        throw expressionFailed(cause);
      }
      return checked(result);
    };
    return { source, evaluateNow, evaluate: async (exchange) => evaluateNow(exchange) };
  }
  return {
    source,
    async evaluate(exchange) {
      let result: unknown;
      try {
        result = await compiled.evaluate(inputOf(exchange));
      } catch (cause) {
        throw expressionFailed(cause);
      }
      return checked(result);
    },
  };
}

/** Why a field's expression failed (error, time, depth or size bound), naming the field and the JSONata code; undefined for an error that is not an expression's. */
function failureReason(field: string, error: unknown): string | undefined {
  if (!(error instanceof SluiceError)) return undefined;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return `the ${field} expression failed${typeof code === 'string' ? ` (${code})` : ''}`;
}

/** A field's expression a node's steps ask to have evaluated; the step gets its value back. */
export interface FieldRequest {
  field: string;
  expression: BoundExpression;
}

/** What a transform does to one request: yields each field's expression, returns the port. */
export type FieldSteps = Generator<FieldRequest, string, unknown>;

/** A failed field's expression ends the node by its error port; any other error goes on up. */
function fieldFailed(exchange: Exchange, field: string, error: unknown): string {
  const reason = failureReason(field, error);
  if (reason === undefined) throw error;
  return failWith(exchange, reason);
}

/**
 * Runs a transform's steps on, sending `value` to the step that asked for it: each expression
 * the steps yield is evaluated and its value sent back, synchronously when it has `evaluateNow`
 * (so a node whose expressions all have it costs no promise), else by awaiting JSONata and going
 * on from there. One that fails (error, time, depth or size bound) ends the node by its error
 * port, naming the field and the JSONata code.
 */
function advance(exchange: Exchange, running: FieldSteps, value: unknown): string | Promise<string> {
  let field = '';
  try {
    let next = running.next(value);
    while (!next.done) {
      const { expression } = next.value;
      field = next.value.field;
      if (expression.evaluateNow === undefined) {
        const waitingOn = field;
        return expression.evaluate(exchange).then(
          (result) => advance(exchange, running, result),
          (error: unknown) => fieldFailed(exchange, waitingOn, error),
        );
      }
      next = running.next(expression.evaluateNow(exchange));
    }
    return next.value;
  } catch (error) {
    return fieldFailed(exchange, field, error);
  }
}

/** A node run from a transform's steps (see advance). */
export function runFieldSteps(steps: (exchange: Exchange) => FieldSteps): NodeRun {
  return (exchange) => advance(exchange, steps(exchange), undefined);
}
