/**
 * The partner view of the portal, mounted at /portal/api/partner: a partner signs in with one of
 * its own credentials (an API key, or a JWT from its identity provider for the portal's
 * audience), then reads its subscriptions, keys, limits and usage, and the deprecations that
 * concern it, and rotates its own keys. It sees nothing of any other partner.
 *
 * Sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure over TLS), the session kept
 * server-side (files of the data directory, or Redis with REDIS_URL) for SLUICE_PORTAL_SESSION at most, and checked
 * again on every request: a revoked or expired key, a removed client id or a suspension ends it.
 * Changes need the session's CSRF token in a header and, when the browser sends one, an Origin of
 * this host. Failed sign-ins are counted per client address and refused past a bound, in the
 * rate-limit store (shared by the replicas through Redis when it is configured).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { parseDurationMs } from '../../shared/schema/duration.ts';
import type { PartnerRecord } from '../../shared/schema/partners.ts';
import { PARTNER_CSRF_HEADER, partnerSignInBodySchema, rotateOwnKeyBodySchema, type PartnerOverview, type PartnerSession, type RotatedOwnKey } from '../../shared/portal/partner.ts';
import { partnerView, type Partners } from '../admin/commands/partners.ts';
import { AdminError } from '../admin/errors.ts';
import type { CompiledWorkflow } from '../compile/types.ts';
import type { ClientAddress } from '../gateway/client-address.ts';
import { writeProblem, type ProblemRenderer } from '../gateway/problem.ts';
import { traceContextOf } from '../gateway/trace.ts';
import { hashApiKey } from '../kinds/api-key.ts';
import { keyRecordOf, type PartnerAccess } from '../kinds/support/partner-directory.ts';
import type { RateLimitStore } from '../kinds/support/rate-limit-store.ts';
import type { Store, StoreState } from '../store/types.ts';
import { createAttemptLimit } from '../admin/attempt-limit.ts';
import type { PartnerSessionRecord, PartnerSessionStore } from './partner-sessions.ts';
import type { VerifiedPortalToken } from './partner-token.ts';
import type { PartnerUsage } from './partner-usage.ts';

/** The session cookie: its value is the session's random id, nothing else. */
const PARTNER_SESSION_COOKIE = 'sluice_partner';
const COOKIE_PATH = '/portal';
/** Keys a partner may hold active at once through rotation (each rotation keeps the old one for the overlap). */
const MAX_ACTIVE_KEYS = 10;
/** The longest a rotation waits for this process to serve the new key before it answers anyway. */
const SETTLE_MS = 5_000;
/** Sign-ins one partner may make per window (per process): a valid credential cannot fill the session store. */
const MAX_SIGN_INS = 30;
const SIGN_IN_WINDOW_MS = 300_000;
/** What every refused sign-in says, whatever the reason: nothing tells whether a partner or key exists. */
const SIGN_IN_REFUSED = 'the credential is not valid, or it cannot sign in to the portal';

export interface PartnerPortalOptions {
  store: Store;
  partners: Partners;
  access: PartnerAccess;
  /** The workflows being served (names, routes and lifecycle as the gateway serves them; drafts never). */
  served: () => ReadonlyMap<string, CompiledWorkflow>;
  /** Verifies a bearer token for the portal; absent: token sign-in is off. */
  tokens: { verify(token: string): Promise<VerifiedPortalToken> } | undefined;
  sessions: PartnerSessionStore;
  usage: PartnerUsage;
  clients: ClientAddress;
  problems: () => ProblemRenderer;
  /** Resolves once this process serves store `revision` (a rotated key works at the gateway when the rotation answers). */
  applied: (revision: number) => Promise<void>;
  /** SLUICE_PORTAL_SESSION in ms. */
  sessionMs: number;
  /** SLUICE_PORTAL_MAX_OVERLAP in ms: the longest (and default) overlap of a partner's own rotation. */
  maxOverlapMs: number;
  /** Where sign-in attempts are counted (the gateway's rate-limit store: shared through Redis when configured). */
  rateLimits: RateLimitStore;
  /** Failed sign-ins one address may make per window before it is refused (429). */
  maxFailures?: number;
  failureWindowMs?: number;
  logger: Logger;
}

