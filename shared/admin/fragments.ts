/** The admin API's answers about fragments (shared flows): the list, one fragment, its users, a publish. */
import { z } from 'zod';
import { validationProblemSchema } from './problem.ts';
import { draftRecordSchema, versionRecordSchema, workflowRecordSchema } from './workflows.ts';

/** A workflow whose subflow node uses a fragment: in its active version, its draft, or both; pinned to a version or following the active one. */
const fragmentUseSchema = z.object({
  workflow: z.string(),
  node: z.string(),
  /** A version number, or "draft". */
  in: z.union([z.number().int(), z.literal('draft')]),
  /** The fragment version the node pins; absent: it follows the fragment's active version. */
  pinned: z.number().int().optional(),
});

const exitSchema = z.object({ name: z.string(), description: z.string().optional() });

/** One row of GET /fragments. */
const fragmentSummarySchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  /** The exits of the active version, else of the draft. */
  exits: z.array(exitSchema),
  activeVersion: z.number().int().nullable(),
  draftChanges: z.boolean(),
  draftRevision: z.number().int(),
  versionCount: z.number().int(),
  usedBy: z.array(fragmentUseSchema),
});
export const fragmentListSchema = z.object({ revision: z.number().int(), fragments: z.array(fragmentSummarySchema) });

/** A fragment's record, a workflow's without archiving: absent values are null. */
export const fragmentRecordSchema = workflowRecordSchema.omit({ archived: true, canary: true });

/** GET /fragments/:id: the record, the draft's document and who uses it. */
export const fragmentViewSchema = fragmentRecordSchema.extend({ draft: draftRecordSchema.extend({ document: z.unknown() }).nullable(), usedBy: z.array(fragmentUseSchema) });

export const fragmentDraftSavedSchema = z.object({ draft: draftRecordSchema, problems: z.array(validationProblemSchema) });

/** POST /fragments/:id/publish and /rollback: the active version, and each workflow checked (validated and its tests run) against it. */
export const fragmentPublishedSchema = z.object({
  version: z.number().int(),
  unchanged: z.boolean(),
  checked: z.array(z.object({ workflow: z.string(), version: z.number().int(), tests: z.number().int() })),
});

export const fragmentVersionSchema = versionRecordSchema.extend({ active: z.boolean(), document: z.unknown() });

export type FragmentSummary = z.infer<typeof fragmentSummarySchema>;
