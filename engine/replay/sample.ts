import type { IncomingMessage } from 'node:http';
import { apiKeySources, CREDENTIAL_HEADERS, looksLikeCredential } from '../../shared/compile/index.ts';
import type { ApiKeyConfig, HmacVerifyConfig, IntrospectConfig, JwtVerifyConfig } from '../../shared/nodes/index.ts';
import type { CompiledWorkflow } from '../compile/types.ts';
import type { RequestExchange } from '../gateway/exchange.ts';
import { hashApiKey } from '../kinds/api-key.ts';
import type { RequestRecord } from '../observe/request-log.ts';
import type { SampleStore } from './sample-store.ts';

/*
 * Recording for differential replay: a bounded sample of each workflow's recent requests, with
 * what the upstream answered, kept so that a draft can be tried against real traffic. A sample
 * holds no credential: credential headers and query parameters are dropped, the identity the
 * request had is kept as a reference the simulator mints a credential for at replay (a partner
 * key id, a partner, verified claims), and bodies are bounded and redacted.
 */

/** The identity a recorded request had, as the simulator replays it without its credential. */
export type SampleIdentity =
  | { kind: 'jwt'; claims: Record<string, unknown> }
  | { kind: 'api-key'; key?: string; hash?: string }
  | { kind: 'hmac'; partner: string }
  | { kind: 'introspected'; partner: string; scopes: string[]; sub?: string }
  | { kind: 'client-cert'; partner: string };

/** One recorded request: stored as JSON, in memory or in Redis. */
export interface RecordedSample {
  /** When it was received (ISO 8601). */
  at: string;
  /** The version that served it. */
  version: number;
  method: string;
  path: string;
  /** The query, credential parameters removed, in order. */
  query: Array<[string, string]>;
  /** Lower-case names; credential headers removed. */
  headers: Record<string, string>;
  /** The JSON body as received, when it was read and small; credential-looking values redacted. */
  body?: unknown;
  identity?: SampleIdentity;
  /** Credential headers or query parameters an identity node reads that the request sent and no node accepted: replayed with a value that is no credential. */
  unaccepted?: { headers: string[]; query: string[] };
  partner?: string;
  /** What the upstream answered; absent when the request never reached it. */
  upstream?: { status: number; contentType?: string; body?: unknown };
  /** What the gateway answered. */
  answered: { status: number; outcome: string };
}

/** Largest body (request or upstream answer) kept in a sample, in bytes. */
const MAX_SAMPLE_BODY = 8 * 1024;
const MAX_HEADERS = 50;
const MAX_HEADER_VALUE = 2048;
/** Most characters of header values kept in all: the rest of the headers are left out. */
const MAX_HEADER_CHARS = 8 * 1024;
/** Largest sample as JSON; a larger one is not kept (with the bounds above, only a request with a very long query or path). */
const MAX_SAMPLE_JSON = 32 * 1024;
const MAX_QUERY = 50;
const MAX_CLAIMS_JSON = 4096;
const REDACTED = '[redacted]';
/** Headers never kept besides credentials: connection framing, and who the client is (an address is not needed to replay). */
const NOT_KEPT = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'content-length', 'proxy-connection', 'x-forwarded-for', 'forwarded', 'x-real-ip', 'traceparent', 'tracestate']);
/** Body members whose name says they hold a secret, whatever their value looks like. */
const SECRET_NAME = /pass(word)?|secret|token|api[-_]?key|credential|authorization|cookie|signature/i;
/** Claims that change with every token: the replay mints its own. */
const TOKEN_TIMES = new Set(['exp', 'iat', 'nbf', 'jti', 'auth_time']);
const IDENTITY_KINDS = new Set(['jwt-verify', 'api-key', 'hmac-verify', 'introspect', 'client-cert']);

/** What is read of a workflow's graph once per served version, never per request. */
interface SamplePlan {
  /** Headers never kept: the credential headers, and every header an identity node reads. */
  dropHeaders: ReadonlySet<string>;
  /** Query parameters never kept: those api-key nodes read. */
  dropQuery: ReadonlySet<string>;
  /** Headers and query parameters identity nodes read a credential from. */
  identityHeaders: ReadonlySet<string>;
  /** Identity nodes by id, with the kind and where they read. */
  identities: ReadonlyMap<string, { kind: string; header: string; query: string | undefined }>;
  /** Nodes whose walk means the answer is not the upstream's own (transform-response). */
  reshapers: ReadonlySet<string>;
}

