/** The admin API's answers as the editor reads them: the engine declares these schemas as its responses (shared/admin/). */
import type { z } from 'zod';
import type { AdminProblem, fragmentViewSchema } from '../../../shared/admin/index.ts';

export type { ValidationProblem, WorkflowDiff } from '../../../shared/compile/index.ts';
export type { VersionRecord } from '../../../shared/schema/lifecycle.ts';
export type { FragmentSummary, Identity, JsonSchema, KindInfo, KindsPayload, LiveView, VersionRef, WorkflowRecordView, WorkflowView } from '../../../shared/admin/index.ts';

/** A refusal's body as the editor holds it: an answer that was not problem+json keeps what could be read. */
export type ProblemBody = Partial<AdminProblem>;

/** A fragment as GET /fragments/:id answers: its record, draft document and the workflows using it. */
export type FragmentView = z.infer<typeof fragmentViewSchema>;
/** A workflow's subflow node using a fragment, in a version or the draft. */
export type FragmentUseView = FragmentView['usedBy'][number];
