import { z } from 'zod';

/** HTTP methods a workflow route can answer. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Ids of workflows and nodes: url-safe, short, stable. */
export const idSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 chars of a-z, 0-9, "-" or "_", starting with a letter or digit');

const ROUTE_SEGMENT = String.raw`(?:(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*)`;
/** `/`, `/*`, or segments with an optional trailing `/*`. Literal "." and ".." segments never match a request, so they are refused. */
const ROUTE_PATH = new RegExp(String.raw`^/(?:${ROUTE_SEGMENT}(?:/${ROUTE_SEGMENT})*(?:/\*)?|\*)?$`);

/** A route path: literal segments, `:param` segments, and an optional trailing `*`. */
const routePathSchema = z
  .string()
  .max(512)
  .regex(ROUTE_PATH, 'must look like /api/orders/:id (literal or :param segments, optional trailing /*)')
  .refine((path) => {
    const names = path.match(/:[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
    return new Set(names).size === names.length;
  }, 'each :param name may appear once')
  .meta({ description: 'Path pattern; `:name` captures a segment into request.params, a trailing `/*` matches the rest.' });

/** A host a route answers: `api.example.com`, or `*.example.com` for its subdomains (lower case, no port). */
const routeHostSchema = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a host name in lower case (api.example.com) or *.example.com, without a port');
const headerNameSchema = z.string().max(200).regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a header name in lower case');

export const routeSchema = z
  .object({
    methods: z.array(z.enum(HTTP_METHODS)).min(1).meta({ description: 'HTTP methods this workflow answers.' }),
    path: routePathSchema,
    hosts: z
      .array(routeHostSchema)
      .min(1)
      .max(50)
      .optional()
      .meta({ description: 'Answer only requests for these hosts (the Host header, port aside); `*.example.com` matches its subdomains. An exact host wins over a wildcard; a route without hosts answers any host.' }),
    headers: z
      .record(headerNameSchema, z.string().max(500))
      .refine((h) => Object.keys(h).length >= 1 && Object.keys(h).length <= 10, 'name 1 to 10 headers')
      .optional()
      .meta({ description: 'Answer only requests carrying these headers with exactly these values (e.g. {"x-api-version": "2"}); among routes of one path, the one with more header conditions wins.' }),
  })
  .strict();

export const workflowNodeSchema = z
  .object({
    id: idSchema,
    kind: z.string().min(1).meta({ description: 'Node kind, e.g. jwt-verify.' }),
    label: z.string().max(200).optional(),
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const workflowEdgeSchema = z
  .object({
    from: idSchema,
    port: z.string().min(1).max(64),
    to: idSchema,
  })
  .strict();

const positionSchema = z.object({ x: z.number(), y: z.number() }).strict();

/**
 * Claims of a demo token minted when the request runs (sent as `Authorization: Bearer …`), so a
 * saved request never holds a token that expires.
 */
export const demoTokenSchema = z
  .object({
    sub: z.string().min(1).max(200),
    scopes: z.array(z.string().min(1).max(200)).max(100).default([]),
    partner: z.string().min(1).max(200).optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .meta({ description: 'A token for the demo issuer with these claims, minted at run time.' });

/**
 * A stand-in for an API key, so a saved request never holds one: the run mints a key with the same
 * partner and scopes as the named one and sends it in `header`.
 */
export const apiKeyReferenceSchema = z
  .object({
    key: z.string().min(1).max(200).optional().meta({ description: 'The id of a registered partner\'s key (source "partners"), looked up in the store when the request runs.' }),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex>').optional().meta({ description: 'An inline key of an api-key node of this workflow, by its hash.' }),
    header: z.string().min(1).max(200).optional().meta({ description: 'Header to send the key in; the api-key node\'s header (x-api-key) when absent.' }),
  })
  .strict()
  .refine((r) => (r.key === undefined) !== (r.hash === undefined), 'name either a partner key ("key") or an inline key ("hash")')
  .meta({ description: 'An API key minted for the run with the partner and scopes of the named key; the key itself is never stored.' });

const partnerRefSchema = z.string().min(1).max(200).meta({ description: 'The id of a registered partner, looked up in the store when the request runs.' });

/**
 * Runs the request as a registered partner's client certificate (client-cert nodes): the run
 * presents a verified certificate matching the partner's registered record, so a saved request
 * holds only the reference.
 */
export const clientCertReferenceSchema = z
  .object({
    partner: partnerRefSchema,
    certificate: z.string().min(1).max(200).optional().meta({ description: 'The id of one of the partner\'s registered certificates; absent: the first one the workflow\'s client-cert nodes match.' }),
  })
  .strict()
  .meta({ description: 'A verified client certificate matching a registered partner\'s certificate, presented by the run.' });

/**
 * Runs the request signed as a registered partner (hmac-verify nodes): the run mints an HMAC
 * secret for the partner, for this run only, and signs the request as the node expects; the
 * partner's own secrets are never used.
 */
export const hmacReferenceSchema = z
  .object({ partner: partnerRefSchema })
  .strict()
  .meta({ description: 'An HMAC signature by a secret minted for the run and mapped to this partner; the partner\'s own secrets are never used.' });

/**
 * Runs the request with an opaque token the authorization server would vouch for as this partner
 * (introspect nodes): the run points the nodes at a loopback stand-in answering `active: true`
 * with the partner's client id, these scopes and this subject; the real server is never called.
 */
export const introspectedReferenceSchema = z
  .object({
    partner: partnerRefSchema,
    scopes: z.array(z.string().min(1).max(200)).max(100).optional().meta({ description: 'Scopes the stand-in authorization server grants (`scope`).' }),
    sub: z.string().min(1).max(200).optional().meta({ description: 'The subject it names (`sub`); `preview-<partner>` when absent.' }),
  })
  .strict()
  .meta({ description: 'A token the introspect nodes find active for this partner, answered by a stand-in authorization server for the run.' });

/** A sample request and what the workflow must answer; run by `sluice test` and before publishing. */
const workflowTestSchema = z
  .object({
    name: z.string().min(1).max(200),
    request: z
      .object({
        method: z.enum(HTTP_METHODS).default('GET'),
        path: z.string().startsWith('/').max(4000),
        headers: z.record(z.string(), z.string()).optional(),
        query: z.record(z.string(), z.string()).optional().meta({ description: 'Merged into the query string of the path.' }),
        body: z.unknown().optional(),
        token: demoTokenSchema.optional(),
        apiKey: apiKeyReferenceSchema.optional(),
        clientCert: clientCertReferenceSchema.optional(),
        hmac: hmacReferenceSchema.optional(),
        introspected: introspectedReferenceSchema.optional(),
      })
      .strict(),
    upstream: z
      .object({
        status: z.number().int().min(100).max(599).default(200),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.unknown().optional(),
      })
      .strict()
      .optional(),
    expect: z
      .object({
        status: z.number().int().min(100).max(599),
        type: z.string().optional(),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();

/** Members a workflow adds to its request log lines: opt-in, one named JSONata expression per field. */
const workflowLogSchema = z
  .object({
    fields: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be an identifier of up to 64 characters'), z.string().min(1).max(2000))
      .refine((fields) => Object.keys(fields).length <= 20, 'at most 20 fields')
      .default({})
      .meta({
        description:
          'Extra members of this workflow\'s request log line (under "fields"), each a JSONata expression over the exchange (request, response, claims, partner, subject, vars), evaluated after the answer. Nothing else from a request is ever logged: a header, token or body appears only if a field selects it.',
      }),
  })
  .strict();

/** A saved sample request of the editor's preview: a request and, optionally, the upstream's mocked answer. */
const workflowSampleSchema = workflowTestSchema.pick({ name: true, request: true, upstream: true });

/** The most nodes a workflow may ever have; SLUICE_MAX_NODES (see limits.ts) sets the working bound below it. */
export const MAX_NODES = 10_000;
/** The most edges a workflow may ever have; SLUICE_MAX_EDGES sets the working bound below it. */
export const MAX_EDGES = 20_000;

export const workflowDocumentSchema = z
  .object({
    $schema: z.string().optional(),
    id: idSchema,
    name: z.string().min(1).max(200),
    description: z.string().max(4000).optional(),
    route: routeSchema,
    start: idSchema.optional().meta({ description: 'First node; defaults to the one node without incoming edges.' }),
    nodes: z.array(workflowNodeSchema).min(1).max(MAX_NODES),
    edges: z.array(workflowEdgeSchema).max(MAX_EDGES).default([]),
    layout: z.record(z.string(), positionSchema).default({}).meta({ description: 'Editor positions by node id; ignored by the engine.' }),
    tests: z.array(workflowTestSchema).max(500).default([]).meta({ description: 'Run by `sluice test` and before every publish; a failing test refuses the publish.' }),
    samples: z.array(workflowSampleSchema).max(200).default([]).meta({ description: 'Sample requests saved from the editor\'s preview.' }),
    log: workflowLogSchema.optional(),
  })
  .strict()
  .meta({ title: 'Sluice workflow', description: 'A gateway workflow: a graph of nodes run on every request to its route.' });

export type WorkflowDocument = z.infer<typeof workflowDocumentSchema>;
export type WorkflowNode = z.infer<typeof workflowNodeSchema>;
export type WorkflowEdge = z.infer<typeof workflowEdgeSchema>;
export type WorkflowTest = z.infer<typeof workflowTestSchema>;
export type Route = z.infer<typeof routeSchema>;
