/**
 * JSON text written by hand on a hot path (the request log's lines): values
 * in a template cost a fraction of JSON.stringify of an object built only to be encoded.
 */

/**
 * A string as a JSON string. Printable ASCII other than `"` and `\` is written as it is, as
 * JSON.stringify would write it; anything else goes through JSON.stringify. A loop over char
 * codes, not a regular expression: the log's values are short, where a regex test's fixed cost
 * (~350 instructions) is most of the work.
 */
export function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(value);
  }
  return `"${value}"`;
}