/** A session checked against the partner directory in force. */
interface LiveSession {
  id: string;
  record: PartnerSessionRecord;
}

class Refusal extends Error {
  constructor(
    readonly problem: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

function cookieOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === PARTNER_SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

function sessionCookie(req: Request, value: string, maxAgeSeconds: number): string {
  return `${PARTNER_SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`;
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function keyState(key: { revokedAt?: string | undefined; expiresAt?: string | undefined }, now: number) {
  if (key.revokedAt !== undefined) return 'revoked' as const;
  if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now) return 'expired' as const;
  return 'active' as const;
}

/** The partner portal's router; `session(req)` tells the rest of the portal who is signed in. */
export function createPartnerPortalApi(options: PartnerPortalOptions) {
  const { store, access, sessions, logger } = options;
  const failures = createAttemptLimit(options.rateLimits, { scope: 'portal/sign-in-failures', max: options.maxFailures ?? 10, windowMs: options.failureWindowMs ?? 300_000 });
  const signIns = createAttemptLimit(options.rateLimits, { scope: 'portal/sign-ins', max: MAX_SIGN_INS, windowMs: SIGN_IN_WINDOW_MS });
  const router = express.Router();
  const json = express.json({ limit: '20kb', type: 'application/json' });

  function refuse(req: Request, res: Response, id: string, reason: string, headers: Record<string, string> = {}) {
    const problems = options.problems();
    writeProblem(res, problems.render(problems.has(id) ? id : 'bad_request', { instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, params: { reason }, detail: reason }), { 'cache-control': 'no-store', ...headers });
  }

  /** The session of the request's cookie, if it is still good: its credential and partner are checked now, and a session that lost either is ended. */
  async function liveSession(req: Request): Promise<LiveSession | undefined> {
    const id = cookieOf(req);
    if (id === undefined) return undefined;
    const record = await sessions.get(id);
    if (record === undefined) return undefined;
    const directory = access.current;
    const partner = directory.partners.get(record.partner);
    const now = Date.now();
    let good = partner !== undefined && !partner.suspended && record.expiresAt > now;
    if (good && record.credential.kind === 'api-key') {
      const key = directory.keys.get(record.credential.keyId);
      good = key !== undefined && key.id === record.credential.keyId && key.partner === record.partner && key.expiresAt > now;
    } else if (good && record.credential.kind === 'token') good = directory.clients.get(record.credential.clientId) === record.partner;
    if (good) return { id, record };
    await sessions.delete(id);
    return undefined;
  }

  async function requireSession(req: Request): Promise<LiveSession> {
    const session = await liveSession(req);
    if (session === undefined) throw new Refusal('unauthorized', 'sign in first: no session, or it has ended');
    return session;
  }

  /** A change must come from this origin: an Origin (or Fetch Metadata) naming another is refused. */
  function checkOrigin(req: Request) {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `${req.protocol}://${req.host}`) throw new Refusal('forbidden', 'the request comes from another origin');
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new Refusal('forbidden', 'the request comes from another site');
  }

  /** A change within a session must carry the session's CSRF token. */
  function checkCsrf(req: Request, session: LiveSession) {
    checkOrigin(req);
    const sent = req.headers[PARTNER_CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, session.record.csrf)) throw new Refusal('forbidden', `send the session's CSRF token in the ${PARTNER_CSRF_HEADER} header`);
  }

