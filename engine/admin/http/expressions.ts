/**
 * Evaluate a JSONata expression against a sample request, for the editor's "Evaluate" action.
 *
 * The expression runs through the gateway's own path (compileExpression: the compiled fast path,
 * or a worker of an expression pool stopped at the hard deadline, with linear-time regexes and
 * the growing built-ins bounded), under the gateway's expression limits. An editor-role caller
 * controls the expression and the sample, so: the input is bounded in size, the context holds only
 * what the caller sent (never env, secrets, files or the network: JSONata reads its input and
 * nothing else), the result is bounded, and the workers are a small pool of their own, so a flood
 * of slow expressions waits (or is refused as busy) without taking the workers live traffic uses.
 */
import { z } from 'zod';
import { PrepareError } from '../../kinds/prepare-error.ts';
import { DEFAULT_EXPRESSION_LIMITS, compileExpression, type ExpressionLimits } from '../../kinds/support/expression.ts';
import { createExpressionPool, type ExpressionPool } from '../../kinds/support/expression-pool.ts';
import { exceeds } from '../../kinds/support/jsonata-bounds.ts';
import { createSyntheticExchange } from '../../gateway/exchange.ts';
import { expressionSyntaxError } from '../../../shared/compile/index.ts';
import { AdminError } from '../errors.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

/** The largest sample (request and context, as JSON) an evaluation takes. */
const SAMPLE_CHARS = 64 * 1024;
/** The largest result an evaluation answers with, in characters of its JSON. */
const RESULT_CHARS = 64 * 1024;

const text = z.string().max(8192);
const evaluateBody = z
  .object({
    expression: z.string().min(1).max(100_000).meta({ description: 'The JSONata expression (at most SLUICE_MAX_EXPRESSION characters).' }),
    request: z
      .object({
        method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
        path: z.string().startsWith('/').max(4096).default('/'),
        params: z.record(z.string(), text).optional(),
        headers: z.record(z.string().max(200), text).optional(),
        body: z.unknown().optional(),
      })
      .strict()
      .default({ method: 'GET', path: '/' }),
    claims: z.record(z.string(), z.unknown()).optional(),
    partner: z.string().max(200).optional(),
    scopes: z.array(z.string().max(200)).max(100).optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    response: z.object({ status: z.number().int().min(100).max(599).default(200), headers: z.record(z.string().max(200), text).optional(), body: z.unknown().optional() }).strict().optional().meta({ description: 'The upstream answer, for a response transform\'s expressions.' }),
  })
  .strict();
const evaluatedSchema = z.object({
  defined: z.boolean().meta({ description: 'false when the expression matched nothing (JSONata\'s undefined).' }),
  value: z.unknown().optional(),
  ms: z.number(),
});

/** Evaluations one person may have running at once: a script looping slow expressions gets a refusal, not the evaluator. */
const PER_ACTOR = 2;
const running = new Map<string, number>();

/** The workers of evaluations: one thread, a short queue; idle, it keeps nothing alive. */
let evaluationPool: ExpressionPool | undefined;
const poolOf = () => (evaluationPool ??= createExpressionPool({ threads: 1, queue: 8 }));

/** Why an evaluation failed, in words: JSONata's message or the bound that stopped it. */
function failureMessage(error: unknown): string {
  if (error instanceof PrepareError) return `the expression cannot run: ${error.message}`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'busy') return 'too many expressions are being evaluated right now; try again in a moment';
  const message = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
  return `the expression failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`;
}

export function expressionEndpoints(context: AdminContext): Endpoint[] {
  const { options, limits: documentLimits } = context;
  return [
    defineEndpoint({
      method: 'post', path: '/expressions/evaluate', permission: 'edit', summary: 'Evaluate a JSONata expression against a sample request, bounded as the gateway bounds it (nothing is stored; no env, secret, file or network is reachable)', body: evaluateBody, response: evaluatedSchema,
      handler: async ({ actor, body }) => {
        const mine = running.get(actor.name) ?? 0;
        if (mine >= PER_ACTOR) throw new AdminError('too_many_attempts', `${actor.name} already has ${mine} expressions being evaluated; wait for their results`);
        running.set(actor.name, mine + 1);
        try {
          return await evaluate(body);
        } finally {
          const left = (running.get(actor.name) ?? 1) - 1;
          if (left > 0) running.set(actor.name, left);
          else running.delete(actor.name);
        }
      },
    }),
  ];

  async function evaluate(body: z.output<typeof evaluateBody>) {
    const { expression, request, ...rest } = body;
    if (expression.length > documentLimits.expressionLength) throw new AdminError('payload_too_large', `the expression has ${expression.length} characters; at most ${documentLimits.expressionLength} are allowed (SLUICE_MAX_EXPRESSION)`);
    if (exceeds({ request, ...rest }, SAMPLE_CHARS)) throw new AdminError('payload_too_large', `the sample request and context are larger than the ${SAMPLE_CHARS} characters an evaluation takes`);
    const syntax = expressionSyntaxError(expression);
    if (syntax !== undefined) throw new AdminError('validation_failed', `the expression does not parse: ${syntax}`, { problems: [{ code: 'expression_syntax', message: syntax, field: 'expression' }] });
    const gateway: ExpressionLimits = options.preview?.context().deps.expressionLimits ?? DEFAULT_EXPRESSION_LIMITS;
    const bounded: ExpressionLimits = { ...gateway, outputChars: Math.min(gateway.outputChars ?? RESULT_CHARS, RESULT_CHARS), transferChars: Math.min(gateway.transferChars ?? SAMPLE_CHARS * 4, SAMPLE_CHARS * 4) };
    const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const exchange = createSyntheticExchange({ method: request.method, url: request.path, params: request.params ?? {}, headers, body: request.body });
    exchange.claims = rest.claims;
    exchange.partner = rest.partner;
    exchange.subject = typeof rest.claims?.sub === 'string' ? rest.claims.sub : undefined;
    exchange.scopes = rest.scopes ?? [];
    exchange.vars = rest.vars ?? {};
    exchange.response = rest.response ? { status: rest.response.status, headers: rest.response.headers ?? {}, body: rest.response.body } : undefined;
    const started = performance.now();
    let value: unknown;
    try {
      value = await compileExpression(expression, bounded, poolOf()).evaluate(exchange);
    } catch (error) {
      throw new AdminError('validation_failed', failureMessage(error), { cause: error });
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (Buffer.isBuffer(value)) value = value.toString('utf8');
    return value === undefined ? { defined: false, ms } : { defined: true, value, ms };
  }
}
