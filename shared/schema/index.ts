export { workflowDocumentSchema, demoTokenSchema, apiKeyReferenceSchema, clientCertReferenceSchema, hmacReferenceSchema, introspectedReferenceSchema, routeSchema, idSchema, HTTP_METHODS, MAX_NODES, MAX_EDGES, type WorkflowDocument, type WorkflowTest, type Route, type HttpMethod } from './workflow.ts';
export { BUILTIN_PROBLEM_BASE, errorCatalogSchema, errorIdSchema, GATEWAY_ERRORS, type ErrorCatalog, type CatalogEntry } from './catalog.ts';
export { problemDetailsSchema, PROBLEM_CONTENT_TYPE } from './problem.ts';
export { durationSchema, durationMs, boundedDurationSchema, MAX_TIMER_MS } from './duration.ts';
export { DEFAULT_DOCUMENT_LIMITS, DOCUMENT_LIMIT_SETTINGS, jsonTextDepth, measureJsonText, formatBytes, type DocumentLimits } from './limits.ts';
export { ruleSetSchema, RULE_LIMITS, type Rule, type RuleSet } from './rules.ts';
export { fragmentDocumentSchema, fragmentEnvelopeSchema, type FragmentDocument, type FragmentResolver } from './fragment.ts';
