import { resolve } from 'node:path';
import { z } from 'zod';
import { boundedDurationSchema, durationMs } from '../shared/schema/duration.ts';

const SIZE = /^(\d+)(b|kb|mb)?$/i;
const bytes = (text: string) => {
  const m = SIZE.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b'] ?? 1);
};
const flag = z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no']).transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

/** Every environment variable Sluice reads, with its default. The README's configuration table mirrors this. */
export const settingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).meta({ description: 'Port of the gateway, its admin API and the editor (0 picks a free one).' }),
  HOST: z.string().default('0.0.0.0').meta({ description: 'Address to listen on.' }),
  SLUICE_DATA: z.string().default('./data').meta({ description: 'Data directory: workflows/, errors.json, demo keys. Seeded from examples/ when new.' }),
  SLUICE_DEMO: flag.prefault('on').meta({ description: 'Start the demo upstream (its URL in ${SLUICE_DEMO_UPSTREAM}) and the demo token issuer.' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({ description: 'pino level; `info` logs one line per request.' }),
  LOG_FILE: z.string().optional().meta({ description: 'Write logs to this file instead of stdout.' }),
  SLUICE_MAX_BODY: z.string().regex(SIZE, 'a size like 1mb, 512kb or 65536').default('1mb').transform(bytes).meta({ description: 'Largest request body a workflow that reads the body accepts (413 above).' }),
  SLUICE_MAX_HEADER: z.string().regex(SIZE, 'a size like 16kb').default('16kb').transform(bytes).meta({ description: 'Largest request head (431 above).' }),
  SLUICE_HEADERS_TIMEOUT: boundedDurationSchema(100, 600_000).default('10s').meta({ description: 'Longest a client may take to send the request head (slowloris); then 408 and the connection closes.' }),
  SLUICE_REQUEST_TIMEOUT: boundedDurationSchema(100, 3_600_000).default('30s').meta({ description: 'Longest a client may take to send the whole request, body included; then 408 and the connection closes.' }),
  SLUICE_TRUST_PROXY: flag.prefault('off').meta({ description: 'Take the client address from X-Forwarded-For (only behind a proxy you run).' }),
  SLUICE_ADMIN_TOKENS: z.string().optional().meta({ description: 'Admin API tokens, comma-separated `name:role:token` (roles: viewer, editor, publisher, auditor, admin). Unset: an admin token is created in `$SLUICE_DATA/admin-token`.' }),
  SLUICE_ADMIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000_000).default(10).meta({ description: 'Wrong admin tokens one address may send per minute; then every call from it answers 429 for the rest of the minute.' }),
  SLUICE_FOUR_EYES: flag.prefault('off').meta({ description: 'A publisher cannot publish a draft they last edited.' }),
  SLUICE_EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50).meta({ description: 'Time bound of one JSONata evaluation, checked between steps. An expression off the compiled fast path runs in a worker thread, stopped even inside one step at this bound plus the larger of itself and 250 ms (300 ms by default), plus 0.2 ms per thousand characters of context copied to it; past this bound its CPU priority is lowered (Linux).' }),
  SLUICE_EXPRESSION_MAX_OUTPUT: z.string().regex(SIZE, 'a size like 1mb').default('1mb').transform(bytes).meta({ description: 'Longest string (in characters) one JSONata function call may build: `$pad`, `$join`, `$string`, `$replace`, `$clone`; more fails the expression (500 expression-failed).' }),
  SLUICE_EXPRESSION_MAX_TRANSFER: z.string().regex(SIZE, 'a size like 2mb').default('2mb').transform(bytes).meta({ description: 'Largest request context copied to an expression worker, and result copied back, in characters of JSON (only the members an expression names are copied). Copying holds the event loop for about 10 ms per MB.' }),
  SLUICE_EXPRESSION_WORKERS: z.coerce.number().int().min(1).max(64).default(2).meta({ description: 'Most worker threads for expressions off the compiled fast path; the first starts when a workflow that needs one is loaded.' }),
  SLUICE_EXPRESSION_QUEUE: z.coerce.number().int().min(1).max(100_000).default(64).meta({ description: 'Evaluations that may wait for an expression worker; one more fails at once (500 expression-failed, `busy`).' }),
  SLUICE_LOG_SUBJECT: z.enum(['hash', 'plain', 'off']).default('hash').meta({ description: 'How request log lines carry the token subject: `hash` (HMAC-SHA256, 16 hex digits), `plain`, or `off`.' }),
  SLUICE_LOG_SUBJECT_KEY: z.string().optional().meta({ description: 'HMAC key for hashed subjects; set the same on every replica so their hashes agree. Never logged.' }),
  SLUICE_METRICS: flag.prefault('on').meta({ description: 'Count requests, nodes and edges for `/metrics`, the live canvas and the stats endpoint.' }),
  SLUICE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional().meta({ description: 'Also serve `/metrics` without a token on this port (bind it where only Prometheus reaches). Unset: `/metrics` on PORT needs an admin token.' }),
  SLUICE_METRICS_PARTNERS: z.string().optional().meta({ description: 'Comma-separated partner ids that always get their own metric label (api-key partners always do).' }),
  SLUICE_METRICS_PARTNER_LIMIT: z.coerce.number().int().min(0).max(10_000).default(50).meta({ description: 'How many further partner ids get their own label; the rest are counted as `other`.' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().meta({ description: 'Export a span per request and per node over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`.' }),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional().meta({ description: 'Headers for the OTLP export, `name=value` comma-separated (an API key, say). Never logged.' }),
  OTEL_SERVICE_NAME: z.string().default('sluice').meta({ description: 'service.name of exported spans.' }),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional().meta({ description: 'Keep workflows, versions, the audit log, rate-limit counters and reload notices in Redis, shared by every replica. Unset: the file store in `$SLUICE_DATA/store` and in-memory rate limits.' }),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-"').default('main').meta({ description: 'Namespace of the keys (`{sluice:<prefix>}:…`): installations sharing one Redis use different prefixes.' }),
  REDIS_CLUSTER: flag.prefault('off').meta({ description: 'REDIS_URL names a node of a Redis Cluster (ioredis Cluster client).' }),
  SLUICE_RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().min(5).max(5_000).default(100).meta({ description: 'Longest wait for Redis on a rate-limit check; slower calls are decided by the node\'s onStoreDown and open the circuit breaker.' }),
});

