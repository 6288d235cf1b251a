import { createFlights, createMemoryCacheStore } from '../kinds/support/cache-store.ts';
import { expressionSyntaxError, FAULT_STATE, finalStateName, machineLayoutOf, runPaced, toMachineConfig, type FinalStateMeta, type ValidationProblem, type ValidGraph, type WorkflowMachineConfig } from '../../shared/compile/index.ts';
import { isKindName, kinds, type AnyKindDescriptor } from '../../shared/nodes/index.ts';
import { runtimes } from '../kinds/index.ts';
import { compileExpression } from '../kinds/support/expression.ts';
import { createPartnerAccess } from '../kinds/support/partner-directory.ts';
import { createMemoryReplayStore } from '../kinds/support/replay-store.ts';
import { createEgressPolicy } from '../kinds/support/egress.ts';
import { nodePools } from '../kinds/support/upstream-pools.ts';
import { createKeyFiles } from '../kinds/support/key-files.ts';
import { createWorkflowEnv, DEFAULT_ENV_ALLOW_LIST } from '../kinds/support/workflow-env.ts';
import { PrepareError } from '../kinds/prepare-error.ts';
import { DEFAULT_MAX_BUFFERED_ANSWER, type PreparedNode } from '../kinds/types.ts';
import { workflowLogFields } from '../observe/request-log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { loggedFieldsOf } from './logged-fields.ts';
import { computeTable } from './machine.ts';
import { createPace } from './pace.ts';
import { WorkflowRefused, type CompileDependencies, type CompiledWorkflow, type FinalStep, type NodeStep, type Step } from './types.ts';

/** The directory of compilations without one: no partners, no products. */
const NO_PARTNERS = createPartnerAccess();
/** The policy of compilations without one. */
const DEFAULT_EGRESS = createEgressPolicy();

/**
 * The environment and key files nodes read, made once per environment, allow list and data
 * directory rather than once per node (a start prepares tens of thousands). Both read lazily:
 * what they capture is only where to read.
 */
const workflowEnvs = new WeakMap<object, WeakMap<object, ReturnType<typeof createWorkflowEnv>>>();
function workflowEnvOf(deps: CompileDependencies): ReturnType<typeof createWorkflowEnv> {
  const allowList = deps.envAllowList ?? DEFAULT_ENV_ALLOW_LIST;
  let byList = workflowEnvs.get(deps.env);
  if (byList === undefined) workflowEnvs.set(deps.env, (byList = new WeakMap()));
  let env = byList.get(allowList);
  if (env === undefined) byList.set(allowList, (env = createWorkflowEnv(deps.env, allowList)));
  return env;
}
const keyFilesByDir = new Map<string, ReturnType<typeof createKeyFiles>>();
function keyFilesOf(dataDir: string): ReturnType<typeof createKeyFiles> {
  let keys = keyFilesByDir.get(dataDir);
  if (keys === undefined) {
    if (keyFilesByDir.size >= 64) keyFilesByDir.clear(); // tests make many data dirs; a server has one
    keyFilesByDir.set(dataDir, (keys = createKeyFiles(dataDir)));
  }
  return keys;
}

/** Machine configs asked for again after compiling, by graph (made at most once per version). */
const machineConfigs = new WeakMap<ValidGraph, WorkflowMachineConfig>();
function machineConfigOf(graph: ValidGraph): WorkflowMachineConfig {
  let config = machineConfigs.get(graph);
  if (config === undefined) machineConfigs.set(graph, (config = toMachineConfig(graph)));
  return config;
}

