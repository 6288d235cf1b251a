/**
 * JSON text written by hand on hot paths (the request log's lines, the evidence spool's): values
 * in a template cost a fraction of JSON.stringify of an object built only to be encoded.
 */

/** Characters that never need escaping in a JSON string: most values skip JSON.stringify. */
const PLAIN = /^[\w .:/@+-]*$/;

/** A string as a JSON string. */
export const jsonString = (value: string): string => (PLAIN.test(value) ? `"${value}"` : JSON.stringify(value));

/** A string, or null. */
export const jsonStringOrNull = (value: string | null): string => (value === null ? 'null' : jsonString(value));

/** A number as JSON.stringify writes it (null when not finite), or null. */
export const jsonNumberOrNull = (value: number | null): string => (value === null || !Number.isFinite(value) ? 'null' : `${value}`);
