import type { Logger } from 'pino';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Identity } from '../../../shared/admin/index.ts';
import { DOCUMENT_LIMIT_SETTINGS, jsonTextDepth, type DocumentLimits } from '../../../shared/schema/index.ts';
import type { ProblemRenderer } from '../../gateway/problem.ts';
import { AdminError } from '../errors.ts';
import { adminOpenApi } from './openapi.ts';
import type { EndpointCalls } from './calls.ts';
import { StreamedAnswer, type Endpoint } from './endpoint.ts';
import { adminProblems, BodyTooDeep } from './problems.ts';

/** Room in an admin body beside its document: the wrapper, a sample request and its upstream mock. */
const BODY_SLACK_BYTES = 64 * 1024;

/** The most an admin body may be: a workflow document and room beside it. */
export const adminBodyBytes = (limits: DocumentLimits) => limits.bytes + BODY_SLACK_BYTES;

/**
 * The JSON body parser of admin calls. Bytes and nesting are bounded before JSON.parse: what
 * reads a body afterwards (hashing, schemas, JSON.stringify) recurses into it.
 */
export function boundedJson(limits: DocumentLimits) {
  const bodyDepth = limits.depth + 1; // the document sits in a wrapping object
  return express.json({
    limit: adminBodyBytes(limits),
    type: ['application/json', 'application/*+json'],
    verify: (_req, _res, buffer) => {
      if (jsonTextDepth(buffer, bodyDepth) > bodyDepth) throw new BodyTooDeep(`the body nests objects and arrays deeper than ${DOCUMENT_LIMIT_SETTINGS.depth} (${limits.depth}) allows`);
    },
  });
}

/**
 * Writes a streamed answer chunk by chunk, waiting for the client to take each; a client that
 * goes away stops it. A failure before the first chunk is the call's problem answer; after it,
 * the connection is cut (the status is sent already), so a client never takes a partial export
 * for a whole one.
 */
async function writeStreamed(res: Response, answer: StreamedAnswer, logger: Logger | undefined): Promise<void> {
  const chunks = answer.chunks[Symbol.asyncIterator]();
  let next = await chunks.next();
  res.status(200).set({ 'content-type': answer.contentType, 'content-disposition': `attachment; filename="${answer.filename}"`, 'cache-control': 'no-store' });
  try {
    for (; !next.done; next = await chunks.next()) {
      if (res.destroyed) return void (await chunks.return?.());
      if (!res.write(next.value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
  } catch (error) {
    logger?.error({ err: error }, 'a streamed admin answer failed part way; the connection is cut');
    res.destroy();
  }
}

/** What a way into the admin endpoints needs (the HTTP API here, the MCP server in ../mcp/server.ts). */
export interface MountOptions {
  /** How an endpoint is called: the role checked, a refusal audited, a change settled. */
  calls: EndpointCalls;
  /** The identity of a bearer token; `client` is the caller's address, for cutting off token guessing. */
  authenticate(authorization: string | undefined, client?: string): Promise<Identity>;
  /** The caller's address (the one client-address function); the socket's peer when absent. */
  clientAddress?(req: Request): string;
  problems: () => ProblemRenderer;
  limits: DocumentLimits;
  /** Where an internal error of a call is logged, under the trace id its answer carries. */
  logger?: Logger | undefined;
}

/**
 * The admin endpoints as an Express router: who calls is known before a body is read, a body is
 * bounded in bytes and nesting before it is parsed, a change is acknowledged once this process
 * serves it, and every refusal is a problem+json answer.
 */
export function mountEndpoints(endpoints: readonly Endpoint[], options: MountOptions): Router {
  const { calls, limits } = options;
  const clientOf = options.clientAddress ?? ((req: Request) => req.socket.remoteAddress ?? 'unknown');
  const problems = adminProblems({ problems: options.problems, limits, bodyBytes: adminBodyBytes(limits), logger: options.logger });

  /** Who is calling, before anything else is read: a body is parsed only for a caller who may send it. */
  const authorize = (endpoint: Endpoint) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = await options.authenticate(req.headers.authorization, clientOf(req));
      await calls.authorize(actor, endpoint, `${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 300)}`, req.params.id);
      res.locals.actor = actor;
      next();
    } catch (error) {
      next(error);
    }
  };
  const json = boundedJson(limits);

  const router = express.Router();
  // The API's own description is documentation, readable without a token; built when first asked
  // for (its JSON Schemas cost ~0.3 s of CPU, which a start need not pay).
  let openapi: Record<string, unknown> | undefined;
  router.get('/openapi.json', (_req, res) => {
    res.json((openapi ??= adminOpenApi(endpoints, '1')));
  });
  for (const endpoint of endpoints) {
    router[endpoint.method](endpoint.path, authorize(endpoint), json, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const answer = await calls.run(endpoint, res.locals.actor as Identity, { params: req.params, query: req.query, body: req.body });
        if (answer instanceof StreamedAnswer) return await writeStreamed(res, answer, options.logger);
        if (endpoint.secret) res.set('cache-control', 'no-store');
        res.status(endpoint.accepted?.(answer) ? 202 : (endpoint.status ?? 200)).json(answer);
      } catch (error) {
        next(error);
      }
    });
  }
  router.use((req, res) => problems.send(res, req, new AdminError('not_found', `no admin endpoint ${req.method} ${req.path}`)));
  router.use(problems.onError);
  return router;
}
