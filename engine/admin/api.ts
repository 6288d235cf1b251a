import type { Router } from 'express';
import { adminContext, type AdminApiOptions } from './http/context.ts';
import { createEndpointCalls } from './http/calls.ts';
import type { Endpoint } from './http/endpoint.ts';
import { approvalEndpoints } from './http/approvals.ts';
import { auditEndpoints } from './http/audit.ts';
import { cacheEndpoints } from './http/cache.ts';
import { canaryEndpoints } from './http/canary.ts';
import { catalogEndpoints } from './http/catalog.ts';
import { evidenceEndpoints } from './http/evidence.ts';
import { expressionEndpoints } from './http/expressions.ts';
import { fragmentEndpoints } from './http/fragments.ts';
import { mountEndpoints } from './http/mount.ts';
import { partnerEndpoints } from './http/partners.ts';
import { previewEndpoints } from './http/preview.ts';
import { ruleEndpoints } from './http/rules.ts';
import { replayEndpoints } from './http/replay.ts';
import { sessionEndpoints } from './http/session.ts';
import { statusEndpoints } from './http/status.ts';
import { versionEndpoints } from './http/versions.ts';
import { workflowEndpoints } from './http/workflows.ts';
import { createAdminMcp } from './mcp/server.ts';

/**
 * The admin API under /admin/api (JSON in and out, inputs validated by zod, problem+json errors,
 * every change audited) and the same endpoints as MCP tools under /admin/mcp.
 */
export function createAdminApi(options: AdminApiOptions): { router: Router; mcp: Router; endpoints: Endpoint[]; close(): Promise<void> } {
  const context = adminContext(options);
  const endpoints = [
    ...sessionEndpoints(),
    ...workflowEndpoints(context),
    ...versionEndpoints(context),
    ...canaryEndpoints(context),
    ...approvalEndpoints(context),
    ...fragmentEndpoints(context),
    ...catalogEndpoints(context),
    ...ruleEndpoints(context),
    ...auditEndpoints(context),
    ...previewEndpoints(context),
    ...replayEndpoints(context),
    ...statusEndpoints(context),
    ...partnerEndpoints(context),
    ...expressionEndpoints(context),
    ...cacheEndpoints(context),
    ...evidenceEndpoints(context),
  ];
  const calls = createEndpointCalls({ store: options.store, ...(options.applied ? { applied: options.applied } : {}), appliedRevision: () => options.status().appliedRevision });
  const wayIn = {
    calls,
    authenticate: options.authenticate,
    ...(options.clientAddress ? { clientAddress: options.clientAddress } : {}),
    problems: options.problems,
    limits: context.limits,
    logger: options.logger,
  };
  const router = mountEndpoints(endpoints, wayIn);
  const mcp = createAdminMcp(endpoints, wayIn);
  return { router, mcp, endpoints, close: () => calls.close() };
}
