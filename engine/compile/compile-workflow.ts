import { createActor, fromPromise, raise, setup, transition, type AnyStateMachine } from 'xstate';
import { expressionSyntaxError, FAULT_STATE, RUN_NODE_ACTOR, runPaced, TAKE_PORT_ACTION, toMachineConfigSliced, type FinalStateMeta, type NodeStateConfig, type ValidationProblem, type ValidGraph, type WorkflowMachineConfig } from '../../shared/compile/index.ts';
import type { DocumentLimits } from '../../shared/schema/index.ts';
import { createPace, type Pace } from './pace.ts';
import { runtimes } from '../kinds/index.ts';
import { workflowLogFields } from '../observe/request-log.ts';
import { FAULT_PORT, type Metrics, type NodeMetrics, type VersionMetrics } from '../observe/metrics.ts';
import { isKindName, kinds, type AnyKindDescriptor } from '../../shared/nodes/index.ts';
import { compileExpression, type ExpressionLimits } from '../kinds/support/expression.ts';
import type { ExpressionPool } from '../kinds/support/expression-pool.ts';
import { createPartnerAccess, type PartnerAccess } from '../kinds/support/partner-directory.ts';
import type { RateLimitStore } from '../kinds/support/rate-limit-store.ts';
import { createEgressPolicy, type EgressPolicy } from '../kinds/support/egress.ts';
import { createKeyFiles } from '../kinds/support/key-files.ts';
import { createWorkflowEnv, type EnvAllowList } from '../kinds/support/workflow-env.ts';
import { DEFAULT_MAX_BUFFERED_ANSWER, PrepareError, type BoundExpression, type Exchange, type NodeRun, type PreparedNode, type SharedResources } from '../kinds/types.ts';

/** A final state of the workflow's machine: how the request ends. */
export interface FinalStep {
  final: true;
  state: string;
  meta: FinalStateMeta;
}

/** A node state: its runtime and, per port, the next step as XState computed it. */
export interface NodeStep {
  final: false;
  state: string;
  kind: string;
  run: NodeRun;
  next: Record<string, Step>;
  /** Where a runtime failure leads (the machine's onError). */
  fault: FinalStep;
  /** The node's duration and port counters; absent when metrics are off. */
  metrics: NodeMetrics | undefined;
}

export type Step = NodeStep | FinalStep;

/** How the store's lifecycle marks change what the gateway answers for a served version. */
export interface ServedLifecycle {
  /** The route answers 410 workflow_retired. */
  retired: boolean;
  /** Deprecation and Sunset headers added to every answer. */
  headers: Record<string, string> | undefined;
}

/** A workflow version ready to serve: prepared nodes, walked through an XState-computed table. */
export interface CompiledWorkflow {
  id: string;
  version: number;
  graph: ValidGraph;
  /** The XState machine config; workflowMachine() builds its machine when one is wanted (the live actor). */
  machineConfig: WorkflowMachineConfig;
  start: NodeStep;
  prepared: ReadonlyMap<string, PreparedNode>;
  /** Some node reads the request body, so it is buffered and parsed before the walk. */
  needsRequestBody: boolean;
  /** This version's members of the request log line (route, workflow, version), made once. */
  logFields: string;
  /** The fields the document opts in to log (its `log.fields`), compiled; absent when none. */
  loggedFields: ReadonlyArray<{ name: string; expression: BoundExpression }> | undefined;
  /** This version's request counters; absent when metrics are off. */
  metrics: VersionMetrics | undefined;
  /** Lifecycle marks of the version as served; absent for drafts and tests. */
  lifecycle?: ServedLifecycle;
  close(): void;
}

