import { z } from 'zod';
import { boundedDurationSchema } from '../schema/duration.ts';
import { defineKind, frozenPorts, mentionsBody, type PortSpec } from './kind.ts';

const RATE_LIMIT_KEYS = ['partner', 'subject', 'ip', 'claim', 'header', 'expression', 'global'] as const;
const STORE_DOWN_CHOICES = ['allow', 'deny', 'local'] as const;
export type StoreDownChoice = (typeof STORE_DOWN_CHOICES)[number];

const rateLimitConfig = z
  .object({
    limit: z
      .union([z.number().int().min(1).max(1_000_000_000_000), z.literal('plan')])
      .meta({ title: 'Limit', description: 'Requests (with a cost: units of cost, such as tokens) allowed per window and key, or "plan": the limit and window of the partner\'s plan for the product that includes this workflow (the partner\'s override first; with a cost, its token budget), looked up per request.' }),
    fallbackLimit: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000_000)
      .optional()
      .meta({ title: 'Fallback limit', description: 'With limit "plan": requests allowed per window for callers with no plan limit (no partner, or no plan or override for this workflow\'s products). Without it such requests are refused with rate_limited.' }),
    window: boundedDurationSchema(1, Number.MAX_SAFE_INTEGER).default('1m').meta({ title: 'Window', description: 'Sliding window length.' }),
    key: z.enum(RATE_LIMIT_KEYS).default('partner').meta({ title: 'Key', description: 'What is counted separately: the partner, the token subject, the client IP, a claim, a header, a JSONata expression, or everyone together.' }),
    name: z.string().min(1).max(200).optional().meta({ title: 'Claim or header name', description: 'With key "claim" or "header".' }),
    expression: z.string().min(1).max(10_000).optional().meta({ title: 'Key expression', description: 'With key "expression": JSONata giving the key.', format: 'jsonata' }),
    cost: z
      .string()
      .min(1)
      .max(10_000)
      .optional()
      .meta({
        title: 'Cost (token budget)',
        description:
          'JSONata giving what a request costs, evaluated once its answer is complete, e.g. `llm.usage.total`: the node then limits the sum of costs per window (a token budget) instead of requests. Before the call it refuses when the prompt\'s estimated tokens alone exceed what is left; the answer is charged after, even past the limit (a streamed answer is finished), and the next request is refused.',
        format: 'jsonata',
      }),
    onStoreDown: z
      .enum(STORE_DOWN_CHOICES)
      .default('local')
      .meta({ title: 'When Redis is down', description: 'With REDIS_URL, when the shared counters cannot be reached: let requests through (allow), answer 503 through the unavailable port (deny), or count in this replica at limit / live replicas (local).' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.key === 'claim' || c.key === 'header') && c.name === undefined)
      ctx.addIssue({ code: 'custom', path: ['name'], message: `key "${c.key}" needs the ${c.key} name` });
    if (c.fallbackLimit !== undefined && c.limit !== 'plan') ctx.addIssue({ code: 'custom', path: ['fallbackLimit'], message: 'only with limit "plan"' });
    if (c.key === 'expression' && c.expression === undefined)
      ctx.addIssue({ code: 'custom', path: ['expression'], message: 'key "expression" needs an expression' });
  });

export type RateLimitConfig = z.infer<typeof rateLimitConfig>;

/** A rate limit's ports, of requests or (with a cost) of tokens: two lists shared by every node (frozen). */
const rateLimitPorts = (limited: PortSpec): PortSpec[] =>
  frozenPorts([
    { name: 'ok', description: 'Within the limit.', unwired: 'required' },
    limited,
    { name: 'unavailable', description: 'The shared counters (Redis) cannot be reached and onStoreDown is "deny".', unwired: { error: 'rate_limit_unavailable' } },
  ]);
const RATE_LIMIT_PORTS = rateLimitPorts({ name: 'limited', description: 'Over the limit.', unwired: { error: 'rate_limited' } });
const TOKEN_BUDGET_PORTS = rateLimitPorts({ name: 'limited', description: 'The token budget is spent, or the prompt\'s estimated tokens exceed what is left.', unwired: { error: 'token_budget_exceeded' } });

export const rateLimitKind = defineKind<RateLimitConfig>({
  kind: 'rate-limit',
  title: 'Rate limit',
  category: 'Traffic',
  description: 'Limits requests (or, with a cost, tokens) per key in a sliding window; answers carry RateLimit-* headers, refusals Retry-After.',
  config: rateLimitConfig,
  ports: (c) => (c?.cost === undefined ? RATE_LIMIT_PORTS : TOKEN_BUDGET_PORTS),
  errors: ['rate_limited', 'token_budget_exceeded', 'rate_limit_unavailable', 'expression_failed'],
  expressions: (c) => [...(c.key === 'expression' && c.expression ? [{ field: 'expression', source: c.expression }] : []), ...(c.cost ? [{ field: 'cost', source: c.cost }] : [])],
  // a token budget estimates the prompt's tokens before the call
  readsRequestBody: (c) => c.cost !== undefined || (c.key === 'expression' && mentionsBody([{ field: 'expression', source: c.expression ?? '' }])),
});
