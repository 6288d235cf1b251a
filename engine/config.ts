import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { boundedDurationSchema, durationMs } from '../shared/schema/duration.ts';
import { PORTAL_MODES, type PortalMode } from '../shared/portal/index.ts';
import { DEFAULT_DOCUMENT_LIMITS, MAX_EDGES, MAX_NODES, type DocumentLimits } from '../shared/schema/index.ts';
import { parseTrustProxy, type TrustProxy } from './gateway/client-address.ts';
import { parseEgressAllow } from './kinds/support/egress.ts';
import { DEFAULT_SECRET_ENV, DEFAULT_WORKFLOW_ENV, parseEnvAllowList, parseSecretHosts, HOST_ENTRY, type EnvAllowList } from './kinds/support/workflow-env.ts';

/**
 * The repository's root, where examples/ and editor/ are: found from this file, which sits one
 * folder down as engine/config.ts and as the bundle dist/cli.mjs alike.
 */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const SIZE = /^(\d+)(b|kb|mb|gb)?$/i;
const bytes = (text: string) => {
  const m = SIZE.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 * 1024, gb: 1024 * 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b'] ?? 1);
};
/** A setting whose text a parser checks: its error message is the issue's. */
const parsedBy = (parse: (text: string) => unknown) =>
  z.string().superRefine((text, ctx) => {
    try {
      parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });
const flag = z.enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no']).transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

/** Every environment variable Sluice reads, with its default. The README's configuration table mirrors this. */
export const settingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).meta({ description: 'Port of the gateway, its admin API and the editor (0 picks a free one).' }),
  HOST: z.string().default('0.0.0.0').meta({ description: 'Address to listen on.' }),
  SLUICE_DATA: z.string().default('./data').meta({ description: 'Data directory: workflows/, errors.json, keys/ (the only files workflows may name), demo keys. Seeded from examples/ when new.' }),
  SLUICE_DEMO: flag.prefault('off').meta({ description: 'Demo mode: start the demo upstream (its URL in ${SLUICE_DEMO_UPSTREAM}; the egress policy allows exactly its address and port), the demo token issuer and `POST /admin/api/demo-token` (an editor mints tokens for any partner). `npm start` turns it on; never in production.' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({ description: 'pino level; `info` logs one line per request.' }),
  LOG_FILE: z.string().optional().meta({ description: 'Write logs to this file instead of stdout.' }),
  SLUICE_MAX_BODY: z.string().regex(SIZE, 'a size like 1mb, 512kb or 65536').default('1mb').transform(bytes).meta({ description: 'Largest request body a workflow that reads the body accepts (413 above).' }),
  SLUICE_MAX_HEADER: z.string().regex(SIZE, 'a size like 16kb').default('16kb').transform(bytes).meta({ description: 'Largest request head (431 above).' }),
  SLUICE_HEADERS_TIMEOUT: boundedDurationSchema(100, 600_000).default('10s').meta({ description: 'Longest a client may take to send the request head (slowloris); then 408 and the connection closes.' }),
  SLUICE_REQUEST_TIMEOUT: boundedDurationSchema(100, 3_600_000).default('30s').meta({ description: 'Longest a client may take to send the whole request, body included; then 408 and the connection closes.' }),
  SLUICE_MAX_BUFFERED_ANSWER: z.string().regex(SIZE, 'a size like 10mb or 512kb').default('10mb').transform(bytes).refine((n) => n >= 64 * 1024, 'at least 64kb').meta({ description: 'Most answer bytes held in memory for one connection: an upstream body a transform would read (502 above), an answer a workflow builds (500 above), and one connection\'s unread answers together (the connection is closed above).' }),
  SLUICE_SEND_TIMEOUT: boundedDurationSchema(100, 3_600_000).default('30s').meta({ description: 'Longest a client may leave an answer unread (no byte of it accepted); then the connection closes (slow readers).' }),
  SLUICE_SHUTDOWN_DELAY: boundedDurationSchema(0, 300_000).default('0s').meta({ description: 'On SIGTERM or SIGINT, how long the gateway goes on accepting connections while `/readyz` answers 503 and every answer says `Connection: close`, so load balancers that poll readiness, and clients holding keep-alive connections, move away before the listener closes. 0: close at once (when a Kubernetes preStop hook already waited).' }),
  SLUICE_SHUTDOWN_GRACE: boundedDurationSchema(0, 3_600_000).default('20s').meta({ description: 'After the listener closes, how long requests in flight may take to finish (each connection closes after its answer, idle ones at once); connections still open then are cut and counted in the log. The process exits within SLUICE_SHUTDOWN_DELAY plus this plus closing its stores.' }),
  SLUICE_TRUST_PROXY: z
    .string()
    .default('off')
    .transform((text, ctx) => {
      try {
        return parseTrustProxy(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: 'Which proxies may name the client in X-Forwarded-For: `off` (the socket\'s peer is the client), a number of hops (`1`: one load balancer you run), or proxy addresses and CIDRs, comma-separated (`10.0.0.0/8, loopback`; names `loopback`, `linklocal`, `uniquelocal`). The client is the nearest entry a trusted proxy did not write. Used by the `ip` rate-limit key, the admin lockout, the request log and the X-Forwarded-For sent upstream.' }),
  SLUICE_TLS_CERT: z.string().min(1).optional().meta({ description: 'Serve HTTPS: the PEM certificate (chain) file of the listener. Set with SLUICE_TLS_KEY; unset, the listener speaks plain HTTP.' }),
  SLUICE_TLS_KEY: z.string().min(1).optional().meta({ description: 'The PEM private key file of SLUICE_TLS_CERT.' }),
  SLUICE_TLS_CLIENT_CA: z.string().min(1).optional().meta({ description: 'PEM file of the CA certificates that issue partners\' client certificates. With TLS, the listener asks every client for a certificate and verifies it against these, answering an absent or unverified one through the `client-cert` node (a catalog problem, not a TLS alert). Also verifies certificates read from SLUICE_TLS_CLIENT_CERT_HEADER.' }),
  SLUICE_TLS_CLIENT_CERT_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name').optional().meta({ description: 'Behind a TLS-terminating proxy: the header in which it passes the client certificate, PEM URL-encoded (nginx `$ssl_client_escaped_cert`). Read only from a peer SLUICE_TRUST_PROXY trusts, ignored from any other; the certificate is verified against SLUICE_TLS_CLIENT_CA (needed) here too.' }),
  SLUICE_ADMIN_TOKENS: z.string().optional().meta({ description: 'Admin API tokens, comma-separated `name:role:token` (roles: viewer, editor, publisher, auditor, admin). Unset: an admin token is created in `$SLUICE_DATA/admin-token`.' }),
  SLUICE_ADMIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000_000).default(10).meta({ description: 'Wrong admin tokens one client (its address, see SLUICE_TRUST_PROXY) may send per minute, counted by every replica alike (Redis); then every call from it answers 429 until the sliding minute lets it in.' }),
  SLUICE_FOUR_EYES: flag.prefault('off').meta({ description: 'A publisher cannot publish a draft they last edited.' }),
  SLUICE_PORTAL: z.enum(PORTAL_MODES).default('public').meta({ description: 'The developer portal at `/portal`: its catalog of API products, references, changelogs and problem type pages. `public`: anyone may read what is published (served workflows of API products; never drafts or internal settings). `sign-in`: its catalog needs an admin token (problem type pages stay public). `off`: `/portal` answers 404.' }),
  SLUICE_PROBLEM_BASE: z
    .string()
    .regex(/^(https?:\/\/[^\s/?#]+)?\/[^\s?#]*\/$/, 'an http(s) URL or an absolute path, ending in "/" (https://api.example.com/portal/problems/)')
    .optional()
    .meta({ description: 'Where the built-in problem types resolve: the catalog\'s types under `https://problems.sluice.example/` are answered under this base instead, e.g. `https://api.example.com/portal/problems/`, the portal\'s problem type pages (HTML for people, JSON for machines). Applied when a catalog is read, never per request; types written under another base stay as written. Unset: types as the catalog writes them.' }),
  SLUICE_CONTRACT_GATE: flag.prefault('on').meta({ description: 'A publish that removes or changes an answer of the error contract waits for a second publisher\'s approval (and such a version cannot start as a canary). `off` for an installation with a single publisher.' }),
  SLUICE_MAX_NODES: z.coerce.number().int().min(1).max(MAX_NODES).default(DEFAULT_DOCUMENT_LIMITS.nodes).meta({ description: `Most nodes in a workflow document (at most ${MAX_NODES}); more is refused naming this setting.` }),
  SLUICE_MAX_EDGES: z.coerce.number().int().min(0).max(MAX_EDGES).default(DEFAULT_DOCUMENT_LIMITS.edges).meta({ description: `Most edges in a workflow document (at most ${MAX_EDGES}).` }),
  SLUICE_MAX_DOCUMENT: z.string().regex(SIZE, 'a size like 1mb or 512kb').default('1mb').transform(bytes).pipe(z.number().int().min(1024).max(64 * 1024 * 1024)).meta({ description: 'Largest workflow document as JSON (files, admin API bodies, simulations); an admin body larger than this plus 64kb answers 413.' }),
  SLUICE_MAX_EXPRESSION: z.coerce.number().int().min(1).max(20_000).default(DEFAULT_DOCUMENT_LIMITS.expressionLength).meta({ description: 'Most characters in one JSONata expression of a workflow.' }),
  SLUICE_MAX_JSON_DEPTH: z.coerce.number().int().min(8).max(1_000).default(DEFAULT_DOCUMENT_LIMITS.depth).meta({ description: 'Deepest nesting of objects and arrays in a workflow document or admin API body, checked before it is parsed (400 above).' }),
  SLUICE_EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50).meta({ description: 'Time bound of one JSONata evaluation, checked between steps. An expression off the compiled fast path runs in a worker thread, stopped even inside one step at this bound plus the larger of itself and 250 ms (300 ms by default), plus 0.2 ms per thousand characters of context copied to it; past this bound its CPU priority is lowered (Linux).' }),
  SLUICE_EXPRESSION_MAX_OUTPUT: z.string().regex(SIZE, 'a size like 1mb').default('1mb').transform(bytes).meta({ description: 'Longest string (in characters) one JSONata function call may build: `$pad`, `$join`, `$string`, `$replace`, `$clone`; more fails the expression (500 expression-failed).' }),
  SLUICE_EXPRESSION_MAX_TRANSFER: z.string().regex(SIZE, 'a size like 2mb').default('2mb').transform(bytes).meta({ description: 'Largest request context copied to an expression worker, and result copied back, in characters of JSON (only the members an expression names are copied). Copying holds the event loop for about 10 ms per MB.' }),
  SLUICE_EXPRESSION_WORKERS: z.coerce.number().int().min(1).max(64).default(2).meta({ description: 'Most worker threads for expressions off the compiled fast path; the first starts when a workflow that needs one is loaded.' }),
  SLUICE_EXPRESSION_QUEUE: z.coerce.number().int().min(1).max(100_000).default(256).meta({ description: 'Evaluations that may wait for an expression worker; one more is answered at once with 503 expressions-busy and Retry-After: 1. Keep it above the clients a gateway serves at once: a prompt check or off-fast-path expression per request queues one each.' }),
  SLUICE_LOG_SUBJECT: z.enum(['hash', 'plain', 'off']).default('hash').meta({ description: 'How request log lines carry the token subject: `hash` (HMAC-SHA256, 16 hex digits), `plain`, or `off`.' }),
  SLUICE_LOG_SUBJECT_KEY: z.string().optional().meta({ description: 'HMAC key for hashed subjects; set the same on every replica so their hashes agree. Never logged.' }),
  SLUICE_METRICS: flag.prefault('on').meta({ description: 'Count requests, nodes and edges for `/metrics`, the live canvas and the stats endpoint.' }),
  SLUICE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional().meta({ description: 'Also serve `/metrics` without a token on this port (bind it where only Prometheus reaches). Unset: `/metrics` on PORT needs an admin token.' }),
  SLUICE_METRICS_PARTNERS: z.string().optional().meta({ description: 'Comma-separated partner ids that always get their own metric label (api-key partners always do).' }),
  SLUICE_METRICS_PARTNER_LIMIT: z.coerce.number().int().min(0).max(10_000).default(50).meta({ description: 'How many further partner ids get their own label; the rest are counted as `other`.' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().meta({ description: 'Export a span per request and per node over OTLP/HTTP (JSON) to `<endpoint>/v1/traces`.' }),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional().meta({ description: 'Headers for the OTLP export, `name=value` comma-separated (an API key, say). Never logged.' }),
  OTEL_SERVICE_NAME: z.string().default('sluice').meta({ description: 'service.name of exported spans.' }),
  SLUICE_EVIDENCE: flag.prefault('on').meta({ description: 'Keep one evidence record per request (who, which version, the node path, the outcome) for the evidence queries and the editor\'s Traffic page: in `$SLUICE_DATA/evidence.duckdb`, or in ClickHouse with CLICKHOUSE_URL. Written off the request path; a full queue drops records and counts them.' }),
  SLUICE_EVIDENCE_RETENTION: boundedDurationSchema(60_000, 3650 * 86_400_000).default('30d').meta({ description: 'How long evidence records are kept.' }),
  SLUICE_EVIDENCE_MAX_BYTES: z.string().regex(SIZE, 'a size like 1gb or 500mb').default('1gb').transform(bytes).meta({ description: 'Most bytes the embedded evidence store keeps: past it the oldest records go first.' }),
  CLICKHOUSE_URL: z.url().optional().meta({ description: 'Keep evidence in ClickHouse (`http://user:password@host:8123/database`), shared by every replica: queries then see every replica\'s requests. Unset: the embedded DuckDB file, one per process.' }),
  SLUICE_CANARY_CHECK: boundedDurationSchema(100, 600_000).default('1s').meta({ description: 'How often each gateway adds its canary counts to the totals (in Redis with REDIS_URL) and checks the abort rule.' }),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional().meta({ description: 'Keep workflows, versions, the audit log, rate-limit counters and reload notices in Redis, shared by every replica. Unset: the file store in `$SLUICE_DATA/store` and in-memory rate limits.' }),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-"').default('main').meta({ description: 'Namespace of the keys (`{sluice:<prefix>}:…`): installations sharing one Redis use different prefixes.' }),
  REDIS_CLUSTER: flag.prefault('off').meta({ description: 'REDIS_URL names a node of a Redis Cluster (ioredis Cluster client).' }),
  SLUICE_WORKFLOW_ENV: parsedBy(parseEnvAllowList).default(DEFAULT_WORKFLOW_ENV).meta({ description: 'Environment variables a workflow may read (a proxy url starting with `${NAME}`), comma-separated names or prefixes ending in `*`. Others are refused at validate and publish, naming the variable, never its value.' }),
  SLUICE_SECRET_ENV: parsedBy(parseEnvAllowList).default(DEFAULT_SECRET_ENV).meta({ description: 'Environment variables a workflow may use as a secret (jwt-verify `secretEnv`, introspect `clientSecretEnv`), same syntax. They are never allowed in a URL.' }),
  SLUICE_SECRET_HOSTS: parsedBy(parseSecretHosts).default('').meta({ description: 'Where each secret may be sent: `NAME=host,host;NAME=host` (`host`, `host:port`, `*.example.com`). Only introspect sends one (its `clientSecretEnv`, to the authorization server, which must also be in SLUICE_CALLOUT_HOSTS). A secret bound to no host is used inside the gateway only, so no workflow can send it to a host that would echo it.' }),
  SLUICE_EGRESS_ALLOW: parsedBy(parseEgressAllow).optional().meta({ description: 'Where workflows may connect besides public addresses: comma-separated addresses, CIDR ranges or host names, each optionally `:port` (IPv6 in brackets: `[fd00::/8]:443`), e.g. `10.0.0.0/8,127.0.0.1:9090`. Loopback, private, link-local, CGNAT, unique-local and metadata addresses are refused unless an address entry covers them (a metadata address only by its exact address; a host name never opens them).' }),
  SLUICE_CALLOUT_HOSTS: z
    .string()
    .refine((text) => text === '' || text.split(',').every((host) => HOST_ENTRY.test(host)), 'must be comma-separated host names in lower case, each optionally :port or *.domain')
    .default('')
    .meta({ description: 'Hosts an `http-call` node may call mid-flow, and an `introspect` node may send the gateway\'s client secret to (its authorization server), comma-separated (`host`, `host:port`, `*.example.com`), besides the egress policy. Empty (the default): no workflow may make callouts or introspect, so an editor cannot point one at an arbitrary address. In demo mode the demo upstream this process starts is added.' }),
  SLUICE_EGRESS_PUBLIC: flag.prefault('on').meta({ description: 'Workflows may connect to public addresses without an entry in SLUICE_EGRESS_ALLOW. Off: only the entries (host names then open public addresses).' }),
  SLUICE_REPLAY: flag.prefault('on').meta({ description: 'Record a bounded sample of each workflow\'s recent requests, with the upstream\'s answers and without any credential, for differential replay (`POST /admin/api/workflows/:id/compare`, the publish dialog). In memory per process, or in Redis with REDIS_URL (every replica\'s samples). Off: nothing is recorded and a compare replays the workflow tests only.' }),
  SLUICE_REPLAY_SAMPLES: z.coerce.number().int().min(1).max(10_000).default(200).meta({ description: 'Recorded requests kept per workflow (the newest); a compare replays them all.' }),
  SLUICE_REPLAY_PER_SECOND: z.coerce.number().int().min(1).max(1_000_000).default(5).meta({ description: 'Most requests recorded per workflow and second: a busy workflow costs this many samples a second, the rest cost one check each.' }),
  SLUICE_RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().min(5).max(5_000).default(100).meta({ description: 'Longest wait for Redis on a rate-limit check; slower calls are decided by the node\'s onStoreDown and open the circuit breaker.' }),
  SLUICE_RATE_LIMIT_MAX_KEYS: z.coerce.number().int().min(100).max(100_000_000).default(100_000).meta({ description: 'Most rate-limit counters held in memory (in-memory limits, and the `local` fallback while Redis is down); a new key beyond it evicts the oldest key of the node holding the most, counted in `sluice_rate_limit_evictions_total`.' }),
  SLUICE_PORTAL_SESSION: boundedDurationSchema(60_000, 43_200_000).default('30m').meta({ description: 'How long a partner\'s portal session lasts after it signs in (1m to 12h; never longer than the token it signed in with). The session is checked on every request: a revoked or expired key, a suspension or a removed client id ends it at once.' }),
  SLUICE_PORTAL_MAX_OVERLAP: boundedDurationSchema(1_000, 30 * 86_400_000).default('24h').meta({ description: 'The longest a partner\'s old key keeps working after it rotates it in the portal (1s to 30d), and the overlap it gets when it names none.' }),
  SLUICE_PORTAL_AUDIENCE: z.string().min(1).max(512).default('sluice-portal').meta({ description: 'The audience (aud) a partner\'s token must be issued for to sign in to the portal; a token for an API is not a portal sign-in. Its issuer must be one a served jwt-verify node trusts for that partner.' }),
});

export interface Settings {
  /** Evidence records: where, how long, how much; undefined when off. */
  evidence: { retentionMs: number; maxBytes: number; clickhouseUrl: string | undefined } | undefined;
  port: number;
  host: string;
  dataDir: string;
  demo: boolean;
  logLevel: string;
  logFile: string | undefined;
  maxBodyBytes: number;
  maxHeaderBytes: number;
  trustProxy: TrustProxy;
  /** HTTPS on the listener (file paths), and the client CA that verifies partners' certificates. */
  tls: { cert: string; key: string } | undefined;
  /** Client certificates: the CA file that verifies them, and the header a trusted proxy passes them in. */
  clientCertificates: { caFile: string | undefined; header: string | undefined };
  maxBufferedAnswerBytes: number;
  sendTimeoutMs: number;
  /** Graceful shutdown: accepting on while readiness is 503, then the bound on in-flight requests (SLUICE_SHUTDOWN_DELAY, _GRACE). */
  shutdown: { delayMs: number; graceMs: number };
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
  /** SLUICE_CONTRACT_GATE. */
  contractGate: boolean;
  /** SLUICE_PORTAL: who may read /portal. */
  portal: PortalMode;
  /** SLUICE_PROBLEM_BASE: where the built-in problem types resolve. */
  problemBase: string | undefined;
  /** How often canary counts are added up and the abort rule checked (SLUICE_CANARY_CHECK). */
  canaryCheckMs: number;
  /** Size bounds of workflow documents (SLUICE_MAX_NODES, _EDGES, _DOCUMENT, _EXPRESSION, _JSON_DEPTH). */
  documentLimits: DocumentLimits;
  logSubject: 'hash' | 'plain' | 'off';
  logSubjectKey: string | undefined;
  metrics: boolean;
  metricsPort: number | undefined;
  metricsPartners: string[];
  metricsPartnerLimit: number;
  otlp: { endpoint: string; headers: Record<string, string>; serviceName: string } | undefined;
  redis: { url: string; prefix: string; cluster: boolean } | undefined;
  rateLimitTimeoutMs: number;
  rateLimitMaxKeys: number;
  /** The environment variables workflow documents may read (patterns). */
  workflowEnv: EnvAllowList;
  /** The egress policy's settings. */
  egress: { allow: string; publicAddresses: boolean };
  /** Hosts http-call nodes may call (SLUICE_CALLOUT_HOSTS). */
  calloutHosts: string[];
  /** Recorded samples for differential replay: kept per workflow, taken per workflow and second; undefined when off. */
  replay: { samples: number; perSecond: number } | undefined;
  /** The partner view of the portal: session lifetime, longest rotation overlap, the audience of sign-in tokens. */
  partnerPortal: { sessionMs: number; maxOverlapMs: number; audience: string };
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

/** The TLS settings, checked together: a certificate needs its key, a certificate header its CA and a trusted proxy. */
function tlsSettings(s: z.infer<typeof settingsSchema>): Pick<Settings, 'tls' | 'clientCertificates'> {
  const problems: string[] = [];
  if ((s.SLUICE_TLS_CERT === undefined) !== (s.SLUICE_TLS_KEY === undefined)) problems.push('SLUICE_TLS_CERT and SLUICE_TLS_KEY: set both or neither');
  if (s.SLUICE_TLS_CLIENT_CERT_HEADER !== undefined && s.SLUICE_TLS_CLIENT_CA === undefined) problems.push('SLUICE_TLS_CLIENT_CERT_HEADER: needs SLUICE_TLS_CLIENT_CA to verify the certificates it carries');
  if (s.SLUICE_TLS_CLIENT_CERT_HEADER !== undefined && s.SLUICE_TRUST_PROXY.mode === 'off') problems.push('SLUICE_TLS_CLIENT_CERT_HEADER: needs SLUICE_TRUST_PROXY to say which proxy may send it');
  if (s.SLUICE_TLS_CLIENT_CA !== undefined && s.SLUICE_TLS_CERT === undefined && s.SLUICE_TLS_CLIENT_CERT_HEADER === undefined) problems.push('SLUICE_TLS_CLIENT_CA: needs SLUICE_TLS_CERT (mTLS on the listener) or SLUICE_TLS_CLIENT_CERT_HEADER (behind a proxy)');
  if (problems.length > 0) throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return {
    tls: s.SLUICE_TLS_CERT !== undefined && s.SLUICE_TLS_KEY !== undefined ? { cert: resolve(s.SLUICE_TLS_CERT), key: resolve(s.SLUICE_TLS_KEY) } : undefined,
    clientCertificates: { caFile: s.SLUICE_TLS_CLIENT_CA === undefined ? undefined : resolve(s.SLUICE_TLS_CLIENT_CA), header: s.SLUICE_TLS_CLIENT_CERT_HEADER?.toLowerCase() },
  };
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
    ...tlsSettings(s),
    maxBufferedAnswerBytes: s.SLUICE_MAX_BUFFERED_ANSWER,
    sendTimeoutMs: durationMs(s.SLUICE_SEND_TIMEOUT),
    shutdown: { delayMs: durationMs(s.SLUICE_SHUTDOWN_DELAY), graceMs: durationMs(s.SLUICE_SHUTDOWN_GRACE) },
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
    contractGate: s.SLUICE_CONTRACT_GATE,
    portal: s.SLUICE_PORTAL,
    problemBase: s.SLUICE_PROBLEM_BASE,
    canaryCheckMs: durationMs(s.SLUICE_CANARY_CHECK),
    documentLimits: { nodes: s.SLUICE_MAX_NODES, edges: s.SLUICE_MAX_EDGES, bytes: s.SLUICE_MAX_DOCUMENT, expressionLength: s.SLUICE_MAX_EXPRESSION, depth: s.SLUICE_MAX_JSON_DEPTH },
    logSubject: s.SLUICE_LOG_SUBJECT,
    logSubjectKey: s.SLUICE_LOG_SUBJECT_KEY,
    metrics: s.SLUICE_METRICS,
    metricsPort: s.SLUICE_METRICS_PORT,
    metricsPartners: (s.SLUICE_METRICS_PARTNERS ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    metricsPartnerLimit: s.SLUICE_METRICS_PARTNER_LIMIT,
    otlp: s.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: s.OTEL_EXPORTER_OTLP_ENDPOINT, headers: otlpHeaders(s.OTEL_EXPORTER_OTLP_HEADERS), serviceName: s.OTEL_SERVICE_NAME } : undefined,
    redis: s.REDIS_URL === undefined ? undefined : { url: s.REDIS_URL, prefix: s.REDIS_PREFIX, cluster: s.REDIS_CLUSTER },
    rateLimitTimeoutMs: s.SLUICE_RATE_LIMIT_TIMEOUT_MS,
    rateLimitMaxKeys: s.SLUICE_RATE_LIMIT_MAX_KEYS,
    workflowEnv: { urls: parseEnvAllowList(s.SLUICE_WORKFLOW_ENV), secrets: parseEnvAllowList(s.SLUICE_SECRET_ENV), secretHosts: parseSecretHosts(s.SLUICE_SECRET_HOSTS) },
    egress: { allow: s.SLUICE_EGRESS_ALLOW ?? '', publicAddresses: s.SLUICE_EGRESS_PUBLIC },
    calloutHosts: s.SLUICE_CALLOUT_HOSTS === '' ? [] : s.SLUICE_CALLOUT_HOSTS.split(','),
    replay: s.SLUICE_REPLAY ? { samples: s.SLUICE_REPLAY_SAMPLES, perSecond: s.SLUICE_REPLAY_PER_SECOND } : undefined,
    partnerPortal: { sessionMs: durationMs(s.SLUICE_PORTAL_SESSION), maxOverlapMs: durationMs(s.SLUICE_PORTAL_MAX_OVERLAP), audience: s.SLUICE_PORTAL_AUDIENCE },
    evidence: s.SLUICE_EVIDENCE ? { retentionMs: durationMs(s.SLUICE_EVIDENCE_RETENTION), maxBytes: s.SLUICE_EVIDENCE_MAX_BYTES, clickhouseUrl: s.CLICKHOUSE_URL } : undefined,
  };
}