/** Raised when a valid document cannot be prepared here (missing env var, unreadable key file). */
export class WorkflowRefused extends Error {
  readonly problems: ValidationProblem[];
  constructor(problems: ValidationProblem[]) {
    super(problems.map((p) => `${p.node ?? '(workflow)'}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; '));
    this.name = 'WorkflowRefused';
    this.problems = problems;
  }
}

export interface CompileDependencies {
  /** The process environment; documents read only what `envAllowList` allows of it. */
  env: Readonly<Record<string, string | undefined>>;
  /** SLUICE_WORKFLOW_ENV and SLUICE_SECRET_ENV; absent: their defaults. */
  envAllowList?: EnvAllowList;
  /** The data directory: documents read files of its keys folder only. */
  dataDir: string;
  /** Where workflows may connect to; absent: the default policy (no entries: special addresses refused, public ones allowed). */
  egress?: EgressPolicy;
  rateLimits: RateLimitStore;
  shared: SharedResources;
  expressionLimits?: ExpressionLimits;
  /** Largest upstream body a proxy buffers for a later node (SLUICE_MAX_BUFFERED_ANSWER); 10 MB when absent. */
  maxBufferedAnswer?: number;
  /** Where expressions off the compiled fast path run; a process-wide one-thread pool when absent. */
  expressionPool?: ExpressionPool;
  /** Partners, keys and products as the registry last applied them; none when absent (tests, tools). */
  partners?: PartnerAccess;
  /** Size bounds of the documents compiled (SLUICE_MAX_*); DEFAULT_DOCUMENT_LIMITS when absent. */
  limits?: DocumentLimits;
  /** The longest one slice of validating or compiling runs before requests get their turn (pace.ts SLICE_MS when absent). */
  sliceMs?: number;
}

/** The directory of compilations without one: no partners, no products. */
const NO_PARTNERS = createPartnerAccess();
/** The policy of compilations without one. */
const DEFAULT_EGRESS = createEgressPolicy();

/** The XState machine of a workflow config. Node runs are supplied per request (live actors) or walked by table. */
export function createWorkflowMachine(config: WorkflowMachineConfig): AnyStateMachine {
  return setup({
    actors: { [RUN_NODE_ACTOR]: fromPromise<string, { node: string }>(async () => { throw new Error('runNode is provided per request'); }) },
    actions: { [TAKE_PORT_ACTION]: raise(({ event }) => ({ type: (event as unknown as { output: string }).output })) },
  }).createMachine(config as never) as unknown as AnyStateMachine;
}

/** Node states per XState machine the table is asked of: building one takes a few milliseconds. */
const TABLE_CHUNK = 32;

/**
 * Asks XState, for every node state and every port its node can exit by, which state comes
 * next; the answers form the table the gateway walks per request. XState answers for a few
 * dozen states at a time, each on a machine of those states (their configs as compiled) and
 * the states they lead to: asking one machine of all the states costs time in proportion to
 * their number per state (resolveState reads every sibling), 40 s for a 10,000-node chain, in
 * one stretch no request could interrupt. The states a chunk leads to keep their type (a final
 * state stays final); their own transitions are asked in their own chunk.
 */
async function computeTable(config: WorkflowMachineConfig, pace: Pace): Promise<Map<string, Map<string, string>>> {
  const table = new Map<string, Map<string, string>>();
  const nodeStates = Object.entries(config.states).filter((entry): entry is [string, NodeStateConfig] => !('type' in entry[1]));
  for (let from = 0; from < nodeStates.length; from += TABLE_CHUNK) {
    const chunk = nodeStates.slice(from, from + TABLE_CHUNK);
    const states: WorkflowMachineConfig['states'] = Object.fromEntries(chunk);
    for (const [, stateConfig] of chunk)
      for (const target of [...Object.values(stateConfig.on), FAULT_STATE]) {
        if (Object.hasOwn(states, target)) continue;
        const targetConfig = config.states[target];
        if (targetConfig === undefined) throw new Error(`a transition leads to the unknown state ${target}`);
        states[target] = 'type' in targetConfig ? targetConfig : ({} as NodeStateConfig); // a node state of another chunk
      }
    const machine = createWorkflowMachine({ id: config.id, initial: chunk[0]![0], states });
    for (const [state, stateConfig] of chunk) {
      const snapshot = machine.resolveState({ value: state, context: {} });
      const targets = new Map<string, string>();
      const events = [...Object.keys(stateConfig.on).map((port) => ({ port, type: port })), { port: FAULT_STATE, type: `xstate.error.actor.${state}` }];
      for (const { port, type } of events) {
        const [next] = transition(machine, snapshot, { type } as never);
        const value = next.value;
        if (typeof value !== 'string') throw new Error(`state ${state} on ${type} leads to a compound state`);
        targets.set(port, value);
      }
      table.set(state, targets);
      await pace();
    }
  }
  return table;
}

/** The whole machine of each compiled config, built when first asked for (a served version never is). */
const machines = new WeakMap<WorkflowMachineConfig, AnyStateMachine>();

/** The XState machine of a compiled workflow: what the live actor runs (tests, inspection). */
export function workflowMachine(workflow: Pick<CompiledWorkflow, 'machineConfig'>): AnyStateMachine {
  let machine = machines.get(workflow.machineConfig);
  if (machine === undefined) machines.set(workflow.machineConfig, (machine = createWorkflowMachine(workflow.machineConfig)));
  return machine;
}

/** Prepares one node with its kind's runtime; a failure is a problem naming the node and field. */
async function prepareNode(
  workflowId: string,
  nodeId: string,
  kind: string,
  config: unknown,
  wiredPorts: ReadonlySet<string>,
  deps: CompileDependencies,
): Promise<{ prepared: PreparedNode } | { problem: ValidationProblem }> {
  const runtime = runtimes[kind as keyof typeof runtimes] as (config: unknown, context: Parameters<(typeof runtimes)['proxy']>[1]) => PreparedNode | Promise<PreparedNode>;
  try {
    const prepared = await runtime(config, {
      workflowId,
      nodeId,
      env: createWorkflowEnv(deps.env, deps.envAllowList),
      keys: createKeyFiles(deps.dataDir),
      egress: deps.egress ?? DEFAULT_EGRESS,
      rateLimits: deps.rateLimits,
      partners: deps.partners ?? NO_PARTNERS,
      expression: (source) => {
        try {
          return compileExpression(source, deps.expressionLimits, deps.expressionPool);
        } catch (error) {
          // a refused expression (a regex RE2 cannot run) names the field it is in
          if (!(error instanceof PrepareError) || error.field !== '') throw error;
          const field = isKindName(kind) ? (kinds[kind] as AnyKindDescriptor).expressions(config).find((e) => e.source === source)?.field : undefined;
          throw new PrepareError(field === undefined ? 'config' : `config.${field}`, error.message, { cause: error });
        }
      },
      shared: deps.shared,
      wiredPorts,
      maxBufferedAnswer: deps.maxBufferedAnswer ?? DEFAULT_MAX_BUFFERED_ANSWER,
    });
    return { prepared };
  } catch (error) {
    if (error instanceof PrepareError) return { problem: { code: 'invalid_config', message: error.message, node: nodeId, field: error.field } };
    return { problem: { code: 'invalid_config', message: `cannot prepare: ${(error as Error).message}`, node: nodeId } };
  }
}

/**
 * What stops a document's nodes from running here (a missing env var, an unreadable key file),
 * for every node whose config is valid for its kind, whether or not the graph is: so a refusal
 * lists these beside the graph's problems. Prepared nodes are released at once.
 */
export async function preparationProblems(document: unknown, deps: CompileDependencies): Promise<ValidationProblem[]> {
  const doc = document as { id?: unknown; nodes?: unknown } | null;
  if (!Array.isArray(doc?.nodes)) return [];
  const problems: ValidationProblem[] = [];
  const pace = createPace(deps.sliceMs);
  for (const node of doc.nodes as Array<{ id?: unknown; kind?: unknown; config?: unknown }>) {
    await pace();
    if (typeof node?.id !== 'string' || typeof node.kind !== 'string' || !isKindName(node.kind)) continue;
    const config = (kinds[node.kind] as AnyKindDescriptor).config.safeParse(node.config ?? {});
    if (!config.success) continue;
    const outcome = await prepareNode(typeof doc.id === 'string' ? doc.id : '', node.id, node.kind, config.data, new Set(), deps);
    if ('problem' in outcome) problems.push(outcome.problem);
    else outcome.prepared.close?.();
  }
  const fields = (document as { log?: { fields?: unknown } }).log?.fields;
  if (fields !== null && typeof fields === 'object') {
    const sources = Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && expressionSyntaxError(entry[1]) === undefined);
    loggedFieldsOf(Object.fromEntries(sources), deps, problems);
  }
  return problems;
}

/**
 * Compiles a validated workflow into a servable version: machine config, XState machine,
 * transition table, and every node prepared (expressions compiled, keys loaded) once.
 * A served version counts its requests and nodes in `served.metrics`.
 * @throws WorkflowRefused naming node and field when a node cannot be prepared.
 */
export async function compileWorkflow(graph: ValidGraph, version: number, deps: CompileDependencies, served: { metrics?: Metrics } = {}): Promise<CompiledWorkflow> {
  // In slices, each with the event loop's turn after it: a large document never holds it long.
  const pace = createPace(deps.sliceMs);
  const machineConfig = await runPaced(toMachineConfigSliced(graph), pace);
  const table = await computeTable(machineConfig, pace);

  const problems: ValidationProblem[] = [];
  const prepared = new Map<string, PreparedNode>();
  let needsRequestBody = false;
  for (const node of graph.nodes.values()) {
    await pace();
    if (node.descriptor.readsRequestBody?.(node.config)) needsRequestBody = true;
    const outcome = await prepareNode(graph.document.id, node.id, node.kind, node.config, new Set(node.next.keys()), deps);
    if ('problem' in outcome) problems.push(outcome.problem);
    else prepared.set(node.id, outcome.prepared);
  }
  const loggedFields = loggedFieldsOf(graph.document.log?.fields, deps, problems);
  if (problems.length > 0) {
    for (const node of prepared.values()) node.close?.(); // the nodes that did prepare hold their timers or connections
    throw new WorkflowRefused(problems);
  }

  // Only served versions count (drafts and previews compile without metrics).
  const workflowMetrics = served.metrics?.workflow(graph.document.id);
  const steps = new Map<string, Step>();
  for (const [state, stateConfig] of Object.entries(machineConfig.states)) {
    await pace();
    if ('type' in stateConfig) steps.set(state, { final: true, state, meta: stateConfig.meta });
    else
      steps.set(state, {
        final: false,
        state,
        kind: stateConfig.meta.kind,
        run: prepared.get(state)!.run,
        // next has no prototype: a port named "constructor" or "__proto__" must not find Object's members
        next: Object.create(null) as Record<string, Step>,
        fault: undefined as never,
        metrics: workflowMetrics?.node(state, stateConfig.meta.kind),
      });
  }
  for (const [state, targets] of table) {
    const step = steps.get(state) as NodeStep;
    for (const [port, target] of targets) {
      const next = steps.get(target)!;
      if (port === FAULT_STATE) step.fault = next as FinalStep;
      else step.next[port] = next;
    }
  }

  return {
    id: graph.document.id,
    version,
    graph,
    machineConfig,
    start: steps.get(graph.start) as NodeStep,
    prepared,
    needsRequestBody,
    metrics: workflowMetrics?.version(version),
    logFields: workflowLogFields(graph.document.route.path, graph.document.id, version),
    loggedFields,
    close() {
      for (const node of prepared.values()) node.close?.();
    },
  };
}

/** The log fields compiled; one that cannot be (a regex RE2 cannot run) is a problem naming its field. */
function loggedFieldsOf(fields: Record<string, string> | undefined, deps: CompileDependencies, problems: ValidationProblem[]): CompiledWorkflow['loggedFields'] {
  const entries = Object.entries(fields ?? {});
  if (entries.length === 0) return undefined;
  const compiled: NonNullable<CompiledWorkflow['loggedFields']>[number][] = [];
  for (const [name, source] of entries) {
    try {
      compiled.push({ name, expression: compileExpression(source, deps.expressionLimits, deps.expressionPool) });
    } catch (error) {
      if (!(error instanceof PrepareError)) throw error;
      problems.push({ code: 'invalid_config', message: error.message, field: `log.fields.${name}` });
    }
  }
  return compiled;
}

/**
 * The opted-in log fields of a finished request as JSON members; a field whose expression
 * fails is logged as null with the failure, never failing the request.
 */
export async function evaluateLoggedFields(fields: NonNullable<CompiledWorkflow['loggedFields']>, exchange: Exchange): Promise<string> {
  const values: Record<string, unknown> = {};
  for (const { name, expression } of fields) {
    try {
      values[name] = (await expression.evaluate(exchange)) ?? null;
    } catch (error) {
      values[name] = null;
      values[`${name}Error`] = (error as Error).message;
    }
  }
  return JSON.stringify(values);
}

/** A runtime named a port its node does not have: a fault, in the table walk and the live actor alike. */
function unknownPort(state: string, port: unknown): Error {
  return new Error(`node ${state} exited by unknown port "${String(port)}"`);
}

/** The end of one walk: the final step and the states passed through. */
export interface WalkResult {
  final: FinalStep;
  states: string[];
  error?: unknown;
}

/** Ends a node's run in the counters (and, when tracing, its start and end times). */
function ranNode(step: NodeStep, started: number, port: string, exchange: Exchange, timings: number[] | undefined): void {
  const ended = performance.now();
  step.metrics?.ran((ended - started) / 1000, port, exchange.partner);
  timings?.push(started, ended);
}

/**
 * Runs a request through the workflow by its table: run the node, take the port it names,
 * look up the next state, until a final state. Synchronous nodes cost no promise hop. Nodes are
 * timed only when metrics count them or `timings` (two numbers per node) is given for a trace.
 */
export async function walk(workflow: CompiledWorkflow, exchange: Exchange, states: string[], timings?: number[]): Promise<WalkResult> {
  let step: Step = workflow.start;
  while (!step.final) {
    states.push(step.state);
    const timed = step.metrics !== undefined || timings !== undefined;
    const started = timed ? performance.now() : 0;
    let port: string | Promise<string>;
    try {
      port = step.run(exchange);
      if (typeof port !== 'string') port = await port;
    } catch (error) {
      if (timed) ranNode(step, started, FAULT_PORT, exchange, timings);
      return { final: step.fault, states, error };
    }
    if (timed) ranNode(step, started, port, exchange, timings);
    const next: Step | undefined = step.next[port];
    if (next === undefined) return { final: step.fault, states, error: unknownPort(step.state, port) };
    step = next;
  }
  return { final: step, states };
}

/**
 * Runs a request through a live XState actor of the same machine: the reference semantics
 * the table walk must agree with (tests), and what preview uses for inspection.
 */
export function runWithActor(workflow: CompiledWorkflow, exchange: Exchange): Promise<WalkResult> {
  const states: string[] = [];
  let error: unknown;
  const machine = workflowMachine(workflow).provide({
    actors: {
      [RUN_NODE_ACTOR]: fromPromise<string, { node: string }>(async ({ input }) => {
        try {
          const port = await workflow.prepared.get(input.node)!.run(exchange);
          // An event the state does not handle would leave the actor in the state forever; XState's
          // own events (xstate.*) would be taken as the machine's. Neither is a port: fail the node.
          const on = (workflow.machineConfig.states[input.node] as NodeStateConfig).on;
          if (typeof port !== 'string' || !Object.hasOwn(on, port)) throw unknownPort(input.node, port);
          return port;
        } catch (cause) {
          error = cause;
          throw cause;
        }
      }),
    },
  });
  return new Promise((resolve, reject) => {
    const actor = createActor(machine);
    actor.subscribe({
      next(snapshot) {
        const value = snapshot.value as string;
        if (snapshot.status === 'done') {
          const stateConfig = workflow.machineConfig.states[value]!;
          resolve({ final: { final: true, state: value, meta: (stateConfig as { meta: FinalStateMeta }).meta }, states, ...(error === undefined ? {} : { error }) });
        } else if (states[states.length - 1] !== value) states.push(value);
      },
      error: reject,
    });
    actor.start();
  });
}
