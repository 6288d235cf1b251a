/** Versions: publishing the draft, rolling back, deprecating and retiring, reading and comparing them. */
import { z } from 'zod';
import { publishAnswerSchema, rolledBackSchema, versionDetailSchema, versionListSchema, versionRecordSchema, workflowDiffSchema } from '../../../shared/admin/index.ts';
import { diffWorkflowsSliced, runPaced } from '../../../shared/compile/index.ts';
import { MAX_PUBLISH_NOTE } from '../../../shared/schema/lifecycle.ts';
import { createPace } from '../../compile/pace.ts';
import { AdminError } from '../errors.ts';
import { versionRef, workflowParams, type AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const publishBody = z
  .object({ note: z.string().max(MAX_PUBLISH_NOTE).optional().meta({ description: `What the version is for, kept with it, in the audit log and in the versions list (at most ${MAX_PUBLISH_NOTE} characters).` }) })
  .strict();
const versionBody = z.object({ version: z.number().int().min(1) }).strict();
const deprecateBody = z
  .object({ version: z.number().int().min(1), sunset: z.iso.datetime({ offset: true }).optional().meta({ description: 'When the version stops being served (RFC 8594 Sunset).' }) })
  .strict();
const diffQuery = z.object({ from: versionRef, to: versionRef }).strict();
const versionParams = workflowParams.extend({ n: z.string() });

const versionNumber = (text: string) => {
  const n = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n)) throw new AdminError('bad_request', `"${text}" is not a version number`);
  return n;
};

export function versionEndpoints(context: AdminContext): Endpoint[] {
  const { store, record } = context;
  const { options } = context;
  const { lifecycle } = options;
  return [
    defineEndpoint({
      method: 'post', path: '/workflows/:id/publish', permission: 'publish', summary: 'Publish the draft as a new immutable version and activate it; an optional note (what it is for) is kept with the version and in the audit log. A draft that removes or changes an answer of the error contract is not activated: it waits for another publisher\'s approval (202, pending)', params: workflowParams, body: publishBody, response: publishAnswerSchema,
      accepted: (answer) => (answer as { pending?: boolean }).pending === true,
      handler: ({ actor, params, body }) => lifecycle.publish(actor, params.id, body.note),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/rollback', permission: 'publish', summary: 'Make an earlier version active again', params: workflowParams, body: versionBody, response: rolledBackSchema,
      handler: ({ actor, params, body }) => lifecycle.rollback(actor, params.id, body.version),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/deprecate', permission: 'publish', summary: 'Mark a version deprecated (served with Deprecation and Sunset headers)', params: workflowParams, body: deprecateBody, response: versionRecordSchema,
      handler: ({ actor, params, body }) => lifecycle.deprecate(actor, params.id, body.version, body.sunset),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/retire', permission: 'publish', summary: 'Retire a version (its route answers 410 while it is active)', params: workflowParams, body: versionBody, response: versionRecordSchema,
      handler: ({ actor, params, body }) => lifecycle.retire(actor, params.id, body.version),
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/versions', permission: 'read', summary: 'The versions of a workflow', params: workflowParams, response: versionListSchema,
      handler: async ({ params }) => {
        const { workflow } = await record(params.id);
        return { active: workflow.active ?? null, versions: workflow.versions };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/versions/:n', permission: 'read', summary: 'One version with its document', params: versionParams, response: versionDetailSchema,
      handler: async ({ params }) => {
        const { workflow } = await record(params.id);
        const n = versionNumber(params.n);
        const version = workflow.versions.find((v) => v.version === n);
        if (!version) throw new AdminError('not_found', `workflow "${params.id}" has no version ${n}`);
        return { ...version, active: workflow.active === n, document: await store.document(version.hash) };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/diff', permission: 'read', summary: 'Nodes and edges added, removed and changed between two versions (draft, active or a number), with the old and new value of each changed field and setting; layout ignored', params: workflowParams, query: diffQuery, response: workflowDiffSchema,
      handler: async ({ params, query }) =>
        runPaced(diffWorkflowsSliced(await context.workflowDocument(params.id, query.from), await context.workflowDocument(params.id, query.to)), createPace(options.sliceMs)),
    }),
  ];
}
