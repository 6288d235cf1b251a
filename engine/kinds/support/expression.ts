import jsonata from 'jsonata';
import { failWith, SluiceError } from './errors.ts';
import { createExpressionPool, type ExpressionPool } from './expression-pool.ts';
import { exceeds, type EvaluationLimits } from './jsonata-bounds.ts';
import { compileSubset } from './jsonata-subset.ts';
import { regexProblemsOf } from './linear-regex.ts';
import { PrepareError } from '../prepare-error.ts';
import type { BoundExpression, Exchange, LlmRecord, NodeRun } from '../types.ts';

/** Bounds every JSONata evaluation obeys. */
export interface ExpressionLimits {
  /**
   * JSONata's time bound, checked between evaluation steps. An expression off the compiled fast
   * path runs in a worker that is stopped at the hard deadline (see deadlineOf), inside a step too.
   */
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
  /** Largest string one function call ($pad, $join, $string, $replace, $clone) may build. */
  stringChars?: number;
  /**
   * Largest context copied to an expression worker and result copied back, in characters of JSON:
   * writing and reading the copies holds the gateway's thread, about 10 ms per MB.
   */
  transferChars?: number;
}

/** Results up to the largest upstream answer a proxy buffers for a transform. */
const DEFAULT_OUTPUT_CHARS = 10 * 1024 * 1024;
const DEFAULT_STRING_CHARS = 1024 * 1024;
const DEFAULT_TRANSFER_CHARS = 2 * 1024 * 1024;

export const DEFAULT_EXPRESSION_LIMITS: ExpressionLimits = {
  timeoutMs: 50,
  depth: 300,
  sequence: 100_000,
  outputChars: DEFAULT_OUTPUT_CHARS,
  stringChars: DEFAULT_STRING_CHARS,
  transferChars: DEFAULT_TRANSFER_CHARS,
};

/** Time a worker is given per thousand characters of context, to read it and write its result (2 MB at most: 400 ms). */
const COPY_MS_PER_KCHAR = 0.2;

/**
 * When a worker evaluating an expression is stopped: JSONata's own bound first (it fails cleanly,
 * between steps, and the worker lives on), then as long again, at least 250 ms, for a step that
 * does not return; plus the time to copy `inputChars` of context in and a result out. Generous
 * because stopping a worker is not free: its replacement takes ~200 ms of CPU to start.
 */
function deadlineOf(timeoutMs: number, inputChars = 0): number {
  return timeoutMs + Math.max(timeoutMs, 250) + Math.ceil((inputChars / 1000) * COPY_MS_PER_KCHAR);
}

/** When a worker still evaluating is suspect, and given a lower CPU priority: past JSONata's own bound and the copies. */
function demotionOf(timeoutMs: number, inputChars: number): number {
  return timeoutMs + Math.ceil((inputChars / 1000) * COPY_MS_PER_KCHAR);
}

/** The pool of callers that bring none (tools, unit tests): one thread, never keeping the process alive when idle. */
let sharedPool: ExpressionPool | undefined;
function defaultPool(): ExpressionPool {
  sharedPool ??= createExpressionPool({ threads: 1, queue: 64 });
  return sharedPool;
}

/** The `llm` root as expressions see it: api, model, stream and usage (not the metrics' product). */
const llmView = (llm: LlmRecord | undefined) => (llm === undefined ? undefined : { api: llm.api, model: llm.model, stream: llm.stream, usage: llm.usage });

/**
 * What an expression reads: the request context, without the engine's internals. The query is
 * parsed only for an expression that may read it (`readsQuery`, decided from its source): a
 * getter kept it lazy before, but V8 makes an object literal with a getter a dictionary-mode
 * object, ~1.3 µs per evaluation against ~30 ns for this one.
 */
