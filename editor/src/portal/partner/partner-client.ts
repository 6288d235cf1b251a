import type { z } from 'zod';
import { PARTNER_CSRF_HEADER, partnerOverviewSchema, partnerSessionSchema, rotatedOwnKeySchema, type PartnerOverview, type PartnerSession, type RotatedOwnKey } from '../../../../shared/portal/partner.ts';

const BASE = '/portal/api/partner';

/** A refusal of the partner API, with the words of its problem+json answer. */
class PartnerApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'PartnerApiError';
    this.status = status;
  }
}

async function call<T extends z.ZodType>(schema: T, method: string, path: string, options: { body?: unknown; csrf?: string | undefined } = {}): Promise<z.infer<T>> {
  const response = await fetch(`${BASE}${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.csrf === undefined ? {} : { [PARTNER_CSRF_HEADER]: options.csrf }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: unknown; title?: unknown };
    throw new PartnerApiError(response.status, typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : `the portal answered ${response.status}`);
  }
  return schema.parse(response.status === 204 ? undefined : await response.json());
}

/**
 * The partner view's calls. The session is a cookie the browser holds (HttpOnly: never seen
 * here); changes send the session's CSRF token, which lives only in this page's memory.
 */
export const partnerApi = {
  /** The session of this browser, or undefined when there is none (or it has ended). */
  async session(): Promise<PartnerSession | undefined> {
    try {
      return await call(partnerSessionSchema, 'GET', '/session');
    } catch (error) {
      if (error instanceof PartnerApiError && error.status === 401) return undefined;
      throw error;
    }
  },
  signIn: (credential: { apiKey: string } | { token: string }): Promise<PartnerSession> => call(partnerSessionSchema, 'POST', '/session', { body: credential }),
  overview: (): Promise<PartnerOverview> => call(partnerOverviewSchema, 'GET', '/overview'),
  rotate: (session: PartnerSession, keyId: string, overlap: string | undefined): Promise<RotatedOwnKey> =>
    call(rotatedOwnKeySchema, 'POST', `/keys/${encodeURIComponent(keyId)}/rotate`, { body: overlap === undefined ? {} : { overlap }, csrf: session.csrfToken }),
  async signOut(session: PartnerSession): Promise<void> {
    const response = await fetch(`${BASE}/session`, { method: 'DELETE', credentials: 'same-origin', headers: { [PARTNER_CSRF_HEADER]: session.csrfToken } });
    if (!response.ok && response.status !== 401) throw new PartnerApiError(response.status, 'signing out failed');
  },
};
