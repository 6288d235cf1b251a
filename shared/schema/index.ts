export { workflowDocumentSchema, workflowNodeSchema, workflowEdgeSchema, workflowTestSchema, workflowSampleSchema, demoTokenSchema, routeSchema, idSchema, HTTP_METHODS, MAX_NODES, MAX_EDGES, type WorkflowDocument, type WorkflowNode, type WorkflowEdge, type WorkflowTest, type WorkflowSample, type DemoTokenClaims, type Route, type HttpMethod } from './workflow.ts';
export { errorCatalogSchema, catalogEntrySchema, errorIdSchema, GATEWAY_ERRORS, type ErrorCatalog, type CatalogEntry, type GatewayErrorId } from './catalog.ts';
export { problemDetailsSchema, PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem.ts';
export { durationSchema, durationMs, boundedDurationSchema, MAX_TIMER_MS } from './duration.ts';
export type { VersionRecord, DraftRecord } from './lifecycle.ts';
export { DEFAULT_DOCUMENT_LIMITS, DOCUMENT_LIMIT_SETTINGS, jsonTextDepth, tooDeep, utf8Length, formatBytes, type DocumentLimits } from './limits.ts';
