import { GATEWAY_MANAGED_HEADERS, HOP_BY_HOP_HEADERS } from '../../../shared/nodes/headers.ts';
import { setOwn } from './own-members.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const LINE_BREAK = /[\r\n\0]/;
/** What a header value may hold (RFC 9110 field-value, latin-1): what Node and undici accept on the wire. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Hop-by-hop headers (RFC 9110 7.6.1) never forwarded in either direction. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set<string>(HOP_BY_HOP_HEADERS);

/**
 * Merges an expression's header object into headers: null removes, strings and numbers set.
 * Hop-by-hop and framing headers are the gateway's: named by a value the expression computed
 * (validation refuses them written literally), they are left out, as the proxy leaves out an
 * upstream's. Returns a reason when a name or value is unsafe (CR/LF injection, bad token, a
 * character no header can carry, Host), else undefined; nothing is changed then.
 */
export function mergeHeaders(target: Record<string, string | string[] | undefined>, changes: unknown): string | undefined {
  if (changes === undefined || changes === null) return undefined;
  if (typeof changes !== 'object' || Array.isArray(changes)) return 'headers must be an object of name -> value';
  const next: Array<[string, string | string[] | null]> = [];
  for (const [rawName, value] of Object.entries(changes)) {
    const name = rawName.toLowerCase();
    if (!TOKEN.test(name)) return `"${rawName.slice(0, 64)}" is not a valid header name`;
    if (name === 'host') return `header "${name}" is managed by the gateway`;
    if (GATEWAY_MANAGED_HEADERS.has(name)) continue;
    if (value === null) {
      next.push([name, null]);
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    const strings: string[] = [];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `header "${name}" must be a string`;
      const s = String(v);
      if (LINE_BREAK.test(s)) return `header "${name}" contains CR, LF or NUL`;
      if (!FIELD_VALUE.test(s)) return `header "${name}" contains a control character or a character outside latin-1`;
      strings.push(s);
    }
    next.push([name, strings.length === 0 ? null : strings.length === 1 ? strings[0]! : strings]);
  }
  for (const [name, value] of next) {
    if (value === null) delete target[name];
    else setOwn(target, name, value);
  }
  return undefined;
}
