/**
 * JSON Schemas of workflows (validate-request), compiled for input the gateway does not trust.
 * ajv compiles a schema to JavaScript, and that costs: 60 ms for a 2 KB schema and over a
 * second for 17 KB, measured on this machine, all of it holding the thread that serves
 * requests. So a worker thread compiles (ajv's standalone code) and this thread only evaluates
 * the generated source, which takes a millisecond or two.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LinearRegExp } from './linear-regex.ts';

const requireHere = createRequire(import.meta.url);

/**
 * Whether V8's backtracking RegExp runs `pattern` in time linear in its input: anchored at the
 * start (one start position), no top-level alternative (which would not be anchored), no
 * backreference or lookaround, no quantified group, and at most one repetition that can run long
 * (`*`, `+`, `{n,}` or `{n,m}` with m over 100), so backtracking walks one run of characters at
 * most once. `^Bearer [A-Za-z0-9._-]+$` and `^[A-Z]{3}-[0-9]{4}$` qualify; `^(a+)+$` does not.
 */
export function runsLinearlyOnV8(pattern: string): boolean {
  if (!pattern.startsWith('^')) return false;
  let long = 0;
  let depth = 0;
  let inClass = false;
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return false; // a backreference
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (pattern[i + 1] === '?' && pattern[i + 2] !== ':') return false; // lookaround or a named group
      depth++;
    } else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return false;
    else if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (pattern[i - 1] === ')') return false;
      const bounds = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i)) : null;
      const runsLong = c === '*' || c === '+' || (bounds !== null && bounds[2] !== undefined && (bounds[3] === '' || Number(bounds[3]) > 100));
      if (runsLong && ++long > 1) return false;
    }
  }
  return true;
}

/**
 * How `pattern` and `patternProperties` run (a schema is written by whoever edits the workflow):
 * on V8's RegExp when runsLinearlyOnV8 proves it linear (about 0.5 µs for a token's pattern),
 * else on RE2 (about 25 µs), translated to mean what the JavaScript pattern means and compiled
 * here, so a pattern RE2 cannot run refuses the schema at publish. ajv keys patterns by `toString()`.
 */
const patternEngine = (pattern: string, flags: string) => {
  if (runsLinearlyOnV8(pattern)) {
    const native = new RegExp(pattern, flags);
    return { test: (text: string) => native.test(text), toString: () => `v8:${pattern}` };
  }
  const linear = new LinearRegExp(new RegExp(pattern, flags));
  return {
    test: (text: string) => {
      linear.lastIndex = 0;
      return linear.exec(text) !== null;
    },
    toString: () => `re2:${pattern}`,
  };
};

/** What generated code may require: ajv's runtime helpers, the formats, and RE2. Nothing else. */
const GENERATED_CODE_MODULES: Record<string, () => unknown> = {
  'sluice:re2': () => patternEngine,
  'ajv-formats/dist/formats': () => requireHere('ajv-formats/dist/formats'),
  'ajv/dist/runtime/ucs2length': () => requireHere('ajv/dist/runtime/ucs2length'),
  'ajv/dist/runtime/equal': () => requireHere('ajv/dist/runtime/equal'),
  'ajv/dist/runtime/uri': () => requireHere('ajv/dist/runtime/uri'),
  'ajv/dist/runtime/validation_error': () => requireHere('ajv/dist/runtime/validation_error'),
};

/**
 * The compiling worker (CommonJS, evaluated from this string so the bundle needs no file of its
 * own): strict schemas (an unknown keyword is a mistake, not an annotation; OpenAPI's annotations
 * excepted), formats by ajv-formats' fast mode, no remote `$ref` (never fetched: a reference that
 * does not resolve inside the schema refuses it). Patterns are only parsed here; the generated
 * code asks this thread's pattern engine for them (patternEngine), which decides how they run.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const load = require('node:module').createRequire(workerData.base);
const { Ajv2020 } = load('ajv/dist/2020');
const standalone = load('ajv/dist/standalone').default;
const addFormats = load('ajv-formats').default;
const regExp = Object.assign((pattern, flags) => new RegExp(pattern, flags), { code: 'require("sluice:re2")' });
parentPort.on('message', ({ id, schema, coerce }) => {
  try {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, coerceTypes: coerce ? 'array' : false, keywords: ['example', 'xml', 'externalDocs', 'discriminator'], code: { source: true, regExp } });
    addFormats(ajv, { mode: 'fast' });
    parentPort.postMessage({ id, code: standalone(ajv, ajv.compile(schema)) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

/** The longest a schema may take to compile before its publish is refused (and the worker replaced). */
const COMPILE_DEADLINE_MS = 10_000;

let compiler: { worker: Worker; pending: Map<number, { resolve(code: string): void; reject(error: Error): void }> } | undefined;
let nextId = 0;

