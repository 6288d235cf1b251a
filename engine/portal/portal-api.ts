/**
 * The developer portal under /portal: its pages (the editor build's second entry, portal.html),
 * the OpenAPI renderer served from its package (never a CDN), problem type pages that answer JSON
 * to machines, and its JSON under /portal/api. SLUICE_PORTAL says who may read it; a preview of a
 * pending publish needs a token of a role that may publish.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { allows, type Identity } from '../../shared/admin/index.ts';
import type { PortalMode, PortalSession } from '../../shared/portal/index.ts';
import { ROOT } from '../config.ts';
import { AdminError } from '../admin/errors.ts';
import { writeProblem, type ProblemRenderer } from '../gateway/problem.ts';
import { traceContextOf } from '../gateway/trace.ts';
import type { createPublishedCatalog, PreviewVersion } from './published.ts';

/** Who reads the portal: nobody in particular, or the holder of an admin token (partner sessions join here). */
type PortalViewer = PortalSession['viewer'];

export interface PortalOptions {
  mode: Exclude<PortalMode, 'off'>;
  published: ReturnType<typeof createPublishedCatalog>;
  /** The admin API's token check (with its lockout by client address): throws AdminError. */
  authenticate(authorization: string | undefined, client?: string): Promise<Identity>;
  clientAddress(req: Request): string;
  problems: () => ProblemRenderer;
  /**
   * Further ways a request names its viewer, asked first, in order (a partner's session): one
   * that answers undefined leaves the request to the next, and to the admin token last.
   */
  viewers?: ReadonlyArray<(req: Request) => Promise<PortalViewer | undefined> | PortalViewer | undefined>;
}

