import type { Logger } from 'pino';
import { servedState, type ServedState } from '../../shared/admin/index.ts';
import type { ValidationProblem } from '../../shared/compile/index.ts';
import { measureJsonText, type ErrorCatalog } from '../../shared/schema/index.ts';
import { coalesce } from '../store/coalesce.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { StoredCatalogs } from '../store/catalogs.ts';
import { buildPartnerDirectory } from '../kinds/support/partner-directory.ts';
import { RecordMap } from '../store/record-map.ts';
import type { Store, StoreState, VersionRecord, WorkflowRecord } from '../store/types.ts';
import type { RouteChanges } from '../gateway/route-table.ts';
import { fragmentsNamed } from '../../shared/compile/index.ts';
import { createFragmentLibrary, type FragmentLibrary } from './fragments.ts';
import { createPace, validatePaced } from './pace.ts';
import { compileWorkflow } from './compile.ts';
import type { GraphCache } from './graph-cache.ts';
import type { ValidatedGraphs } from './validated-graphs.ts';
import { createCanarySplit } from './canary-split.ts';
import { WorkflowRefused, type CompileDependencies, type CompiledWorkflow, type ServedLifecycle } from './types.ts';

export interface WorkflowRegistry {
  /** Brings what this process serves up to the store's state; calls coalesce. */
  sync(): Promise<void>;
  /** The workflows being served, by id. */
  readonly active: ReadonlyMap<string, CompiledWorkflow>;
  /** The served workflows running a canary: as many as run one, not every workflow (the canary watch asks every second). */
  canaried(): Iterable<CompiledWorkflow>;
  /** The store revision this process serves. */
  readonly appliedRevision: number;
  /**
   * Resolves once this process serves `revision` or a later one (syncing if it has not started),
   * so a change can be acknowledged only when its own gateway answers with it.
   */
  whenApplied(revision: number): Promise<void>;
  /** What workflows are compiled with (env, data dir, rate-limit store): preview and tests compile drafts alike. */
  readonly deps: CompileDependencies;
  /** Each served workflow's version, route and state as served (retired, deprecated or active). */
  serving(): ServedVersion[];
}

interface ServedVersion {
  workflow: string;
  version: number;
  route: string;
  state: ServedState;
}

/** Activations of one sync logged a line each; more (a start of thousands) are one line, each at debug level. */
const ACTIVATIONS_LOGGED = 50;