export interface Settings {
  port: number;
  host: string;
  dataDir: string;
  demo: boolean;
  logLevel: string;
  logFile: string | undefined;
  maxBodyBytes: number;
  maxHeaderBytes: number;
  trustProxy: boolean;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  expressionTimeoutMs: number;
  expressionMaxOutput: number;
  expressionMaxTransfer: number;
  expressionWorkers: number;
  expressionQueue: number;
  adminTokens: string | undefined;
  adminMaxFailures: number;
  fourEyes: boolean;
  logSubject: 'hash' | 'plain' | 'off';
  logSubjectKey: string | undefined;
  metrics: boolean;
  metricsPort: number | undefined;
  metricsPartners: string[];
  metricsPartnerLimit: number;
  otlp: { endpoint: string; headers: Record<string, string>; serviceName: string } | undefined;
  redis: { url: string; prefix: string; cluster: boolean } | undefined;
  rateLimitTimeoutMs: number;
}

/** `name=value,name=value` as OTEL_EXPORTER_OTLP_HEADERS writes them (values percent-decoded). */
function otlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/** Reads settings from the environment; a bad value names the variable. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const s = parsed.data;
  return {
    port: s.PORT,
    host: s.HOST,
    dataDir: resolve(s.SLUICE_DATA),
    demo: s.SLUICE_DEMO,
    logLevel: s.LOG_LEVEL,
    logFile: s.LOG_FILE,
    maxBodyBytes: s.SLUICE_MAX_BODY,
    maxHeaderBytes: s.SLUICE_MAX_HEADER,
    trustProxy: s.SLUICE_TRUST_PROXY,
    headersTimeoutMs: durationMs(s.SLUICE_HEADERS_TIMEOUT),
    requestTimeoutMs: Math.max(durationMs(s.SLUICE_REQUEST_TIMEOUT), durationMs(s.SLUICE_HEADERS_TIMEOUT)),
    expressionTimeoutMs: s.SLUICE_EXPRESSION_TIMEOUT_MS,
    expressionMaxOutput: s.SLUICE_EXPRESSION_MAX_OUTPUT,
    expressionMaxTransfer: s.SLUICE_EXPRESSION_MAX_TRANSFER,
    expressionWorkers: s.SLUICE_EXPRESSION_WORKERS,
    expressionQueue: s.SLUICE_EXPRESSION_QUEUE,
    adminTokens: s.SLUICE_ADMIN_TOKENS,
    adminMaxFailures: s.SLUICE_ADMIN_MAX_FAILURES,
    fourEyes: s.SLUICE_FOUR_EYES,
    logSubject: s.SLUICE_LOG_SUBJECT,
    logSubjectKey: s.SLUICE_LOG_SUBJECT_KEY,
    metrics: s.SLUICE_METRICS,
    metricsPort: s.SLUICE_METRICS_PORT,
    metricsPartners: (s.SLUICE_METRICS_PARTNERS ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    metricsPartnerLimit: s.SLUICE_METRICS_PARTNER_LIMIT,
    otlp: s.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: s.OTEL_EXPORTER_OTLP_ENDPOINT, headers: otlpHeaders(s.OTEL_EXPORTER_OTLP_HEADERS), serviceName: s.OTEL_SERVICE_NAME } : undefined,
    redis: s.REDIS_URL === undefined ? undefined : { url: s.REDIS_URL, prefix: s.REDIS_PREFIX, cluster: s.REDIS_CLUSTER },
    rateLimitTimeoutMs: s.SLUICE_RATE_LIMIT_TIMEOUT_MS,
  };
}
