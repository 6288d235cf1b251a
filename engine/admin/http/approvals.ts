/** The contract gate: a publish waiting for a second publisher, read, approved or refused. */
import { z } from 'zod';
import { approvalRefusedSchema, approvalViewSchema, approvalVoidedBy, approvedSchema } from '../../../shared/admin/index.ts';
import { AdminError } from '../errors.ts';
import { workflowParams, type AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const approveBody = z
  .object({ draftHash: z.string().regex(/^[0-9a-f]{64}$/).optional().meta({ description: 'The draft the approver looked at: refused (409) when the request waiting is of another one.' }) })
  .strict();
const refuseBody = z.object({ reason: z.string().trim().min(1).max(500).meta({ description: 'Why it is refused (or withdrawn), for the audit log and the person who asked.' }) }).strict();

export function approvalEndpoints(context: AdminContext): Endpoint[] {
  const { record, options } = context;
  const { lifecycle } = options;
  return [
    defineEndpoint({
      method: 'get', path: '/workflows/:id/approval', permission: 'read', summary: 'The publish waiting for a second publisher\'s approval (a draft that removes or changes answers of the error contract): who asked, when, the contract diff, and whether it still stands', params: workflowParams, response: approvalViewSchema,
      handler: async ({ params }) => {
        const { workflow } = await record(params.id);
        if (!workflow.approval) throw new AdminError('not_found', `workflow "${params.id}" has no publish waiting for approval`);
        const voided = approvalVoidedBy(workflow.approval, workflow);
        return { workflow: workflow.id, ...workflow.approval, stale: voided !== undefined, ...(voided === undefined ? {} : { staleBecause: voided }) };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/approval/approve', permission: 'publish', summary: 'Approve the publish waiting for approval: another publisher than who asked and who last edited the draft; its tests and checks run again, then exactly that draft serves as the new version (409 when a draft was saved since)', params: workflowParams, body: approveBody, response: approvedSchema,
      handler: ({ actor, params, body }) => lifecycle.approvePublish(actor, params.id, body.draftHash),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/approval/refuse', permission: 'publish', summary: 'Refuse the publish waiting for approval, with a reason (who asked withdraws it the same way); nothing is published', params: workflowParams, body: refuseBody, response: approvalRefusedSchema,
      handler: ({ actor, params, body }) => lifecycle.refusePublish(actor, params.id, body.reason),
    }),
  ];
}
