import type { ValidationProblem, WorkflowDiff } from '../../../shared/compile/index.ts';
import type { DraftRecord, VersionRecord } from '../../../shared/schema/lifecycle.ts';

export type { ValidationProblem, WorkflowDiff };

/** Roles of admin tokens, as engine/admin/auth.ts defines them. */
export type Role = 'viewer' | 'editor' | 'publisher' | 'auditor' | 'admin';

/** Who a token belongs to (GET /admin/api/whoami). */
export interface Identity {
  name: string;
  role: Role;
}

/** The subset of JSON Schema that zod's toJSONSchema emits for node configs. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

/** A node kind as GET /admin/api/kinds serves it: palette text and the config's JSON Schema. */
export interface KindInfo {
  kind: string;
  title: string;
  category: string;
  description: string;
  terminal: boolean;
  errors: string[];
  configSchema: JsonSchema;
}

export interface KindsPayload {
  categories: string[];
  kinds: KindInfo[];
}

export type WorkflowState = 'active' | 'deprecated' | 'retired' | 'draft';

/** One row of GET /admin/api/workflows. */
export interface WorkflowSummary {
  id: string;
  name?: string;
  route?: { methods: string[]; path: string };
  activeVersion: number | null;
  state: WorkflowState;
  draftChanges: boolean;
  draftRevision: number;
  lastChange?: { at: string; by: string };
}

/** The store's lifecycle records are shared with the engine: one definition. */
export type { VersionRecord };

export interface DraftView extends DraftRecord {
  document: unknown;
}

/** GET /admin/api/workflows/:id */
export interface WorkflowView {
  id: string;
  createdAt: string;
  createdBy: string;
  draft: DraftView | null;
  versions: VersionRecord[];
  active: number | null;
}

/** An RFC 9457 problem as the admin API answers it, with the extensions the editor reads. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  traceId?: string;
  problems?: ValidationProblem[];
  /** 409 on a stale draft save: who saved in between. */
  currentRevision?: number;
  updatedBy?: string;
  updatedAt?: string;
}

/** One side of a diff: a version number, the draft or the active version. */
export type VersionRef = number | 'draft' | 'active';

/** GET /workflows/:id/live: this gateway's counts for the served version (cumulative; two reads make a rate). */
export interface LiveView {
  workflow: string;
  version: number;
  /** Milliseconds since the epoch when the counts were read. */
  at: number;
  partner: string | null;
  /** Partner labels seen in the last minute, for the filter. */
  partners: string[];
  nodes: Array<{ id: string; kind: string; runs: number; ports: Record<string, number>; p50Ms: number | null; p99Ms: number | null }>;
  edges: Array<{ from: string; port: string; to: string; count: number }>;
  lastMinute: { requests: number; outcomes: Record<string, number> };
}
