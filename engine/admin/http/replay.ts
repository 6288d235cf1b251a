/** Differential replay: recorded requests and the draft's tests through two versions, and what changes. */
import { compareAnswerSchema, compareBodySchema, type CompareAnswer } from '../../../shared/admin/index.ts';
import type { WorkflowTest } from '../../../shared/schema/index.ts';
import { compareVersions } from '../../replay/compare.ts';
import { auditActor } from '../../store/audit.ts';
import { AdminError } from '../errors.ts';
import { workflowParams, type AdminContext, type Which } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

/** Compares running or waiting in one process; one more is refused (409) until they have finished. */
const MAX_WAITING = 4;

export function replayEndpoints(context: AdminContext): Endpoint[] {
  const { store, options } = context;
  // One compare runs at a time per process (each replays up to SLUICE_REPLAY_SAMPLES requests twice);
  // a few more wait their turn, and one asked again while it runs (the dialog opened twice) joins it.
  let turn: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  const flights = new Map<string, Promise<CompareAnswer>>();

  /** A version to compare, as the answer labels it (the active version by its number), and its document, which must be a valid workflow. */
  async function side(id: string, which: Which) {
    const { workflow } = await context.record(id);
    const label = which === 'active' ? workflow.active : which;
    if (label === undefined) throw new AdminError('not_found', `workflow "${id}" has no active version to compare with`);
    const document = await context.versionDocument(id, which);
    const result = await context.validate(document, { catalog: await context.catalog() });
    if (!result.ok) throw new AdminError('validation_failed', `the ${context.versionName(which)} of "${id}" is not a valid workflow: it cannot be compared`, { problems: result.problems });
    return { label, document };
  }

  /** The draft's tests (the `to` version's when there is no draft, or the draft is no valid document). */
  async function testsOf(id: string, to: Which): Promise<WorkflowTest[]> {
    const { workflow } = await context.record(id);
    try {
      return (await context.workflowDocument(id, workflow.draft ? 'draft' : to)).tests;
    } catch {
      return (await context.workflowDocument(id, to)).tests;
    }
  }

  return [
    defineEndpoint({
      method: 'post', path: '/workflows/:id/compare', permission: 'publish',
      summary: 'Replay the recently recorded requests (without their credentials, with the upstream\'s recorded answers) and the draft\'s tests through two versions (default: active to draft) in the simulator; answers the requests whose outcome, status or problem type changes, grouped by change',
      params: workflowParams, body: compareBodySchema, response: compareAnswerSchema,
      handler: async ({ actor, params, body }) => {
        const preview = options.preview;
        if (!preview) throw new AdminError('not_found', 'simulation is not available');
        const key = JSON.stringify([params.id, body.from, body.to]);
        let flight = flights.get(key);
        if (flight === undefined) {
          if (waiting >= MAX_WAITING) throw new AdminError('conflict', `${waiting} compares are running or waiting in this process: try again when they have finished`);
          waiting++;
          const previous = turn;
          flight = (async () => {
            await previous.catch(() => undefined);
            const from = await side(params.id, body.from);
            const to = await side(params.id, body.to);
            return compareVersions({ workflow: params.id, from, to, samples: (await options.replay?.samples(params.id)) ?? [], tests: await testsOf(params.id, body.to), context: preview.context() });
          })().finally(() => {
            waiting--;
            flights.delete(key);
          });
          flights.set(key, flight);
          turn = flight;
        }
        const answer = await flight;
        // who compared what is audited; the compare itself changes nothing
        const changed = answer.changed.reduce((n, g) => n + g.count, 0);
        await store.transact(() => ({ entry: { time: new Date().toISOString(), ...auditActor(actor), action: 'workflow.compare', workflow: params.id, detail: `${context.versionName(answer.from)} -> ${context.versionName(answer.to)}: ${answer.total} replayed, ${changed} would change` }, result: undefined }));
        return answer;
      },
    }),
  ];
}
