/** What a process serves and counts: status, the cluster view, request stats and the editor's live mode. */
import { z } from 'zod';
import { servedStateSchema } from './version-state.ts';

const counts = z.record(z.string(), z.number());

/** One workflow this process serves. */
const servingSchema = z.object({ workflow: z.string(), version: z.number().int(), route: z.string(), state: servedStateSchema });
export type Serving = z.infer<typeof servingSchema>;

/** One target of a resilient proxy node: its circuit breaker (passive health: open = ejected) and its last active health check. */
const upstreamTargetSchema = z.object({
  target: z.string(),
  weight: z.number().int(),
  state: z.enum(['closed', 'open', 'half-open']),
  /** When an open breaker readmits a probe (ISO time). */
  ejectedUntil: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  failures: z.number().int(),
  lastFailureAt: z.string().nullable(),
  healthy: z.boolean().nullable(),
});

/** A proxy node with targets, retries, a breaker or health checks, in a served workflow version. */
const upstreamNodeSchema = z.object({ workflow: z.string(), version: z.number().int(), node: z.string(), retries: z.number().int(), retriesRefused: z.number().int(), targets: z.array(upstreamTargetSchema) });
export type UpstreamNodeStatus = z.infer<typeof upstreamNodeSchema>;

/** GET /status: the store's revision (null while it cannot be reached) beside what this process applied and serves. */
export const statusSchema = z.object({
  store: z.string(),
  revision: z.number().int().nullable(),
  storeReachable: z.boolean(),
  appliedRevision: z.number().int(),
  replica: z.string().nullable(),
  pid: z.number().int(),
  uptimeSeconds: z.number(),
  workflows: z.array(servingSchema),
  rateLimits: z.unknown(),
  /** The resilient proxy nodes of the served versions (absent when there are none). */
  upstreams: z.array(upstreamNodeSchema).optional(),
});

/** A live replica as the cluster view lists it: what it serves, and how far behind the store it is. */
const replicaSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string().optional(),
  appliedRevision: z.number().int(),
  serving: z.array(z.object({ workflow: z.string(), version: z.number().int() })),
  rateLimits: z.unknown().optional(),
  /** Milliseconds since its last heartbeat. */
  lastSeenMs: z.number(),
  /** Store revisions it has not applied yet. */
  behind: z.number().int(),
  lagging: z.boolean(),
  self: z.boolean(),
});
export type Replica = z.infer<typeof replicaSchema>;
export const clusterSchema = z.object({ store: z.string(), revision: z.number().int(), replicas: z.array(replicaSchema), lagging: z.number().int() });

/** Requests over a window by outcome; `limited` counts the rate-limited ones. */
const tally = { requests: z.number(), limited: z.number(), outcomes: counts };
/** The window the counts cover: its length, and its end. */
const window = { windowSeconds: z.number(), to: z.string() };

/** GET /workflows/:id/stats: outcomes over a window, in all and by partner label. */
export const workflowStatsSchema = z.object({ workflow: z.string(), ...window, requests: z.number(), outcomes: counts, partners: z.array(z.object({ partner: z.string(), ...tally })) });
export type WorkflowStats = z.infer<typeof workflowStatsSchema>;

/** GET /partners/:id/stats: a partner's requests over a window, in all and by workflow. */
export const partnerStatsSchema = z.object({ partner: z.string(), ...window, ...tally, workflows: z.array(z.object({ workflow: z.string(), ...tally })) });
export type PartnerStats = z.infer<typeof partnerStatsSchema>;

/** GET /workflows/:id/live: this gateway's counts for the served version (cumulative; two reads make a rate). */
export const liveViewSchema = z.object({
  workflow: z.string(),
  version: z.number().int(),
  /** Milliseconds since the epoch when the counts were read. */
  at: z.number(),
  partner: z.string().nullable(),
  /** Partner labels seen in the last minute, for the filter. */
  partners: z.array(z.string()),
  nodes: z.array(z.object({ id: z.string(), kind: z.string(), runs: z.number(), ports: counts, p50Ms: z.number().nullable(), p99Ms: z.number().nullable() })),
  edges: z.array(z.object({ from: z.string(), port: z.string(), to: z.string(), count: z.number() })),
  lastMinute: z.object({ requests: z.number(), outcomes: counts }),
  /** Tokens of the workflow's LLM calls since this gateway started (`estimated`: those counted by the tokenizer); absent when none. */
  tokens: z.object({ input: z.number(), output: z.number(), estimated: z.number() }).optional(),
});
export type LiveView = z.infer<typeof liveViewSchema>;