/** A raise state's step, its name made when first read (most raise states are never reached). */
class RaiseStep implements FinalStep {
  readonly final = true;
  #state: string | undefined;
  constructor(readonly meta: FinalStateMeta) {}
  get state(): string {
    return (this.#state ??= finalStateName(this.meta));
  }
}
/** The steps of $finish and $fault, the same in every workflow (their metas are), by meta. */
const sharedFinalSteps = new WeakMap<FinalStateMeta, FinalStep>();
function finalStep(meta: FinalStateMeta): FinalStep {
  if (meta.outcome === 'raise') return new RaiseStep(meta);
  let step = sharedFinalSteps.get(meta);
  if (step === undefined) sharedFinalSteps.set(meta, (step = Object.freeze({ final: true, state: finalStateName(meta), meta })));
  return step;
}

/** Counts by result, each at 0, for a node no metrics read (drafts, previews), or the first version of a served one. */
function freshCounts(results: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[result] = 0;
  return counts;
}

/**
 * Prepares one node with its kind's runtime; a failure is a problem naming the node and field.
 * The node's close() lets go of the connection pools it holds (`served`: a version the gateway
 * serves, whose pools stay open a while for the requests it took); a node that fails holds none.
 */
export async function prepareNode(
  workflowId: string,
  nodeId: string,
  kind: string,
  config: unknown,
  wiredPorts: ReadonlySet<string>,
  deps: CompileDependencies,
  counts: (results: readonly string[]) => Record<string, number> = freshCounts,
  served = false,
): Promise<{ prepared: PreparedNode } | { problem: ValidationProblem }> {
  const runtime = runtimes[kind as keyof typeof runtimes] as (config: unknown, context: Parameters<(typeof runtimes)['proxy']>[1]) => PreparedNode | Promise<PreparedNode>;
  const egress = deps.egress ?? DEFAULT_EGRESS;
  const pools = nodePools(deps.shared, egress, served);
  try {
    const prepared = await runtime(config, {
      workflowId,
      nodeId,
      env: workflowEnvOf(deps),
      keys: keyFilesOf(deps.dataDir),
      egress,
      calloutHosts: deps.calloutHosts ?? [],
      rateLimits: deps.rateLimits,
      cache: deps.cache ?? deps.shared.get('cache:memory', createMemoryCacheStore),
      cacheFlights: deps.cacheFlights ?? deps.shared.get('cache:flights', createFlights),
      partners: deps.partners ?? NO_PARTNERS,
      replays: deps.replays ?? deps.shared.get('hmac:replays', () => createMemoryReplayStore()),
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
      upstreamPool: pools.pool,
      wiredPorts,
      counts: counts as <Result extends string>(results: readonly Result[]) => Record<Result, number>,
      maxBufferedAnswer: deps.maxBufferedAnswer ?? DEFAULT_MAX_BUFFERED_ANSWER,
      workers: deps.expressionPool,
    });
    if (!pools.holding()) return { prepared };
    return {
      prepared: {
        ...prepared,
        close() {
          prepared.close?.();
          pools.release();
        },
      },
    };
  } catch (error) {
    pools.release();
    if (error instanceof PrepareError) return { problem: { code: 'invalid_config', message: error.message, node: nodeId, field: error.field } };
    return { problem: { code: 'invalid_config', message: `cannot prepare: ${(error as Error).message}`, node: nodeId } };
  }
}

/**
 * What stops a document's nodes from running here (a missing env var, an unreadable key file),
 * for every node whose config is valid for its kind and whose expressions parse, whether or not
 * the graph is: so a refusal lists these beside the graph's problems. Prepared nodes are
 * released at once.
 */
export async function preparationProblems(document: unknown, deps: CompileDependencies): Promise<ValidationProblem[]> {
  const doc = document as { id?: unknown; nodes?: unknown } | null;
  if (!Array.isArray(doc?.nodes)) return [];
  const problems: ValidationProblem[] = [];
  const pace = createPace(deps.sliceMs);
  for (const node of doc.nodes as Array<{ id?: unknown; kind?: unknown; config?: unknown }>) {
    const pause = pace();
    if (pause) await pause;
    // a subflow node left in (its fragment could not be inlined) has its problem from validation
    if (typeof node?.id !== 'string' || typeof node.kind !== 'string' || !isKindName(node.kind) || node.kind === 'subflow') continue;
    const config = (kinds[node.kind] as AnyKindDescriptor).config.safeParse(node.config ?? {});
    if (!config.success) continue;
    // An expression that does not parse is validation's problem already: one cause, one problem.
    if ((kinds[node.kind] as AnyKindDescriptor).expressions(config.data).some((e) => expressionSyntaxError(e.source) !== undefined)) continue;
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
 * `served` is given for a version the gateway serves (not a draft, a preview or a test): it
 * counts its requests and nodes in `served.metrics`. In slices, each with the event loop's turn
 * after it, so a large document never holds it long: `pace` is the pacer of a longer task it is
 * part of (a sync of many workflows, each short), else its own.
 * @throws WorkflowRefused naming node and field when a node cannot be prepared.
 */
export async function compileWorkflow(graph: ValidGraph, version: number, deps: CompileDependencies, served?: { metrics?: Metrics }, pace = createPace(deps.sliceMs)): Promise<CompiledWorkflow> {
  const layout = await runPaced(machineLayoutOf(graph), pace);
  const table = await computeTable(layout.shape, pace, deps.tables);

  const problems: ValidationProblem[] = [];
  const prepared = new Map<string, PreparedNode>();
  let closed = false;
  /** Releases what the nodes hold (timers, connection pools), once: a retired version's are released when it is retired, and it is closed again when replaced. */
  const close = () => {
    if (closed) return;
    closed = true;
    for (const node of prepared.values()) node.close?.();
  };
  // A served node's result counts go on from its previous version's (same id and kind); they
  // join the workflow's metrics only once this version compiles.
  const counted = new Map<string, Record<string, number>>();
  const servedNodes = served?.metrics?.workflows.get(graph.document.id)?.nodes;
  let needsRequestBody = false;
  for (const node of graph.nodes.values()) {
    const pause = pace();
    if (pause) await pause;
    if (node.descriptor.readsRequestBody?.(node.config)) needsRequestBody = true;
    const outcome = await prepareNode(graph.document.id, node.id, node.kind, node.config, new Set(node.next.keys()), deps, (results) => {
      const before = servedNodes?.get(node.id);
      const counts = before?.kind === node.kind && before.results !== undefined ? before.results : freshCounts(results);
      for (const result of results) counts[result] ??= 0;
      counted.set(node.id, counts);
      return counts;
    }, served !== undefined);
    if ('problem' in outcome) problems.push(outcome.problem);
    else prepared.set(node.id, outcome.prepared);
  }
  const loggedFields = loggedFieldsOf(graph.document.log?.fields, deps, problems);
  if (problems.length > 0) {
    close(); // the nodes that did prepare hold their timers or connections
    throw new WorkflowRefused(problems);
  }

  // Only served versions count (drafts and previews compile without metrics).
  const workflowMetrics = served?.metrics?.workflow(graph.document.id);
  const nodeMetrics = (id: string, kind: string) => {
    const metrics = workflowMetrics?.node(id, kind);
    if (metrics !== undefined && counted.has(id)) metrics.results = counted.get(id);
    return metrics;
  };
  // The steps by place (MachineLayout): the node states, then the final states.
  const steps: Step[] = [];
  for (const node of layout.nodes) {
    const pause = pace();
    if (pause) await pause;
    steps.push({
      final: false,
      state: node.id,
      kind: node.kind,
      run: prepared.get(node.id)!.run,
      // next has no prototype: a port named "constructor" or "__proto__" must not find Object's members
      // (set after creation: Object.create(null) makes a dictionary-mode object, ~400 bytes a node more)
      next: Object.setPrototypeOf({}, null) as Record<string, Step>,
      fault: undefined as never,
      metrics: nodeMetrics(node.id, node.kind),
    });
  }
  for (const meta of layout.finals) steps.push(finalStep(meta));
  for (let place = 0; place < layout.nodes.length; place++) {
    const step = steps[place] as NodeStep;
    for (const [port, target] of table[place]!) {
      if (port === FAULT_STATE) step.fault = steps[target] as FinalStep;
      else step.next[port] = steps[target]!;
    }
  }

  return {
    id: graph.document.id,
    version,
    graph,
    machineConfig: () => machineConfigOf(graph),
    start: steps[layout.nodes.findIndex((node) => node.id === graph.start)] as NodeStep,
    prepared,
    needsRequestBody,
    metrics: workflowMetrics?.version(version),
    logFields: workflowLogFields(graph.document.route.path, graph.document.id, version),
    loggedFields,
    close,
  };
}
