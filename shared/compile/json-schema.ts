import { z } from 'zod';
import { kinds } from '../nodes/index.ts';
import { errorCatalogSchema } from '../schema/catalog.ts';
import { MAX_NODES, workflowDocumentSchema, workflowNodeSchema } from '../schema/workflow.ts';

/**
 * JSON Schema of the workflow document with each node's config checked against its kind's
 * schema, so editors such as VS Code validate workflow files through `$schema`.
 */
export function workflowJsonSchema(): Record<string, unknown> {
  const nodeSchemas = Object.values(kinds).map((descriptor) => {
    const config = descriptor.config as z.ZodType;
    // The document lets `config` be left out (it defaults to {}); the JSON Schema must agree for kinds whose config {} is valid.
    return workflowNodeSchema
      .extend({ kind: z.literal(descriptor.kind), config: config.safeParse({}).success ? config.optional() : config })
      .meta({ title: descriptor.title, description: descriptor.description });
  });
  const document = workflowDocumentSchema.extend({ nodes: z.array(z.union(nodeSchemas as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])).min(1).max(MAX_NODES) });
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
