import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { CompareAnswer, ReplayedRequest, ReplayOutcome } from '../../shared/admin/replay.ts';
import type { WorkflowTest } from '../../shared/schema/index.ts';
import type { SampleRequest, SimulationResult, UpstreamMock } from '../../shared/schema/preview.ts';
import { createEgressPolicy } from '../kinds/support/egress.ts';
import { outcomeOfStatus } from '../observe/outcome.ts';
import { mockUpstream } from '../preview/mock-upstream.ts';
import { simulate, type SimulationContext } from '../preview/simulate.ts';
import { parseSample, type RecordedSample, type SampleIdentity } from './sample.ts';

/*
 * Differential replay: recorded requests and the workflow tests run through two versions of a
 * workflow in the simulator, each with the upstream's recorded answer, and the requests whose
 * outcome, status or problem type differ, grouped by how they change. The simulator runs each
 * request paced (validation and compile in slices), one request at a time.
 */

/** A value sent where a request carried a credential no node accepted: refused as the original was, and no credential. */
const NOT_A_CREDENTIAL = 'Bearer sluice-replay-not-a-credential';
/** Requests listed per change; the count says how many there are. */
const LISTED_PER_CHANGE = 50;
/** Skipped requests listed; the rest are counted in total only. */
const LISTED_SKIPPED = 50;
/** What an http-call node gets in a compare, in place of its side service. */
const CALLOUT_STUB: UpstreamMock = { status: 200, body: {} };
/** What a mocked upstream answers for a request that never reached the upstream when it was recorded. */
const UNKNOWN_UPSTREAM: UpstreamMock = { status: 200 };

/** Lets requests waiting for the event loop go first: a compare runs hundreds of simulations back to back. */
const turnTaken = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A signing key made for one compare: the replay's copies of jwt-verify nodes trust it, and nothing else does. */
interface RunKey {
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
  kid: string;
}

async function runKey(): Promise<RunKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = `replay-${Date.now().toString(36)}`;
  return { privateKey, kid, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] } };
}

type RawNode = { id?: unknown; kind?: unknown; config?: Record<string, unknown> };

/**
 * The document with every jwt-verify node trusting the run key only, its other checks (issuer,
 * audience, ages, header, partner claim) as written: a recorded token's claims, signed again
 * with the run key, pass or fail them as the original token would. A node with several issuers
 * keeps the one the recorded `iss` names (or its first, which then refuses the token).
 */
function trustingRunKey(document: unknown, key: RunKey, iss: unknown): unknown {
  const doc = document as { nodes?: RawNode[] };
  if (!Array.isArray(doc?.nodes) || !doc.nodes.some((n) => n?.kind === 'jwt-verify')) return document;
  const nodes = doc.nodes.map((node) => {
    if (node?.kind !== 'jwt-verify' || node.config === undefined) return node;
    const { jwksUri: _u, jwksFile: _f, secretEnv: _s, jwks: _j, issuers, ...rest } = node.config as Record<string, unknown> & { issuers?: Array<{ issuer: string; audience?: string; partnerClaim?: string }> };
    const config: Record<string, unknown> = { ...rest, jwks: key.jwks, algorithms: ['ES256'] };
    if (Array.isArray(issuers) && issuers.length > 0) {
      const entry = issuers.find((e) => e.issuer === iss) ?? issuers[0]!;
      config.issuer = entry.issuer;
      if (entry.audience !== undefined) config.audience = entry.audience;
      if (entry.partnerClaim !== undefined) config.partnerClaim = entry.partnerClaim;
    }
    return { ...node, config };
  });
  return { ...doc, nodes };
}

const callsOut = (document: unknown) => ((document as { nodes?: RawNode[] })?.nodes ?? []).some((n) => n?.kind === 'http-call');

/** The document with every http-call node calling `url` (a stub) instead of its side service. */
function stubbedCallouts(document: unknown, url: string): unknown {
  if (!callsOut(document)) return document;
  const doc = document as { nodes: RawNode[] };
  return { ...doc, nodes: doc.nodes.map((node) => (node?.kind === 'http-call' ? { ...node, config: { ...node.config, url } } : node)) };
}

/** The headers the document's jwt-verify nodes read the bearer token from. */
function jwtHeaders(document: unknown): string[] {
  const nodes = (document as { nodes?: RawNode[] })?.nodes;
  const headers = new Set<string>();
  for (const node of Array.isArray(nodes) ? nodes : []) if (node?.kind === 'jwt-verify') headers.add(String(node.config?.header ?? 'authorization').toLowerCase());
  return [...headers];
}