/** The built portal page; a note when the editor build has not run. */
const PORTAL_HTML = join(ROOT, 'editor', 'dist', 'portal.html');
/** Scalar's browser bundle, served from the installed package (beside its main module, dist/index.js); undefined when it is not installed. */
function scalarBundle(): string | undefined {
  try {
    const bundle = join(dirname(fileURLToPath(import.meta.resolve('@scalar/api-reference'))), 'browser', 'standalone.js');
    return existsSync(bundle) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The portal's pages may load nothing but this origin's scripts, styles, fonts and data: no CDN, no
 * font service, no telemetry, even if the renderer tried. Scalar sets inline styles.
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

interface PortalLocals {
  viewer: PortalViewer;
  preview: PreviewVersion | undefined;
}

/** The router of /portal. */
export function createPortalRouter(options: PortalOptions): express.Router {
  const router = express.Router();
  const { published } = options;

  const problem = (req: Request, res: Response, error: AdminError) => {
    if (error.code === 'unauthorized') res.set('www-authenticate', 'Bearer realm="sluice-portal"');
    if (error.code === 'too_many_attempts') res.set('retry-after', String(error.extra?.retryAfter ?? 60));
    const extensions = error.problems ? { problems: error.problems } : undefined;
    writeProblem(res, options.problems().render(error.code, { instance: req.originalUrl.split('?')[0]!, traceId: traceContextOf(req.headers.traceparent, undefined).traceId, params: { reason: error.message }, detail: error.message, ...(extensions ? { extensions } : {}) }));
  };

  async function viewerOf(req: Request): Promise<PortalViewer> {
    for (const viewer of options.viewers ?? []) {
      const found = await viewer(req);
      if (found) return found;
    }
    if (req.headers.authorization === undefined) return { kind: 'anonymous' };
    const identity = await options.authenticate(req.headers.authorization, options.clientAddress(req));
    return { kind: 'admin', name: identity.name, role: identity.role };
  }

  const notFound = (what: string) => new AdminError('not_found', `no published ${what}`);
  /**
   * The catalog's problem types as `req`'s reader may see them: public in every mode (every caller
   * of the gateway is sent them), but which published workflows answer with each is the catalog's
   * to tell, so a sign-in portal tells it to signed-in readers only.
   */
  async function problemsFor(req: Request) {
    const problems = await published.problems();
    if (options.mode === 'public' || (await viewerOf(req)).kind !== 'anonymous') return problems;
    return problems.map((p) => ({ ...p, workflows: [] }));
  }
  async function problemOf(req: Request, slug: string) {
    const found = (await problemsFor(req)).find((p) => p.slug === slug);
    if (!found) throw notFound(`problem type "${slug}"`);
    return found;
  }

  /** Wraps a handler: AdminErrors answer as problems, anything else as internal_error. */
  const handle = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((error: unknown) => (error instanceof AdminError ? problem(req, res, error) : next(error)));
  };

  router.use((_req, res, next) => {
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'same-origin');
    next();
  });

  router.get(
    '/api/session',
    handle(async (req, res) => {
      res.set('cache-control', 'no-store').json({ mode: options.mode, viewer: await viewerOf(req) } satisfies PortalSession);
    }),
  );

  // Problem types are public in every mode (problemsFor).
  router.get(
    '/api/problems',
    handle(async (req, res) => {
      res.set('cache-control', 'no-store').json({ problems: await problemsFor(req) });
    }),
  );
  router.get(
    '/api/problems/:slug',
    handle(async (req, res) => {
      res.set('cache-control', 'no-store').json(await problemOf(req, String(req.params.slug)));
    }),
  );

  /** Every other answer of /portal/api: who asks, whether they may, and the preview they may ask for. */
  async function gate(req: Request, res: Response): Promise<void> {
    res.set('cache-control', 'no-store');
    const viewer = await viewerOf(req);
    if (options.mode === 'sign-in' && viewer.kind === 'anonymous') throw new AdminError('unauthorized', 'this portal is for signed-in readers: send an admin token as "Authorization: Bearer <token>"');
    const asked = req.query.preview;
    let preview: PreviewVersion | undefined;
    if (asked !== undefined) {
      if (typeof asked !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(asked)) throw new AdminError('bad_request', 'preview names one workflow id');
      if (viewer.kind !== 'admin') throw new AdminError('unauthorized', 'a preview needs the token of a publisher: send it as "Authorization: Bearer <token>"');
      if (!allows(viewer.role as Identity['role'], 'publish')) throw new AdminError('forbidden', `role ${viewer.role} may not preview unpublished changes: a preview shows what only a publisher may make public`);
      preview = await published.preview(asked);
    }
    res.locals.portal = { viewer, preview } satisfies PortalLocals;
  }
  router.use('/api', (req, res, next) => {
    gate(req, res).then(
      () => next(),
      (error: unknown) => (error instanceof AdminError ? problem(req, res, error) : next(error)),
    );
  });

  const locals = (res: Response) => res.locals.portal as PortalLocals;

  router.get(
    '/api/catalog',
    handle(async (_req, res) => {
      res.json(await published.catalog(locals(res).preview));
    }),
  );
  router.get(
    '/api/products/:id',
    handle(async (req, res) => {
      const product = await published.product(String(req.params.id), locals(res).preview);
      if (!product) throw notFound(`product "${String(req.params.id)}"`);
      res.json(product);
    }),
  );
  router.get(
    '/api/workflows/:id',
    handle(async (req, res) => {
      const reference = await published.reference(String(req.params.id), locals(res).preview);
      if (!reference) throw notFound(`workflow "${String(req.params.id)}"`);
      res.json(reference);
    }),
  );
  router.get(
    '/api/workflows/:id/openapi.json',
    handle(async (req, res) => {
      const reference = await published.reference(String(req.params.id), locals(res).preview);
      if (!reference) throw notFound(`workflow "${String(req.params.id)}"`);
      res.json(reference.openapi);
    }),
  );
  router.get(
    '/api/changelog/:product',
    handle(async (req, res) => {
      const changelog = await published.changelog(String(req.params.product), locals(res).preview);
      if (!changelog) throw notFound(`product "${String(req.params.product)}"`);
      res.json(changelog);
    }),
  );
  router.use('/api', (req, res) => problem(req, res, new AdminError('not_found', 'no such portal endpoint')));

  // Scalar's bundle from its package: the reference pages load nothing from elsewhere.
  const scalar = scalarBundle();
  router.get('/assets/scalar.js', (req, res) => {
    if (scalar === undefined) return problem(req, res, new AdminError('not_found', 'the reference renderer (@scalar/api-reference) is not installed'));
    res.set('cache-control', 'public, max-age=3600').type('text/javascript').sendFile(scalar);
  });
  router.use('/assets', (req, res) => problem(req, res, new AdminError('not_found', 'no such portal asset')));

  const page = (_req: Request, res: Response) => {
    res.set('content-security-policy', CONTENT_SECURITY_POLICY).set('cache-control', 'no-cache');
    if (existsSync(PORTAL_HTML)) res.type('html').send(readFileSync(PORTAL_HTML, 'utf8'));
    else res.type('text').status(503).send('The portal is not built: run `npm run build`.');
  };

  /**
   * A problem type's URI answers people with its page and machines with JSON (RFC 9457 types are
   * meant to be dereferenced). Public in every mode: every caller of the gateway is sent these types.
   */
  router.get(
    '/problems/:slug',
    handle(async (req, res) => {
      res.vary('accept');
      if (req.accepts(['html', 'json', 'application/problem+json']) === 'html') return page(req, res);
      res.set('cache-control', 'no-store').json(await problemOf(req, String(req.params.slug)));
    }),
  );
  router.get(['/', '/{*page}'], page);
  return router;
}
