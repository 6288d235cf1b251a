import { createMemoryReplayStore } from '../kinds/support/replay-store.ts';
import { DEFAULT_ENV_ALLOW_LIST } from '../kinds/support/workflow-env.ts';
import type { Readable } from 'node:stream';
import type { ValidationProblem } from '../../shared/compile/index.ts';
import { BUILTIN_PROBLEM_BASE, type ErrorCatalog, type FragmentResolver, type WorkflowDocument, type WorkflowTest } from '../../shared/schema/index.ts';
import { compileWorkflow } from '../compile/compile.ts';
import type { CompileDependencies, CompiledWorkflow } from '../compile/types.ts';
import { walk, type WalkObserver } from '../compile/walk.ts';
import { addAnswerHeaders, createSyntheticExchange, type RequestExchange } from '../gateway/exchange.ts';
import { finalProblem, problemHeaders, type ProblemRenderer } from '../gateway/problem.ts';
import { createRouteTable } from '../gateway/route-table.ts';
import { createPace, validatePaced } from '../compile/pace.ts';
import { createFlights, createMemoryCacheStore } from '../kinds/support/cache-store.ts';
import { createMemoryRateLimitStore } from '../kinds/support/rate-limit-store.ts';
import { createEgressPolicy } from '../kinds/support/egress.ts';
import { mockUpstream } from './mock-upstream.ts';
import { mintApiKey } from './api-key-reference.ts';
import { introspectAsPartner, partnerCredentialOf, presentCertificate, sampleUrl, signAsPartner } from './partner-credentials.ts';
import type { PresentedCertificate } from '../kinds/types.ts';
import type { SampleRequest, SimulatedResponse, SimulationResult, TestVerdict, TraceStep, UpstreamMock } from '../../shared/schema/preview.ts';

export type { SampleRequest, SimulationResult, TestVerdict, UpstreamMock } from '../../shared/schema/preview.ts';
export { partnerCredentialOf } from './partner-credentials.ts';

export interface SimulationContext {
  deps: CompileDependencies;
  catalog: ErrorCatalog | undefined;
  problems: ProblemRenderer;
  /** Signs a demo-issuer token for requests that ask for one (absent: the demo issuer is off). */
  mintToken?(claims: NonNullable<SampleRequest['token']>): Promise<string>;
  /** The published fragments subflow nodes are inlined from (absent: a subflow node cannot run). */
  fragments?(): Promise<FragmentResolver>;
}

/** Nodes with every proxy sent to the mock upstream instead. */
const mockedProxies = <N extends { kind: string; config: Record<string, unknown> }>(nodes: N[], url: string): N[] =>
  nodes.map((n) => (n.kind === 'proxy' ? { ...n, config: { ...n.config, url, targets: undefined, sticky: undefined, healthCheck: undefined } } : n));

/** Header names whose values never appear in a trace. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key']);
const REDACTED = '[redacted]';

function redactHeaders(headers: Record<string, unknown> | undefined, extra: ReadonlySet<string>): Record<string, unknown> | undefined {
  if (!headers) return headers;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const secret = SECRET_HEADERS.has(name) || extra.has(name) || (typeof value === 'string' && /^bearer\s/i.test(value));
    out[name] = value === undefined ? undefined : secret ? REDACTED : value;
  }
  return out;
}

/** A JSON copy of what nodes see and change, credentials redacted. */
function snapshot(exchange: RequestExchange, secretHeaders: ReadonlySet<string>): Record<string, unknown> {
  const r = exchange.request;
  const response = exchange.response;
  const copy = (value: unknown) => (value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.parse(JSON.stringify(value)));
  return {
    request: { method: r.method, path: r.path, params: copy(r.params), query: copy(r.query), headers: redactHeaders(copy(r.headers), secretHeaders), body: copy(r.body) },
    claims: copy(exchange.claims),
    partner: exchange.partner,
    subject: exchange.subject,
    scopes: [...exchange.scopes],
    vars: copy(exchange.vars),
    response: response === undefined ? undefined : { status: response.status, headers: redactHeaders(copy(response.headers), secretHeaders), body: response.stream ? '(streamed)' : copy(response.body) },
  };
}

function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changes: TraceStep['changes'] = [];
  const compare = (field: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ field, before: a, after: b });
  };
  for (const key of Object.keys(after)) {
    if (key === 'request') {
      const a = before.request as Record<string, unknown>;
      const b = after.request as Record<string, unknown>;
      for (const part of Object.keys(b)) compare(`request.${part}`, a[part], b[part]);
    } else compare(key, before[key], after[key]);
  }
  return changes;
}

