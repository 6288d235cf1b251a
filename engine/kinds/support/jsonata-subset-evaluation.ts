/**
 * The steps of jsonata.js's evaluator that the compiled projection subset (jsonata-subset.ts)
 * mirrors, each named after the jsonata.js function it follows: sequences and their markers,
 * lookup, append, evaluateStep's flattening, $boolean and the comparisons. They throw what
 * JSONata throws (a plain object with its error code).
 */

/** A JSONata sequence: an array JSONata made, marked so that later steps flatten or unwrap it. */
type Sequence = unknown[] & { sequence?: boolean; keepSingleton?: boolean; cons?: boolean; tupleStream?: boolean };

/** Bounds of one evaluation, as JSONata's guardrails apply them. */
export interface Run {
  /** Largest sequence (JSONata's `sequence` option). */
  readonly limit: number;
  /** performance.now() after which the evaluation has run too long (JSONata's `timeout`). */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Items visited, so that the clock is read every few thousand only. */
  work: number;
}

/** Evaluates one AST node the way jsonata.js's `evaluate` does, sequence unwrapping included. */
export type Evaluate = (input: unknown, run: Run) => unknown;

/** JSONata's error for a sequence over the bound (thrown as JSONata throws it: a plain object). */
function sequenceTooLong(value: number): never {
  throw { code: 'D2015', value, stack: new Error().stack };
}

export function isSequence(value: unknown): value is Sequence {
  return (value as Sequence).sequence === true && Array.isArray(value);
}

function createSequence(): Sequence {
  const sequence: Sequence = [];
  sequence.sequence = true;
  return sequence;
}

export function sequenceOf(run: Run, item: unknown): Sequence {
  const sequence = createSequence();
  sequence.push(item);
  return sequence;
}

export function push(run: Run, sequence: unknown[], item: unknown): void {
  if (sequence.length + 1 > run.limit) sequenceTooLong(run.limit);
  sequence.push(item);
}

/** One unit of work; every 4096 the clock is compared with the deadline. */
export function tick(run: Run): void {
  if ((++run.work & 4095) === 0 && performance.now() > run.deadline) throw { code: 'D1012', value: run.timeoutMs, stack: new Error().stack };
}

/** jsonata.js `evaluate`'s ending: an empty sequence is nothing, a singleton sequence its item. */
export function settle(result: unknown): unknown {
  if (result && isSequence(result) && !result.tupleStream) {
    if (result.length === 0) return undefined;
    if (result.length === 1) return result.keepSingleton ? result : result[0];
  }
  return result;
}

/** jsonata.js `isFunction`, as `lookup` applies it to objects. */
export function isJsonataFunction(value: object): boolean {
  return (value as { _jsonata_function?: unknown })._jsonata_function === true || (value as { _jsonata_lambda?: unknown })._jsonata_lambda === true;
}

/** jsonata.js `lookup`: a field of an object, or of every item of an array (one level flattened). */
export function lookup(run: Run, input: unknown, key: string): unknown {
  if (Array.isArray(input)) {
    const result = createSequence();
    for (let i = 0; i < input.length; i++) {
      tick(run);
      const found = lookup(run, input[i], key);
      if (found !== undefined) {
        if (Array.isArray(found)) {
          for (let j = 0; j < found.length; j++) if (j in found) push(run, result, found[j]);
        } else push(run, result, found);
      }
    }
    return result;
  }
  if (input !== null && typeof input === 'object' && Object.prototype.hasOwnProperty.call(input, key) && !isJsonataFunction(input)) return (input as Record<string, unknown>)[key];
  return undefined;
}

/** jsonata.js `append` (`fn.append` with the sequence bound). */
export function append(run: Run, first: unknown, second: unknown): unknown {
  if (first === undefined) return second;
  if (second === undefined) return first;
  const a = Array.isArray(first) ? first : sequenceOf(run, first);
  const b = Array.isArray(second) ? second : [second];
  const size = a.length + b.length;
  if (size > run.limit) sequenceTooLong(size);
  return a.concat(b);
}

/** jsonata.js `evaluateStep` for a step without stages: each item through the step, then flattened. */
export function evaluateStep(step: Evaluate, input: unknown[], run: Run, lastStep: boolean): unknown[] {
  const result = createSequence();
  for (let i = 0; i < input.length; i++) {
    tick(run);
    const value = step(input[i], run);
    if (value !== undefined) push(run, result, value);
  }
  if (lastStep && result.length === 1 && Array.isArray(result[0]) && !isSequence(result[0])) return result[0];
  const flattened = createSequence();
  for (let i = 0; i < result.length; i++) {
    const value = result[i];
    if (!Array.isArray(value) || (value as Sequence).cons) push(run, flattened, value);
    else for (let j = 0; j < value.length; j++) if (j in value) push(run, flattened, value[j]);
  }
  return flattened;
}

/** jsonata.js utils.isNumeric: a number that is not NaN; an infinite one is an error (D1001). */
function isNumeric(value: unknown): boolean {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (!Number.isFinite(value)) throw { code: 'D1001', value, stack: new Error().stack };
  return true;
}

/** jsonata.js `fn.boolean`, undefined read as false (its `boolize`). */
export function boolize(value: unknown): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) {
    if (value.length === 1) return boolize(value[0]);
    return value.length > 1 && value.filter((item) => boolize(item)).length > 0;
  }
  if (typeof value === 'string') return value.length > 0;
  if (isNumeric(value)) return value !== 0;
  if (value !== null && typeof value === 'object' && !isJsonataFunction(value)) return Object.keys(value).length > 0;
  return value === true;
}

/** jsonata.js utils.isDeepEqual. */
export function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs === 'object' && typeof rhs === 'object' && lhs !== null && rhs !== null) {
    if (Array.isArray(lhs) && Array.isArray(rhs)) {
      if (lhs.length !== rhs.length) return false;
      for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
      return true;
    }
    const lkeys = Object.getOwnPropertyNames(lhs).sort();
    const rkeys = Object.getOwnPropertyNames(rhs).sort();
    if (lkeys.length !== rkeys.length) return false;
    for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
    for (const key of lkeys) if (!isDeepEqual((lhs as Record<string, unknown>)[key], (rhs as Record<string, unknown>)[key])) return false;
    return true;
  }
  return false;
}

/** jsonata.js evaluateComparisonExpression: strings with strings, numbers with numbers. */
export function compare(lhs: unknown, rhs: unknown, op: string): boolean | undefined {
  const ltype = typeof lhs;
  const rtype = typeof rhs;
  const lcomparable = ltype === 'undefined' || ltype === 'string' || ltype === 'number';
  const rcomparable = rtype === 'undefined' || rtype === 'string' || rtype === 'number';
  if (!lcomparable || !rcomparable) throw { code: 'T2010', value: !(ltype === 'string' || ltype === 'number') ? lhs : rhs, stack: new Error().stack };
  if (ltype === 'undefined' || rtype === 'undefined') return undefined;
  if (ltype !== rtype) throw { code: 'T2009', value: lhs, value2: rhs, stack: new Error().stack };
  const l = lhs as string | number;
  const r = rhs as string | number;
  return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
}