/** A recorded token's claims signed again with the run key, issued now. */
async function tokenFor(key: RunKey, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' }).setIssuedAt(now).setExpirationTime(now + 60).sign(key.privateKey);
}

/** The request line as a compare lists it: path and the kept query (credential parameters were never recorded). */
const requestLine = (sample: RecordedSample) => (sample.query.length === 0 ? sample.path : `${sample.path}?${new URLSearchParams(sample.query)}`);

/** A recorded sample as the simulator's request: its identity a reference minted for the run. */
function sampleRequestOf(sample: RecordedSample): SampleRequest {
  const headers: Record<string, string> = { ...sample.headers };
  const query = [...sample.query];
  for (const name of sample.unaccepted?.headers ?? []) headers[name] = NOT_A_CREDENTIAL;
  for (const name of sample.unaccepted?.query ?? []) query.push([name, NOT_A_CREDENTIAL]);
  const request: SampleRequest = { method: sample.method, path: query.length === 0 ? sample.path : `${sample.path}?${new URLSearchParams(query)}`, headers };
  if (sample.body !== undefined) request.body = sample.body;
  const identity: SampleIdentity | undefined = sample.identity;
  if (identity?.kind === 'api-key') request.apiKey = identity.key !== undefined ? { key: identity.key } : { hash: identity.hash };
  else if (identity?.kind === 'hmac') request.hmac = { partner: identity.partner };
  else if (identity?.kind === 'introspected') request.introspected = { partner: identity.partner, scopes: identity.scopes, ...(identity.sub === undefined ? {} : { sub: identity.sub }) };
  else if (identity?.kind === 'client-cert') request.clientCert = { partner: identity.partner };
  return request;
}

/** How a simulated request ended, as a compare names it. */
function outcomeOf(result: Extract<SimulationResult, { ok: true }>): ReplayOutcome {
  const { status } = result.response;
  if (result.outcome === 'finish') return { status, outcome: 'ok' };
  const outcome: ReplayOutcome = { status, outcome: outcomeOfStatus(status) };
  const type = (result.response.body as { type?: unknown } | null)?.type;
  if (typeof type === 'string') outcome.problem = type;
  // where the walk turned away: the last node that is not the error node raising the answer
  const step = result.trace.findLast((s) => s.kind !== 'error');
  if (step !== undefined) {
    outcome.node = step.node;
    outcome.port = step.port;
  }
  return outcome;
}

const changes = (a: ReplayOutcome, b: ReplayOutcome) => a.status !== b.status || a.outcome !== b.outcome || a.problem !== b.problem;
const shortType = (type: string | undefined) => (type === undefined ? undefined : type.slice(type.lastIndexOf('/') + 1));
/** One change in words: "14 requests: 200 -> 403 at scopes.denied"; the problem types when only they differ. */
const changeInWords = (count: number, from: ReplayOutcome, to: ReplayOutcome) => {
  const at = to.outcome !== 'ok' && to.node !== undefined ? ` at ${to.node}.${to.port}` : '';
  const problem = from.status === to.status ? ` (${shortType(from.problem) ?? from.outcome} -> ${shortType(to.problem) ?? to.outcome})` : '';
  return `${count} request${count === 1 ? '' : 's'}: ${from.status} -> ${to.status}${at}${problem}`;
};

export interface CompareInput {
  workflow: string;
  from: { label: number | 'draft'; document: unknown };
  to: { label: number | 'draft'; document: unknown };
  /** Recorded samples as stored (JSON), newest first: each is parsed when its turn comes, so a long list never holds the event loop. */
  samples: readonly string[];
  tests: readonly WorkflowTest[];
  context: SimulationContext;
}

/**
 * Replays every sample and test through `from` and `to` and lists the requests whose outcome,
 * status or problem type changes. Samples run with the upstream's recorded answer (200 with no
 * body when they never reached it), tests with their own upstream mock (200 when they have none),
 * http-call nodes get 200 `{}`: a compare never calls a real upstream or side service.
 * @example
 * const answer = await compareVersions({ workflow: 'orders', from, to, samples, tests, context });
 * answer.summary // "14 requests: 200 -> 403 at scopes.denied"
 */