function inputOf(exchange: Exchange, readsQuery: boolean) {
  const r = exchange.request;
  return {
    request: {
      method: r.method,
      path: r.path,
      params: r.params,
      query: readsQuery ? r.query : undefined,
      headers: r.headers,
      body: r.body,
    },
    claims: exchange.claims,
    partner: exchange.partner,
    subject: exchange.subject,
    scopes: exchange.scopes,
    vars: exchange.vars,
    response: exchange.response === undefined ? undefined : { status: exchange.response.status, headers: exchange.response.headers, body: exchange.response.body },
    llm: llmView(exchange.llm),
  };
}

/**
 * Reaches members without naming them: `*`, `**`, `%`, `$` or `$$`, `$eval`, a function that reads
 * the context when its first argument is left out (`$lookup("partner")`, `$each(fn)`, `$sift(fn)`,
 * any `$f()`), or a comment (which could hide any of these from this reading).
 */
const READS_ANYTHING = /[*%]|\/\*|\$(?![A-Za-z0-9_])|\$(?:eval|each|sift|lookup)\b|\$\w+\(\s*\)/;
/** The members of the context, each copied only when the expression names it. */
const ROOTS = ['request', 'claims', 'partner', 'subject', 'scopes', 'vars', 'response', 'llm'] as const;
type Root = (typeof ROOTS)[number];
/** `request` not followed by one of its fields other than the body (`request.*`, `$r := request`…). */
const REQUEST_WHOLE = /request(?!\s*\.\s*(?:method|path|params|query|headers)\b)/;
const RESPONSE_WHOLE = /response(?!\s*\.\s*(?:status|headers)\b)/;
/** May read the request's query: names it, reaches members without naming them, or takes the request whole (`request`, `$r := request`). */
const mayReadQuery = (source: string) => /\bquery\b/.test(source) || READS_ANYTHING.test(source) || REQUEST_WHOLE.test(source);

/** What of the context an expression may read, decided from its source, conservatively (a member sent for nothing only costs its copy). */
interface Reads {
  roots: ReadonlySet<Root>;
  requestBody: boolean;
  responseBody: boolean;
}

function readsOf(source: string): Reads {
  const any = READS_ANYTHING.test(source);
  const bodies = any || source.includes('body');
  return {
    roots: new Set(ROOTS.filter((root) => any || new RegExp(`\\b${root}\\b`).test(source))),
    requestBody: bodies || REQUEST_WHOLE.test(source),
    responseBody: bodies || RESPONSE_WHOLE.test(source),
  };
}

/** A body as the worker gets it: bytes travel beside the JSON, anything else inside it. */
const bytesOf = (body: unknown) => (body instanceof Uint8Array ? body : undefined);

/** The context copied to a worker: plain data, only the members the expression may read. */
function workerInputOf(exchange: Exchange, reads: Reads) {
  const input: Partial<Record<Root, unknown>> = {};
  let requestBytes: Uint8Array | undefined;
  let responseBytes: Uint8Array | undefined;
  let requestJson: Buffer | undefined;
  if (reads.roots.has('request')) {
    const r = exchange.request;
    let body = reads.requestBody ? r.body : undefined;
    requestBytes = bytesOf(body);
    // a JSON body no node replaced goes as the bytes received, parsed in the worker: not walked and written out again here
    if (body !== null && typeof body === 'object' && requestBytes === undefined && body === exchange.receivedBody?.parsed) {
      requestJson = exchange.receivedBody.raw;
      body = undefined;
    }
    input.request = { method: r.method, path: r.path, params: r.params, query: r.query, headers: r.headers, body: requestBytes ? undefined : body };
  }
  const response = exchange.response;
  if (reads.roots.has('response') && response !== undefined) {
    const body = reads.responseBody ? response.body : undefined;
    responseBytes = bytesOf(body);
    input.response = { status: response.status, headers: response.headers, body: responseBytes ? undefined : body };
  }
  if (reads.roots.has('claims')) input.claims = exchange.claims;
  if (reads.roots.has('partner')) input.partner = exchange.partner;
  if (reads.roots.has('subject')) input.subject = exchange.subject;
  if (reads.roots.has('scopes')) input.scopes = exchange.scopes;
  if (reads.roots.has('vars')) input.vars = exchange.vars;
  if (reads.roots.has('llm')) input.llm = llmView(exchange.llm);
  return { input, requestBytes, requestJson, responseBytes };
}

