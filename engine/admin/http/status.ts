/** What this process serves and counts: request stats, the editor's live mode, status and the cluster view. */
import { z } from 'zod';
import { clusterSchema, liveViewSchema, statusSchema, workflowStatsSchema } from '../../../shared/admin/index.ts';
import { boundedDurationSchema, durationMs } from '../../../shared/schema/duration.ts';
import { MAX_WINDOW_MS, SLOT_MS } from '../../observe/windowed-counts.ts';
import { AdminError } from '../errors.ts';
import { workflowParams, type AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

/** How far back the request counters are summed (workflow and partner stats). */
export const statsQuery = z.object({ window: boundedDurationSchema(SLOT_MS, MAX_WINDOW_MS).default('5m').meta({ description: 'How far back: 10s to 1h, in 10-second slots.' }) }).strict();
const liveQuery = z.object({ partner: z.string().min(1).max(200).optional().meta({ description: 'Only this partner label (or "none", "other").' }) }).strict();

/** The metrics are off: the counting endpoints answer 404. */
export const metricsOff = () => new AdminError('not_found', 'metrics are off (SLUICE_METRICS=off)');

export function statusEndpoints({ store, options, record }: AdminContext): Endpoint[] {
  return [
    defineEndpoint({
      method: 'get', path: '/workflows/:id/stats', permission: 'read', summary: 'Requests by outcome and partner over a recent window, as this process counted them', params: workflowParams, query: statsQuery, response: workflowStatsSchema,
      handler: async ({ params, query }) => {
        await record(params.id);
        if (!options.observe) throw metricsOff();
        return options.observe.stats(params.id, durationMs(query.window));
      },
    }),
    defineEndpoint({
      method: 'get', path: '/workflows/:id/live', permission: 'read', summary: 'Edge counts, node p50/p99 and last-minute outcomes of the served version (the editor\'s live mode)', params: workflowParams, query: liveQuery, response: liveViewSchema,
      handler: async ({ params, query }) => {
        await record(params.id);
        if (!options.observe) throw metricsOff();
        const live = options.observe.live(params.id, query.partner);
        if (live === undefined) throw new AdminError('not_found', `workflow "${params.id}" is not being served`);
        return live;
      },
    }),
    defineEndpoint({
      method: 'get', path: '/status', permission: 'read', summary: 'What this process serves and the store revision it applied', response: statusSchema,
      handler: async () => {
        // What this process serves is known even while the store cannot be reached (revision null then).
        const revision = await store.state().then((state) => state.revision, () => null);
        const mine = options.status();
        return {
          store: store.kind, revision, storeReachable: revision !== null, appliedRevision: mine.appliedRevision, replica: mine.replica ?? null, pid: process.pid,
          uptimeSeconds: Math.round(process.uptime()), workflows: mine.serving, rateLimits: mine.rateLimits ?? null,
          ...(mine.upstreams !== undefined && mine.upstreams.length > 0 ? { upstreams: mine.upstreams } : {}),
        };
      },
    }),
    defineEndpoint({
      method: 'get', path: '/cluster', permission: 'read', summary: 'The live replicas (heartbeats with expiry): the revision and versions each serves, and which lag behind the store', response: clusterSchema,
      handler: async () => {
        const { revision } = await store.state();
        const replicas = (await options.cluster?.(revision)) ?? [];
        return { store: store.kind, revision, replicas, lagging: replicas.filter((r) => r.lagging).length };
      },
    }),
  ];
}
