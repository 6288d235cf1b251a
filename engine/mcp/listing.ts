import type { CompiledWorkflow, Step } from '../compile/types.ts';
import type { Exchange } from '../kinds/types.ts';

/** The kinds a listing runs: they decide who the caller is and what it may do, and change nothing upstream. */
const GUARDS = new Set(['cors', 'jwt-verify', 'api-key', 'introspect', 'scope-check']);
/** More guard nodes than this in a row are not walked for a listing (a workflow has at most a few). */
const MAX_GUARDS = 16;

/**
 * Whether tools/list shows a workflow's tool to this caller: the workflow's own leading guards
 * (cors, identity nodes, scope checks) are run on the caller's credentials, and the tool is
 * listed when each of them lets the request on by its `ok` port up to the first node of any
 * other kind (or a finish). So a partner sees the tools of the products it subscribes to (an
 * identity node's `unsubscribed` port), not those whose scopes it lacks, and a caller without
 * credentials only the tools of workflows that ask for none. Rate limits are not run (a listing
 * spends no budget), and guards after another node (a condition, an hmac-verify or a client-cert
 * node, which need the call's body or certificate) are not: such a tool is listed and its call is
 * checked as any request is.
 */
export async function admits(workflow: CompiledWorkflow, exchange: Exchange): Promise<boolean> {
  let step: Step = workflow.start;
  for (let i = 0; i < MAX_GUARDS; i++) {
    if (step.final) return step.meta.outcome === 'finish';
    if (!GUARDS.has(step.kind)) return true;
    let port: string;
    try {
      port = await step.run(exchange);
    } catch {
      return false;
    }
    if (port !== 'ok') return false;
    const next: Step | undefined = step.next[port];
    if (next === undefined) return false;
    step = next;
  }
  return true;
}
