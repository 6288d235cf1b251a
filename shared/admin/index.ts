/**
 * The admin API as the engine serves it and the editor reads it: roles and permissions, the
 * response schemas of its answers, and the state of a version.
 */
export { approvalRefusedSchema, approvalViewSchema, approvalVoidedBy, approvedSchema, needsApproval, publishAnswerSchema, type PendingApproval } from './approvals.ts';
export { auditListSchema, auditVerificationSchema } from './audit.ts';
export { EVIDENCE_DIMENSIONS, evidenceAggregateSchema, evidencePageSchema, evidenceTraceSchema, type EvidenceDimension, type EvidenceRecord } from './evidence.ts';
export { kindsPayloadSchema, type JsonSchema, type KindInfo, type KindsPayload } from './kinds.ts';
export { clientCertificateRecordSchema, createdKeySchema, removedCertificateSchema, partnerListSchema, partnerViewSchema, planListSchema, planSchema, productListSchema, productSchema, revokedKeySchema, createdHmacSecretSchema } from './partners.ts';
export { contractAnswerSchema, contractDiffSchema, contractSchema, demoTokenAnswerSchema, simulationSchema, testRunSchema } from './preview.ts';
export { adminProblemSchema, type AdminProblem } from './problem.ts';
export { allows, identitySchema, PERMISSIONS, ROLES, type Identity, type Permission, type Role } from './roles.ts';
export { clusterSchema, liveViewSchema, partnerStatsSchema, statusSchema, workflowStatsSchema, type LiveView, type PartnerStats, type Replica, type Serving, type UpstreamNodeStatus, type WorkflowStats } from './status.ts';
export { servedState, versionState, workflowState, type ServedState } from './version-state.ts';
export {
  deletedSchema,
  draftSavedSchema,
  restoredSchema,
  rolledBackSchema,
  validatedSchema,
  versionDetailSchema,
  versionListSchema,
  versionRecordSchema,
  workflowDiffSchema,
  workflowListSchema,
  workflowRecordSchema,
  workflowViewSchema,
  type VersionRef,
  type WorkflowRecordView,
  type WorkflowSummary,
  type WorkflowView,
} from './workflows.ts';
export { rulesChangedSchema, rulesViewSchema, ruleViolationsSchema } from './rules.ts';
export { fragmentDraftSavedSchema, fragmentListSchema, fragmentPublishedSchema, fragmentRecordSchema, fragmentVersionSchema, fragmentViewSchema, type FragmentSummary } from './fragments.ts';
export { compareAnswerSchema, compareBodySchema, type CompareAnswer } from './replay.ts';
