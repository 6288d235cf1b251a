import type { Readable, Writable } from 'node:stream';
import type { Pool } from 'undici';
import type { CacheStore, Flights } from './support/cache-store.ts';
import type { EgressPolicy } from './support/egress.ts';
import type { ExpressionPool } from './support/expression-pool.ts';
import type { KeyFiles } from './support/key-files.ts';
import type { PartnerAccess } from './support/partner-directory.ts';
import type { RateLimitStore } from './support/rate-limit-store.ts';
import type { UpstreamsState } from './support/upstream-targets.ts';
import type { WorkflowEnv } from './support/workflow-env.ts';
import type { ReplayStore } from './support/replay-store.ts';

/** The request as nodes and expressions see it. Header names are lower-case. */
export interface GatewayRequest {
  method: string;
  /** Path without the query string, as received (percent-encoding kept). */
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed body (JSON, else text) when the workflow reads it; undefined when it is streamed. */
  body: unknown;
}

/** The answer being built: by a proxy (upstream's answer), a respond node, or transforms. */
export interface GatewayResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** JSON value, string or Buffer; ignored when `stream` is set. */
  body?: unknown;
  /** Upstream body passed through without buffering. */
  stream?: Readable;
}

export interface TraceContext {
  traceId: string;
  /** This gateway's span id, sent upstream as the parent. */
  spanId: string;
  /** The caller's span id from a valid incoming traceparent. */
  parentSpanId: string | undefined;
  /** The incoming tracestate, forwarded as is. */
  traceState: string | undefined;
  sampled: boolean;
}

/** Tokens of one LLM call: read from the upstream's answer, or counted by the tokenizer (`estimated`). */
export interface LlmUsage {
  input: number;
  output: number;
  total: number;
  /** Counted by the tokenizer (or its fallback), not read from the upstream. */
  estimated: boolean;
}

/**
 * What an LLM call of the request is about, the `llm` root of expressions (api, model, stream,
 * usage); `product` is for the metrics' label only and not shown to expressions.
 */
export interface LlmRecord {
  api: 'openai' | 'anthropic';
  /** The model the request body names. */
  model: string | undefined;
  /** The request asked for a streamed (SSE) answer. */
  stream: boolean;
  /** Known once the answer is complete (set before by a node that estimated the prompt: `input` only counts then). */
  usage: LlmUsage | undefined;
  /** The API product the call is counted under (metrics), 'none' outside products. */
  product: string;
  /** An llm proxy let the call go to the upstream (a prompt only estimated, or refused by the allow-list, was never sent). */
  called?: boolean;
  /** While an answer handed on as a stream (previews, tests) is still being read: settles once its usage is recorded. */
  settled?: Promise<void> | undefined;
}

/**
 * One request's context: what node runtimes read and write. Runtimes never see Express,
 * sockets or stores directly; the engine creates one exchange per request.
 */
export interface Exchange {
  readonly request: GatewayRequest;
  claims: Record<string, unknown> | undefined;
  partner: string | undefined;
  subject: string | undefined;
  scopes: readonly string[];
  vars: Record<string, unknown>;
  response: GatewayResponse | undefined;
  /** The LLM call an llm proxy made (or is making) for the request; undefined for other requests. */
  llm: LlmRecord | undefined;
  /** Values for the {placeholders} of the catalog error a failure port raises, and extension members. */
  problemParams: Record<string, string> | undefined;
  /** Members added to that problem's body beside the standard ones (validate-request's `errors`); never replacing them. */
  problemMembers: Record<string, unknown> | undefined;
  /** Headers added to the final answer whatever it is (RateLimit-*, Retry-After). */
  answerHeaders: Record<string, string> | undefined;
  readonly trace: TraceContext;
  /** The client's address (SLUICE_TRUST_PROXY decides whether a proxy's X-Forwarded-For names it): the `ip` rate-limit key. */
  readonly clientIp: string;
  /** The X-Forwarded-For to send upstream: the trusted chain from the client to this hop's peer, never client-chosen entries. */
  readonly forwardedFor: string;
  /** Calls `target.abort()` once if the client goes away before the answer is complete (at once if it has). */
  onClientGone(target: { abort(): void }): void;
  /**
   * Calls `cleanup` once when the request is done with its nodes: its walk ended and the answer
   * (or problem) was handed over, or it failed, or its client went away. For what a node holds
   * for other requests until then (a cache key's flight).
   */
  onEnd(cleanup: () => void): void;
  /** The raw request body stream, for proxies that stream it; undefined once it was buffered. */
  readonly incoming: Readable | undefined;
  /** Upstream call time in ms, for the request log. */
  upstreamMs: number | undefined;
  /** The status the upstream answered a proxy with (before any transform), for evidence. */
  upstreamStatus?: number | undefined;
  /** The public id of the partner key or HMAC secret that identified the caller (never the key), for evidence. */
  keyId?: string | undefined;
  /** How a rate-limit node decided while the shared counters were unreachable (onStoreDown), for the request log. */
  rateLimitStoreDown: 'allow' | 'deny' | 'local' | undefined;
  /** The MCP tool a request calls (an mcp-tool node, or the /mcp/ endpoint), for the request log (`name`) and metrics (`label`, bounded: a configured port or the workflow id). */
  mcpTool?: { name: string; label: string } | undefined;
  /** The query string to send upstream ('' or '?…'): the client's as received unless a node changed `request.query`. */
  upstreamSearch(): string;
  /** Whether this exchange has a client connection a node may answer on directly (not in previews and tests). */
  readonly canHijack: boolean;
  /**
   * Takes the answer over: records it as `response`, writes its head now (with `answerHeaders`
   * added) and returns where its body goes. For a node whose answer ends the request, such as a
   * streaming proxy, which then pipes the upstream's body straight into the client connection.
   * Only when `canHijack`.
   */
  hijack(status: number, headers: Record<string, string | string[]>): Writable;
  /** The request's client certificate (client-cert nodes); undefined when none came, and always in previews and tests. */
  clientCertificate(): PresentedCertificate | undefined;
  /** The body as received, when the workflow buffered it; the proxy sends these bytes unless a node replaced `request.body`. */
  readonly receivedBody: { raw: Buffer; parsed: unknown } | undefined;
}

