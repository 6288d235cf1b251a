import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDemoToken } from '../../../engine/demo/keys.ts';
import { compileWorkflow } from '../../../engine/compile/compile.ts';
import type { CompileDependencies, CompiledWorkflow, NodeStep } from '../../../engine/compile/types.ts';
import { runWithActor, walk, type WalkResult } from '../../../engine/compile/walk.ts';
import { createSyntheticExchange, type RequestExchange, type SyntheticRequest } from '../../../engine/gateway/exchange.ts';
import { SluiceError } from '../../../engine/kinds/support/errors.ts';
import { createMemoryRateLimitStore } from '../../../engine/kinds/support/rate-limit-store.ts';
import type { NodeRun } from '../../../engine/kinds/types.ts';
import { validateWorkflow, type WorkflowMachineConfig } from '../../../shared/compile/index.ts';
import { errorCatalogSchema } from '../../../shared/schema/index.ts';
import { REPO, startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { seededRandom } from '../../helpers/random.ts';

/*
 * XState is the authority on a workflow's semantics; the gateway walks a table XState computed.
 * Every start→final path of every example (and of generated graphs) is run through both the
 * table walk and a live XState actor, and both must pass the same states and end the same way.
 *
 * Paths are driven by real requests wherever a request can drive them. A few paths no request
 * can reach on this deployment (a JWKS file never becomes unavailable, a node that cannot throw
 * on any input): those are driven by forcing the node's runtime to exit by that port (or to
 * throw), on a private copy of the workflow. Forcing changes what a node does, never where its
 * port leads, which is what the two must agree on.
 */

const FAULT_PORT = '(throws)';

interface Hop {
  state: string;
  /** The event the node exits by, or FAULT_PORT for the machine's onError. */
  port: string;
}

interface MachinePath {
  hops: Hop[];
  final: string;
  key: string;
}

const keyOf = (states: readonly string[], final: string) => [...states, final].join(' → ');

/** Every start→final path of a machine config: each port's transition and each node's onError. */
function machinePaths(config: WorkflowMachineConfig): MachinePath[] {
  const paths = new Map<string, MachinePath>();
  const visit = (state: string, hops: Hop[]) => {
    const node = config.states[state]!;
    if ('type' in node) {
      const key = keyOf(hops.map((h) => h.state), state);
      if (!paths.has(key)) paths.set(key, { hops, final: state, key });
      return;
    }
    for (const [port, target] of Object.entries(node.on)) visit(target, [...hops, { state, port }]);
    visit(node.invoke.onError.target, [...hops, { state, port: FAULT_PORT }]);
  };
  visit(config.initial, []);
  return [...paths.values()];
}

/** A node exiting by a port of the test's choosing instead of running its runtime. */
interface Forced {
  node: string;
  port: string;
}

interface Scenario {
  name: string;
  request: SyntheticRequest;
  /** Compiled with other dependencies (an upstream that refuses connections). */
  variant?: 'upstream-down';
  forced?: Forced[];
}

interface Agreement {
  key: string;
  final: string;
  walked: WalkResult;
}

async function textOf(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** What the gateway would answer from a finished exchange, without the parts that vary by the clock or the counters. */
async function answerOf(exchange: RequestExchange, result: WalkResult): Promise<unknown> {
  const meta = result.final.meta;
  if (meta.outcome === 'finish') {
    const response = exchange.response!;
    const { date: _date, ...headers } = response.headers;
    const body = response.stream ? await textOf(response.stream) : response.body;
    return { status: response.status, headers, body, partner: exchange.partner };
  }
  if (meta.outcome === 'raise') {
    const { retryAfter: _retryAfter, ...params } = exchange.problemParams ?? {};
    return { error: meta.error, params, answerHeaders: Object.keys(exchange.answerHeaders ?? {}).sort(), partner: exchange.partner };
  }
  const error = result.error;
  return { fault: error instanceof SluiceError ? error.code : (error as Error | undefined)?.message };
}

/** A live actor that never reaches a final state must fail the test, not hang it. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no final state within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one request through the table walk and through a live XState actor, and requires the same run. */
async function agree(workflow: CompiledWorkflow, request: SyntheticRequest, name: string): Promise<Agreement> {
  const walkExchange = createSyntheticExchange(request);
  const walked = await walk(workflow, walkExchange, []);
  const walkAnswer = await answerOf(walkExchange, walked);
  const actorExchange = createSyntheticExchange(request);
  const acted = await withDeadline(runWithActor(workflow, actorExchange), 5_000, `${workflow.id}: ${name}`);
  const actorAnswer = await answerOf(actorExchange, acted);
  expect(acted.states, `${workflow.id}: ${name}: states`).toEqual(walked.states);
  const final = ({ final, state, meta }: WalkResult['final']) => ({ final, state, meta });
  expect(final(acted.final), `${workflow.id}: ${name}: final state and meta`).toEqual(final(walked.final));
  expect(actorAnswer, `${workflow.id}: ${name}: answer`).toEqual(walkAnswer);
  return { key: keyOf(walked.states, walked.final.state), final: walked.final.state, walked };
}

/** The node steps of a compiled workflow's table, by state. */
function nodeSteps(workflow: CompiledWorkflow): Map<string, NodeStep> {
  const steps = new Map<string, NodeStep>();
  const stack: NodeStep[] = [workflow.start];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (steps.has(step.state)) continue;
    steps.set(step.state, step);
    for (const next of Object.values(step.next)) if (!next.final) stack.push(next);
  }
  return steps;
}

/** Makes nodes exit by the given ports, in the table (walk) and in the prepared nodes (actor) alike. */
function force(workflow: CompiledWorkflow, forced: readonly Forced[], rejectAsync = false): void {
  const steps = nodeSteps(workflow);
  for (const { node, port } of forced) {
    const run: NodeRun =
      port !== FAULT_PORT
        ? () => port
        : rejectAsync
          ? async () => {
              throw new Error(`forced fault in ${node}`);
            }
          : () => {
              throw new Error(`forced fault in ${node}`);
            };
    steps.get(node)!.run = run;
    workflow.prepared.get(node)!.run = run;
  }
}

interface Coverage {
  paths: MachinePath[];
  /** path key -> the scenario that drove it */
  covered: Map<string, Scenario>;
  natural: number;
  forced: number;
}

/**
 * Runs the natural scenarios, then drives every path they left uncovered: from the covered path
 * sharing the longest prefix, force the node where they part to the path's port, and follow on.
 * Each forced run matches the target one state further, so this ends.
 */
async function cover(paths: MachinePath[], natural: Scenario[], run: (scenario: Scenario) => Promise<Agreement>): Promise<Coverage> {
  const covered = new Map<string, Scenario>();
  const sequences = new Map<string, string[]>();
  const record = (scenario: Scenario, agreement: Agreement) => {
    if (!covered.has(agreement.key)) {
      covered.set(agreement.key, scenario);
      sequences.set(agreement.key, [...agreement.walked.states, agreement.final]);
    }
  };
  for (const scenario of natural) record(scenario, await run(scenario));
  let forcedRuns = 0;
  for (const target of paths) {
    const goal = [...target.hops.map((h) => h.state), target.final];
    for (let attempt = 0; !covered.has(target.key); attempt++) {
      if (attempt > goal.length) throw new Error(`cannot drive ${target.key}`);
      let best: { key: string; shared: number } | undefined;
      for (const [key, sequence] of sequences) {
        let shared = 0;
        while (shared < goal.length && sequence[shared] === goal[shared]) shared++;
        if (best === undefined || shared > best.shared) best = { key, shared };
      }
      const base = covered.get(best!.key)!;
      const hop = target.hops[best!.shared - 1]!;
      const forced = [...(base.forced ?? []).filter((f) => f.node !== hop.state), { node: hop.state, port: hop.port }];
      const scenario: Scenario = { ...base, name: `${base.name}, forced ${hop.state}→${hop.port}`, forced };
      record(scenario, await run(scenario));
      forcedRuns++;
    }
  }
  return { paths, covered, natural: natural.length, forced: forcedRuns };
}

function expectFullCoverage(workflow: CompiledWorkflow, coverage: Coverage) {
  const pathKeys = new Set(coverage.paths.map((p) => p.key));
  const coveredKeys = new Set(coverage.covered.keys());
  expect([...pathKeys].filter((k) => !coveredKeys.has(k)), `${workflow.id}: paths never driven`).toEqual([]);
  expect([...coveredKeys].filter((k) => !pathKeys.has(k)), `${workflow.id}: runs on no enumerated path`).toEqual([]);
  const reachableFinals = new Set(coverage.paths.map((p) => p.final));
  const coveredFinals = new Set([...coverage.covered.keys()].map((k) => k.split(' → ').at(-1)!));
  expect(coveredFinals).toEqual(reachableFinals);
  const declaredFinals = Object.entries(workflow.machineConfig().states).filter(([, s]) => 'type' in s).map(([name]) => name);
  expect(new Set(declaredFinals)).toEqual(reachableFinals);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const EXAMPLE_IDS = readdirSync(join(REPO, 'examples', 'workflows'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => (JSON.parse(readFileSync(join(REPO, 'examples', 'workflows', f), 'utf8')) as { id: string }).id)
  .sort();

describe('the table walk agrees with a live XState actor on every path of every example workflow', () => {
  let gw: TestGateway;
  let deadUpstream: string;
  const token = (options: { scopes?: string[]; partner?: string; audience?: string }) =>
    signDemoToken(gw.dataDir, { sub: 'agreement', ...options }).then((t) => `Bearer ${t}`);

  beforeAll(async () => {
    gw = await startTestGateway();
    deadUpstream = `http://127.0.0.1:${await freePort()}`;
    // Exhaust the orders limit (100/min per partner) for partner "flood" through the gateway itself: the counters are shared.
    const flood = await token({ scopes: ['orders:read'], partner: 'flood' });
    for (let i = 0; i < 150; i++) {
      const res = await gw.fetch('/api/orders', { headers: { authorization: flood } });
      await res.arrayBuffer();
      if (res.status === 429) return;
    }
    throw new Error('the orders rate limit never refused partner "flood"');
  });
  afterAll(() => gw.close());

  it('serves every example', () => {
    // an example refused at start says why (it was once refused in a CI run on a machine at load 10)
    const refusals = gw.logs.filter((l) => typeof l.msg === 'string' && (l.msg.startsWith('workflow refused') || l.msg.includes('cannot be served'))).map((l) => l.msg);
    expect([...gw.sluice.registry.active.keys()].sort(), refusals.join('\n')).toEqual(EXAMPLE_IDS);
  });

  /** A request as the gateway would build it: the route table gives the params. */
  function requestTo(workflow: CompiledWorkflow, url: string, headers: Record<string, string> = {}): SyntheticRequest {
    const match = gw.sluice.gateway.routes.match('GET', url.split('?')[0]!);
    if (match.kind !== 'found' || match.workflow.id !== workflow.id) throw new Error(`${url} is not served by ${workflow.id}`);
    return { method: 'GET', url, params: match.params, headers };
  }

  async function copyOf(served: CompiledWorkflow, variant: Scenario['variant']): Promise<CompiledWorkflow> {
    const deps: CompileDependencies = gw.sluice.registry.deps;
    const env = variant === 'upstream-down' ? { ...deps.env, SLUICE_DEMO_UPSTREAM: deadUpstream } : deps.env;
    return compileWorkflow(served.graph, served.version, { ...deps, env });
  }

  async function checkExample(id: string, natural: (workflow: CompiledWorkflow) => Promise<Array<Scenario & { final: string }>>) {
    const served = gw.sluice.registry.active.get(id)!;
    const scenarios = await natural(served);
    const coverage = await cover(machinePaths(served.machineConfig()), scenarios, async (scenario) => {
      const workflow = scenario.variant || scenario.forced ? await copyOf(served, scenario.variant) : served;
      if (scenario.forced) force(workflow, scenario.forced);
      const agreement = await agree(workflow, scenario.request, scenario.name);
      const expected = (scenario as { final?: string }).final;
      if (expected !== undefined && scenario.forced === undefined) expect(agreement.final, `${id}: ${scenario.name}`).toBe(expected);
      return agreement;
    });
    expectFullCoverage(served, coverage);
    return coverage;
  }

  /** The ports no request could drive, so they were forced: node→port. */
  const forcedHops = (coverage: Coverage) => new Set([...coverage.covered.values()].flatMap((s) => (s.forced ?? []).map((f) => `${f.node}→${f.port}`)));
  const throwing = (...nodes: string[]) => nodes.map((n) => `${n}→${FAULT_PORT}`);

  it('status: every path', async () => {
    const coverage = await checkExample('status', async (wf) => [{ name: 'GET /api/status', request: requestTo(wf, '/api/status?x=1'), final: '$finish' }]);
    expect(coverage.paths).toHaveLength(2);
    expect(forcedHops(coverage)).toEqual(new Set(throwing('answer')));
  });

  it('orders: every path', async () => {
    const coverage = await checkExample('orders', async (wf) => [
      { name: 'no token', request: requestTo(wf, '/api/orders'), final: '$raise:verify:missing' },
      { name: 'not a JWT', request: requestTo(wf, '/api/orders', { authorization: 'Bearer not-a-jwt' }), final: '$raise:verify:invalid' },
      { name: 'token for another audience', request: requestTo(wf, '/api/orders', { authorization: await token({ scopes: ['orders:read'], partner: 'p1', audience: 'elsewhere' }) }), final: '$raise:verify:invalid' },
      { name: 'token without scopes', request: requestTo(wf, '/api/orders', { authorization: await token({ partner: 'p2' }) }), final: '$raise:scopes:denied' },
      { name: 'token with orders:read', request: requestTo(wf, '/api/orders', { authorization: await token({ scopes: ['orders:read'], partner: 'p3' }) }), final: '$finish' },
      { name: 'partner over its limit', request: requestTo(wf, '/api/orders', { authorization: await token({ scopes: ['orders:read'], partner: 'flood' }) }), final: '$raise:limit:limited' },
      { name: 'upstream refuses connections', variant: 'upstream-down', request: requestTo(wf, '/api/orders', { authorization: await token({ scopes: ['orders:read'], partner: 'p4' }) }), final: '$raise:call:error' },
    ]);
    expect(coverage.paths).toHaveLength(18);
    // No request makes a JWKS file unavailable, the in-memory rate limits unreachable, the demo upstream slower than 5 s, a breaker open (no targets, no breaker), or a body-only transform produce an invalid value.
    expect(forcedHops(coverage)).toEqual(new Set(['verify→unavailable', 'verify→suspended', 'verify→unsubscribed', 'limit→unavailable', 'call→timeout', 'call→open', 'shape→error', ...throwing('verify', 'scopes', 'limit', 'call', 'shape')]));
  });

  it('order-detail: every path', async () => {
    const key = { 'x-api-key': 'demo-globex-key' };
    const coverage = await checkExample('order-detail', async (wf) => {
      const acme = await token({ scopes: ['orders:read'], partner: 'acme' });
      const admin = await token({ scopes: ['orders:admin'], partner: 'ops' });
      return [
        { name: 'no credentials', request: requestTo(wf, '/api/orders/ord-1001'), final: '$raise:key:missing' },
        { name: 'unknown API key', request: requestTo(wf, '/api/orders/ord-1001', { 'x-api-key': 'nope' }), final: '$raise:key:invalid' },
        { name: 'not a JWT', request: requestTo(wf, '/api/orders/ord-1001', { authorization: 'Bearer not-a-jwt' }), final: '$raise:verify:invalid' },
        { name: 'token without scopes', request: requestTo(wf, '/api/orders/ord-1001', { authorization: await token({ partner: 'acme' }) }), final: '$raise:scopes:denied' },
        { name: 'acme reads its order', request: requestTo(wf, '/api/orders/ord-1001', { authorization: acme }), final: '$finish' },
        { name: 'acme reads globex\'s order', request: requestTo(wf, '/api/orders/ord-1003', { authorization: acme }), final: '$raise:hidden:raise' },
        { name: 'acme reads an unknown order', request: requestTo(wf, '/api/orders/ord-9999', { authorization: acme }), final: '$raise:hidden:raise' },
        { name: 'admin reads any order', request: requestTo(wf, '/api/orders/ord-1002', { authorization: admin }), final: '$finish' },
        { name: 'globex key reads its order', request: requestTo(wf, '/api/orders/ord-1003', key), final: '$finish' },
        { name: 'globex key reads acme\'s order', request: requestTo(wf, '/api/orders/ord-1002', key), final: '$raise:hidden:raise' },
        { name: 'upstream down (token)', variant: 'upstream-down', request: requestTo(wf, '/api/orders/ord-1001', { authorization: acme }), final: '$raise:call:error' },
        { name: 'upstream down (admin)', variant: 'upstream-down', request: requestTo(wf, '/api/orders/ord-1001', { authorization: admin }), final: '$raise:call-admin:error' },
        { name: 'upstream down (key)', variant: 'upstream-down', request: requestTo(wf, '/api/orders/ord-1003', key), final: '$raise:call:error' },
      ];
    });
    expect(coverage.paths).toHaveLength(46);
    // The demo API key has orders:read and not orders:admin, so after "key" neither scopes→denied nor who→admin happen
    // (and past a forced who→admin, call-admin's error port is forced too).
    expect(forcedHops(coverage)).toEqual(
      new Set(['verify→unavailable', 'verify→suspended', 'verify→unsubscribed', 'key→suspended', 'key→unsubscribed', 'scopes→denied', 'who→admin', 'call→timeout', 'call→open', 'call-admin→timeout', 'call-admin→error', 'call-admin→open', 'public→error', ...throwing('verify', 'key', 'scopes', 'who', 'call', 'call-admin', 'owned', 'public', 'hidden')]),
    );
  });

  it('a walk on the gateway\'s own compiled version answers what the gateway answers', async () => {
    // The exchange factory builds what the gateway builds: compare one request both ways.
    const auth = await token({ scopes: ['orders:read'], partner: 'acme' });
    const res = await gw.fetch('/api/orders/ord-1001', { headers: { authorization: auth } });
    const served = gw.sluice.registry.active.get('order-detail')!;
    const exchange = createSyntheticExchange(requestTo(served, '/api/orders/ord-1001', { authorization: auth }));
    const result = await walk(served, exchange, []);
    expect(result.final.state).toBe('$finish');
    expect(res.status).toBe(exchange.response!.status);
    expect(await res.json()).toEqual(exchange.response!.body);
    const line = gw.logs.find((l) => l.msg === 'request' && l.workflow === 'order-detail' && l.status === 200)!;
    expect(line.path).toEqual(result.states);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated graphs


type GeneratedKind = 'condition' | 'switch' | 'transform-request' | 'respond' | 'error';

interface GeneratedWorkflow {
  document: { id: string; name: string; route: { methods: string[]; path: string }; nodes: Array<{ id: string; kind: string; config: unknown }>; edges: Array<{ from: string; port: string; to: string }> };
  /** Header value that makes a node exit by a port; undefined when no request can (the path is forced). */
  valueFor(node: string, port: string): string | undefined;
}

const CASE_PORTS = ['gold', 'silver', 'constructor', 'bronze', 'tin'];
const ERRORS = ['not_found', 'insufficient_scope', 'rate_limited', 'bad_request', 'order_not_visible'];

/**
 * A random acyclic workflow of condition, switch, transform-request, respond and error nodes.
 * Node nK reads header nK: "$number(request.headers.nK)" decides its port, and the value "x"
 * makes $number throw, so a request drives every port and the faults of condition, switch and
 * respond nodes. Every third seed names its nodes 0, 1, 2, … instead: JavaScript enumerates
 * such keys of a machine config first, in numeric order, not in the order the graph has them.
 */
function generateWorkflow(seed: number, maxNodes: number): GeneratedWorkflow {
  const random = seededRandom(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nodes: GeneratedWorkflow['document']['nodes'] = [];
  const edges: GeneratedWorkflow['document']['edges'] = [];
  const kinds = new Map<string, GeneratedKind>();
  const switchPorts = new Map<string, string[]>();
  const open: Array<{ from: number; port: string }> = [];

  const add = (kind: GeneratedKind): number => {
    const index = nodes.length;
    const id = seed % 3 === 0 ? String(index) : `n${index}`;
    const value = `$number(request.headers.\`${id}\`)`;
    kinds.set(id, kind);
    if (kind === 'condition') {
      nodes.push({ id, kind, config: { when: `${value} = 1` } });
      open.push({ from: index, port: 'true' }, { from: index, port: 'false' });
    } else if (kind === 'switch') {
      const ports = [...CASE_PORTS].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * 3));
      switchPorts.set(id, ports);
      nodes.push({ id, kind, config: { cases: ports.map((port, i) => ({ port, when: `${value} = ${i}` })) } });
      for (const port of [...ports, 'default']) open.push({ from: index, port });
    } else if (kind === 'transform-request') {
      nodes.push({ id, kind, config: { vars: `${value} = 2 ? "not an object" : { "${id}": ${value} }` } });
      open.push({ from: index, port: 'ok' });
      if (random() < 0.5) open.push({ from: index, port: 'error' }); // else unwired: raises transform_failed
    } else if (kind === 'respond') {
      nodes.push({ id, kind, config: { status: pick([200, 201, 202, 203]), bodyExpression: `{ "leaf": "${id}", "seen": ${value}, "vars": vars }` } });
    } else {
      nodes.push({ id, kind, config: { error: pick(ERRORS), params: { reason: id, missing: id } } });
    }
    return index;
  };

  add(pick(['condition', 'switch', 'transform-request'] as const));
  while (open.length > 0) {
    const { from, port } = open.shift()!;
    const later = nodes.map((_, i) => i).filter((i) => i > from);
    const r = random();
    let to: number;
    if (later.length > 0 && r < 0.25) to = pick(later);
    else if (nodes.length < maxNodes && r < 0.7) to = add(pick(['condition', 'switch', 'transform-request'] as const));
    else to = add(pick(['respond', 'respond', 'error'] as const));
    edges.push({ from: nodes[from]!.id, port, to: nodes[to]!.id });
  }

  return {
    document: { id: `gen-${seed}`, name: `Generated ${seed}`, route: { methods: ['GET'], path: `/gen/${seed}` }, nodes, edges },
    valueFor(node, port) {
      const kind = kinds.get(node)!;
      // error nodes cannot fail; transforms turn an expression failure into their error port
      if (port === FAULT_PORT) return kind === 'error' || kind === 'transform-request' ? undefined : 'x';
      if (kind === 'condition') return port === 'true' ? '1' : '0';
      if (kind === 'switch') return port === 'default' ? '99' : String(switchPorts.get(node)!.indexOf(port));
      if (kind === 'transform-request') return port === 'ok' ? '1' : '2';
      return '1';
    },
  };
}

describe('the table walk agrees with a live XState actor on generated graphs', () => {
  const catalog = errorCatalogSchema.parse(JSON.parse(readFileSync(join(REPO, 'examples', 'errors.json'), 'utf8')));
  const rateLimits = createMemoryRateLimitStore();
  const resources = new Map<string, unknown>();
  const deps: CompileDependencies = {
    env: {},
    dataDir: REPO,
    rateLimits,
    shared: { get: <T,>(key: string, create: () => T) => (resources.has(key) ? (resources.get(key) as T) : (resources.set(key, create()).get(key) as T)) },
    // a generous time bound: on a loaded machine the default 50 ms could fail an expression in one run and not the other
    expressionLimits: { timeoutMs: 5_000, depth: 300, sequence: 100_000 },
  };
  afterAll(() => rateLimits.close?.());

  async function compileGenerated(generated: GeneratedWorkflow): Promise<CompiledWorkflow> {
    const result = validateWorkflow(generated.document, { catalog });
    if (!result.ok) throw new Error(`generated ${generated.document.id} is invalid: ${JSON.stringify(result.problems)}`);
    return compileWorkflow(result.graph, 1, deps);
  }

  const SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i * 7919);

  it.each(SEEDS)('seed %i: every path', async (seed) => {
    const generated = generateWorkflow(seed, 3 + (seed % 9));
    const workflow = await compileGenerated(generated);
    const paths = machinePaths(workflow.machineConfig());
    const natural: Scenario[] = [];
    for (const path of paths) {
      const headers: Record<string, string> = {};
      const values = path.hops.map((hop) => generated.valueFor(hop.state, hop.port));
      if (values.some((v) => v === undefined)) continue;
      path.hops.forEach((hop, i) => (headers[hop.state] = values[i]!));
      natural.push({ name: path.key, request: { method: 'GET', url: `/gen/${seed}`, headers } });
    }
    const coverage = await cover(paths, natural, async (scenario) => {
      let target = workflow;
      if (scenario.forced) {
        target = await compileGenerated(generated);
        force(target, scenario.forced, seed % 2 === 0);
      }
      const agreement = await agree(target, scenario.request, scenario.name);
      if (!scenario.forced) expect(agreement.key, 'a request drives the path it was built for').toBe(scenario.name);
      return agreement;
    });
    expectFullCoverage(workflow, coverage);
    // Only nodes that cannot fail on any input need forcing: error nodes, and transforms (which exit by "error" instead).
    for (const scenario of coverage.covered.values())
      for (const f of scenario.forced ?? []) {
        expect(f.port).toBe(FAULT_PORT);
        expect(['error', 'transform-request']).toContain(workflow.graph.nodes.get(f.node)!.kind);
      }
  });

  it('covers graphs of every shape the generator makes', () => {
    const shapes = SEEDS.map((seed) => generateWorkflow(seed, 3 + (seed % 9)).document);
    const kindsUsed = new Set(shapes.flatMap((d) => d.nodes.map((n) => n.kind)));
    expect([...kindsUsed].sort()).toEqual(['condition', 'error', 'respond', 'switch', 'transform-request']);
    expect(shapes.some((d) => d.edges.some((e) => e.port === 'constructor'))).toBe(true);
    expect(shapes.some((d) => d.nodes.length > 10 && d.nodes.every((n) => /^\d+$/.test(n.id)))).toBe(true); // state keys JavaScript orders by number
    expect(shapes.some((d) => new Set(d.edges.map((e) => e.to)).size < d.edges.length)).toBe(true); // shared subgraphs (DAGs), not only trees
    expect(shapes.some((d) => d.nodes.some((n) => n.kind === 'transform-request') && !d.edges.some((e) => e.port === 'error'))).toBe(true); // unwired failure ports
  });

  it.each([
    ['a port its node does not have', 'no-such-port'],
    ['a port that is a node of the workflow', 'answer'],
    ['an XState-internal event', 'xstate.init'],
    ['the name of an Object.prototype member', 'constructor'],
    ['the name of an Object.prototype member', 'toString'],
    ['__proto__', '__proto__'],
    ['no port at all', undefined],
  ])('a runtime that exits by %s (%s) ends in the fault state in both', async (_name, port) => {
    const result = validateWorkflow(
      {
        id: 'ports',
        name: 'Ports',
        route: { methods: ['GET'], path: '/ports' },
        nodes: [
          { id: 'check', kind: 'condition', config: { when: 'true' } },
          { id: 'answer', kind: 'respond', config: { body: { ok: true } } },
          { id: 'deny', kind: 'error', config: { error: 'not_found' } },
        ],
        edges: [
          { from: 'check', port: 'true', to: 'answer' },
          { from: 'check', port: 'false', to: 'deny' },
        ],
      },
      { catalog },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const workflow = await compileWorkflow(result.graph, 1, deps);
    force(workflow, [{ node: 'check', port: port as string }]);
    const { final, walked } = await agree(workflow, { method: 'GET', url: '/ports' }, `exits by "${port}"`);
    expect(final).toBe('$fault');
    expect((walked.error as Error).message).toBe(`node check exited by unknown port "${port}"`);
  });
});
