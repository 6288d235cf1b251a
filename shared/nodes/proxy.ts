import { z } from 'zod';
import { boundedDurationSchema, MAX_TIMER_MS } from '../schema/duration.ts';
import { MAX_MODELS, modelPatternSchema } from '../schema/models.ts';
import { defineKind, frozenPorts, type PortSpec } from './kind.ts';

/** The most targets one proxy node calls. */
const MAX_TARGETS = 16;

const upstreamUrl = z
  .string()
  // ${NAME} only as the whole base: its value then goes to the host it names, never into another URL's path or host
  .regex(/^(https?:\/\/(?:(?!\$\{)\S)+|\$\{[A-Z_][A-Z0-9_]*\}(?:[/?#](?:(?!\$\{)\S)*)?)$/, 'must be an http(s) URL, or ${ENV_VAR} alone or followed by a path (/, ? or #)');

const llmConfig = z
  .object({
    api: z.enum(['openai', 'anthropic']).meta({ title: 'API', description: 'The upstream\'s API: `openai` (chat completions, completions, embeddings, and any OpenAI-compatible server) or `anthropic` (messages). It says how the request\'s model and texts are read; usage is read from either shape of answer.' }),
    models: z
      .array(modelPatternSchema)
      .min(1)
      .max(MAX_MODELS)
      .optional()
      .meta({ title: 'Allowed models', description: `The models callers may ask for (at most ${MAX_MODELS}), each a name or a prefix ending in \`*\`. A request whose body names another model, or none, leaves by \`model_denied\` without calling the upstream (requests without a body, such as GET /v1/models, pass); an allowed body goes upstream as the gateway read it, written out again. Absent: any model. A partner's plan may narrow it per product (its \`models\`).` }),
    estimate: z.boolean().default(true).meta({ title: 'Estimate missing usage', description: 'When the upstream\'s answer carries no usage (a stream without `stream_options.include_usage`, a server that never says), count the prompt and the answer with the tokenizer and mark the usage `estimated`. Off: `llm.usage` is set only from the upstream.' }),
  })
  .strict();

const proxyConfig = z
  .object({
    url: upstreamUrl.optional().meta({
      title: 'Upstream URL',
      description:
        'Base URL of the upstream (or give `targets`). It may start with ${NAME}, replaced at publish time by an environment variable the operator allows (SLUICE_WORKFLOW_ENV; default SLUICE_UPSTREAM_* and SLUICE_DEMO_UPSTREAM) and followed only by a path. The host must pass the egress policy (SLUICE_EGRESS_ALLOW): loopback, private, link-local and metadata addresses are refused unless allowed.',
    }),
    targets: z
      .array(z.object({ url: upstreamUrl.meta({ title: 'URL', description: 'Base URL of this target, written like `url`.' }), weight: z.number().int().min(1).max(1000).default(1).meta({ title: 'Weight', description: 'Share of the requests, relative to the other targets.' }) }).strict())
      .min(1)
      .max(MAX_TARGETS)
      .optional()
      .meta({ title: 'Targets', description: `Several upstream base URLs (at most ${MAX_TARGETS}) instead of \`url\`, each with a weight; every request picks one by weight among those whose circuit breaker is not open.` }),
    sticky: z.enum(['partner', 'subject']).optional().meta({ title: 'Sticky by', description: 'Keep a partner (or token subject) on one target: a hash of it picks among the healthy targets. Requests without one are spread by weight.' }),
    retries: z.number().int().min(0).max(5).optional().meta({ title: 'Retries', description: 'Further attempts after a connect error, a timeout or a status of `retryOn` (default 0), on another target when there is one; only for GET, HEAD, OPTIONS, PUT and DELETE unless `retryUnsafe`, and only when the request body was read or is empty. Each attempt has the whole `timeout`. A retry budget (20% of the node\'s requests over 10 s, plus 3) prevents retry storms.' }),
    retryUnsafe: z.boolean().optional().meta({ title: 'Retry unsafe methods', description: 'Retry POST and PATCH too: only when the upstream makes them idempotent.' }),
    retryOn: z.array(z.number().int().min(500).max(599)).min(1).max(20).optional().meta({ title: 'Retry on statuses', description: 'Upstream statuses retried and counted as failures by the breaker (default 502, 503, 504).' }),
    breaker: z
      .object({
        failures: z.number().int().min(1).max(1000).default(5).meta({ title: 'Failures', description: 'Consecutive failures of a target (connect error, timeout, a `retryOn` status) that open its breaker.' }),
        failureRatio: z.number().min(0.01).max(1).optional().meta({ title: 'Failure ratio', description: 'Also open when at least this share of the target\'s calls over the last 10 s failed, once there were 10 calls.' }),
        cooldown: boundedDurationSchema(100, 600_000).default('30s').meta({ title: 'Cool-down', description: 'How long an open breaker ejects its target (100ms to 10m); then one request probes it (half-open): success closes the breaker, failure opens it again.' }),
      })
      .strict()
      .optional()
      .meta({ title: 'Circuit breaker', description: 'Per target; default 5 failures and 30s whenever `targets`, `retries` or `healthCheck` is set. When every target\'s breaker is open the node exits by `open`.' }),
    healthCheck: z
      .object({
        path: z.string().max(1000).regex(/^\//, 'must start with /').meta({ title: 'Path', description: 'Requested with GET on every target; a 2xx or 3xx answer is healthy.' }),
        interval: boundedDurationSchema(1000, 3_600_000).default('10s').meta({ title: 'Interval', description: 'Between checks of a target (1s to 1h).' }),
      })
      .strict()
      .optional()
      .meta({ title: 'Active health check', description: 'Probes each target through the egress policy: a failed check ejects the target (opens its breaker), a passing one readmits it.' }),
    path: z
      .string()
      .max(1000)
      .regex(/^\//, 'must start with /')
      .optional()
      .meta({ title: 'Path rewrite', description: 'Upstream path template with :params, e.g. /v2/orders/:id. Default: the request path, less stripPrefix.' }),
    stripPrefix: z.string().regex(/^\/.*/).optional().meta({ title: 'Strip prefix', description: 'Removed from the request path before it is appended to the URL.' }),
    // 0 would disable undici's timeouts and more than a timer's maximum would fire at once
    timeout: boundedDurationSchema(1, MAX_TIMER_MS).default('10s').meta({ title: 'Timeout', description: 'Whole upstream call, headers and body.' }),
    preserveHost: z.boolean().default(false).meta({ title: 'Preserve Host', description: 'Send the client\'s Host header instead of the upstream\'s.' }),
    forwardAuthorization: z.boolean().default(true).meta({ title: 'Forward Authorization', description: 'Pass the client\'s Authorization header upstream.' }),
    llm: llmConfig.optional().meta({
      title: 'LLM',
      description:
        'The upstream is a large language model API: the request body is read for its model (checked against `models`) and its texts, streamed answers (SSE) still pass chunk by chunk, and the answer\'s token usage (read from it, or estimated) goes in the context as `llm.model`, `llm.usage.input`, `llm.usage.output`, `llm.usage.total`, `llm.usage.estimated`, and into the request log and the sluice_llm_tokens_total metric.',
    }),
  })
  .strict()
  // exactly one of url and targets, for the JSON Schema's readers too (editors, the workflow schema)
  .meta({ anyOf: [{ required: ['url'] }, { required: ['targets'] }] })
  .superRefine((c, ctx) => {
    // no url: the same "is required" as before targets existed
    if (c.url === undefined && c.targets === undefined) ctx.addIssue({ code: 'invalid_type', expected: 'string', input: undefined, path: ['url'], message: 'Invalid input: expected string, received undefined' });
    if (c.url !== undefined && c.targets !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url or targets, not both' });
    if (c.sticky !== undefined && c.targets === undefined) ctx.addIssue({ code: 'custom', path: ['sticky'], message: 'sticky needs targets' });
    if (c.retryUnsafe === true && !c.retries) ctx.addIssue({ code: 'custom', path: ['retryUnsafe'], message: 'retryUnsafe needs retries' });
  });

export type ProxyConfig = z.infer<typeof proxyConfig>;

/** A proxy's ports: one list for every proxy node, and one for every proxy node with `llm` (frozen: shared). */
const PROXY_PORTS: PortSpec[] = frozenPorts([
  { name: 'ok', description: 'The upstream answered (any status); unwired, its answer is returned.', unwired: 'finish' },
  { name: 'error', description: 'The upstream could not be reached or broke the connection.', unwired: { error: 'upstream_unavailable' } },
  { name: 'timeout', description: 'The upstream did not answer in time.', unwired: { error: 'upstream_timeout' } },
  { name: 'open', description: 'Every target\'s circuit breaker is open (only with targets, retries, breaker or healthCheck): no call is made.', unwired: { error: 'upstream_circuit_open' } },
]);
const LLM_PROXY_PORTS: PortSpec[] = frozenPorts([
  ...PROXY_PORTS,
  { name: 'model_denied', description: 'Only with `llm`: the request body asks for a model `llm.models` does not allow, or names none; no call is made.', unwired: { error: 'model_not_allowed' } },
]);

export const proxyKind = defineKind<ProxyConfig>({
  kind: 'proxy',
  title: 'Proxy',
  category: 'Upstream',
  description: 'Calls the upstream (undici keep-alive pool) with the request; streams bodies unless a later node reads them.',
  config: proxyConfig,
  ports: (c) => (c?.llm === undefined ? PROXY_PORTS : LLM_PROXY_PORTS),
  errors: ['upstream_unavailable', 'upstream_timeout', 'upstream_circuit_open', 'model_not_allowed'],
  expressions: () => [],
  producesResponse: true,
  readsRequestBody: (c) => c.llm !== undefined,
});