/** Expression ids, unique in the process: a worker keeps each expression compiled by its id. */
let nextExpressionId = 1;

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
 * literals, comparisons, and/or) is compiled to a plain function, offered as `evaluateNow`, and
 * runs on the calling thread (it is linear in its input and cannot loop). Any other runs in a
 * worker of `pool`, stopped at the hard deadline (deadlineOf), with regexes on RE2 and the
 * growing built-ins bounded (jsonata-bounds.ts).
 * @throws PrepareError (field '' for the caller to name) when a regex cannot run in linear time
 * @example
 * const isAdmin = compileExpression('"admin" in scopes');
 * await isAdmin.evaluate(exchange); // true or false
 */
export function compileExpression(source: string, limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS, pool?: ExpressionPool): BoundExpression {
  const ast = jsonata(source).ast();
  const [regexProblem] = regexProblemsOf(ast);
  if (regexProblem !== undefined) throw new PrepareError('', regexProblem);
  const outputChars = limits.outputChars ?? DEFAULT_OUTPUT_CHARS;
  const subset = compileSubset(ast, limits);
  if (subset !== undefined) {
    const readsQuery = mayReadQuery(source);
    const evaluateNow = (exchange: Exchange) => {
      let result: unknown;
      try {
        result = subset(inputOf(exchange, readsQuery));
      } catch (cause) {
        throw expressionFailed(cause);
      }
      if (exceeds(result, outputChars)) {
        const cause = Object.assign(new Error(`the result is larger than ${outputChars} characters`), { code: 'result too large' });
        throw new SluiceError('expression_failed', 'expression failed (result too large)', { cause });
      }
      return result;
    };
    return { source, evaluateNow, evaluate: async (exchange) => evaluateNow(exchange) };
  }

  const workers = pool ?? defaultPool();
  workers.warm();
  const transferChars = limits.transferChars ?? DEFAULT_TRANSFER_CHARS;
  const evaluation: EvaluationLimits = {
    timeoutMs: limits.timeoutMs,
    depth: limits.depth,
    sequence: limits.sequence,
    stringChars: limits.stringChars ?? DEFAULT_STRING_CHARS,
    resultChars: Math.min(outputChars, transferChars),
  };
  const expression = nextExpressionId++;
  const reads = readsOf(source);
  return {
    source,
    async evaluate(exchange) {
      const { input, requestBytes, requestJson, responseBytes } = workerInputOf(exchange, reads);
      const budget = transferChars - (requestJson?.length ?? 0);
      // measured before it is written out, so that a 10 MB body is not turned into text to be refused
      const json = budget < 0 || exceeds(input, budget) ? undefined : JSON.stringify(input);
      if (json === undefined || json.length > budget) throw expressionFailed({ code: 'input too large', message: `the request context is larger than the ${transferChars} characters an expression worker takes` });
      const copied = transferChars - budget + json.length;
      let reply: { json: string | undefined; bytes?: Uint8Array };
      try {
        // a client that leaves while the evaluation waits for a worker takes it out of the queue
        const gone = new AbortController();
        exchange.onClientGone(gone);
        reply = await workers.run({ expression, source, limits: evaluation, input: json, requestBytes, requestJson, responseBytes }, { deadlineMs: deadlineOf(limits.timeoutMs, copied), demoteMs: demotionOf(limits.timeoutMs, copied), signal: gone.signal });
      } catch (cause) {
        // every worker busy and the queue full: the gateway is overloaded, not the expression wrong
        if ((cause as { code?: unknown }).code === 'busy') {
          (exchange.answerHeaders ??= {})['retry-after'] = '1';
          throw new SluiceError('expressions_busy', 'every expression worker is busy and the queue is full', { cause });
        }
        throw expressionFailed(cause);
      }
      if (reply.bytes !== undefined) return Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
      return reply.json === undefined ? undefined : JSON.parse(reply.json);
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
interface FieldRequest {
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
