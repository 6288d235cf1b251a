import { z } from 'zod';

/** The subset of JSON Schema that zod's toJSONSchema emits for node configs. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

const jsonSchemaSchema = z.custom<JsonSchema>((value) => typeof value === 'object' && value !== null).meta({ description: 'A JSON Schema (draft 2020-12).' });

/** A node kind as GET /kinds serves it: palette text and the config's JSON Schema. */
const kindInfoSchema = z.object({
  kind: z.string(),
  title: z.string(),
  category: z.string(),
  description: z.string(),
  terminal: z.boolean(),
  errors: z.array(z.string()),
  configSchema: jsonSchemaSchema,
});
export const kindsPayloadSchema = z.object({ categories: z.array(z.string()), kinds: z.array(kindInfoSchema) });

export type KindInfo = z.infer<typeof kindInfoSchema>;
export type KindsPayload = z.infer<typeof kindsPayloadSchema>;
