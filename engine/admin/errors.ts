import type { ValidationProblem } from '../../shared/compile/index.ts';

/** Why an admin call was refused; each code has one status and one catalog error. */
export const ADMIN_ERRORS = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  validation_failed: 422,
  bad_request: 400,
  too_many_attempts: 429,
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
