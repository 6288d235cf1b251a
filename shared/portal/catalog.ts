/**
 * The portal's answers (GET /portal/api/...): the published catalog of API products as the
 * gateway serves it. Only what is served and part of a product is here: never a draft, never a
 * workflow's internal settings (upstream URLs, expressions, secret references, node ids).
 */
import { z } from 'zod';

/** SLUICE_PORTAL: who may read the portal. */
export const PORTAL_MODES = ['public', 'sign-in', 'off'] as const;
export type PortalMode = (typeof PORTAL_MODES)[number];

/** How a caller proves who they are to a workflow, read from its identity nodes. */
const portalCredentialSchema = z.object({
  kind: z.enum(['jwt', 'oauth-token', 'api-key', 'client-certificate', 'hmac-signature']).meta({ description: 'jwt (jwt-verify), oauth-token (introspect), api-key, client-certificate (client-cert), hmac-signature (hmac-verify).' }),
  /** Where it is sent, in words: `Authorization: Bearer <token>`, `header x-api-key`, `query api_key`. */
  sent: z.string(),
});
export type PortalCredential = z.infer<typeof portalCredentialSchema>;

/** The version's lifecycle as the gateway serves it: the Deprecation and Sunset headers it sends, or 410 once retired. */
const portalLifecycleSchema = z.object({
  state: z.enum(['active', 'deprecated', 'retired']),
  deprecatedAt: z.string().optional(),
  sunset: z.string().optional(),
  retiredAt: z.string().optional(),
  /** The lifecycle headers on every answer of the version (`deprecation: @<unix time>`, `sunset: <HTTP date>`). */
  headers: z.record(z.string(), z.string()),
});
export type PortalLifecycle = z.infer<typeof portalLifecycleSchema>;

/** A served workflow as a product lists it. */
const portalWorkflowSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  methods: z.array(z.string()),
  path: z.string(),
  /** The version the gateway serves. */
  version: z.number().int(),
  publishedAt: z.string(),
  /** Any one of these identifies the caller (several identity nodes: one per branch). */
  credentials: z.array(portalCredentialSchema),
  /** Scopes the caller's credential must hold: every one of `all` and one of `any`. */
  scopes: z.object({ all: z.array(z.string()), any: z.array(z.string()) }),
  lifecycle: portalLifecycleSchema,
  /** The products that include it. */
  products: z.array(z.string()),
});
export type PortalWorkflowSummary = z.infer<typeof portalWorkflowSummarySchema>;

/** A rate limit a plan grants on a product. */
const portalLimitSchema = z.object({ limit: z.number().int(), window: z.string(), tokens: z.object({ limit: z.number().int(), window: z.string() }).optional() });

const portalPlanSchema = z.object({ id: z.string(), name: z.string(), limit: portalLimitSchema });

const portalProductSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  workflows: z.array(portalWorkflowSummarySchema),
  /** The plans that set a limit on this product, with that limit. */
  plans: z.array(portalPlanSchema),
});
export type PortalProduct = z.infer<typeof portalProductSchema>;

/** A preview of the portal as it will look after a pending publish (a publisher's token only). */
const portalPreviewSchema = z.object({
  workflow: z.string(),
  /** What is previewed: the publish waiting for approval, else the draft. */
  source: z.enum(['pending-approval', 'draft']),
  /** The contract change against the version serving, in words. */
  summary: z.string(),
});
export type PortalPreview = z.infer<typeof portalPreviewSchema>;

/** GET /portal/api/catalog: every product with at least one served workflow. */
export const portalCatalogSchema = z.object({ products: z.array(portalProductSchema), preview: portalPreviewSchema.optional() });
export type PortalCatalog = z.infer<typeof portalCatalogSchema>;

/** One answer of the reference: no node ids, no expressions; the example body as the gateway sends it. */
const portalAnswerSchema = z.object({
  status: z.number().int(),
  /** The problem type (absent for a workflow's own answer, such as a mock). */
  type: z.string().optional(),
  title: z.string(),
  /** When it happens, in words. */
  condition: z.string(),
  headers: z.record(z.string(), z.string()),
  example: z.unknown(),
  /** The portal page of its problem type. */
  problemPage: z.string().optional(),
});
export type PortalAnswer = z.infer<typeof portalAnswerSchema>;

/** GET /portal/api/workflows/:id: a served workflow's reference. */
export const portalReferenceSchema = z.object({
  workflow: portalWorkflowSummarySchema,
  answers: z.array(portalAnswerSchema),
  /** The same as OpenAPI 3.1 (also at /portal/api/workflows/:id/openapi.json). */
  openapi: z.record(z.string(), z.unknown()),
  preview: portalPreviewSchema.optional(),
});
export type PortalReference = z.infer<typeof portalReferenceSchema>;

const portalChangeSchema = z.object({ status: z.number().int(), type: z.string().optional(), title: z.string(), condition: z.string() });

/** One dated change of a product's reference: a version published (with its contract change), deprecated or retired. */
const portalChangelogEntrySchema = z.object({
  workflow: z.string(),
  workflowName: z.string(),
  version: z.number().int(),
  event: z.enum(['published', 'deprecated', 'retired']),
  at: z.string(),
  sunset: z.string().optional(),
  added: z.array(portalChangeSchema),
  removed: z.array(portalChangeSchema),
  changed: z.array(z.object({ before: portalChangeSchema, after: portalChangeSchema })),
  summary: z.string(),
});
export type PortalChangelogEntry = z.infer<typeof portalChangelogEntrySchema>;

/** GET /portal/api/changelog/:product: newest first. */
export const portalChangelogSchema = z.object({ product: z.string(), name: z.string(), entries: z.array(portalChangelogEntrySchema), preview: portalPreviewSchema.optional() });
export type PortalChangelog = z.infer<typeof portalChangelogSchema>;

/** GET /portal/problems/:slug (Accept: application/json): a problem type of the catalog. */
export const portalProblemSchema = z.object({
  /** The path segment naming it on the portal. */
  slug: z.string(),
  id: z.string(),
  type: z.string(),
  status: z.number().int(),
  title: z.string(),
  /** The detail template: `{name}` is filled in by the node that raises it. */
  detail: z.string(),
  /** The published workflows that can answer with it. */
  workflows: z.array(z.object({ id: z.string(), name: z.string() })),
});
export type PortalProblem = z.infer<typeof portalProblemSchema>;

/** GET /portal/api/session: the portal's mode and who the caller is to it. */
export const portalSessionSchema = z.object({
  mode: z.enum(PORTAL_MODES),
  /** `anonymous` in public mode without a credential; `admin` with an admin token (role given); `partner` with a partner's portal session (/portal/partner). */
  viewer: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('anonymous') }),
    z.object({ kind: z.literal('admin'), name: z.string(), role: z.string() }),
    z.object({ kind: z.literal('partner'), id: z.string(), name: z.string() }),
  ]),
});
export type PortalSession = z.infer<typeof portalSessionSchema>;
