import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { issueProblems, type ValidationProblem } from '../../../shared/compile/index.ts';
import { DOCUMENT_LIMIT_SETTINGS, formatBytes, type DocumentLimits } from '../../../shared/schema/index.ts';
import { writeProblem, type ProblemAnswer, type ProblemRenderer } from '../../gateway/problem.ts';
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

/** Where a call's problem happened: the instance it names and the trace id its log line is under. */
interface ProblemPlace {
  instance: string;
  traceId: string;
  /** What was called, for the log line of an internal error. */
  method: string;
}

/** The admin API's problem answers: every refusal and failure as RFC 9457 problem+json from the error catalog. */
export function adminProblems(options: { problems: () => ProblemRenderer; limits: DocumentLimits; bodyBytes: number; logger?: Logger | undefined }) {
  const { limits } = options;
  const where = (req: Request): ProblemPlace => ({ instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, method: req.method });

  const ofAdminError = (error: AdminError, at: ProblemPlace) => {
    const answer = options.problems().render(error.code, { instance: at.instance, traceId: at.traceId, detail: error.message, extensions: { ...(error.problems ? { problems: error.problems } : {}), ...error.extra } });
    // RFC 9110: a 401 says how to authenticate
    const headers: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer realm="sluice-admin"' } : error.code === 'too_many_attempts' ? { 'retry-after': String(error.extra?.retryAfter ?? 60) } : {};
    return { answer, headers };
  };

  /**
   * Any error of an admin call as its problem and the headers that go with it: admin refusals, an
   * unreachable or unwritable store, refused bodies, and internal_error for the rest (logged
   * under the trace id; the caller gets only the id).
   */
  function problemOf(error: unknown, at: ProblemPlace): { answer: ProblemAnswer; headers: Record<string, string> } {
    if (error instanceof AdminError) return ofAdminError(error, at);
    // nothing was changed: say so, and when to try again (a catalog without the entry answers internal_error)
    if (error instanceof StoreUnavailableError) return { answer: options.problems().render('store_unavailable', at), headers: { 'retry-after': '5' } };
    const unwritable = storeWriteError(error);
    if (unwritable) return ofAdminError(unwritable, at);
    if (error instanceof BodyTooDeep) return ofAdminError(new AdminError('bad_request', error.message, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.depth, value: limits.depth } } }), at);
    const status = (error as { status?: number }).status;
    if (status === 413)
      return ofAdminError(new AdminError('payload_too_large', `the body is larger than ${formatBytes(options.bodyBytes)}: a workflow document may be ${formatBytes(limits.bytes)} (${DOCUMENT_LIMIT_SETTINGS.bytes})`, { extra: { limit: { setting: DOCUMENT_LIMIT_SETTINGS.bytes, value: limits.bytes } } }), at);
    if (status === 400 || status === 415) return ofAdminError(new AdminError('bad_request', 'the body is not valid JSON'), at);
    options.logger?.error({ err: error, traceId: at.traceId, method: at.method, instance: at.instance }, 'admin call failed');
    return { answer: options.problems().render('internal_error', at), headers: {} };
  }

  const send = (res: Response, req: Request, error: AdminError) => {
    const { answer, headers } = ofAdminError(error, where(req));
    writeProblem(res, answer, headers);
  };

  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const { answer, headers } = problemOf(error, where(req));
    writeProblem(res, answer, headers);
  };

  return { send, onError, problemOf };
}
