/**
 * How large a workflow document may be. A document is untrusted input (the editor role writes
 * it), and validating, compiling and simulating it costs time in proportion to its size: these
 * bounds keep that cost small enough to be cut into slices that never hold the event loop long.
 * The engine reads them from settings (SLUICE_MAX_*); the editor and tools use the defaults.
 */
export interface DocumentLimits {
  /** Most nodes. */
  nodes: number;
  /** Most edges. */
  edges: number;
  /** Most bytes of the document as JSON (UTF-8). */
  bytes: number;
  /** Most characters of one JSONata expression. */
  expressionLength: number;
  /** Deepest nesting of objects and arrays (`{}` is 1, `{"a":[]}` is 2). */
  depth: number;
}

/** The defaults: generous for a drawn workflow (a real one has tens of nodes), small enough to compile in about a second of slices. */
export const DEFAULT_DOCUMENT_LIMITS: Readonly<DocumentLimits> = Object.freeze({ nodes: 1_000, edges: 4_000, bytes: 1024 * 1024, expressionLength: 4_000, depth: 64 });

/** The setting that raises or lowers each limit, named in every refusal so an operator knows what to change. */
export const DOCUMENT_LIMIT_SETTINGS: Readonly<Record<keyof DocumentLimits, string>> = Object.freeze({
  nodes: 'SLUICE_MAX_NODES',
  edges: 'SLUICE_MAX_EDGES',
  bytes: 'SLUICE_MAX_DOCUMENT',
  expressionLength: 'SLUICE_MAX_EXPRESSION',
  depth: 'SLUICE_MAX_JSON_DEPTH',
});

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The nesting depth of JSON text, read without parsing it, so a body nested 50,000 deep is
 * refused before any recursive code (a hash, a schema, JSON.stringify) meets it. Stops counting
 * past `stopAbove`. Works on bytes (UTF-8: no byte of a multi-byte character is ASCII) or text.
 */
export function jsonTextDepth(text: Uint8Array | string, stopAbove = Number.POSITIVE_INFINITY): number {
  return typeof text === 'string' ? depthOf(text, (t, i) => t.charCodeAt(i), stopAbove) : depthOf(text, (t, i) => t[i]!, stopAbove);
}

/** jsonTextDepth's loop, each kind of text read by its own function: one reader choosing per character took 6.5 µs for ~1 KB of text, this 3.1. */
function depthOf<T extends string | Uint8Array>(text: T, at: (text: T, i: number) => number, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(text, i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

/** A JSON text's size as documentSizeProblems counts it: UTF-8 bytes and nesting depth. */
export interface JsonTextMeasure {
  bytes: number;
  depth: number;
}

/**
 * Measures compact JSON text without parsing it; the depth is counted until it passes `limits`
 * (it is only compared with it). For a text that is the compact JSON of a value, the same
 * bytes and depth a walk of the value finds (a test holds the two to each other).
 */
export function measureJsonText(text: string, limits: Pick<DocumentLimits, 'depth'> = DEFAULT_DOCUMENT_LIMITS): JsonTextMeasure {
  return { bytes: utf8Length(text), depth: jsonTextDepth(text, limits.depth) };
}

/**
 * Where a parsed value nests deeper than `limit`: the path to the first object or array past
 * it, or undefined when it stays within. Walks with its own stack, so any depth is safe.
 */
export function tooDeep(value: unknown, limit: number): Array<string | number> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  interface Visit { value: object; depth: number; key: string | number; parent: Visit | undefined }
  const stack: Visit[] = [{ value, depth: 1, key: '', parent: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    if (visit.depth > limit) {
      const path: Array<string | number> = [];
      for (let v: Visit | undefined = visit; v?.parent; v = v.parent) path.unshift(v.key);
      return path;
    }
    // depth-first, so a deep chain is followed at once and the walk never goes past limit + 1
    const children: Iterable<[string | number, unknown]> = Array.isArray(visit.value) ? visit.value.entries() : Object.entries(visit.value);
    for (const [key, child] of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: visit.depth + 1, key, parent: visit });
  }
  return undefined;
}

// eslint-disable-next-line no-control-regex -- every character outside ASCII, control characters are ASCII
const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of a string as UTF-8, counted without encoding it. */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length; // most documents: one native scan, no loop
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) length += 1;
    else {
      length += 2; // 3 bytes for a unit, or 4 for a surrogate pair's 2 units (a lone surrogate is written as U+FFFD's 3)
      const next = text.charCodeAt(i + 1);
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return length;
}

/** A size for people: 1 MiB, 512 KiB, 300 B. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}
