/** Previews: a sample request through a draft or version, the workflow tests, the error contract and demo tokens. */
import { z } from 'zod';
import { allows, contractAnswerSchema, contractDiffSchema, demoTokenAnswerSchema, simulationSchema, testRunSchema } from '../../../shared/admin/index.ts';
import { diffContracts } from '../../../shared/compile/index.ts';
import { apiKeyReferenceSchema, clientCertReferenceSchema, demoTokenSchema, hmacReferenceSchema, introspectedReferenceSchema } from '../../../shared/schema/index.ts';
import { contractOpenApi } from '../../preview/contract-openapi.ts';
import { partnerCredentialOf, runsAsPartnerUpstream, runWorkflowTests, simulate } from '../../preview/simulate.ts';
import { auditActor } from '../../store/audit.ts';
import { AdminError } from '../errors.ts';
import { versionRef, workflowParams, type AdminContext, type Which } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const sampleRequest = z
  .object({
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    path: z.string().startsWith('/').max(4096),
    query: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    token: demoTokenSchema.optional(),
    apiKey: apiKeyReferenceSchema.optional(),
    clientCert: clientCertReferenceSchema.optional(),
    hmac: hmacReferenceSchema.optional(),
    introspected: introspectedReferenceSchema.optional(),
  })
  .strict();
const upstreamMock = z.object({ status: z.number().int().min(100).max(599).default(200), headers: z.record(z.string(), z.string()).optional(), body: z.unknown().optional() }).strict();
const simulateBody = z
  .object({
    workflow: z.string().min(1).max(64).optional().meta({ description: 'A stored workflow: its draft, active version or a version number (`version`).' }),
    version: z.union([z.literal('draft'), z.literal('active'), z.number().int().min(1)]).default('draft'),
    document: z.record(z.string(), z.unknown()).optional().meta({ description: 'A document to simulate instead of a stored one (the editor\'s unsaved canvas).' }),
    request: sampleRequest,
    upstream: upstreamMock.optional().meta({ description: 'Mock the upstream with this answer; absent: the real upstream is called.' }),
  })
  .strict();
const contractQuery = z.object({ version: versionRef.default('active'), format: z.enum(['json', 'openapi']).default('json') }).strict();
const contractDiffQuery = z.object({ from: versionRef.default('active'), to: versionRef.default('draft') }).strict();
const testBody = z.object({ document: z.record(z.string(), z.unknown()).optional() }).strict();
const demoTokenBody = z
  .object({
    sub: z.string().min(1).max(200),
    scopes: z.array(z.string().min(1).max(200)).max(50).optional(),
    partner: z.string().min(1).max(200).optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
    expiresIn: z.string().regex(/^\d+[smhd]$/).optional(),
  })
  .strict();

const unavailable = () => new AdminError('not_found', 'simulation is not available');

