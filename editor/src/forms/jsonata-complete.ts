/**
 * What a JSONata field offers as you type: the members of the request context an expression
 * reads (engine/kinds/support/expression.ts's inputOf: request, claims, partner, subject, scopes,
 * vars, response, llm), with the preview's sample request filling in header names and body fields,
 * and JSONata's functions after `$`. Pure: the CodeMirror field turns these into completions.
 */
import type { EvaluationSample } from './sample.ts';

interface Suggestion {
  label: string;
  /** What is inserted: a name JSONata cannot read bare (`x-trace`) is quoted in backticks. */
  apply: string;
  detail: string;
  type: 'property' | 'function' | 'variable';
}

/** What completing from `from` (the start of the word being typed) would offer. */
export interface Completion {
  from: number;
  suggestions: Suggestion[];
}

const CLAIMS_HINT = { sub: '', iss: '', aud: '', exp: 0, iat: 0, scope: '' };

/** The context an expression reads, shaped as the gateway gives it, filled in from the sample. */
function contextOf(sample: EvaluationSample | undefined) {
  const r = sample?.request;
  const path = r?.path ?? '/';
  const q = path.indexOf('?');
  const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : path.slice(q + 1)));
  return {
    request: { method: r?.method ?? 'GET', path: q < 0 ? path : path.slice(0, q), params: r?.params ?? {}, query, headers: r?.headers ?? {}, body: r?.body ?? {} },
    claims: CLAIMS_HINT,
    partner: sample?.partner ?? '',
    subject: '',
    scopes: sample?.scopes ?? [],
    vars: {},
    response: { status: sample?.response?.status ?? 200, headers: {}, body: sample?.response?.body ?? {} },
    // an LLM call's model and tokens (proxy with llm, prompt-guard), as expression.ts's llmView shows them
    llm: { api: 'openai', model: '', stream: false, usage: { input: 0, output: 0, total: 0, estimated: false } },
  };
}

/** JSONata's built-in functions (jsonata 2), for completion after `$`. */
const FUNCTIONS = [
  'string', 'length', 'substring', 'substringBefore', 'substringAfter', 'uppercase', 'lowercase', 'trim', 'pad', 'contains', 'split', 'join', 'match', 'replace',
  'base64encode', 'base64decode', 'encodeUrlComponent', 'decodeUrlComponent', 'number', 'abs', 'floor', 'ceil', 'round', 'power', 'sqrt', 'random', 'formatNumber',
  'parseInteger', 'sum', 'max', 'min', 'average', 'boolean', 'not', 'exists', 'count', 'append', 'sort', 'reverse', 'shuffle', 'distinct', 'zip', 'keys', 'lookup',
  'spread', 'merge', 'type', 'map', 'filter', 'single', 'reduce', 'now', 'millis', 'fromMillis', 'toMillis',
];

const BARE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const kindOf = (v: unknown) => (Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'string' ? 'text' : typeof v === 'boolean' ? 'true/false' : typeof v);
const unquote = (segment: string) => segment.replace(/^`|`$/g, '');

/** The members of a value a path can go on to (JSONata maps a path over a list: its first object's). */
function membersOf(value: unknown): Array<[string, unknown]> {
  const v = Array.isArray(value) ? value.find((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) : value;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : [];
}

/** A dotted path ending at the cursor: `request.headers.x`, `` request.headers.`x-tr `` or `req`. */
const PATH = /(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)(?:\s*\.\s*(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]*`?)?)*$/;

/**
 * The completions at the end of `before` (the text up to the cursor), or undefined.
 * @example
 * completeAt('request.', sample) // { from: 8, suggestions: [method, path, params, query, headers, body] }
 */
export function completeAt(before: string, sample: EvaluationSample | undefined, explicit = false): Completion | undefined {
  const fn = /\$([A-Za-z0-9_]*)$/.exec(before);
  if (fn) {
    const word = fn[1]!;
    return { from: before.length - word.length - 1, suggestions: FUNCTIONS.filter((f) => f.startsWith(word)).map((f) => ({ label: `$${f}`, apply: `$${f}(`, detail: 'function', type: 'function' })) };
  }
  const match = PATH.exec(before);
  const context = contextOf(sample);
  if (!match) return explicit ? { from: before.length, suggestions: rootSuggestions(context) } : undefined;
  // a name right after a word character belongs to a longer word (`myrequest`): nothing to offer
  const segments = match[0].split(/\s*\.\s*/);
  const word = segments.pop()!;
  const from = before.length - word.length;
  if (segments.length === 0) {
    if (word === '' && !explicit) return undefined;
    return { from, suggestions: rootSuggestions(context).filter((s) => s.label.startsWith(word)) };
  }
  let value: unknown = context;
  for (const segment of segments) {
    const name = unquote(segment);
    value = membersOf(value).find(([k]) => k === name)?.[1];
    if (value === undefined) return undefined;
  }
  const typed = unquote(word);
  const suggestions = membersOf(value)
    .filter(([k]) => k.startsWith(typed))
    .map(([k, v]): Suggestion => ({ label: k, apply: BARE.test(k) ? k : `\`${k}\``, detail: kindOf(v), type: 'property' }));
  return { from, suggestions };
}

function rootSuggestions(context: ReturnType<typeof contextOf>): Suggestion[] {
  return Object.entries(context).map(([k, v]) => ({ label: k, apply: k, detail: kindOf(v), type: 'variable' }));
}