export const describeProblems = (problems: ValidationProblem[]) =>
  problems.map((p) => `${p.node ? `node ${p.node}` : 'workflow'}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('; ');

/** A served version as compiled, without the canary attached to it. */
function withoutCanary(workflow: CompiledWorkflow): CompiledWorkflow {
  if (workflow.canary === undefined) return workflow;
  const { canary: _, ...rest } = workflow;
  return rest;
}

/** RFC 9745 Deprecation (a structured date) and RFC 8594 Sunset (an HTTP date) of a version. */
function lifecycleOf(version: VersionRecord): ServedLifecycle {
  const headers: Record<string, string> = {};
  if (version.deprecated) {
    headers.deprecation = `@${Math.floor(Date.parse(version.deprecated.at) / 1000)}`;
    if (version.deprecated.sunset) headers.sunset = new Date(version.deprecated.sunset).toUTCString();
  }
  return { retired: version.retired !== undefined, headers: Object.keys(headers).length > 0 ? headers : undefined };
}

function sameLifecycle(a: ServedLifecycle | undefined, b: ServedLifecycle): boolean {
  return a !== undefined && a.retired === b.retired && a.headers?.deprecation === b.headers?.deprecation && a.headers?.sunset === b.headers?.sunset;
}

/**
 * Serves what the store says is active: compiles each workflow's active version once (a
 * version is immutable, so it is compiled once per process), keeps lifecycle marks current,
 * and swaps the route table and the partner directory in one tick. A version that cannot be compiled here (a
 * missing env var on this replica) is logged and the version already serving stays.
 */
export function createWorkflowRegistry(options: {
  deps: CompileDependencies;
  store: Store;
  /** The stored catalogs, read by hash. */
  catalogs: StoredCatalogs;
  /** The published fragments subflow nodes are inlined from; one of its own when absent. */
  fragments?: FragmentLibrary;
  /** Graphs validated by this build before (a restart's stored versions); every version is validated without. */
  graphs?: GraphCache;
  /** Graphs this process's publishes validated (the lifecycle's check): taken before validating a version. */
  validated?: ValidatedGraphs;
  logger: Logger;
  metrics?: Metrics;
  /** Takes the workflows served anew (or served otherwise) and the ids no longer served, after each sync; the catalog in force. */
  activate: (changes: RouteChanges, catalog: ErrorCatalog | undefined) => void;
}): WorkflowRegistry {
  const { store, logger } = options;
  const fragmentLibrary = options.fragments ?? createFragmentLibrary(store);
  const active = new Map<string, CompiledWorkflow>();
  /** The candidate version of each workflow running a canary (served through its active version's split). */
  const candidates = new Map<string, CompiledWorkflow>();
  /** `${id}@${version}` -> why it failed, so a version that cannot compile is logged once */
  const failed = new Map<string, string>();
  let appliedRevision = 0;
  /** Callers of whenApplied, by the revision they wait for. */
  const waiters = new Set<{ revision: number; resolve: () => void }>();

  /** The store record each served workflow was last synced from. */
  const servedFrom = new Map<string, WorkflowRecord>();
  /** What the last sync read of the state: a sync looks only at what changed since. */
  let seenWorkflows: RecordMap<WorkflowRecord> | undefined;
  let seenFragments: StoreState['fragments'];
  let seenPartners: StoreState['partners'] | undefined;
  let seenProducts: StoreState['products'] | undefined;
  let seenPlans: StoreState['plans'] | undefined;
  /** Served workflows that run a fragment's active version (not a pinned one): compiled again when the fragments change. */
  const followers = new Set<string>();

  /**
   * Brings the served versions up to the store's state. A sync that fails partway (a document
   * that cannot be read) serves none of what it compiled: those versions are closed, or the
   * connection pools their nodes hold would stay open for good.
   */
  async function syncNow(): Promise<void> {
    const made: CompiledWorkflow[] = [];
    try {
      await syncInto(made);
    } catch (error) {
      const serving = new Set([...active.values(), ...candidates.values()].map((workflow) => workflow.prepared));
      for (const workflow of made) if (!serving.has(workflow.prepared)) workflow.close();
      throw error;
    }
  }

  /** A sync, pushing each version it compiles onto `made`. */
  async function syncInto(made: CompiledWorkflow[]): Promise<void> {
    const state = await store.state();
    // One pacer for the whole sync: each workflow is short, but a sync compiling thousands (a
    // start, a fragment that many follow, a large directory change) must not hold the event loop.
    const pace = createPace(options.deps.sliceMs);
    const catalog = state.catalog === undefined ? undefined : await options.catalogs.read(state.catalog);
    const fragments = await fragmentLibrary.resolver(state);
    /** What this sync compiled, for the log: a line each, or a line in all when a start compiles thousands. */
    const activations: Array<Record<string, unknown>> = [];
    /** A served workflow runs a fragment version that is no longer the active one it follows: compiled again. */
    const stale = (workflow: CompiledWorkflow) => workflow.graph.fragments.some((use) => !use.pinned && fragments(use.fragment)?.version !== use.version);
    /**
     * A version compiled for this sync: the one this process serves already when it is still
     * current, else compiled now; undefined when it cannot be served here (logged once).
     */
    async function compiled(record: WorkflowRecord, version: VersionRecord, current: CompiledWorkflow | undefined): Promise<CompiledWorkflow | undefined> {
      const lifecycle = lifecycleOf(version);
      if (current && current.version === version.version && !stale(current)) return sameLifecycle(current.lifecycle, lifecycle) ? current : { ...current, lifecycle };
      // A graph this build validated before on this data dir (a restart) is not validated again.
      const graphKey = options.graphs?.keyOf(version.hash, state.catalog, options.deps.limits);
      // a publish's check in this process validated it already (kept for the next start too, as a validation here would be)
      const checkedGraph = options.validated?.take(version.hash, state.catalog);
      if (checkedGraph !== undefined && graphKey !== undefined) options.graphs!.put(graphKey, checkedGraph);
      const cachedGraph = checkedGraph ?? (graphKey === undefined ? undefined : options.graphs!.take(graphKey));
      // Read before the try: a store that cannot be read (a Redis connection cut) fails this sync,
      // which is retried, rather than marking the version as one that cannot be served here.
      const text = cachedGraph === undefined ? await store.documentText(version.hash) : undefined;
      const document: unknown = cachedGraph?.document ?? JSON.parse(text!);
      // The fragment versions it would run now are part of what is compiled.
      const key = `${record.id}@${version.version}${fragmentsNamed(document as { nodes?: unknown })
        .map((f) => ` ${f.fragment}@${f.version ?? fragments(f.fragment)?.version ?? '-'}`)
        .join('')}`;
      if (failed.has(key)) return undefined;
      try {
        let graph = cachedGraph;
        if (graph === undefined) {
          const { limits } = options.deps;
          // A published version is served as it was published, even one whose tests hold a credential.
          // measured on the stored text (canonical JSON), so the document is not walked to measure it
          const measured = measureJsonText(text!, limits);
          const result = await validatePaced(document, { ...(catalog ? { catalog } : {}), ...(limits ? { limits } : {}), allowStoredCredentials: true, fragments, measured }, pace);
          if (!result.ok) throw new WorkflowRefused(result.problems);
          graph = result.graph;
          if (graphKey !== undefined) options.graphs!.put(graphKey, graph);
        }
        const workflow = await compileWorkflow(graph, version.version, options.deps, { metrics: options.metrics }, pace);
        made.push(workflow);
        const uses = workflow.graph.fragments.map((use) => `${use.fragment}@${use.version}`);
        activations.push({ workflow: record.id, version: version.version, publishedBy: version.publishedBy, revision: state.revision, ...(uses.length > 0 ? { fragments: uses } : {}) });
        return { ...workflow, lifecycle };
      } catch (error) {
        const problems = error instanceof WorkflowRefused ? error.problems : [{ code: 'invalid_config' as const, message: (error as Error).message }];
        failed.set(key, describeProblems(problems));
        options.metrics?.reloads.inc({ result: 'failed' });
        logger.error({ workflow: record.id, version: version.version, problems }, `workflow version cannot be served here: ${describeProblems(problems)}`);
        return undefined;
      }
    }

    // Only the records that changed since the last sync are looked at (the map says which, by the
    // buckets that differ), and when the fragments changed, the workflows that follow one: a change
    // to one workflow among 10,000 costs one workflow.
    const fragmentsChanged = state.fragments !== seenFragments;
    let ids: Iterable<string>;
    if (seenWorkflows === undefined) ids = state.workflows.keys();
    else {
      const { set, dropped } = RecordMap.changes(seenWorkflows, state.workflows);
      const changed = new Set<string>(dropped);
      for (const [id] of set) changed.add(id);
      if (fragmentsChanged) for (const id of followers) changed.add(id);
      ids = changed;
    }
    /** The served version (or none) of each workflow looked at, and its canary candidate. */
    const next = new Map<string, CompiledWorkflow | undefined>();
    const nextCandidates = new Map<string, CompiledWorkflow | undefined>();
    for (const id of ids) {
      const pause = pace();
      if (pause) await pause;
      const record = state.workflows.get(id);
      const current = active.get(id);
      next.set(id, current);
      nextCandidates.set(id, candidates.get(id));
      if (record === undefined) {
        next.set(id, undefined);
        nextCandidates.set(id, undefined);
        continue;
      }
      // States are frozen and a change shares the records it leaves alone: the same record object
      // is the same active version with the same lifecycle marks.
      if (current !== undefined && servedFrom.get(id) === record && !stale(current)) continue;
      servedFrom.set(id, record);
      // An archived workflow serves nothing, whatever its record says (archiving clears active too).
      const version = record.archived ? undefined : record.versions.find((v) => v.version === record.active);
      if (!version) {
        next.set(id, undefined);
        nextCandidates.set(id, undefined);
        continue;
      }
      // without its canary: attached again below when one runs
      const base = current === undefined ? undefined : withoutCanary(current);
      const served = (await compiled(record, version, base)) ?? base;
      next.set(id, served);
      nextCandidates.set(id, undefined);
      if (served === undefined) continue;
      const canary = record.canary;
      const candidateVersion = canary === undefined ? undefined : record.versions.find((v) => v.version === canary.version && v.retired === undefined);
      const candidate = candidateVersion === undefined ? undefined : await compiled(record, candidateVersion, candidates.get(id));
      if (canary === undefined || candidate === undefined) continue;
      nextCandidates.set(id, candidate);
      const previous = current?.canary?.record.id === canary.id ? current.canary : undefined;
      next.set(id, { ...served, canary: createCanarySplit(canary, served, candidate, options.deps.partners, previous?.unsent) });
    }
    // Partners, keys and products of this revision: swapped in the same tick as the routes, so a
    // suspension or revocation applies exactly as fast as a publish (built again only when they changed).
    const partnersChanged = state.partners !== seenPartners || state.products !== seenProducts || state.plans !== seenPlans;
    const directory = options.deps.partners && partnersChanged ? buildPartnerDirectory(state) : undefined;
    // From here to activate, one synchronous step: requests see all of this revision or none of it.
    if (directory) options.deps.partners!.current = directory;
    const set: CompiledWorkflow[] = [];
    const removed: string[] = [];
    for (const [id, workflow] of next) {
      const before = active.get(id);
      const candidateBefore = candidates.get(id);
      const candidate = nextCandidates.get(id);
      // The versions no longer served release their timers (a proxy's health checks); the prepared nodes a kept version shares stay.
      const kept = new Set([workflow?.prepared, candidate?.prepared]);
      for (const old of [before, candidateBefore]) if (old !== undefined && !kept.has(old.prepared)) old.close();
      // A retired version answers 410 without running its nodes: what they hold is released now (once).
      if (workflow?.lifecycle?.retired) workflow.close();
      if (candidate === undefined) candidates.delete(id);
      else candidates.set(id, candidate);
      if (workflow === undefined) {
        if (before !== undefined) {
          logger.info({ workflow: id, version: before.version }, 'workflow no longer served');
          active.delete(id);
          removed.push(id);
        }
        if (!state.workflows.has(id)) servedFrom.delete(id);
        continue;
      }
      if (before !== workflow) {
        active.set(id, workflow);
        set.push(workflow);
      }
      if (workflow.graph.fragments.some((use) => !use.pinned)) followers.add(id);
      else followers.delete(id);
    }
    for (const id of removed) followers.delete(id);
    // the first sync took every cached graph it serves: the rest are of versions no longer served
    if (seenWorkflows === undefined) options.graphs?.release();
    seenWorkflows = state.workflows;
    seenFragments = state.fragments;
    [seenPartners, seenProducts, seenPlans] = [state.partners, state.products, state.plans];
    options.activate({ set, removed }, catalog);
    if (activations.length <= ACTIVATIONS_LOGGED) for (const fields of activations) logger.info(fields, 'workflow activated');
    else {
      for (const fields of activations) logger.debug(fields, 'workflow activated');
      logger.info({ workflows: activations.length, revision: state.revision }, `${activations.length} workflows activated (a line each at debug level)`);
    }
    appliedRevision = state.revision;
    options.metrics?.reloads.inc({ result: 'applied' });
    options.metrics?.revision.set(appliedRevision);
    for (const waiter of waiters)
      if (waiter.revision <= appliedRevision) {
        waiters.delete(waiter);
        waiter.resolve();
      }
  }

  // Called from a change listener, a rejection would take the gateway down: the routes already
  // served stay, and the store is read again shortly (a lost read delays, never loses).
  const sync: () => Promise<void> = coalesce(syncNow, (error) => {
    logger.error({ err: error }, 'cannot read the store; serving what was applied, retrying');
    setTimeout(() => void sync(), 1_000).unref();
  });

  return {
    active,
    deps: options.deps,
    *canaried() {
      for (const id of candidates.keys()) {
        const workflow = active.get(id);
        if (workflow?.canary !== undefined) yield workflow;
      }
    },
    get appliedRevision() {
      return appliedRevision;
    },
    sync,
    serving() {
      return [...active.values()].map((w) => ({
        workflow: w.id,
        version: w.version,
        route: w.graph.document.route.path,
        state: servedState({ retired: w.lifecycle?.retired, deprecated: w.lifecycle?.headers }),
      }));
    },
    whenApplied(revision) {
      if (revision <= appliedRevision) return Promise.resolve();
      const applied = new Promise<void>((resolve) => waiters.add({ revision, resolve }));
      // A sync that already read an older state runs once more (coalesced), so this revision is read.
      void sync();
      return applied;
    },
  };
}