async function bodyOf(body: unknown, stream: Readable | undefined, contentType: string | undefined): Promise<unknown> {
  let raw: unknown = body;
  if (stream) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    raw = Buffer.concat(chunks);
  }
  if (!Buffer.isBuffer(raw)) return raw ?? null;
  const text = raw.toString('utf8');
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const flatHeaders = (headers: Record<string, string | string[] | undefined>) =>
  Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));

/**
 * Runs a sample request through a workflow document in the real engine: the same validation,
 * compilation and node runtimes as the gateway, walked node by node to record a trace. Rate
 * limits count in a private store (a preview never spends a partner's budget), the upstream is
 * real or a mock, and nothing stored changes.
 * @example
 * const result = await simulate(document, { method: 'GET', path: '/api/orders' }, context, { upstream: { status: 200, body: [] } });
 */
export async function simulate(document: unknown, request: SampleRequest, context: SimulationContext, options: { upstream?: UpstreamMock | undefined } = {}): Promise<SimulationResult> {
  let doc = document as WorkflowDocument;
  const releases: Array<() => void> = [];
  const refused = (problem: ValidationProblem): SimulationResult => ({ ok: false, problems: [problem] });
  try {
    const mock = options.upstream ? await mockUpstream(options.upstream) : undefined;
    if (mock) releases.push(mock.release);
    if (mock && Array.isArray(doc?.nodes)) doc = { ...doc, nodes: mockedProxies(doc.nodes, mock.url) };
    const published = await context.fragments?.();
    // a fragment's proxies answer from the mock too
    const fragments: FragmentResolver | undefined =
      published && mock
        ? (id, version) => {
            const found = published(id, version);
            return found && { ...found, document: { ...found.document, nodes: mockedProxies(found.document.nodes, mock.url) } };
          }
        : published;
    // Paced like a publish, under the same document limits: a simulated document is as untrusted as a published one.
    const { limits, sliceMs } = context.deps;
    const validated = await validatePaced(doc, { ...(context.catalog ? { catalog: context.catalog } : {}), ...(limits ? { limits } : {}), ...(fragments ? { fragments } : {}) }, sliceMs);
    if (!validated.ok) return { ok: false, problems: validated.problems };
    if (request.token) {
      if (!context.mintToken) return refused({ code: 'invalid_document', message: 'the request asks for a demo token, but the demo issuer is off (SLUICE_DEMO=off)', field: 'request.token' });
      const token = await context.mintToken(request.token);
      request = { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
    }
    let deps = context.deps;
    // The mock is the gateway's own server on loopback: the egress policy allows its address and port for this simulation.
    const allowed: string[] = mock ? [new URL(mock.url).host] : [];
    if (request.apiKey) {
      const minted = mintApiKey(validated.graph, request.apiKey, deps.partners);
      if ('problem' in minted) return refused(minted.problem);
      request = { ...request, headers: { ...request.headers, [minted.header]: minted.key } };
      if (minted.partners) deps = { ...deps, partners: minted.partners };
    }
    let certificate: PresentedCertificate | undefined;
    if (request.clientCert) {
      const presented = presentCertificate(validated.graph, request.clientCert, deps.partners);
      if ('problem' in presented) return refused(presented.problem);
      certificate = presented.certificate;
    }
    if (request.introspected) {
      const introspected = await introspectAsPartner(validated.graph, request.introspected, deps.partners);
      if ('problem' in introspected) return refused(introspected.problem);
      releases.push(introspected.release);
      request = { ...request, headers: { ...request.headers, ...introspected.headers } };
      allowed.push(...introspected.hosts);
      const envAllowList = deps.envAllowList ?? DEFAULT_ENV_ALLOW_LIST;
      deps = {
        ...deps,
        env: { ...deps.env, ...introspected.env },
        envAllowList: { ...envAllowList, secretHosts: { ...envAllowList.secretHosts, ...introspected.secretHosts } },
        calloutHosts: [...(deps.calloutHosts ?? []), ...introspected.hosts],
      };
    }
    // signed last: the signature covers the request as it is sent
    if (request.hmac) {
      const signed = signAsPartner(validated.graph, request.hmac, deps.partners, request);
      if ('problem' in signed) return refused(signed.problem);
      request = { ...request, headers: { ...request.headers, ...signed.headers } };
      deps = { ...deps, partners: signed.partners };
    }
    const rateLimits = createMemoryRateLimitStore();
    releases.push(() => rateLimits.close?.());
    // a simulation neither reads nor fills the gateway's caches
    const cache = { cache: createMemoryCacheStore(), cacheFlights: createFlights(), replays: createMemoryReplayStore() };
    let egress = context.deps.egress;
    for (const host of allowed) egress = (egress ?? createEgressPolicy()).allowing(host);
    let compiled: CompiledWorkflow | undefined;
    try {
      compiled = await compileWorkflow(validated.graph, 0, { ...deps, rateLimits, ...cache, ...(egress ? { egress } : {}) });
      return await run(compiled, request, context.problems, context.deps.sliceMs, certificate);
    } catch (error) {
      if ((error as Error).name === 'WorkflowRefused') return { ok: false, problems: (error as { problems: ValidationProblem[] }).problems };
      throw error;
    } finally {
      compiled?.close();
    }
  } finally {
    for (const release of releases) release();
  }
}

async function run(workflow: CompiledWorkflow, request: SampleRequest, problems: ProblemRenderer, sliceMs: number | undefined, certificate: PresentedCertificate | undefined): Promise<SimulationResult> {
  const started = performance.now();
  const { path, url } = sampleUrl(request);
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  // A sample without a Host header is sent to the route's first host, as a client of that API would send it.
  const hosts = workflow.graph.document.route.hosts;
  if (headers.host === undefined && hosts !== undefined) headers.host = hosts[0]!.replace(/^\*\./, 'api.');
  const method = request.method.toUpperCase();
  const answerProblem = (id: string, params: Record<string, string> | undefined, traceId: string, extra?: Record<string, string>, members?: Record<string, unknown>): SimulatedResponse => {
    const problem = problems.render(id, { instance: path, traceId, params, ...(members === undefined ? {} : { extensions: members }) });
    return { status: problem.status, headers: { ...problemHeaders(problem.body), ...extra }, body: JSON.parse(problem.body) };
  };

  const match = createRouteTable([workflow]).match(method, path, headers);
  const exchange = createSyntheticExchange({ method, url, params: match.kind === 'found' ? match.params : {}, headers, body: request.body });
  // a run as a partner's client certificate: the exchange presents it as the gateway's TLS listener would, verified
  if (certificate) exchange.certificates = { take: () => undefined, of: () => certificate };
  if (match.kind !== 'found') {
    const id = match.kind === 'method_not_allowed' ? 'method_not_allowed' : match.kind === 'bad_path' ? 'bad_request' : 'not_found';
    const extra = match.kind === 'method_not_allowed' ? { allow: match.allowed.join(', ') } : undefined;
    return { ok: true, response: answerProblem(id, id === 'bad_request' ? { reason: 'the path is malformed' } : undefined, exchange.trace.traceId, extra), trace: [], path: [], outcome: 'unrouted', ms: performance.now() - started };
  }

  const secretHeaders = new Set<string>();
  for (const node of workflow.graph.nodes.values()) {
    if (node.kind === 'api-key') secretHeaders.add(String((node.config as { header?: string }).header ?? 'x-api-key').toLowerCase());
    // a signature is a credential: never shown, whoever made it
    if (node.kind === 'hmac-verify' || node.kind === 'introspect') secretHeaders.add(String((node.config as { header?: string }).header ?? '').toLowerCase());
  }
  const trace: TraceStep[] = [];
  // Each step copies the exchange twice for the trace: paced like the compile, so a long chain never holds the event loop.
  const pace = createPace(sliceMs);
  let before: Record<string, unknown> = {};
  let t0 = 0;
  const take = () => {
    before = snapshot(exchange, secretHeaders);
    t0 = performance.now();
  };
  const recorder: WalkObserver = {
    started() {
      const pause = pace();
      if (pause !== undefined) return pause.then(take);
      take();
      return undefined;
    },
    ended(step, port, error) {
      const ms = performance.now() - t0;
      trace.push({ node: step.state, kind: step.kind, port, ms, input: before, changes: changesBetween(before, snapshot(exchange, secretHeaders)), ...(error ? { error: (error as Error).message } : {}) });
    },
  };
  const walked = await walk(workflow, exchange, [], recorder);
  exchange.end();
  const failure = walked.error;
  const visited = walked.states;

  const meta = walked.final.meta;
  const extra = { ...exchange.answerHeaders };
  let response: SimulatedResponse;
  if (meta.outcome === 'finish' && exchange.response) {
    const r = exchange.response;
    const contentType = typeof r.headers['content-type'] === 'string' ? r.headers['content-type'] : undefined;
    const headers = flatHeaders(r.headers);
    addAnswerHeaders(headers, extra);
    response = { status: r.status, headers, body: await bodyOf(r.body, r.stream, contentType) };
  } else {
    const { id, params } = finalProblem(meta, failure, exchange.problemParams, problems);
    response = answerProblem(id, params, exchange.trace.traceId, extra, exchange.problemMembers);
  }
  return { ok: true, response, trace, path: visited, outcome: meta.outcome, ...(failure ? { error: (failure as Error).message } : {}), ms: performance.now() - started };
}

/** Whether `actual` holds every field of `expected` (objects compared field by field, the rest by value). */
function holds(expected: unknown, actual: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected))
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => holds(v, (actual as Record<string, unknown>)[k]));
  return JSON.stringify(expected) === JSON.stringify(actual);
}

