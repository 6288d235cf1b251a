/** The portal's JSON (/portal/api) as its pages read it. */

/** A refused portal call: the status and the problem+json body. */
export class PortalError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(detail);
    this.name = 'PortalError';
    this.status = status;
  }
}

/** sessionStorage: a portal token lives as long as the tab, never in localStorage or a cookie. */
export const TOKEN_KEY = 'sluice.portalToken';

/**
 * GETs a portal answer, with the reader's token when signed in and the previewed workflow when
 * previewing; a refusal throws PortalError with the problem's detail.
 */
export async function portalGet<T>(path: string, options: { token?: string | undefined; preview?: string | undefined } = {}): Promise<T> {
  const query = options.preview === undefined ? '' : `${path.includes('?') ? '&' : '?'}preview=${encodeURIComponent(options.preview)}`;
  const response = await fetch(`/portal/api${path}${query}`, { headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) } });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const detail = (body as { detail?: unknown } | undefined)?.detail;
    throw new PortalError(response.status, typeof detail === 'string' ? detail : `HTTP ${response.status}`);
  }
  return body as T;
}
