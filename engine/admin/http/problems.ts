import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { issueProblems, type ValidationProblem } from '../../../shared/compile/index.ts';
import { DOCUMENT_LIMIT_SETTINGS, formatBytes, type DocumentLimits } from '../../../shared/schema/index.ts';
import { writeProblem, type ProblemRenderer } from '../../gateway/problem.ts';
import { traceContextOf } from '../../gateway/trace.ts';
import { StoreUnavailableError } from '../../store/types.ts';
import { AdminError, storeWriteError } from '../errors.ts';

/** A refused input's issues as problems the editor pins, each naming its field (`whole` when the input itself is wrong). */
export const inputProblems = (error: z.ZodError, whole: string): ValidationProblem[] =>
  error.issues.flatMap((issue) => issueProblems(issue).map(({ path, message }) => ({ code: 'invalid_document' as const, message, field: path.map(String).join('.') || whole })));

/** A body nested deeper than the limit, found before it was parsed (body-parser hands it to the error handler with this status). */
export class BodyTooDeep extends Error {
  status = 400;
  type = 'entity.too.deep';
}

/** The admin API's problem answers: every refusal and failure as RFC 9457 problem+json from the error catalog. */
export function adminProblems(options: { problems: () => ProblemRenderer; limits: DocumentLimits; bodyBytes: number; logger?: Logger | undefined }) {
  const { limits } = options;
  const where = (req: Request) => ({ instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId });

  const send = (res: Response, req: Request, error: AdminError) => {
    const answer = options.problems().render(error.code, {
      ...where(req),
      detail: error.message,
      extensions: { ...(error.problems ? { problems: error.problems } : {}), ...error.extra },
    });
    // RFC 9110: a 401 says how to authenticate
    const challenge: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="sluice-admin"' } : error.code === 'too_many_attempts' ? { 'retry-after': String(error.extra?.retryAfter ?? 60) } : {};
    writeProblem(res, answer, challenge);
  };

  /** Any error of an admin call as its problem: admin refusals, an unreachable or unwritable store, refused bodies, and internal_error for the rest. */
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    if (error instanceof AdminError) return send(res, req, error);
    if (error instanceof StoreUnavailableError) {
      // nothing was changed: say so, and when to try again (a catalog without the entry answers internal_error)
      const answer = options.problems().render('store_unavailable', where(req));
      return writeProblem(res, answer, { 'retry-after': '5' });
    }
    const unwritable = storeWriteError(error);
    if (unwritable) return send(res, req, unwritable);
    if (error instanceof BodyTooDeep) return send(res, req, new AdminError('bad_request', error.message, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.depth, value: limits.depth } } }));
    const status = (error as { status?: number }).status;
    if (status === 413)
      return send(res, req, new AdminError('payload_too_large', `the body is larger than ${formatBytes(options.bodyBytes)}: a workflow document may be ${formatBytes(limits.bytes)} (${DOCUMENT_LIMIT_SETTINGS.bytes})`, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.bytes, value: limits.bytes } } }));
    if (status === 400 || status === 415) return send(res, req, new AdminError('bad_request', 'the body is not valid JSON'));
    const at = where(req);
    const answer = options.problems().render('internal_error', at);
    // the caller gets only the trace id: the log line under it says what failed
    options.logger?.error({ err: error, traceId: at.traceId, method: req.method, instance: at.instance }, 'admin call failed');
    writeProblem(res, answer);
  };

  return { send, onError };
}
