/**
 * Turns a kind's config JSON Schema (zod's toJSONSchema of the descriptor, served by
 * GET /admin/api/kinds) into the fields of its form. The schema is the only definition of a
 * config, so adding a field to a kind adds it to the form.
 */
import type { JsonSchema } from '../api/types.ts';

/** The control a field is edited with. */
export type Control =
  | 'text'
  | 'url'
  | 'integer'
  | 'integer-or-word'
  | 'number'
  | 'checkbox'
  | 'select'
  | 'jsonata'
  | 'duration'
  | 'secret-env'
  | 'catalog-error'
  | 'fragment'
  | 'multi-select'
  | 'string-list'
  | 'object-list'
  | 'object'
  | 'key-value'
  | 'json';

export interface FieldSpec {
  /** Property name in the config object. */
  name: string;
  title: string;
  description: string | undefined;
  control: Control;
  required: boolean;
  default: unknown;
  /** select and multi-select choices; the words an integer-or-word field also takes */
  options: string[] | undefined;
  /** the fields of each item of an object-list, or of an object */
  fields: FieldSpec[] | undefined;
  minimum: number | undefined;
  maximum: number | undefined;
  pattern: string | undefined;
}

const typeOf = (schema: JsonSchema): string | undefined => (Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type);

/** Words for a property without a title: `partnerClaim` -> `Partner claim`. */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[-_]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The control for one property schema.
 * @example
 * controlOf({ type: 'string', format: 'duration' }); // 'duration'
 */
export function controlOf(schema: JsonSchema): Control {
  if (wordsOf(schema) !== undefined) return 'integer-or-word';
  const type = typeOf(schema);
  if (type === 'string') {
    if (schema.enum) return 'select';
    switch (schema.format) {
      case 'jsonata':
        return 'jsonata';
      case 'duration':
        return 'duration';
      case 'secret-env':
        return 'secret-env';
      case 'catalog-error':
        return 'catalog-error';
      case 'fragment':
        return 'fragment';
      case 'uri':
      case 'url':
        return 'url';
      default:
        return 'text';
    }
  }
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'boolean') return 'checkbox';
  if (type === 'array' && schema.items) {
    const item = schema.items;
    if (typeOf(item) === 'string' && item.enum) return 'multi-select';
    if (typeOf(item) === 'string') return 'string-list';
    if (typeOf(item) === 'object' && item.properties) return 'object-list';
  }
  if (type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object' && typeOf(schema.additionalProperties) === 'string') return 'key-value';
  // A closed object (a strict zod object: a proxy's breaker) is a group of its own fields. An open
  // one is not: a form would hide the members it does not name (an inline key set's "n" and "e").
  if (type === 'object' && schema.properties && schema.additionalProperties === false) return 'object';
  // Anything richer (an inline key set, a free JSON body) is edited as JSON text.
  return 'json';
}

/** The words of an integer-or-word schema (`anyOf` an integer and string constants, as rate-limit's `limit: 100 | "plan"`). */
function wordsOf(schema: JsonSchema): string[] | undefined {
  const variants = schema.anyOf;
  if (!variants || !variants.some((v) => typeOf(v) === 'integer')) return undefined;
  const words = variants.filter((v) => typeOf(v) === 'string' && typeof v.const === 'string').map((v) => v.const as string);
  return words.length > 0 && words.length === variants.length - 1 ? words : undefined;
}

/**
 * The fields of an object schema, in the schema's order.
 * @example
 * fieldsOf(kinds.find((k) => k.kind === 'proxy').configSchema).map((f) => f.control); // ['url', 'text', ...]
 */
export function fieldsOf(schema: JsonSchema): FieldSpec[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const control = controlOf(property);
    const options = control === 'select' ? property.enum!.map(String) : control === 'multi-select' ? property.items!.enum!.map(String) : control === 'integer-or-word' ? wordsOf(property) : undefined;
    return {
      name,
      title: property.title ?? humanize(name),
      description: property.description,
      control,
      required: required.has(name),
      default: property.default,
      options,
      fields: control === 'object-list' ? fieldsOf(property.items!) : control === 'object' ? fieldsOf(property) : undefined,
      minimum: property.minimum ?? property.anyOf?.find((v) => typeOf(v) === 'integer')?.minimum,
      maximum: property.maximum ?? property.anyOf?.find((v) => typeOf(v) === 'integer')?.maximum,
      pattern: property.pattern ?? property.items?.pattern,
    };
  });
}

/** The config without a field: an emptied field falls back to its default instead of storing "". */
export function withField(config: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) {
    if (!Object.hasOwn(config, name)) return config;
    const { [name]: _removed, ...rest } = config;
    return rest;
  }
  return { ...config, [name]: value };
}