export async function compareVersions(input: CompareInput): Promise<CompareAnswer> {
  // Side services are never called: a recorded request's data must not reach a host a draft names.
  if (callsOut(input.from.document) || callsOut(input.to.document)) {
    const stub = await mockUpstream(CALLOUT_STUB);
    try {
      const host = new URL(stub.url).host;
      const deps = input.context.deps;
      const context = { ...input.context, deps: { ...deps, calloutHosts: [...(deps.calloutHosts ?? []), host], egress: (deps.egress ?? createEgressPolicy()).allowing(host) } };
      return await replayAll({ ...input, context, from: { ...input.from, document: stubbedCallouts(input.from.document, stub.url) }, to: { ...input.to, document: stubbedCallouts(input.to.document, stub.url) } });
    } finally {
      stub.release();
    }
  }
  return replayAll(input);
}

async function replayAll(input: CompareInput): Promise<CompareAnswer> {
  const { context } = input;
  // every recorded request runs through jwt-verify nodes that trust the run key alone: none fetches a key set or discovery document
  const key = jwtHeaders(input.from.document).length + jwtHeaders(input.to.document).length > 0 ? await runKey() : undefined;
  let recorded = 0;
  const groups = new Map<string, { count: number; from: ReplayOutcome; to: ReplayOutcome; requests: ReplayedRequest[] }>();
  const skipped: CompareAnswer['skipped'] = [];
  let skippedCount = 0;
  let total = 0;

  async function replay(listed: ReplayedRequest, request: SampleRequest, upstream: UpstreamMock, documents: { from: unknown; to: unknown }): Promise<void> {
    const before = await simulate(documents.from, request, context, { upstream });
    await turnTaken();
    const after = await simulate(documents.to, request, context, { upstream });
    await turnTaken();
    if (!before.ok || !after.ok) {
      const problem = (!before.ok ? before : (after as Extract<SimulationResult, { ok: false }>)).problems[0];
      skippedCount++;
      if (skipped.length < LISTED_SKIPPED) skipped.push({ method: listed.method, path: listed.path, ...(listed.test === undefined ? {} : { test: listed.test }), reason: `${problem?.field ? `${problem.field}: ` : ''}${problem?.message ?? 'could not run'}`.slice(0, 300) });
      return;
    }
    total++;
    const from = outcomeOf(before);
    const to = outcomeOf(after);
    if (!changes(from, to)) return;
    const id = JSON.stringify([from, to]);
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = { count: 0, from, to, requests: [] }));
    group.count++;
    if (group.requests.length < LISTED_PER_CHANGE) group.requests.push(listed);
  }

  for (const text of input.samples) {
    const sample = parseSample(text);
    if (sample === undefined) continue;
    recorded++;
    const request = sampleRequestOf(sample);
    const listed: ReplayedRequest = { method: sample.method, path: requestLine(sample).slice(0, 500), at: sample.at, ...(sample.partner === undefined ? {} : { partner: sample.partner }) };
    const upstream: UpstreamMock = sample.upstream === undefined ? UNKNOWN_UPSTREAM : { status: sample.upstream.status, ...(sample.upstream.contentType === undefined ? {} : { headers: { 'content-type': sample.upstream.contentType } }), ...(sample.upstream.body === undefined ? {} : { body: sample.upstream.body }) };
    let documents = { from: input.from.document, to: input.to.document };
    if (key !== undefined) {
      const claims = sample.identity?.kind === 'jwt' ? sample.identity.claims : undefined;
      documents = { from: trustingRunKey(documents.from, key, claims?.iss), to: trustingRunKey(documents.to, key, claims?.iss) };
      if (claims !== undefined) {
        const bearer = `Bearer ${await tokenFor(key, claims)}`;
        for (const header of new Set([...jwtHeaders(documents.from), ...jwtHeaders(documents.to)])) request.headers![header] = bearer;
      }
    }
    await replay(listed, request, upstream, documents);
  }
  for (const test of input.tests) {
    const listed: ReplayedRequest = { method: test.request.method, path: test.request.path.slice(0, 500), test: test.name };
    await replay(listed, { ...test.request }, test.upstream ?? UNKNOWN_UPSTREAM, { from: input.from.document, to: input.to.document });
  }

  const changed = [...groups.values()].sort((a, b) => b.count - a.count);
  const summary = changed.length === 0 ? `${total} request${total === 1 ? '' : 's'} replayed: none would change` : changed.map((g) => changeInWords(g.count, g.from, g.to)).join('; ');
  return {
    workflow: input.workflow,
    from: input.from.label,
    to: input.to.label,
    total,
    recorded,
    tests: input.tests.length,
    skipped: skippedCount > skipped.length ? [...skipped, { method: '', path: '', reason: `and ${skippedCount - skipped.length} more` }] : skipped,
    changed,
    summary,
  };
}
