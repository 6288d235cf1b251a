import type { Logger } from 'pino';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { allows, type Identity } from '../../../shared/admin/index.ts';
import { DOCUMENT_LIMIT_SETTINGS, jsonTextDepth, type DocumentLimits } from '../../../shared/schema/index.ts';
import type { ProblemRenderer } from '../../gateway/problem.ts';
import type { Store } from '../../store/types.ts';
import { AdminError } from '../errors.ts';
import { adminOpenApi } from './openapi.ts';
import { createRefusalAudit } from '../refusal-audit.ts';
import { operationOf, type Endpoint } from './endpoint.ts';
import { adminProblems, BodyTooDeep } from './problems.ts';

/** The longest a change waits for this process to serve it before it is acknowledged anyway. */
const SETTLE_MS = 5_000;
/** Room in an admin body beside its document: the wrapper, a sample request and its upstream mock. */
const BODY_SLACK_BYTES = 64 * 1024;

interface MountOptions {
  store: Store;
  /** The identity of a bearer token; `client` is the caller's address, for cutting off token guessing. */
  authenticate(authorization: string | undefined, client?: string): Identity;
  /** The caller's address (the one client-address function); the socket's peer when absent. */
  clientAddress?(req: Request): string;
  problems: () => ProblemRenderer;
  /** Resolves once this process serves store `revision`; without it, `appliedRevision` is watched. */
  applied?(revision: number): Promise<void>;
  appliedRevision(): number;
  limits: DocumentLimits;
  /** Where an internal error of a call is logged, under the trace id its answer carries. */
  logger?: Logger | undefined;
}

/**
 * The admin endpoints as an Express router: who calls is known before a body is read, a body is
 * bounded in bytes and nesting before it is parsed, a change is acknowledged once this process
 * serves it, and every refusal is a problem+json answer.
 */
export function mountEndpoints(endpoints: readonly Endpoint[], options: MountOptions): { router: Router; close(): Promise<void> } {
  const { store, limits } = options;
  /** Role refusals, one entry per actor, endpoint and minute (the rest counted): a token cannot flood the audit log. */
  const refusals = createRefusalAudit({ store });
  const clientOf = options.clientAddress ?? ((req: Request) => req.socket.remoteAddress ?? 'unknown');
  const problems = adminProblems({ problems: options.problems, limits, bodyBytes: limits.bytes + BODY_SLACK_BYTES, logger: options.logger });

  /** Waits (bounded) until this process serves `revision`; the change is committed either way. */
  async function settle(revision: number): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    if (options.applied) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([options.applied(revision), new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
      clearTimeout(timer);
      return;
    }
    while (options.appliedRevision() < revision && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Who is calling, before anything else is read: a body is parsed only for a caller who may send it. */
  const authorize = (endpoint: Endpoint) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = options.authenticate(req.headers.authorization, clientOf(req));
      if (!allows(actor.role, endpoint.permission)) {
        const denied = new AdminError('forbidden', `role ${actor.role} may not ${endpoint.summary.charAt(0).toLowerCase()}${endpoint.summary.slice(1)}`);
        const workflow = endpoint.path.startsWith('/workflows/') ? (req.params.id as string | undefined)?.slice(0, 64) : undefined;
        await refusals.record(actor, operationOf(endpoint), `${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 300)}: ${denied.message}`, workflow);
        throw denied;
      }
      res.locals.actor = actor;
      next();
    } catch (error) {
      next(error);
    }
  };
  // Bytes and nesting are bounded before JSON.parse: what reads a body afterwards (hashing, schemas, JSON.stringify) recurses into it.
  const bodyDepth = limits.depth + 1; // the document sits in a wrapping object
  const json = express.json({
    limit: limits.bytes + BODY_SLACK_BYTES,
    type: ['application/json', 'application/*+json'],
    verify: (_req, _res, buffer) => {
      if (jsonTextDepth(buffer, bodyDepth) > bodyDepth) throw new BodyTooDeep(`the body nests objects and arrays deeper than ${DOCUMENT_LIMIT_SETTINGS.depth} (${limits.depth}) allows`);
    },
  });

  const router = express.Router();
  // The API's own description is documentation, readable without a token.
  const openapi = adminOpenApi(endpoints, '1');
  router.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  for (const endpoint of endpoints) {
    router[endpoint.method](endpoint.path, authorize(endpoint), json, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const answer = await endpoint.run(res.locals.actor as Identity, { params: req.params, query: req.query, body: req.body });
        if (endpoint.method !== 'get') await settle((await store.state()).revision);
        if (endpoint.secret) res.set('cache-control', 'no-store');
        res.status(endpoint.status ?? 200).json(answer);
      } catch (error) {
        next(error);
      }
    });
  }
  router.use((req, res) => problems.send(res, req, new AdminError('not_found', `no admin endpoint ${req.method} ${req.path}`)));
  router.use(problems.onError);
  return { router, close: () => refusals.close() };
}
