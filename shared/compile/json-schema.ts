import { z } from 'zod';
import { kinds } from '../nodes/index.ts';
import { errorCatalogSchema } from '../schema/catalog.ts';
import { workflowDocumentSchema } from '../schema/workflow.ts';

/**
 * JSON Schema of the workflow document with each node's config checked against its kind's
 * schema, so editors such as VS Code validate workflow files through `$schema`.
 */
export function workflowJsonSchema(): Record<string, unknown> {
  const nodeSchemas = Object.values(kinds).map((descriptor) =>
    z
      .object({
        id: z.string(),
        kind: z.literal(descriptor.kind),
        label: z.string().optional(),
        config: descriptor.config as z.ZodType,
      })
      .strict()
      .meta({ title: descriptor.title, description: descriptor.description }),
  );
  const document = workflowDocumentSchema.extend({ nodes: z.array(z.union(nodeSchemas as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])).min(1) });
  return z.toJSONSchema(document, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** JSON Schema of the error catalog file. */
export function catalogJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(errorCatalogSchema, { io: 'input' }) as Record<string, unknown>;
}

/** JSON Schema of one kind's config: what the editor renders its form from. */
export function kindConfigJsonSchema(kind: keyof typeof kinds): Record<string, unknown> {
  return z.toJSONSchema(kinds[kind].config as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
