import type { Exchange } from '../types.ts';

/**
 * The one error type of the engine: a catalog error id, the values for its detail template,
 * and the original error as `cause`. Tests switch on `code`, never on the message.
 */
export class SluiceError extends Error {
  readonly code: string;
  readonly params: Record<string, string> | undefined;
  constructor(code: string, message: string, options?: { params?: Record<string, string>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.params = options?.params;
  }
}

/** Ends a node by its error port, with the reason the problem names. */
export function failWith(exchange: Exchange, reason: string): string {
  exchange.problemParams = { ...exchange.problemParams, reason };
  return 'error';
}