export function previewEndpoints(context: AdminContext): Endpoint[] {
  const { store, options } = context;

  /** The contract of a stored version (draft, active or a number). */
  async function contractOf(id: string, which: Which) {
    const { workflow } = await context.record(id);
    const document = await context.workflowDocument(id, which);
    const catalog = await context.catalog();
    const version = which === 'active' ? workflow.active! : which;
    const record = typeof version === 'number' ? workflow.versions.find((v) => v.version === version) : undefined;
    const result = await options.lifecycle.contract(document, catalog, record?.deprecated ? { deprecated: { sunset: record.deprecated.sunset } } : {});
    if (!result.ok) throw new AdminError('validation_failed', `the ${context.versionName(which)} of "${id}" is not a valid workflow: its contract cannot be derived`, { problems: result.problems });
    return { contract: result.contract, document, version };
  }

  return [
    defineEndpoint({
      method: 'post', path: '/simulate', permission: 'edit', summary: 'Run a sample request through a draft, a version or a given document in the real engine: the answer and a trace of every node (rate limits count privately; nothing stored changes)', body: simulateBody, response: simulationSchema,
      handler: async ({ actor, body }) => {
        if (!options.preview) throw unavailable();
        if (!body.document && !body.workflow) throw new AdminError('bad_request', 'give a workflow (with a version) or a document', { problems: [{ code: 'invalid_document', message: 'workflow or document is required', field: 'workflow' }] });
        const document = body.document ?? (await context.versionDocument(body.workflow!, body.version));
        const workflow = body.workflow ?? String((document as { id?: unknown }).id ?? '');
        if (runsAsPartnerUpstream(body.request, body.upstream) && !allows(actor.role, 'publish')) {
          // Running as a registered partner against the real upstream is for the roles that manage partners; an editor mocks the upstream.
          const credential = partnerCredentialOf(body.request)!;
          const refused = `role ${actor.role} may run a partner's ${body.request.apiKey?.key !== undefined ? 'key' : 'credential'} against a mocked upstream only: give an upstream answer, or ask a publisher`;
          await store.transact(() => ({ entry: { time: new Date().toISOString(), ...auditActor(actor), action: 'workflow.simulate', workflow: workflow.slice(0, 64) || undefined, detail: `refused: ${body.request.method} ${body.request.path.slice(0, 200)} as ${credential.what} against the real upstream` }, result: undefined }));
          throw new AdminError('forbidden', refused, { problems: [{ code: 'invalid_document', message: refused, field: credential.field }] });
        }
        const result = await simulate(document, body.request, options.preview.context(), { upstream: body.upstream });
        // who simulated what is audited; the simulation itself changes nothing
        await store.transact(() => ({ entry: { time: new Date().toISOString(), ...auditActor(actor), action: 'workflow.simulate', workflow: workflow.slice(0, 64) || undefined, detail: `${body.request.method} ${body.request.path.slice(0, 200)}${body.upstream ? ` (upstream mocked: ${body.upstream.status})` : ''}` }, result: undefined }));
        return result;
      },
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/contract', permission: 'read', summary: 'The error contract: every answer the workflow can give that is not the upstream\'s (status, problem type, node and port, why in words, example, headers); ?format=openapi for OpenAPI 3.1', params: workflowParams, query: contractQuery, response: contractAnswerSchema,
      handler: async ({ params, query }) => {
        const { contract, document, version } = await contractOf(params.id, query.version);
        return query.format === 'openapi' ? contractOpenApi(document, version, contract) : { workflow: params.id, version, route: document.route, entries: contract };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/contract/diff', permission: 'read', summary: 'How the error contract changes between two versions (default: active to draft), in entries and in words', params: workflowParams, query: contractDiffQuery, response: contractDiffSchema,
      handler: async ({ params, query }) => {
        const [from, to] = await Promise.all([contractOf(params.id, query.from), contractOf(params.id, query.to)]);
        return diffContracts(from.contract, to.contract);
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/test', permission: 'edit', summary: 'Run the workflow tests of the draft (or of a given document) as a publish would', params: workflowParams, body: testBody, response: testRunSchema,
      handler: async ({ actor, params, body }) => {
        if (!options.preview) throw unavailable();
        const document = body.document ?? (await context.versionDocument(params.id, 'draft'));
        const verdicts = await runWorkflowTests(document, options.preview.context(), undefined, { mayRunAsPartner: allows(actor.role, 'publish') });
        return { passed: verdicts.every((v) => v.passed), tests: verdicts };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/demo-token', permission: 'edit', summary: 'Sign a token for the demo issuer with chosen claims, for previews (SLUICE_DEMO only)', body: demoTokenBody, response: demoTokenAnswerSchema,
      handler: async ({ body }) => {
        if (!options.preview?.demoToken) throw new AdminError('not_found', 'the demo issuer is off (SLUICE_DEMO=off)');
        return { token: await options.preview.demoToken(body) };
      },
    }),
  ];
}
