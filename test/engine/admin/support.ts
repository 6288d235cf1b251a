import { expect } from 'vitest';
import { createAdminApi } from '../../../engine/admin/api.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

/* What every admin test shares: one token per role, a typed admin client, stamped workflows, polling. */

export const ROLE_NAMES = ['viewer', 'editor', 'publisher', 'auditor', 'admin'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Token holders: one per role, plus a second publisher for the four-eyes rule. */
export const PEOPLE = {
  viewer: { name: 'vera', role: 'viewer', token: 'viewer-token-0123456789abcdef' },
  editor: { name: 'eddie', role: 'editor', token: 'editor-token-0123456789abcdef' },
  publisher: { name: 'pia', role: 'publisher', token: 'publisher-token-0123456789abcdef' },
  publisher2: { name: 'paul', role: 'publisher', token: 'publisher2-token-0123456789abcdef' },
  auditor: { name: 'aude', role: 'auditor', token: 'auditor-token-0123456789abcdef' },
  admin: { name: 'ada', role: 'admin', token: 'admin-token-0123456789abcdef' },
} as const;
export type Person = keyof typeof PEOPLE;

export const ADMIN_TOKENS = Object.values(PEOPLE)
  .map((p) => `${p.name}:${p.role}:${p.token}`)
  .join(',');

/** A gateway with no workflows, no demo and one admin token per role. */
export function startAdminGateway(options: { settings?: Record<string, string>; env?: Record<string, string> } = {}): Promise<TestGateway> {
  return startTestGateway({ workflows: [], demo: false, ...(options.env ? { env: options.env } : {}), settings: { SLUICE_ADMIN_TOKENS: ADMIN_TOKENS, LOG_LEVEL: 'warn', SLUICE_ADMIN_MAX_FAILURES: '1000', ...options.settings } });
}

export interface AdminAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** The admin endpoint table a gateway's router is built from (its schemas and descriptions; nothing is called). */
export function endpointTable(gw: TestGateway) {
  return createAdminApi({
    store: gw.sluice.store,
    lifecycle: gw.sluice.lifecycle,
    partners: undefined as never,
    authenticate: async () => ({ name: 'x', role: 'viewer' }),
    problems: () => {
      throw new Error('unused');
    },
    status: () => ({ appliedRevision: 0, serving: [] }),
  }).endpoints;
}

/** Calls the admin API of `baseUrl` as `who` (a person, a raw Authorization value, or nobody). */
export async function adminCall<T = Record<string, any>>(baseUrl: string, who: Person | { authorization?: string }, method: string, path: string, body?: unknown): Promise<AdminAnswer<T>> {
  const authorization = typeof who === 'string' ? `Bearer ${PEOPLE[who].token}` : who.authorization;
  const response = await fetch(`${baseUrl}/admin/api${path}`, {
    method,
    headers: { ...(authorization === undefined ? {} : { authorization }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** The admin API of one gateway, bound. */
export function adminOf(baseUrl: string) {
  return <T = Record<string, any>>(who: Person | { authorization?: string }, method: string, path: string, body?: unknown) => adminCall<T>(baseUrl, who, method, path, body);
}
export type Admin = ReturnType<typeof adminOf>;

/** Asserts a problem+json answer and returns its body. */
export function expectProblem(answer: AdminAnswer, status: number, typeSuffix: string): Record<string, any> {
  expect({ status: answer.status, type: answer.body.type }).toEqual({ status, type: expect.stringMatching(new RegExp(`/${typeSuffix}$`)) });
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), instance: expect.stringMatching(/^\/admin\/api/) });
  return answer.body;
}

/**
 * A workflow that answers its version stamp, in the body (twice) and in a header, so an answer
 * mixing two versions shows. `extra` adds nodes in front of the answer (for diffs).
 */
export function stamped(id: string, path: string, stamp: string, options: { layout?: Record<string, { x: number; y: number }>; guard?: boolean } = {}) {
  const answer = { id: 'answer', kind: 'respond', config: { status: 200, headers: { 'x-stamp': stamp }, body: { v: stamp, again: stamp } } };
  if (!options.guard) return { id, name: `Stamped ${id}`, route: { methods: ['GET'], path }, nodes: [answer], edges: [], ...(options.layout ? { layout: options.layout } : {}) };
  return {
    id,
    name: `Stamped ${id}`,
    route: { methods: ['GET'], path },
    nodes: [
      { id: 'check', kind: 'condition', config: { when: 'request.query.deny = "1"' } },
      { id: 'deny', kind: 'error', config: { error: 'insufficient_scope' } },
      answer,
    ],
    edges: [
      { from: 'check', port: 'true', to: 'deny' },
      { from: 'check', port: 'false', to: 'answer' },
    ],
    ...(options.layout ? { layout: options.layout } : {}),
  };
}

/** A fragment that lets every request through its one exit, "ok" (`when` decides by which edge). */
export function passThrough(id: string, when = 'true') {
  return {
    id,
    name: `Pass ${id}`,
    exits: [{ name: 'ok' }],
    nodes: [{ id: 'check', kind: 'condition', config: { when } }],
    edges: [
      { from: 'check', port: 'true', to: 'ok' },
      { from: 'check', port: 'false', to: 'ok' },
    ],
  };
}

/** The stamp a gateway path answers with, checking the answer carries exactly one version's stamp. */
export async function stampOf(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return String(res.status);
  }
  const body = (await res.json()) as { v: string; again: string };
  const header = res.headers.get('x-stamp');
  if (body.v !== body.again || body.v !== header) throw new Error(`mixed answer: body ${JSON.stringify(body)}, header ${header}`);
  return body.v;
}

/** Polls `probe` until it returns something other than undefined, failing after the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until `path` answers `stamp` (publishing is acknowledged before this process swaps routes). */
export const untilStamp = (baseUrl: string, path: string, stamp: string) =>
  until(`${path} to answer ${stamp}`, async () => ((await stampOf(`${baseUrl}${path}`)) === stamp ? true : undefined));

/** Waits until this process serves the store's revision, and returns the status. */
export const untilApplied = (admin: Admin) =>
  until('the gateway to apply the store revision', async () => {
    const status = await admin('viewer', 'GET', '/status');
    return status.body.appliedRevision === status.body.revision ? status.body : undefined;
  });
