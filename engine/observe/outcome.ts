/** How a request ended, as logs and metrics name it. */
export type Outcome = 'ok' | 'invalid_credentials' | 'denied' | 'limited' | 'rejected' | 'upstream_error' | 'error';

/** Every outcome, in the order the windowed counts index them. */
export const OUTCOMES: readonly Outcome[] = ['ok', 'invalid_credentials', 'denied', 'limited', 'rejected', 'upstream_error', 'error'];

/** The outcome of an error answer, from its status: stable whatever the catalog calls the error. */
export function outcomeOfStatus(status: number): Outcome {
  if (status === 401) return 'invalid_credentials';
  if (status === 403) return 'denied';
  if (status === 429) return 'limited';
  if (status === 502 || status === 503 || status === 504) return 'upstream_error';
  return status >= 500 ? 'error' : 'rejected';
}

/** The status logged for a request whose client left before its answer (nginx's "client closed request"). */
export const CLIENT_CLOSED = 499;
