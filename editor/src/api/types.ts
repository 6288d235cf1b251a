/** The admin API's answers as the editor reads them: the engine declares these schemas as its responses (shared/admin/). */
import type { AdminProblem } from '../../../shared/admin/index.ts';

export type { ValidationProblem, WorkflowDiff } from '../../../shared/compile/index.ts';
export type { VersionRecord } from '../../../shared/schema/lifecycle.ts';
export type { FragmentSummary, Identity, JsonSchema, KindInfo, KindsPayload, LiveView, VersionRef, WorkflowRecordView, WorkflowView } from '../../../shared/admin/index.ts';

/** A refusal's body as the editor holds it: an answer that was not problem+json keeps what could be read. */
export type ProblemBody = Partial<AdminProblem>;
