/** The admin API's answers about workflows: the list, one record, its versions, drafts and changes. */
import { z } from 'zod';
import type { WorkflowDiff } from '../compile/diff.ts';
import type { DraftRecord, VersionRecord } from '../schema/lifecycle.ts';
import { routeSchema } from '../schema/workflow.ts';
import { canaryRecordSchema } from './canary.ts';
import { pendingApprovalSchema } from './approvals.ts';
import { validationProblemSchema } from './problem.ts';
import { workflowStateSchema } from './version-state.ts';

const timestamp = z.string();
const who = z.string();

export const versionRecordSchema = z.object({
  version: z.number().int().min(1),
  hash: z.string(),
  publishedAt: timestamp,
  publishedBy: who,
  note: z.string().optional(),
  deprecated: z.object({ at: timestamp, sunset: timestamp.optional() }).optional(),
  retired: z.object({ at: timestamp }).optional(),
}) satisfies z.ZodType<VersionRecord>;

export const draftRecordSchema = z.object({
  hash: z.string(),
  revision: z.number().int().min(1),
  updatedAt: timestamp,
  updatedBy: who,
}) satisfies z.ZodType<DraftRecord>;

/** Who archived a workflow, when and why, and the version that served then (a restore serves it again if it can). */
const archivedSchema = z.object({ at: timestamp, by: who, reason: z.string().optional(), version: z.number().int().optional() });

/** One row of GET /workflows. */
const workflowSummarySchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  route: routeSchema.optional(),
  activeVersion: z.number().int().nullable(),
  state: workflowStateSchema,
  draftChanges: z.boolean(),
  draftRevision: z.number().int(),
  /** How many versions were published (a workflow with none may be deleted). */
  versionCount: z.number().int(),
  lastChange: z.object({ at: timestamp, by: who }).optional(),
  /** Set while archived: nothing of it serves, its route is free, it takes no edit until restored. */
  archived: archivedSchema.optional(),
});
export const workflowListSchema = z.object({ revision: z.number().int(), workflows: z.array(workflowSummarySchema) });

/** A workflow's record: absent values are null, never missing (POST /workflows answers it). */
export const workflowRecordSchema = z.object({
  id: z.string(),
  createdAt: timestamp,
  createdBy: who,
  draft: draftRecordSchema.nullable(),
  versions: z.array(versionRecordSchema),
  active: z.number().int().nullable(),
  archived: archivedSchema.nullable(),
  /** The candidate version serving a share of the requests beside the active one. */
  canary: canaryRecordSchema.nullable(),
  /** A publish waiting for a second publisher's approval (the contract gate); absent when none is. */
  approval: pendingApprovalSchema.optional(),
});

/** GET /workflows/:id: the record with the draft's document. */
export const workflowViewSchema = workflowRecordSchema.extend({ draft: draftRecordSchema.extend({ document: z.unknown() }).nullable() });

export const draftSavedSchema = z.object({ draft: draftRecordSchema, problems: z.array(validationProblemSchema) });
export const validatedSchema = z.object({ ok: z.boolean(), problems: z.array(validationProblemSchema) });
export const rolledBackSchema = z.object({ active: z.number().int(), previous: z.number().int().optional() });
export const versionListSchema = z.object({ active: z.number().int().nullable(), versions: z.array(versionRecordSchema) });
/** POST /workflows/:id/restore: what serves after the restore, and why not the version that served when it was archived. */
export const restoredSchema = z.object({ active: z.number().int().nullable(), inactiveBecause: z.string().optional(), problems: z.array(validationProblemSchema).optional() });
export const deletedSchema = z.object({ deleted: z.string() });
export const versionDetailSchema = versionRecordSchema.extend({ active: z.boolean(), document: z.unknown() });

/** Nodes and edges added, removed and changed between two versions: shared/compile/diff.ts defines it. */
export const workflowDiffSchema = z.custom<WorkflowDiff>((value) => typeof value === 'object' && value !== null && 'same' in value).meta({ description: 'Nodes and edges added, removed and changed; fields changed; same when only layout changed.' });

/** One side of a comparison: a version number, the draft or the active version. */
export type VersionRef = number | 'draft' | 'active';

export type WorkflowSummary = z.infer<typeof workflowSummarySchema>;
export type WorkflowRecordView = z.infer<typeof workflowRecordSchema>;
export type WorkflowView = z.infer<typeof workflowViewSchema>;