/**
 * Whether a run would send a registered partner's key (minted for the run) through the real
 * upstream: only the roles that manage partners may (an editor mocks the upstream).
 */
export const runsAsPartnerUpstream = (request: SampleRequest, upstream: UpstreamMock | undefined): boolean => partnerCredentialOf(request) !== undefined && upstream === undefined;

/**
 * Whether an answer's type is the one a workflow test expects: the same URI, the same slug
 * (`missing-token`), or a type of the shipped catalog written under its placeholder base, which
 * SLUICE_PROBLEM_BASE moves (npm start's demo serves them under /portal/problems/): the examples'
 * tests name `https://problems.sluice.example/missing-token` and pass wherever the types resolve.
 */
function sameProblemType(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string') return false;
  if (actual === expected) return true;
  const slug = expected.startsWith(BUILTIN_PROBLEM_BASE) ? expected.slice(BUILTIN_PROBLEM_BASE.length) : expected;
  return actual.endsWith(`/${slug}`);
}

/**
 * Runs a document's `tests` through the simulator: each sends its sample request (with its
 * upstream mock, or to the real upstream) and checks status, problem type, headers and body fields.
 */
export async function runWorkflowTests(
  document: unknown,
  context: SimulationContext,
  tests: readonly WorkflowTest[] = (document as { tests?: WorkflowTest[] }).tests ?? [],
  options: { mayRunAsPartner?: boolean } = {},
): Promise<TestVerdict[]> {
  const verdicts: TestVerdict[] = [];
  for (const test of tests) {
    if (options.mayRunAsPartner === false && runsAsPartnerUpstream(test.request, test.upstream)) {
      const credential = partnerCredentialOf(test.request)!;
      const refused = `runs as ${credential.what} against the real upstream, which needs the publisher role: give the test an upstream answer`;
      verdicts.push({ name: test.name, passed: false, failures: [{ what: credential.field, expected: 'an upstream answer (mocked upstream)', actual: refused }] });
      continue;
    }
    const result = await simulate(document, { method: test.request.method, path: test.request.path, query: test.request.query, headers: test.request.headers, body: test.request.body, token: test.request.token, apiKey: test.request.apiKey, clientCert: test.request.clientCert, hmac: test.request.hmac, introspected: test.request.introspected }, context, { upstream: test.upstream });
    if (!result.ok) {
      verdicts.push({ name: test.name, passed: false, failures: [{ what: 'workflow', expected: 'a valid workflow', actual: result.problems.map((p) => `${p.node ?? 'workflow'}${p.field ? ` ${p.field}` : ''}: ${p.message}`) }] });
      continue;
    }
    const { response } = result;
    const failures: TestVerdict['failures'] = [];
    const expect = test.expect;
    if (response.status !== expect.status) failures.push({ what: 'status', expected: expect.status, actual: response.status });
    if (expect.type !== undefined) {
      const type = (response.body as { type?: unknown } | null)?.type;
      if (!sameProblemType(expect.type, type)) failures.push({ what: 'type', expected: expect.type, actual: type ?? null });
    }
    for (const [name, value] of Object.entries(expect.headers ?? {})) {
      const actual = response.headers[name.toLowerCase()];
      if (actual !== value) failures.push({ what: `header ${name.toLowerCase()}`, expected: value, actual: actual ?? null });
    }
    for (const [field, value] of Object.entries(expect.body ?? {})) {
      const actual = (response.body as Record<string, unknown> | null)?.[field];
      if (!holds(value, actual)) failures.push({ what: `body.${field}`, expected: value, actual: actual ?? null });
    }
    verdicts.push({ name: test.name, passed: failures.length === 0, failures, response, path: result.path });
  }
  return verdicts;
}
