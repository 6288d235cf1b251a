import type { CanaryRecord } from '../../shared/schema/lifecycle.ts';
import type { IncomingHttpHeaders } from 'node:http';
import type { ReplayStore } from '../kinds/support/replay-store.ts';
import type { CacheStore, Flights } from '../kinds/support/cache-store.ts';
import type { FinalStateMeta, ValidationProblem, ValidGraph, WorkflowMachineConfig } from '../../shared/compile/index.ts';
import type { DocumentLimits } from '../../shared/schema/index.ts';
import type { NodeMetrics, VersionMetrics } from '../observe/workflow-metrics.ts';
import type { ExpressionLimits } from '../kinds/support/expression.ts';
import type { ExpressionPool } from '../kinds/support/expression-pool.ts';
import type { PartnerAccess } from '../kinds/support/partner-directory.ts';
import type { RateLimitStore } from '../kinds/support/rate-limit-store.ts';
import type { EgressPolicy } from '../kinds/support/egress.ts';
import type { EnvAllowList } from '../kinds/support/workflow-env.ts';
import type { BoundExpression, NodeRun, PreparedNode, SharedResources } from '../kinds/types.ts';
import type { TableCache } from './table-cache.ts';

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
  /**
   * The XState machine config, made again from the graph when asked (the live actor of the
   * agreement test, workflowMachine()): a served version keeps none, ~3 KB less per workflow.
   */
  machineConfig(): WorkflowMachineConfig;
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
  /** The canary running on the active version: which requests its candidate serves (engine/compile/canary-split.ts). */
  canary?: CanarySplit;
  /** Releases what the prepared nodes hold (health-check timers, connection pools); calling it again does nothing. */
  close(): void;
}

/**
 * A canary as the gateway serves it: the candidate's compiled version and which requests go to it.
 * Counts of both sides are kept here for the canary watch (engine/canary/watch.ts).
 */
export interface CanarySplit {
  readonly record: CanaryRecord;
  readonly candidate: CompiledWorkflow;
  /** Whether this request goes to the candidate. */
  pick(headers: IncomingHttpHeaders): boolean;
  /** Requests and bad answers (errors or problems) per side since the watch last took them: [active requests, active bad, candidate requests, candidate bad]. */
  readonly unsent: Float64Array;
  /** Counts a finished request: on the candidate's side or the active's, bad (status >= 500 or a problem answer) or not. */
  count(candidate: boolean, bad: boolean): void;
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
  /** Hosts an http-call node may call (SLUICE_CALLOUT_HOSTS); absent: none. */
  calloutHosts?: readonly string[];
  rateLimits: RateLimitStore;
  /** Cached answers (cache-lookup, cache-store): Redis when REDIS_URL is set; absent: a memory store shared by the process (`shared`). */
  cache?: CacheStore;
  /** Lookups waiting on a key being fetched; absent: the process's (`shared`). */
  cacheFlights?: Flights;
  /** Signatures seen (hmac-verify): Redis when REDIS_URL is set; absent: a memory store shared by the process (`shared`). */
  replays?: ReplayStore;
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
  /** Transition tables XState computed before (this process, or one before it on this data dir); each table is computed afresh when absent. */
  tables?: TableCache;
}