/**
 * A client certificate the request came with: verified (against SLUICE_TLS_CLIENT_CA, on the TLS
 * connection or from a trusted proxy's header) with what identifies it, or why it was not.
 */
export type PresentedCertificate =
  | { verified: true; /** SHA-256 of the DER, lower-case hex. */ fingerprint: string; /** The subject's CN. */ subject: string | undefined; /** subjectAltName entries as `DNS:a.example`, `URI:spiffe://…`. */ sans: readonly string[] }
  | { verified: false; reason: string };

/** Runs a node on one request and names the port it exits by. Synchronous when it can be. */
export type NodeRun = (exchange: Exchange) => string | Promise<string>;

export interface PreparedNode {
  run: NodeRun;
  /** Releases timers or connections when the workflow version is unloaded. */
  close?(): void;
  /** A resilient proxy's targets (breaker state, retries), read by the status endpoint and the metrics. */
  upstreams?(): UpstreamsState;
}

/** A JSONata expression compiled once, evaluated with time, depth and size bounds. */
export interface BoundExpression {
  readonly source: string;
  evaluate(exchange: Exchange): Promise<unknown>;
  /**
   * The same evaluation without a promise, present when the expression is in the subset compiled
   * to plain functions (engine/kinds/support/jsonata-subset.ts): a node whose expressions all have it can
   * run synchronously.
   */
  readonly evaluateNow?: (exchange: Exchange) => unknown;
}

/** What a runtime gets at publish time to prepare a node. */
export interface PrepareContext {
  workflowId: string;
  nodeId: string;
  /** The allow-listed environment variables (never the whole environment: documents are untrusted). */
  env: WorkflowEnv;
  /** Files of the data directory's keys folder. */
  keys: KeyFiles;
  /** Where the node may connect to: checked at publish (prepare) and by the connector on every connection. */
  egress: EgressPolicy;
  /** Hosts (`host`, `host:port`, `*.example.com`) an http-call node may call, besides the egress policy (SLUICE_CALLOUT_HOSTS). */
  calloutHosts: readonly string[];
  rateLimits: RateLimitStore;
  /** Cached answers: in memory, or Redis shared by the replicas. */
  cache: CacheStore;
  /** Stampede protection: the keys being fetched in this process. */
  cacheFlights: Flights;
  /** The partner directory in force (read per request: it is swapped per store revision). */
  partners: PartnerAccess;
  /** Signatures seen inside their window (hmac-verify): in memory, or Redis shared by the replicas. */
  replays: ReplayStore;
  /** Compiles a JSONata expression of this node's config (already syntax-checked). */
  expression(source: string): BoundExpression;
  /** Resources shared by every workflow version of the process (key sets, discoveries, the egress agent). */
  shared: SharedResources;
  /**
   * The keep-alive pool to `origin` (made with `options` and the egress connector), shared by every
   * node that targets it: this node holds it until it is closed (released at once when preparing it
   * fails), and a pool no node holds is closed (support/upstream-pools.ts).
   */
  upstreamPool(origin: string, options: Pool.Options): Pool;
  /** This node's ports that are wired to another node (the rest end the request). */
  wiredPorts: ReadonlySet<string>;
  /**
   * This node's counts by result for /metrics (cache hits, stores), every result at 0 at first,
   * made once here so that the request path only adds one (`lookups.hit++`: no label work). A
   * served version's are the node's for as long as the process runs, across versions (no counter
   * restarts on publish); drafts and previews get counts no one reads.
   */
  counts<Result extends string>(results: readonly Result[]): Record<Result, number>;
  /** Largest answer body held in memory for a later node (SLUICE_MAX_BUFFERED_ANSWER). */
  maxBufferedAnswer: number;
  /** The expression worker pool, for work kept off the gateway's thread (token counts, prompt checks); absent in tools that gave none. */
  workers: ExpressionPool | undefined;
}

/** SLUICE_MAX_BUFFERED_ANSWER's default: the largest upstream body a proxy buffers for a transform. */
export const DEFAULT_MAX_BUFFERED_ANSWER = 10 * 1024 * 1024;

export interface SharedResources {
  /**
   * One value per key for the life of the process, created on first use. Previews of drafts
   * prepare nodes too, so a key a document chooses (a URL, an issuer) stays here however many
   * drafts name new ones: values that need no closing go through recentlyShared
   * (support/recently-shared.ts) instead, bounded, and connection pools, which must be closed,
   * are held and let go of by the nodes using them (PrepareContext.upstreamPool).
   */
  get<T>(key: string, create: () => T): T;
}

/** How a kind runs: prepares a node once from its parsed config; the result runs per request. */
export type Runtime<Config> = (config: Config, context: PrepareContext) => PreparedNode | Promise<PreparedNode>;
