/** The admin API's answers as the editor reads them: the engine declares these schemas as its responses (shared/admin/). */
import type { AdminProblem } from '../../../shared/admin/problem.ts';

export type { ValidationProblem, WorkflowDiff } from '../../../shared/compile/index.ts';
export type { VersionRecord } from '../../../shared/schema/lifecycle.ts';
export type { Identity, Role } from '../../../shared/admin/roles.ts';
export type { JsonSchema, KindInfo, KindsPayload } from '../../../shared/admin/kinds.ts';
export type { LiveView } from '../../../shared/admin/status.ts';
export type { VersionRef, WorkflowRecordView, WorkflowSummary, WorkflowView } from '../../../shared/admin/workflows.ts';

/** A refusal's body as the editor holds it: an answer that was not problem+json keeps what could be read. */
export type ProblemBody = Partial<AdminProblem>;
