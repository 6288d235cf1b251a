import type { ValidationProblem } from '../../shared/compile/index.ts';

/** Why an admin call was refused; each code has one status and one catalog error. */
const ADMIN_ERRORS = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  validation_failed: 422,
  bad_request: 400,
  payload_too_large: 413,
  too_many_attempts: 429,
  store_unavailable: 503,
} as const;
export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/** The one error type of the admin layer: a code, a message for people, and problems for the editor to pin. */
export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly problems: ValidationProblem[] | undefined;
  readonly extra: Record<string, unknown> | undefined;
  constructor(code: AdminErrorCode, message: string, options: { problems?: ValidationProblem[]; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AdminError';
    this.code = code;
    this.problems = options.problems;
    this.extra = options.extra;
  }
  get status(): number {
    return ADMIN_ERRORS[this.code];
  }
}

/** Errors of a store that cannot write (disk full, read-only, no permission): the change was not made. */
const STORE_WRITE_CODES = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT', 'EIO']);

/** A store write failure as an admin error naming its cause, or undefined for anything else. */
export function storeWriteError(error: unknown): AdminError | undefined {
  for (let e = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && STORE_WRITE_CODES.has(e.code)) {
      const why = e.code === 'ENOSPC' || e.code === 'EDQUOT' ? 'the disk is full' : e.code === 'EROFS' ? 'the file system is read-only' : e.code === 'EIO' ? 'the disk failed' : 'it may not write its files';
      return new AdminError('store_unavailable', `the store cannot be written: ${why} (${e.code}); the change was not made and the versions being served keep serving`, { cause: error });
    }
  }
  return undefined;
}
