/** The error catalog: read it, replace it. */
import { z } from 'zod';
import { errorCatalogSchema } from '../../../shared/schema/index.ts';
import type { AdminContext } from './context.ts';
import { defineEndpoint, type Endpoint } from './endpoint.ts';

const catalogChangedSchema = z.object({ hash: z.string() });

export function catalogEndpoints(context: AdminContext): Endpoint[] {
  const { options } = context;
  return [
    defineEndpoint({
      method: 'get', path: '/errors', permission: 'read', summary: 'The error catalog', response: errorCatalogSchema,
      handler: async () => options.problems().catalog,
    }),
    defineEndpoint({
      method: 'put', path: '/errors', permission: 'publish', summary: 'Replace the error catalog (refused while an active workflow raises an id it lacks)', body: errorCatalogSchema, response: catalogChangedSchema,
      handler: ({ actor, body }) => options.lifecycle.putCatalog(actor, body),
    }),
  ];
}