/** The plan of a served version: which headers and parameters carry credentials, which nodes identify. */
function samplePlanOf(workflow: CompiledWorkflow, extraHeaders: readonly string[] = []): SamplePlan {
  const sources = apiKeySources(workflow.graph.document);
  const identityHeaders = new Set<string>(sources.headers);
  const identities = new Map<string, { kind: string; header: string; query: string | undefined }>();
  const reshapers = new Set<string>();
  for (const [id, node] of workflow.graph.nodes) {
    if (node.kind === 'transform-response') reshapers.add(id);
    if (!IDENTITY_KINDS.has(node.kind)) continue;
    const config = node.config as Partial<JwtVerifyConfig & ApiKeyConfig & HmacVerifyConfig & IntrospectConfig>;
    const header = (typeof config.header === 'string' ? config.header : node.kind === 'api-key' ? 'x-api-key' : 'authorization').toLowerCase();
    if (node.kind !== 'client-cert') identityHeaders.add(header);
    identities.set(id, { kind: node.kind, header, query: node.kind === 'api-key' ? config.query : undefined });
  }
  return {
    dropHeaders: new Set([...CREDENTIAL_HEADERS, ...identityHeaders, ...extraHeaders.map((h) => h.toLowerCase())]),
    dropQuery: sources.query,
    identityHeaders,
    identities,
    reshapers,
  };
}

/**
 * A JSON value with every member named like a secret, and every string shaped like a
 * credential, replaced; undefined when it nests deeper than `depth` (dropped, not kept half).
 */
function redactJson(value: unknown, depth = 32): unknown {
  if (depth < 0) return undefined;
  if (typeof value === 'string') return looksLikeCredential(value) ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const copy = redactJson(item, depth - 1);
      if (copy === undefined && item !== undefined) return undefined;
      out.push(copy);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    if (SECRET_NAME.test(name)) {
      out[name] = REDACTED;
      continue;
    }
    const copy = redactJson(item, depth - 1);
    if (copy === undefined && item !== undefined) return undefined;
    out[name] = copy;
  }
  return out;
}

