import { allows, PERMISSIONS, type Identity } from '../../../shared/admin/index.ts';
import type { Store } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { createRefusalAudit } from '../refusal-audit.ts';
import { operationOf, type Endpoint, type RawInput } from './endpoint.ts';

/** The longest a change waits for this process to serve it before it is acknowledged anyway. */
const SETTLE_MS = 5_000;

export interface EndpointCallOptions {
  store: Store;
  /** Resolves once this process serves store `revision`; without it, `appliedRevision` is watched. */
  applied?(revision: number): Promise<void>;
  appliedRevision(): number;
}

/** Why a role may not call an endpoint, naming the permission it lacks and the roles that have it. */
function forbiddenError(actor: Identity, endpoint: Endpoint): AdminError {
  const what = `${endpoint.summary.charAt(0).toLowerCase()}${endpoint.summary.slice(1)}`;
  return new AdminError('forbidden', `role ${actor.role} may not ${what} (that needs the "${endpoint.permission}" permission: ${PERMISSIONS[endpoint.permission].join(', ')})`, { extra: { permission: endpoint.permission } });
}

/**
 * Calling an endpoint as an actor, one way for every way in (the HTTP API, the MCP server): the
 * role is checked first and a refusal audited (counted per actor, operation and minute), the
 * inputs are read by the endpoint's schemas, and a change is answered once this process serves it.
 */
export function createEndpointCalls(options: EndpointCallOptions) {
  const { store } = options;
  /** Role refusals, one entry per actor, endpoint and minute (the rest counted): a token cannot flood the audit log. */
  const refusals = createRefusalAudit({ store });

  /** Waits (bounded) until this process serves `revision`; the change is committed either way. */
  async function settle(revision: number): Promise<void> {
    if (options.applied) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([options.applied(revision), new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
      clearTimeout(timer);
      return;
    }
    const deadline = Date.now() + SETTLE_MS;
    while (options.appliedRevision() < revision && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  return {
    /**
     * Refuses, and audits, an actor whose role lacks the endpoint's permission. `attempted` says
     * what was tried (the request line, the MCP tool); `id` is the call's `id` parameter, which
     * names the workflow the refusal is about for the endpoints under /workflows/.
     */
    async authorize(actor: Identity, endpoint: Endpoint, attempted: string, id: unknown): Promise<void> {
      if (allows(actor.role, endpoint.permission)) return;
      const denied = forbiddenError(actor, endpoint);
      const workflow = endpoint.path.startsWith('/workflows/') && typeof id === 'string' ? id.slice(0, 64) : undefined;
      await refusals.record(actor, operationOf(endpoint), `${attempted}: ${denied.message}`, workflow);
      throw denied;
    },
    /** Runs an authorized call; a change answers once this process serves it. */
    async run(endpoint: Endpoint, actor: Identity, input: RawInput): Promise<unknown> {
      const answer = await endpoint.run(actor, input);
      if (endpoint.method !== 'get') await settle((await store.state()).revision);
      return answer;
    },
    /** Writes the refusal counts still open. */
    close: () => refusals.close(),
  };
}

export type EndpointCalls = ReturnType<typeof createEndpointCalls>;