function compilerWorker() {
  if (compiler) return compiler;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { base: import.meta.url }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
  const pending = new Map<number, { resolve(code: string): void; reject(error: Error): void }>();
  const current = { worker, pending };
  worker.on('message', (reply: { id: number; code?: string; error?: string }) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.code !== undefined) waiting?.resolve(reply.code);
    else waiting?.reject(new Error(reply.error ?? 'the schema did not compile'));
  });
  const fail = (error: Error) => {
    if (compiler === current) compiler = undefined;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the schema compiler stopped')));
  worker.unref();
  compiler = current;
  return current;
}

/** ajv's standalone code for a schema, compiled in the worker within the deadline. */
function compileInWorker(schema: unknown, coerce: boolean): Promise<string> {
  const { worker, pending } = compilerWorker();
  const id = nextId++;
  worker.ref();
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`it took longer than ${COMPILE_DEADLINE_MS / 1000} s to compile`));
    }, COMPILE_DEADLINE_MS);
    pending.set(id, {
      resolve: (code) => (clearTimeout(timer), resolve(code)),
      reject: (error) => (clearTimeout(timer), reject(error)),
    });
    worker.postMessage({ id, schema, coerce });
  });
}

/** `uniqueItems` compares every pair of items: an array must be bounded for it. */
const MOST_UNIQUE_ITEMS = 1000;

/** Where a schema asks for `uniqueItems` on an array that may be longer than MOST_UNIQUE_ITEMS, if anywhere. */
function unboundedUniqueItems(schema: unknown, path = ''): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const record = schema as Record<string, unknown>;
  if (!Array.isArray(schema) && record.uniqueItems === true && !(typeof record.maxItems === 'number' && record.maxItems <= MOST_UNIQUE_ITEMS))
    return `${path || '/'}: uniqueItems compares every pair of items, so it needs maxItems of at most ${MOST_UNIQUE_ITEMS}`;
  for (const [key, value] of Object.entries(record)) {
    const found = unboundedUniqueItems(value, `${path}/${key}`);
    if (found) return found;
  }
  return undefined;
}

/** One failing field: a JSON pointer into the request and what is wrong there. */
export interface FieldError {
  pointer: string;
  detail: string;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** ajv's error as a pointer to the field it is about and a message without ajv's words for the place. */
function fieldErrorOf(prefix: string, error: AjvError): FieldError {
  const at = `${prefix}${error.instancePath}`;
  if (error.keyword === 'required') return { pointer: `${at}/${String(error.params.missingProperty)}`, detail: 'is required' };
  if (error.keyword === 'additionalProperties') return { pointer: `${at}/${String(error.params.additionalProperty)}`, detail: 'is not allowed' };
  return { pointer: at, detail: error.message ?? `fails ${error.keyword}` };
}

/**
 * What coercion may write to: query, path parameters and headers are an object of strings or
 * arrays of strings, and ajv coerces by replacing a property or an array item, so copying those
 * two levels keeps the request as received (a third of structuredClone's cost).
 */
function copyForCoercion(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const item = value[key];
    copy[key] = Array.isArray(item) ? item.slice() : item;
  }
  return copy;
}

/** A compiled schema: the failing fields of a value, prefixed with where the value sits (`/body`). */
export type FieldValidator = (value: unknown, prefix: string) => FieldError[];

/**
 * Compiles a JSON Schema (2020-12) once, at publish time, off this thread (see the top of the
 * file). `coerce` reads numbers and booleans from text (query, path parameters, headers), on a
 * copy: the request stays as received.
 * @throws Error saying what is wrong with the schema
 */
export async function compileFieldValidator(schema: Record<string, unknown>, options: { coerce: boolean }): Promise<FieldValidator> {
  const unbounded = unboundedUniqueItems(schema);
  if (unbounded) throw new Error(unbounded);
  const code = await compileInWorker(schema, options.coerce);
  const module: { exports: unknown } = { exports: {} };
  const load = (id: string) => {
    const found = Object.hasOwn(GENERATED_CODE_MODULES, id) ? GENERATED_CODE_MODULES[id] : undefined;
    if (found === undefined) throw new Error(`the generated validator asks for ${id}`);
    return found();
  };
  // ajv's code generation quotes every value of the schema it writes (safe against injection since ajv 7)
  new Function('require', 'module', 'exports', code)(load, module, module.exports);
  const validate = module.exports as ((value: unknown) => boolean) & { errors?: AjvError[] | null };
  return (value, prefix) => {
    const checked = options.coerce && typeof value === 'object' && value !== null ? copyForCoercion(value as Record<string, unknown>) : value;
    if (validate(checked)) return [];
    return (validate.errors ?? []).map((error) => fieldErrorOf(prefix, error));
  };
}
