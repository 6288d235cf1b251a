/**
 * What the gateway hands evidence per request (a few references, no work on the request path),
 * and the record made from it later, in the recorder's batch: ports from the version's table,
 * the product from the partner directory, the credential from the identity node on the path.
 */
import type { CompiledWorkflow, NodeStep, Step } from '../compile/types.ts';
import type { PartnerDirectory } from '../kinds/support/partner-directory.ts';
import type { LlmRecord } from '../kinds/types.ts';
import type { RequestRecord } from '../observe/request-log.ts';
import type { EvidenceRecord } from './types.ts';

/** One finished request as the gateway hands it over. */
export interface EvidenceCapture {
  /** When the answer was done (ms since the epoch). */
  time: number;
  /** The request log's record of it (subject already as the log names it). */
  record: RequestRecord;
  /** The version that served it; undefined when no route matched. */
  workflow: CompiledWorkflow | undefined;
  /** The final state the walk ended in. */
  final: string | undefined;
  keyId: string | undefined;
  upstreamStatus: number | undefined;
  llm: LlmRecord | undefined;
}

/** The kinds that admit a caller: the first on the path that let the request on names the credential. */
const IDENTITY_KINDS = new Set(['jwt-verify', 'api-key', 'hmac-verify', 'introspect', 'client-cert']);

/** Each version's node states by name, found once from its start step. */
const stepsOf = new WeakMap<CompiledWorkflow, Map<string, NodeStep>>();
function steps(workflow: CompiledWorkflow): Map<string, NodeStep> {
  let map = stepsOf.get(workflow);
  if (map === undefined) {
    map = new Map();
    const queue: Step[] = [workflow.start];
    while (queue.length > 0) {
      const step = queue.pop()!;
      if (step.final || map.has(step.state)) continue;
      map.set(step.state, step);
      queue.push(...Object.values(step.next));
    }
    stepsOf.set(workflow, map);
  }
  return map;
}

/**
 * The path with the port each node left by, from the version's table: the port whose next state
 * is the next one on the path (the final state for the last); "fault" when the node failed. Two
 * ports leading to the same state are told apart by nothing on the path: the first declared is named.
 */
function portsOf(workflow: CompiledWorkflow, path: readonly string[], final: string | undefined): string[] {
  const table = steps(workflow);
  return path.map((state, i) => {
    const step = table.get(state);
    const to = i + 1 < path.length ? path[i + 1] : final;
    if (step === undefined) return state;
    if (i + 1 === path.length && step.fault.state === to) return `${state}:fault`;
    for (const port in step.next) if (step.next[port]!.state === to) return `${state}:${port}`;
    return state;
  });
}

/** The credential of a path: the kind of the first identity node on it, when it let the request on. */
function credentialOf(workflow: CompiledWorkflow, nodes: readonly string[]): string | null {
  for (const node of nodes) {
    const [id, port] = node.split(':');
    const kind = workflow.graph.nodes.get(id!)?.kind;
    if (kind !== undefined && IDENTITY_KINDS.has(kind)) return port === 'ok' ? kind : null;
  }
  return null;
}

/** A path a version's requests took, with what a record makes of it: made once, shared by every record of that path. */
interface KnownPath {
  final: string | undefined;
  path: readonly string[];
  /** Frozen: every record of the path holds this one array. */
  nodes: string[];
  credential: string | null;
}
/** Paths remembered per version: a version's requests take a few paths (one per branch taken), so a short list is searched. */
const PATHS_PER_VERSION = 16;
const pathsOf = new WeakMap<CompiledWorkflow, KnownPath[]>();

const samePath = (known: KnownPath, path: readonly string[], final: string | undefined) => {
  if (known.final !== final || known.path.length !== path.length) return false;
  for (let i = 0; i < path.length; i++) if (known.path[i] !== path[i]) return false;
  return true;
};

/** The ports and credential of a path: remembered per version (the record's nodes are then one frozen array, written once). */
function knownPath(workflow: CompiledWorkflow, path: readonly string[], final: string | undefined): KnownPath {
  let known = pathsOf.get(workflow);
  if (known === undefined) pathsOf.set(workflow, (known = []));
  for (const entry of known) if (samePath(entry, path, final)) return entry;
  const nodes = Object.freeze(portsOf(workflow, path, final)) as string[];
  const entry: KnownPath = { final, path: Object.freeze([...path]), nodes, credential: credentialOf(workflow, nodes) };
  // a version with more paths than this (a loop of many turns) has its first ones remembered
  if (known.length < PATHS_PER_VERSION) known.push(entry);
  return entry;
}

/** The product a partner reached a workflow through: its limit's product, else the only product holding the workflow. */
function productOf(directory: PartnerDirectory, partner: string | undefined, workflow: string, llm: LlmRecord | undefined): string | null {
  if (llm !== undefined && llm.product !== 'none') return llm.product;
  const limited = partner === undefined ? undefined : directory.partners.get(partner)?.limits.get(workflow)?.product;
  if (limited !== undefined) return limited;
  const products = directory.guarded.get(workflow);
  return products !== undefined && !products.includes(',') ? products : null;
}

const NO_NODES = Object.freeze([]) as unknown as string[];

/** The evidence record of a captured request. */
export function evidenceOf(capture: EvidenceCapture, replica: string, directory: PartnerDirectory): EvidenceRecord {
  const { record, workflow, llm } = capture;
  const path = workflow === undefined ? undefined : knownPath(workflow, record.path, capture.final);
  const usage = llm?.usage;
  return {
    time: capture.time,
    traceId: record.traceId,
    replica,
    method: record.method,
    partner: record.partner ?? null,
    product: workflow === undefined ? null : productOf(directory, record.partner, workflow.id, llm),
    workflow: workflow?.id ?? null,
    version: workflow?.version ?? null,
    route: workflow?.graph.document.route.path ?? null,
    subject: record.subject ?? null,
    credential: path?.credential ?? null,
    keyId: capture.keyId ?? null,
    nodes: path?.nodes ?? NO_NODES,
    outcome: record.outcome,
    status: record.status,
    problem: record.problem ?? null,
    ms: record.ms,
    upstreamStatus: capture.upstreamStatus ?? null,
    upstreamMs: record.upstreamMs ?? null,
    model: llm?.model?.slice(0, 200) ?? null,
    inputTokens: usage?.input ?? null,
    outputTokens: usage?.output ?? null,
  };
}