  function bodyOf<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
    if (!req.is('application/json')) throw new Refusal('bad_request', 'send a JSON body (Content-Type: application/json)');
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) throw new Refusal('bad_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    return parsed.data;
  }

  /** Identifies the partner of a presented API key as the api-key node does: prefix lookup, hash comparison, not revoked, not expired. */
  function keyPartner(presented: string): { partner: string; keyId: string } | undefined {
    const hash = hashApiKey(presented); // hashed whether or not the prefix names a key: no timing difference
    const key = keyRecordOf(access.current, presented);
    if (key === undefined || key.hash !== hash || key.expiresAt <= Date.now()) return undefined;
    return { partner: key.partner, keyId: key.id };
  }

  const sessionAnswer = (record: PartnerSessionRecord, name: string): PartnerSession => ({
    partner: { id: record.partner, name },
    credential: record.credential,
    expiresAt: new Date(record.expiresAt).toISOString(),
    csrfToken: record.csrf,
  });

  const nameOf = (state: StoreState, id: string) => (Object.hasOwn(state.partners ?? {}, id) ? state.partners[id]!.name : id);

  /** Runs a handler; refusals and admin errors become problem+json, anything else a 500 logged without the request's body. */
  const handle = (run: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      res.set('cache-control', 'no-store');
      await run(req, res);
    } catch (error) {
      if (error instanceof Refusal) return refuse(req, res, error.problem, error.reason, error.headers);
      if (error instanceof AdminError) return refuse(req, res, error.code, error.message);
      logger.error({ err: error, path: req.path }, 'partner portal request failed');
      refuse(req, res, 'internal_error', 'the portal failed to answer');
    }
  };

  router.post(
    '/session',
    json,
    handle(async (req, res) => {
      const client = options.clients.of(req);
      const wait = await failures.refusedFor(client);
      if (wait !== undefined) throw new Refusal('too_many_attempts', `too many failed sign-ins from this address; retry after ${wait} seconds`, { 'retry-after': String(wait) });
      checkOrigin(req);
      let body;
      try {
        body = bodyOf(req, partnerSignInBodySchema);
      } catch (error) {
        await failures.count(client);
        throw error;
      }
      let signedIn: { partner: string; credential: PartnerSessionRecord['credential']; until: number } | undefined;
      if ('apiKey' in body) {
        const found = keyPartner(body.apiKey);
        if (found !== undefined) signedIn = { partner: found.partner, credential: { kind: 'api-key', keyId: found.keyId }, until: Infinity };
      } else if (options.tokens !== undefined) {
        const verified = await options.tokens.verify(body.token);
        if (!verified.ok && verified.reason === 'unavailable') throw new Refusal('keys_unavailable', 'the identity provider\'s keys cannot be fetched now');
        if (verified.ok) signedIn = { partner: verified.partner, credential: { kind: 'token', issuer: verified.issuer, clientId: verified.clientId }, until: verified.expiresAt };
      }
      const partner = signedIn === undefined ? undefined : access.current.partners.get(signedIn.partner);
      const now = Date.now();
      if (signedIn === undefined || partner === undefined || partner.suspended || signedIn.until <= now) {
        await failures.count(client);
        logger.warn({ client, credential: 'apiKey' in body ? 'api-key' : 'token' }, 'partner portal sign-in refused');
        throw new Refusal('unauthorized', SIGN_IN_REFUSED);
      }
      const busy = await signIns.refusedFor(signedIn.partner);
      if (busy !== undefined) throw new Refusal('too_many_attempts', `too many sign-ins of this partner; retry after ${busy} seconds`, { 'retry-after': String(busy) });
      await signIns.count(signedIn.partner);
      const id = randomBytes(32).toString('base64url');
      const record: PartnerSessionRecord = { partner: signedIn.partner, credential: signedIn.credential, csrf: randomBytes(32).toString('base64url'), expiresAt: Math.min(now + options.sessionMs, signedIn.until) };
      await sessions.put(id, record);
      logger.info({ partner: record.partner, credential: record.credential.kind, client }, 'partner portal sign-in');
      res.set('set-cookie', sessionCookie(req, id, Math.max(1, Math.floor((record.expiresAt - now) / 1000))));
      res.status(201).json(sessionAnswer(record, nameOf(await store.state(), record.partner)));
    }),
  );

  router.get(
    '/session',
    handle(async (req, res) => {
      const session = await requireSession(req);
      res.json(sessionAnswer(session.record, nameOf(await store.state(), session.record.partner)));
    }),
  );

  router.delete(
    '/session',
    handle(async (req, res) => {
      const session = await liveSession(req);
      if (session !== undefined) {
        checkCsrf(req, session);
        await sessions.delete(session.id);
      }
      res.set('set-cookie', sessionCookie(req, '', 0));
      res.status(204).end();
    }),
  );

  router.get(
    '/overview',
    handle(async (req, res) => {
      const session = await requireSession(req);
      const state = await store.state();
      const partner = Object.hasOwn(state.partners ?? {}, session.record.partner) ? state.partners[session.record.partner] : undefined;
      if (partner === undefined) throw new Refusal('unauthorized', 'sign in first: no session, or it has ended');
      res.json(await overviewOf(state, partner, session.record));
    }),
  );

  router.post(
    '/keys/:key/rotate',
    json,
    handle(async (req, res) => {
      const session = await requireSession(req);
      checkCsrf(req, session);
      const body = bodyOf(req, rotateOwnKeyBodySchema);
      const overlapMs = body.overlap === undefined ? options.maxOverlapMs : parseDurationMs(body.overlap)!;
      if (overlapMs > options.maxOverlapMs) throw new Refusal('validation_failed', `overlap: at most ${options.maxOverlapMs / 1000} seconds (SLUICE_PORTAL_MAX_OVERLAP)`);
      const partnerId = session.record.partner;
      const keyId = String(req.params.key);
      const before = (await store.state()).partners?.[partnerId];
      const now = Date.now();
      // only the partner's own keys are looked at: another partner's key id is "not found" here
      if (before === undefined || !before.keys.some((k) => k.id === keyId)) throw new Refusal('not_found', `you have no key "${keyId.slice(0, 64)}"`);
      if (before.keys.filter((k) => keyState(k, now) === 'active').length >= MAX_ACTIVE_KEYS) throw new Refusal('conflict', `you hold ${MAX_ACTIVE_KEYS} active keys, the most a rotation leaves; rotate again once an old key has stopped`);
      const created = await options.partners.rotateOwnKey({ name: `partner:${partnerId}`, role: 'partner' }, partnerId, keyId, overlapMs);
      const after = await store.state();
      await settle(after.revision);
      const old = after.partners[partnerId]?.keys.find((k) => k.id === keyId);
      logger.info({ partner: partnerId, replaced: keyId, key: created.id }, 'partner rotated its key in the portal');
      const answer: RotatedOwnKey = {
        key: created.key,
        id: created.id,
        prefix: created.prefix,
        scopes: created.scopes,
        createdAt: created.createdAt,
        ...(created.expiresAt === undefined ? {} : { expiresAt: created.expiresAt }),
        replaced: { id: keyId, expiresAt: old?.expiresAt ?? new Date(now + overlapMs).toISOString() },
      };
      res.status(201).json(answer);
    }),
  );

  router.use(
    handle(async () => {
      throw new Refusal('not_found', 'no such partner portal endpoint');
    }),
  );

  async function settle(revision: number) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([options.applied(revision), new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
    clearTimeout(timer);
  }

  /** Everything the partner may see of itself, and nothing of anyone else. */
  async function overviewOf(state: StoreState, partner: PartnerRecord, session: PartnerSessionRecord): Promise<PartnerOverview> {
    const now = Date.now();
    const served = options.served();
    const directory = access.current;
    const limits = directory.partners.get(partner.id)?.limits ?? new Map();
    const plan = partner.plan !== undefined && Object.hasOwn(state.plans ?? {}, partner.plan) ? state.plans[partner.plan]! : undefined;

    // usage once per distinct window of the partner's limits
    const windows = new Set([...limits.values()].map((l) => l.windowMs));
    const usageByWindow = new Map<number, Awaited<ReturnType<PartnerUsage>>>();
    for (const windowMs of windows) usageByWindow.set(windowMs, await options.usage(partner.id, windowMs, now));
    const source = usageByWindow.size === 0 ? (await options.usage(partner.id, 60_000, now)).source : [...usageByWindow.values()][0]!.source;

    const lifecycleOf = (workflowId: string) => {
      const record = state.workflows.get(workflowId);
      const version = record?.active === undefined ? undefined : record.versions.find((v) => v.version === record.active);
      if (version === undefined) return { version: null, state: 'unpublished' as const };
      return {
        version: version.version,
        state: version.retired ? ('retired' as const) : version.deprecated ? ('deprecated' as const) : ('active' as const),
        ...(version.deprecated ? { deprecatedAt: version.deprecated.at, ...(version.deprecated.sunset ? { sunset: version.deprecated.sunset } : {}) } : {}),
        ...(version.retired ? { retiredAt: version.retired.at } : {}),
      };
    };
    const describe = (workflowId: string) => {
      const document = served.get(workflowId)?.graph.document;
      return { name: document?.name ?? workflowId, route: document === undefined ? null : { methods: [...document.route.methods], path: document.route.path } };
    };

    const deprecations = new Map<string, PartnerOverview['deprecations'][number]>();
    const subscriptions = partner.products
      .filter((p) => Object.hasOwn(state.products ?? {}, p))
      .map((productId) => {
        const product = state.products[productId]!;
        return {
          id: product.id,
          name: product.name,
          description: product.description,
          workflows: product.workflows.map((workflowId) => {
            const lifecycle = lifecycleOf(workflowId);
            const { name, route } = describe(workflowId);
            const limit = limits.get(workflowId);
            const counted = limit === undefined ? undefined : usageByWindow.get(limit.windowMs);
            const used = counted?.byWorkflow.get(workflowId);
            if (lifecycle.state === 'deprecated' || lifecycle.state === 'retired') {
              const known = deprecations.get(workflowId);
              if (known) known.products.push(product.id);
              else deprecations.set(workflowId, { workflow: workflowId, name, products: [product.id], ...lifecycle });
            }
            return {
              id: workflowId,
              name,
              route,
              ...lifecycle,
              limit: limit === undefined ? null : { limit: limit.limit, window: limit.window, source: Object.hasOwn(partner.limits, limit.product) ? ('override' as const) : ('plan' as const) },
              usage: limit === undefined || counted === undefined || counted.source === 'none' ? null : { requests: used?.requests ?? 0, limited: used?.limited ?? 0, windowSeconds: limit.windowMs / 1000 },
            };
          }),
        };
      });

    const view = partnerView(partner, (keyId) => access.lastUsed.get(keyId), now);
    return {
      partner: { id: partner.id, name: partner.name, status: partner.status, contacts: [...partner.contacts] },
      plan: plan === undefined ? null : { id: plan.id, name: plan.name },
      subscriptions,
      keys: view.keys.map((k) => ({
        id: k.id,
        prefix: k.prefix,
        scopes: [...k.scopes],
        createdAt: k.createdAt,
        ...(k.expiresAt === undefined ? {} : { expiresAt: k.expiresAt }),
        ...(k.revokedAt === undefined ? {} : { revokedAt: k.revokedAt }),
        state: k.state,
        lastUsedAt: k.lastUsedAt,
        current: session.credential.kind === 'api-key' && session.credential.keyId === k.id,
      })),
      deprecations: [...deprecations.values()],
      usage: { source, to: new Date(now).toISOString() },
      session: { expiresAt: new Date(session.expiresAt).toISOString() },
      rotation: { maxOverlapSeconds: options.maxOverlapMs / 1000 },
    };
  }

  return {
    router,
    /**
     * The partner signed in on this request, as the rest of the portal names its viewer (a partner
     * session reads the catalog of a sign-in portal); an admin token sent with it is asked instead.
     */
    async viewer(req: Request): Promise<{ kind: 'partner'; id: string; name: string } | undefined> {
      if (req.headers.authorization !== undefined) return undefined;
      const session = await liveSession(req);
      if (session === undefined) return undefined;
      return { kind: 'partner', id: session.record.partner, name: nameOf(await store.state(), session.record.partner) };
    },
    close: () => sessions.close?.(),
  };
}

export type PartnerPortal = ReturnType<typeof createPartnerPortalApi>;

