/** "." and "..", plain or percent-encoded: a whole segment. */
export const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * A "." or ".." segment where an encoded backslash (%5C) counts as a separator too: servers that
 * decode it before resolving the path (and WHATWG URL parsers, for a raw one) read it as "/".
 */
const DOT_SEGMENT_BY_BACKSLASH = /(?:^|\/|%5c)(?:\.|%2e){1,2}(?=\/|%5c|$)/i;

/**
 * Whether a request path (percent-encoding kept) could resolve elsewhere than where the gateway
 * routes it: it has a raw backslash (not a URI character, RFC 3986; the gateway would route
 * `a\b` as one segment that an upstream may read as two, `..\x` as a plain name an upstream
 * resolves to its parent), or a "." or ".." segment, plain or encoded, between "/" or
 * encoded backslashes.
 */
export function isAmbiguousPath(path: string): boolean {
  return path.includes('\\') || DOT_SEGMENT_BY_BACKSLASH.test(path);
}

/** The same for a path whose plain "/"-separated dot segments were checked already: only what backslashes add. */
export function hasBackslashAmbiguity(path: string): boolean {
  return path.includes('\\') || (path.includes('%') && DOT_SEGMENT_BY_BACKSLASH.test(path));
}
