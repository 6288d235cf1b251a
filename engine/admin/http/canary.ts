/** Canaries: start one (or change its share), read both sides' counts, promote or abort. */
import { canaryAbortBodySchema, canaryEndSchema, canaryRecordSchema, canaryStartSchema, canaryViewSchema } from '../../../shared/admin/canary.ts';
import { workflowParams, type AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';
import { z } from 'zod';

const startedSchema = z.object({ canary: canaryRecordSchema, started: z.boolean() });

/** A side's rate of bad answers, in percent with one decimal; null before it served any. */
const rateOf = (requests: number, bad: number) => (requests === 0 ? null : Math.round((1000 * bad) / requests) / 10);

export function canaryEndpoints(context: AdminContext): Endpoint[] {
  const { record, options } = context;
  const { lifecycle } = options;
  return [
    defineEndpoint({
      method: 'post', path: '/workflows/:id/canary', permission: 'publish',
      summary: 'Start a canary: a candidate version (a published one, or the draft published now as a new version) serves a share of the requests beside the active version, sticky by partner, subject, header or random; with a canary running, change its share, stickiness or abort rule',
      params: workflowParams, body: canaryStartSchema, response: startedSchema,
      handler: ({ actor, params, body }) => lifecycle.canary.start(actor, params.id, body),
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/canary', permission: 'read',
      summary: 'The running canary and both sides\' requests and error/problem rates (summed over the replicas with Redis)',
      params: workflowParams, response: canaryViewSchema,
      handler: async ({ params }) => {
        const { workflow } = await record(params.id);
        const canary = workflow.canary ?? null;
        const counts = canary === null ? undefined : await options.canaries?.counts(params.id);
        const side = (version: number, requests: number, bad: number) => ({ version, requests, bad, badRate: rateOf(requests, bad) });
        return {
          canary,
          active: workflow.active ?? null,
          sides: canary === null || workflow.active === undefined ? null : { active: side(workflow.active, counts?.[0] ?? 0, counts?.[1] ?? 0), candidate: side(canary.version, counts?.[2] ?? 0, counts?.[3] ?? 0) },
          counted: options.canaries?.counted ?? 'process',
        };
      },
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/canary/promote', permission: 'publish', summary: 'Make the candidate the active version; the canary ends', params: workflowParams, response: canaryEndSchema,
      handler: ({ actor, params }) => lifecycle.canary.promote(actor, params.id),
    }),
    defineEndpoint({
      method: 'post', path: '/workflows/:id/canary/abort', permission: 'publish', summary: 'End the canary: the active version serves every request again (the candidate stays in the versions list)', params: workflowParams, body: canaryAbortBodySchema, response: canaryEndSchema,
      handler: ({ actor, params, body }) => lifecycle.canary.abort(actor, params.id, body.reason),
    }),
  ];
}
