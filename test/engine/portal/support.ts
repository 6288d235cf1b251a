import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PARTNER_CSRF_HEADER } from '../../../shared/portal/partner.ts';

/* The partner portal's API as a partner's browser uses it: a cookie jar of one session, the CSRF header. */

export interface PortalAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** One partner's browser: signs in, keeps the session cookie and the CSRF token, and calls the API with them. */
export function portalClient(baseUrl: string, options: { forwardedFor?: string } = {}) {
  let cookie: string | undefined;
  let csrf: string | undefined;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<PortalAnswer> => {
    const response = await fetch(`${baseUrl}/portal/api/partner${path}`, {
      method,
      headers: {
        ...(cookie === undefined ? {} : { cookie }),
        ...(csrf === undefined || method === 'GET' ? {} : { [PARTNER_CSRF_HEADER]: csrf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie !== null) {
      const value = /^([^=]+=[^;]*)/.exec(setCookie)![1]!;
      cookie = value.endsWith('=') ? undefined : value;
    }
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    async signIn(credential: { apiKey: string } | { token: string }) {
      const answer = await call('POST', '/session', credential);
      if (answer.status === 201) csrf = answer.body.csrfToken;
      return answer;
    },
    get csrf() {
      return csrf;
    },
    set csrf(value: string | undefined) {
      csrf = value;
    },
    get cookie() {
      return cookie;
    },
  };
}
export type PortalClient = ReturnType<typeof portalClient>;

/** A JWKS served over HTTP on 127.0.0.1, as an identity provider serves its keys. */
export async function serveJwks(jwks: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