/** A small body as JSON: a Buffer or string of JSON text, or undefined when it is too large or not JSON. */
function smallJson(raw: Buffer | string, contentType: string | undefined): unknown {
  if (Buffer.byteLength(raw) > MAX_SAMPLE_BODY) return undefined;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (contentType !== undefined && !/[/+]json\b/i.test(contentType)) return redactJson(text);
  try {
    return redactJson(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The request's identity as a replayable reference, from the identity node that accepted it. */
function identityOf(plan: SamplePlan, exchange: RequestExchange, path: readonly string[], rawHeaders: Record<string, string>, query: URLSearchParams): { identity: SampleIdentity | undefined; by: string | undefined } {
  for (const id of path) {
    const node = plan.identities.get(id);
    if (node === undefined) continue;
    const partner = exchange.partner;
    if (node.kind === 'jwt-verify' && exchange.claims !== undefined) {
      const claims: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(exchange.claims)) if (!TOKEN_TIMES.has(name)) claims[name] = value;
      let kept = redactJson(claims) as Record<string, unknown> | undefined;
      if (kept === undefined || JSON.stringify(kept).length > MAX_CLAIMS_JSON) kept = { iss: claims.iss, aud: claims.aud, sub: claims.sub, scope: exchange.scopes.join(' '), azp: claims.azp };
      return { identity: { kind: 'jwt', claims: kept }, by: node.header };
    }
    if (partner === undefined) continue;
    if (node.kind === 'api-key') {
      if (exchange.keyId !== undefined) return { identity: { kind: 'api-key', key: exchange.keyId }, by: node.header };
      // an inline key: its hash, as the workflow document lists it (read by every role already)
      const presented = rawHeaders[node.header] ?? (node.query === undefined ? undefined : (query.get(node.query) ?? undefined));
      if (presented !== undefined) return { identity: { kind: 'api-key', hash: hashApiKey(presented) }, by: node.header };
    }
    if (node.kind === 'hmac-verify') return { identity: { kind: 'hmac', partner }, by: node.header };
    if (node.kind === 'introspect') return { identity: { kind: 'introspected', partner, scopes: [...exchange.scopes], ...(exchange.subject === undefined ? {} : { sub: exchange.subject }) }, by: node.header };
    if (node.kind === 'client-cert') return { identity: { kind: 'client-cert', partner }, by: undefined };
  }
  return { identity: undefined, by: undefined };
}

/**
 * A sample of one finished request: the request as the client sent it (its raw headers, not the
 * headers nodes edited), credentials removed, and the upstream's answer. Only called for a
 * request the sampler took.
 */
function sampleOf(plan: SamplePlan, workflow: CompiledWorkflow, req: IncomingMessage, exchange: RequestExchange, record: RequestRecord, now: number): RecordedSample {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const search = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const raw = req.rawHeaders;
  // every value as sent, credentials included, for the identity only: never kept
  const sent: Record<string, string> = {};
  const headers: Record<string, string> = {};
  let kept = 0;
  let chars = 0;
  const unacceptedHeaders = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    sent[name] ??= value;
    if (plan.identityHeaders.has(name) && value !== '') unacceptedHeaders.add(name);
    if (plan.dropHeaders.has(name) || NOT_KEPT.has(name) || looksLikeCredential(value)) continue;
    const cut = value.slice(0, MAX_HEADER_VALUE);
    if ((chars += name.length + cut.length) > MAX_HEADER_CHARS) continue;
    if (headers[name] !== undefined) headers[name] = `${headers[name]}, ${cut}`;
    else if (kept++ < MAX_HEADERS) headers[name] = cut;
  }
  const query: Array<[string, string]> = [];
  const unacceptedQuery: string[] = [];
  for (const [name, value] of search) {
    if (plan.dropQuery.has(name)) {
      if (value !== '') unacceptedQuery.push(name);
      continue;
    }
    if (looksLikeCredential(value) || query.length >= MAX_QUERY) continue;
    query.push([name, value.slice(0, MAX_HEADER_VALUE)]);
  }
  const { identity, by } = identityOf(plan, exchange, record.path, sent, search);
  if (by !== undefined) unacceptedHeaders.delete(by);
  if (identity?.kind === 'api-key') unacceptedQuery.length = 0;
  const sample: RecordedSample = {
    at: new Date(now).toISOString(),
    version: workflow.version,
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query,
    headers,
    answered: { status: record.status, outcome: record.outcome },
  };
  const received = exchange.receivedBody;
  if (received !== undefined) {
    const body = smallJson(received.raw, sent['content-type'] ?? 'application/json');
    if (body !== undefined) sample.body = body;
  }
  if (identity !== undefined) sample.identity = identity;
  if (unacceptedHeaders.size > 0 || unacceptedQuery.length > 0) sample.unaccepted = { headers: [...unacceptedHeaders], query: unacceptedQuery };
  if (exchange.partner !== undefined) sample.partner = exchange.partner;
  // a proxy streaming its answer to the client hijacked the exchange at the upstream's head: that status is the upstream's
  const upstreamStatus = exchange.upstreamStatus ?? (exchange.answeredBy === 'node' ? exchange.response?.status : undefined);
  if (upstreamStatus !== undefined) {
    const response = exchange.response;
    const type = response?.headers['content-type'];
    const contentType = typeof type === 'string' ? type.slice(0, 200) : undefined;
    sample.upstream = { status: upstreamStatus, ...(contentType === undefined ? {} : { contentType }) };
    // the body only when it was buffered (a later node read it), no node reshaped it, and it is small
    if (response !== undefined && response.stream === undefined && response.status === upstreamStatus && !record.path.some((id) => plan.reshapers.has(id))) {
      const body = response.body;
      const length = Number(response.headers['content-length']);
      let kept: unknown;
      if (Buffer.isBuffer(body) || typeof body === 'string') kept = smallJson(body, contentType);
      else if (body !== undefined && body !== null && length <= MAX_SAMPLE_BODY) kept = redactJson(body);
      if (kept !== undefined) sample.upstream.body = kept;
    }
  }
  return sample;
}

/** A stored sample, parsed; undefined for one that does not parse (written by a replica of another version, or cut short). */
export function parseSample(text: string): RecordedSample | undefined {
  try {
    const sample = JSON.parse(text) as RecordedSample;
    return typeof sample?.method === 'string' && typeof sample.path === 'string' && Array.isArray(sample.query) && typeof sample.headers === 'object' ? sample : undefined;
  } catch {
    return undefined;
  }
}

/** The per-version state of the sampler: its plan, and the samples taken in the current second. */
interface Slot {
  plan: SamplePlan;
  windowEnds: number;
  taken: number;
}

/**
 * Takes a bounded share of each workflow's finished requests: at most `perSecond` per workflow
 * and second. For a request not taken this costs one WeakMap lookup and two comparisons: nothing
 * is allocated, read or copied.
 */
export class TrafficSampler {
  readonly #slots = new WeakMap<CompiledWorkflow, Slot>();
  readonly #store: SampleStore;
  readonly #perSecond: number;
  readonly #extraHeaders: readonly string[];

  constructor(store: SampleStore, options: { perSecond: number; extraHeaders?: readonly string[] }) {
    this.#store = store;
    this.#perSecond = options.perSecond;
    this.#extraHeaders = options.extraHeaders ?? [];
  }

  /** Offered every routed request once it is answered (engine/gateway/gateway.ts). */
  offer(workflow: CompiledWorkflow, exchange: RequestExchange, req: IncomingMessage, record: RequestRecord, now: number): void {
    let slot = this.#slots.get(workflow);
    if (slot === undefined) {
      // once per served version: what the version's graph says about credentials
      slot = { plan: samplePlanOf(workflow, this.#extraHeaders), windowEnds: 0, taken: 0 };
      this.#slots.set(workflow, slot);
    }
    if (now >= slot.windowEnds) {
      slot.windowEnds = now + 1000;
      slot.taken = 0;
    }
    if (slot.taken >= this.#perSecond) return;
    slot.taken++;
    try {
      const sample = JSON.stringify(sampleOf(slot.plan, workflow, req, exchange, record, now));
      if (sample.length <= MAX_SAMPLE_JSON) this.#store.add(workflow.id, sample);
    } catch {
      // a sample that cannot be made is not taken: the request was answered already
    }
  }
}
