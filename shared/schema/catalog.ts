import { z } from 'zod';

/** The base of the shipped catalog's problem types (examples/errors.json): a placeholder host, which SLUICE_PROBLEM_BASE moves. */
export const BUILTIN_PROBLEM_BASE = 'https://problems.sluice.example/';

/** Catalog error ids: snake_case, stable, used by nodes and tests. */
export const errorIdSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be snake_case');

const catalogEntrySchema = z
  .object({
    status: z.number().int().min(400).max(599),
    type: z.string().min(1).meta({ description: 'Problem type URI (RFC 9457), e.g. https://errors.example.com/invalid-token.' }),
    title: z.string().min(1).max(200),
    detail: z
      .string()
      .max(1000)
      .meta({ description: 'Detail template; {name} is replaced by the value the raising node supplies.' }),
  })
  .strict();

export const errorCatalogSchema = z
  .object({
    $schema: z.string().optional(),
    errors: z.record(errorIdSchema, catalogEntrySchema),
  })
  .strict()
  .meta({ title: 'Sluice error catalog', description: 'Every error the gateway answers with, by id.' });

export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type ErrorCatalog = z.infer<typeof errorCatalogSchema>;

/**
 * Errors the gateway itself raises, outside any node. A catalog must define these
 * plus every error a node kind declares.
 */
export const GATEWAY_ERRORS = [
  'not_found',
  'method_not_allowed',
  'bad_request',
  'payload_too_large',
  'headers_too_large',
  'request_timeout',
  'internal_error',
  'expression_failed',
  'expressions_busy',
  'workflow_retired',
  'unauthorized',
  'forbidden',
  'conflict',
  'validation_failed',
  'too_many_attempts',
  'store_unavailable',
  'partner_suspended',
  'product_not_subscribed',
] as const;
